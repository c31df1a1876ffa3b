"""The one adapter between TechScreen and Claude; the only module that imports ``anthropic``.

Every call goes through ``ClaudeClient.generate_json``: structured output (json_schema), the
SDK's own retries and timeout, one repair attempt for unusable output, and SDK exceptions
turned into the domain errors of services/errors.py. A middleware records every HTTP attempt
(SDK retries included) with its usage, latency and Anthropic request id, into whatever
recorder the calling operation supplied (services/audit.py).

The sandbox provider (LLM_PROVIDER=sandbox) is the same SDK client over a local transport
that answers like the Messages API (sandbox_provider.py), so both share one code path.
"""

import contextvars
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import anthropic
import httpx2

import sandbox_provider
from prompts import build_repair_messages
from services.errors import (
    ClaudeBadOutput,
    ClaudeFailed,
    ClaudeRejected,
    ClaudeTimeout,
    ClaudeUnavailable,
)
from services.pricing import TOKEN_KINDS, FreePriceTable, PriceTable

SANDBOX_BASE_URL = "http://sandbox.techscreen.invalid"
log = logging.getLogger("techscreen.claude")


class _DropRequestBodies(logging.Filter):
    """Drop the SDK's debug records that carry request options (prompts, JDs, candidate answers, headers)."""

    def filter(self, record):
        return not (record.levelno <= logging.DEBUG or str(record.msg).startswith(("Request options", "HTTP Request")))


def _silence_sdk_request_logging():
    """Never let the SDK log request bodies or headers, whatever ANTHROPIC_LOG or the root level say."""
    for name in ("anthropic", "anthropic._base_client", "httpx2", "httpcore"):
        logger = logging.getLogger(name)
        logger.setLevel(max(logger.level, logging.INFO))
        if not any(isinstance(f, _DropRequestBodies) for f in logger.filters):
            logger.addFilter(_DropRequestBodies())


