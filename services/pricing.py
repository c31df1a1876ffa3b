"""Claude prices: USD per million tokens, per model and token kind.

Defaults are Anthropic's list prices for the Claude API, as read on 2026-12-01 from
https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing"; cache write = 5-minute
cache writes, cache read = "Cache hits and refreshes") and each model's overview page; each row
below names its source. Override or extend them with CLAUDE_PRICES_JSON, e.g.
'{"claude-sonnet-5-5": {"input": 2, "output": 10, "cache_write": 2.5, "cache_read": 0.1}}'.
A model matches the longest price-table key it starts with, so dated ids such as
"claude-haiku-4-5-20251001" find their family. Thinking tokens are output tokens (Anthropic
bills them as such and counts them in usage.output_tokens). The cost of a call is computed when
the call is recorded and stored with it, so a later price change never rewrites history. Sandbox
calls cost 0; a model with no price gets cost None ("unpriced"), never a guess.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

# Anthropic's usage fields (Messages API ``usage``), the token kinds every record and report sums.
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
PER_MILLION = Decimal(1_000_000)
SIX_PLACES = Decimal("0.000001")

_PRICING = "https://platform.claude.com/docs/en/about-claude/pricing"
DEFAULT_PRICES = {
    # model prefix: (input, output, cache write 5m, cache read) USD per million tokens, source
    # Sonnet 5.5: cache reads $0.10 since 2026-10-07, half Sonnet 5's rate
    # (https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5, "Pricing").
    "claude-sonnet-5-5": ("2", "10", "2.50", "0.10", "https://platform.claude.com/docs/en/models/sonnet-5-5/overview"),
    "claude-sonnet-5": ("2", "10", "2.50", "0.20", "https://platform.claude.com/docs/en/models/sonnet-5/overview"),
    "claude-opus-5-5": ("4", "20", "5", "0.20", _PRICING),
    "claude-opus-5": ("5", "25", "6.25", "0.50", "https://platform.claude.com/docs/about-claude/models/whats-new-opus-5"),
    "claude-opus-4-8": ("5", "25", "6.25", "0.50", _PRICING),
    "claude-opus-4-7": ("5", "25", "6.25", "0.50", _PRICING),
    "claude-opus-4-6": ("5", "25", "6.25", "0.50", _PRICING),
    "claude-opus-4-5": ("5", "25", "6.25", "0.50", _PRICING),
    "claude-fable-5-1": ("10", "50", "12.50", "0.25", _PRICING),
    "claude-fable-5": ("10", "50", "12.50", "1", _PRICING),
    "claude-sonnet-4-6": ("3", "15", "3.75", "0.30", _PRICING),
    "claude-haiku-4-5": ("1", "5", "1.25", "0.10", _PRICING),
    # Haiku 5.5 is priced by prompt length (input + cache reads + cache writes): up to 100,000
    # tokens the first row, above it the long-prompt row on every token of the request.
    "claude-haiku-5-5": ("0.10", "0.50", "0.125", "0.01", _PRICING),
    # Retired on the Claude API but still on some clouds, and in older audit rows.
    "claude-sonnet-4-5": ("3", "15", "3.75", "0.30", _PRICING),
    "claude-opus-4-1": ("15", "75", "18.75", "1.50", _PRICING),
    "claude-opus-4": ("15", "75", "18.75", "1.50", _PRICING),
}
# model prefix: (prompt tokens above which ..., these prices apply to the whole request)
LONG_PROMPT_PRICES = {
    "claude-haiku-5-5": (100_000, ("0.50", "2.50", "0.625", "0.05")),
}


@dataclass(frozen=True)
class Price:
    """USD per million tokens of each kind."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal
    source: str | None = None  # where the figures come from
    long_prompt_threshold: int | None = None  # prompt tokens above which ``long_prompt`` applies
    long_prompt: "Price | None" = None

    def for_prompt(self, prompt_tokens):
        """Return the Price that applies to a request of ``prompt_tokens`` (input + cache read + write)."""
        if self.long_prompt is not None and prompt_tokens > self.long_prompt_threshold:
            return self.long_prompt
        return self


FREE = Price(Decimal(0), Decimal(0), Decimal(0), Decimal(0), source="sandbox")


class PriceTable:
    """Model -> Price, matched by longest prefix."""

    def __init__(self, prices):
        self._prices = dict(prices)

    @classmethod
    def from_config(cls, config):
        """Build from DEFAULT_PRICES plus CLAUDE_PRICES_JSON (a JSON object, or a dict in config)."""
        prices = {}
        for model, (*values, source) in DEFAULT_PRICES.items():
            long_prompt = LONG_PROMPT_PRICES.get(model)
            prices[model] = Price(
                *(Decimal(v) for v in values),
                source=source,
                long_prompt_threshold=long_prompt[0] if long_prompt else None,
                long_prompt=Price(*(Decimal(v) for v in long_prompt[1]), source=source) if long_prompt else None,
            )
        overrides = config.get("CLAUDE_PRICES_JSON") or {}
        try:
            if isinstance(overrides, str):
                overrides = json.loads(overrides)
            for model, kinds in overrides.items():
                prices[model] = Price(
                    *(Decimal(str(kinds[k])) for k in ("input", "output", "cache_write", "cache_read")),
                    source="CLAUDE_PRICES_JSON",
                )
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            from config import ConfigError

            raise ConfigError(
                "CLAUDE_PRICES_JSON must be a JSON object like "
                '{"claude-sonnet-5-5": {"input": 2, "output": 10, "cache_write": 2.5, "cache_read": 0.1}} '
                f"(USD per million tokens): {exc!r}"
            ) from None
        return cls(prices)

    def price_of(self, model):
        """Return the Price for a model id, or None when no key is a prefix of it."""
        if not model:
            return None
        matches = [key for key in self._prices if model.startswith(key)]
        return self._prices[max(matches, key=len)] if matches else None

    def cost(self, model, *, input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens):
        """Return the USD cost (Decimal, 6 places) of one call, or None when the model is unpriced."""
        price = self.price_of(model)
        if price is None:
            return None
        price = price.for_prompt(input_tokens + cache_creation_input_tokens + cache_read_input_tokens)
        total = (
            input_tokens * price.input
            + output_tokens * price.output
            + cache_creation_input_tokens * price.cache_write
            + cache_read_input_tokens * price.cache_read
        ) / PER_MILLION
        return total.quantize(SIX_PLACES)


class FreePriceTable(PriceTable):
    """Every model costs 0 (the sandbox provider)."""

    def __init__(self):
        super().__init__({})

    def price_of(self, model):
        return FREE
