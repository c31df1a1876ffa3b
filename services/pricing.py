"""Claude prices: USD per million tokens, per model and token kind.

Defaults are Anthropic's published list prices (https://www.anthropic.com/pricing, API section;
cache write = 5-minute cache writes) for the models named; override or extend them with
CLAUDE_PRICES_JSON, e.g. '{"claude-sonnet-4-5": {"input": 3, "output": 15, "cache_write": 3.75,
"cache_read": 0.3}}'. A model matches the longest price-table key it starts with, so dated ids
such as "claude-sonnet-4-5-20250929" find their family. The cost of a call is computed when the
call is recorded and stored with it, so a later price change never rewrites history. Sandbox
calls cost 0; a model with no price gets cost None ("unpriced"), never a guess.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

# Anthropic's usage fields (Messages API ``usage``), the token kinds every record and report sums.
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
PER_MILLION = Decimal(1_000_000)
SIX_PLACES = Decimal("0.000001")

DEFAULT_PRICES = {
    # model prefix: (input, output, cache write, cache read) in USD per million tokens
    "claude-opus-4-1": ("15", "75", "18.75", "1.50"),
    "claude-opus-4": ("15", "75", "18.75", "1.50"),
    "claude-sonnet-4-5": ("3", "15", "3.75", "0.30"),
    "claude-sonnet-4": ("3", "15", "3.75", "0.30"),
    "claude-3-7-sonnet": ("3", "15", "3.75", "0.30"),
    "claude-haiku-4-5": ("1", "5", "1.25", "0.10"),
    "claude-3-5-haiku": ("0.80", "4", "1", "0.08"),
}


@dataclass(frozen=True)
class Price:
    """USD per million tokens of each kind."""

    input: Decimal
    output: Decimal
    cache_write: Decimal
    cache_read: Decimal


FREE = Price(Decimal(0), Decimal(0), Decimal(0), Decimal(0))


class PriceTable:
    """Model -> Price, matched by longest prefix."""

    def __init__(self, prices):
        self._prices = dict(prices)

    @classmethod
    def from_config(cls, config):
        """Build from DEFAULT_PRICES plus CLAUDE_PRICES_JSON (a JSON object, or a dict in config)."""
        prices = {model: Price(*(Decimal(v) for v in values)) for model, values in DEFAULT_PRICES.items()}
        overrides = config.get("CLAUDE_PRICES_JSON") or {}
        try:
            if isinstance(overrides, str):
                overrides = json.loads(overrides)
            for model, kinds in overrides.items():
                prices[model] = Price(*(Decimal(str(kinds[k])) for k in ("input", "output", "cache_write", "cache_read")))
        except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
            from config import ConfigError

            raise ConfigError(
                "CLAUDE_PRICES_JSON must be a JSON object like "
                '{"claude-sonnet-4-5": {"input": 3, "output": 15, "cache_write": 3.75, "cache_read": 0.3}} '
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