class InvalidOutput(Exception):
    """Raised by an output validator: Claude's JSON parsed but breaks a rule; ``problems`` lists them."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = list(problems)


@dataclass
class CallRecord:
    """One HTTP attempt to the Messages API. Token counts are as Anthropic reported them."""

    purpose: str
    attempt: int
    outcome: str
    status_code: int | None
    anthropic_request_id: str | None
    model: str | None
    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int
    cache_read_input_tokens: int
    latency_ms: int
    started_at: datetime
    cost_usd: Decimal | None = None  # at the prices in force when recorded; None = model unpriced


@dataclass
class _CallContext:
    recorder: object  # anything with add_call(CallRecord)
    purpose: str


_current_call = contextvars.ContextVar("techscreen_claude_call", default=None)


class _RecordAttempts(anthropic.Middleware):
    """Record each HTTP attempt of the SDK (it runs inside the SDK's retry loop), priced."""

    def __init__(self, prices):
        self.prices = prices

    def handle(self, request, call_next):
        context = _current_call.get()
        if context is None:
            return call_next(request)
        started_at = datetime.now(timezone.utc)
        started = time.perf_counter()

        def record(outcome, status_code=None, request_id=None, model=None, usage=None):
            tokens = {
                kind: getattr(usage, kind, None) or 0
                for kind in TOKEN_KINDS
            }
            priced_model = model or (request.json or {}).get("model")
            latency_ms = round((time.perf_counter() - started) * 1000)
            log.info(
                "Claude %s attempt %d: %s", context.purpose, request.retries_taken, outcome,
                extra={"operation": context.purpose, "outcome": outcome, "anthropic_request_id": request_id,
                       "latency_ms": latency_ms, "status": status_code},
            )
            context.recorder.add_call(
                CallRecord(
                    purpose=context.purpose,
                    attempt=request.retries_taken,
                    outcome=outcome,
                    status_code=status_code,
                    anthropic_request_id=request_id,
                    model=model,
                    **tokens,
                    latency_ms=latency_ms,
                    started_at=started_at,
                    cost_usd=self.prices.cost(priced_model, **tokens),
                )
            )

        try:
            response = call_next(request)
        except anthropic.APITimeoutError:
            record("timeout")
            raise
        except anthropic.APIConnectionError:
            record("connection_error")
            raise
        if 200 <= response.status_code < 300:
            try:
                message = response.parse()
            except Exception:
                record("unparseable_response", response.status_code, response.request_id)
                raise
            record("ok", response.status_code, response.request_id, message.model, message.usage)
        else:
            record(f"http_{response.status_code}", response.status_code, response.request_id)
        return response


class ClaudeClient:
    """Narrow adapter over ``anthropic.Anthropic`` for JSON-producing calls.

    ``provider`` is "anthropic" or "sandbox"; ``model`` the model requested.
    """

    def __init__(self, *, provider, model, max_tokens, timeout, max_retries, api_key=None, base_url=None, prices=None):
        _silence_sdk_request_logging()
        self.provider = provider
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        http_client = None
        if provider == "sandbox":
            api_key = "sandbox-no-key"
            base_url = SANDBOX_BASE_URL
            http_client = httpx2.Client(transport=httpx2.MockTransport(sandbox_provider.handle_http_request))
            prices = FreePriceTable()
        self._sdk = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            middleware=[_RecordAttempts(prices or PriceTable({}))],
        )

    def generate_json(self, *, purpose, system, messages, schema, validate, recorder):
        """Ask Claude for JSON matching ``schema`` and return ``validate(parsed_json)``.

        purpose: label of the call in the audit ("jd_enhancement", ...; the repair call gets
        ".repair" appended). validate: callable(dict) -> value, raising InvalidOutput.
        recorder: object with ``add_call(CallRecord)``; receives every HTTP attempt.
        Output that is not JSON, fails ``validate``, or ends with stop_reason ``max_tokens`` or
        ``refusal`` gets exactly one repair call; the SDK's retries are the only other repeats.

        Raises ClaudeBadOutput (502) when the repair also fails, ClaudeRejected (502) or
        ClaudeFailed (502) for API errors, ClaudeUnavailable (503) for overload, rate limits
        and connection failures, ClaudeTimeout (504) when every attempt timed out.
        """
        output_config = {"format": {"type": "json_schema", "schema": anthropic.transform_schema(schema)}}
        problems = []
        current_messages = messages
        for repair_round in (False, True):
            message = self._create(
                purpose=f"{purpose}.repair" if repair_round else purpose,
                system=system,
                messages=current_messages,
                output_config=output_config,
                recorder=recorder,
            )
            text = "".join(block.text for block in message.content if getattr(block, "type", None) == "text")
            problems = _stop_reason_problems(message.stop_reason)
            if not problems:
                try:
                    return validate(json.loads(text))
                except json.JSONDecodeError as exc:
                    problems = [f"the answer was not valid JSON ({exc.msg} at character {exc.pos})"]
                except InvalidOutput as exc:
                    problems = exc.problems
            keep_text = message.stop_reason not in ("refusal", "max_tokens")
            current_messages = build_repair_messages(
                messages, previous_output=text if keep_text else "", problems=problems
            )
        raise ClaudeBadOutput(
            "Claude returned unusable output twice (original and one repair attempt): " + "; ".join(problems[:5]),
            extra={"problems": problems[:20]},
        )

    def _create(self, *, purpose, system, messages, output_config, recorder):
        token = _current_call.set(_CallContext(recorder=recorder, purpose=purpose))
        try:
            return self._sdk.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                system=system,
                messages=messages,
                output_config=output_config,
            )
        except anthropic.APITimeoutError as exc:
            raise ClaudeTimeout(f"Claude did not answer within {self.timeout:g} s on any attempt") from exc
        except anthropic.APIConnectionError as exc:
            raise ClaudeUnavailable("Claude could not be reached; try again later") from exc
        except anthropic.APIStatusError as exc:
            raise _status_error(exc) from exc
        except anthropic.APIResponseValidationError as exc:
            raise ClaudeBadOutput("Claude's response did not match the Messages API format") from exc
        finally:
            _current_call.reset(token)


def _stop_reason_problems(stop_reason):
    if stop_reason == "max_tokens":
        return ["the answer was cut off at the max_tokens limit; be more concise"]
    if stop_reason == "refusal":
        return ["the model declined to answer"]
    return []


def _status_error(exc):
    """Map an SDK status error (after the SDK's retries) to a domain error."""
    status = exc.status_code
    ref = f" (Anthropic request id {exc.request_id})" if exc.request_id else ""
    if status == 429:
        return ClaudeUnavailable(f"Claude is rate-limiting this service (HTTP 429); try again later{ref}")
    if status in (503, 529):
        return ClaudeUnavailable(f"Claude is overloaded or unavailable (HTTP {status}); try again later{ref}")
    if status in (408, 504):
        return ClaudeTimeout(f"Claude timed out (HTTP {status}){ref}")
    if status >= 500:
        return ClaudeFailed(f"Claude failed with HTTP {status}{ref}")
    if status in (401, 403):
        return ClaudeRejected(f"Claude rejected this service's credentials (HTTP {status}); check ANTHROPIC_API_KEY{ref}")
    return ClaudeRejected(f"Claude rejected the request (HTTP {status}){ref}")


def build_claude_client(config, provider):
    """Return the ClaudeClient for a Flask config mapping and a resolved provider name."""
    model = sandbox_provider.SANDBOX_MODEL if provider == "sandbox" else config["CLAUDE_MODEL"]
    return ClaudeClient(
        provider=provider,
        model=model,
        max_tokens=config["CLAUDE_MAX_TOKENS"],
        timeout=config["CLAUDE_TIMEOUT_SECONDS"],
        max_retries=config["CLAUDE_MAX_RETRIES"],
        api_key=config.get("ANTHROPIC_API_KEY"),
        base_url=config.get("ANTHROPIC_BASE_URL"),
        prices=PriceTable.from_config(config),
    )
