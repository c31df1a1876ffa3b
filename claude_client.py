"""The one adapter between TechScreen and Claude; the only module that imports ``anthropic``.

Every call goes through ``ClaudeClient.generate_json`` with a purpose (jd_enhancement,
interview_plan, interview_fill, interview_generation, candidate_scoring; a repair call is
"<purpose>.repair"): structured output (``output_config.format``), the purpose's model and
effort (``output_config.effort``), its system prompt marked for prompt caching, the SDK's own
retries and timeout, one repair attempt for unusable output, and SDK exceptions turned into the
domain errors of services/errors.py. A middleware records every HTTP attempt (SDK retries
included) with its usage, latency, effort and Anthropic request id, into whatever recorder the
calling operation supplied (services/audit.py).

Today's API rules (December 2026; https://platform.claude.com/docs/en/models/sonnet-5-5/overview):
the 5.5 generation thinks adaptively by default and answers 400 to forced ``tool_choice`` and to
``thinking: {type: "disabled"}``, so neither is ever sent; a response starts with ``thinking``
blocks (billed as output tokens, counted in ``usage.output_tokens``) and only its ``text``
blocks are the answer. A retired model answers 404 ``not_found_error``.

The sandbox provider (LLM_PROVIDER=sandbox) is the same SDK client over a local transport
that answers like the Messages API (sandbox_provider.py), so both share one code path.
"""

import contextvars
import json
import logging
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from functools import partial

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
    effort: str | None = None  # output_config.effort sent (None: the model's own default)


@dataclass
class _CallContext:
    recorder: object  # anything with add_call(CallRecord)
    purpose: str
    pending: object = None  # a streamed 2xx attempt, recorded once its final message is read


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

        body = request.json or {}

        def record(outcome, status_code=None, request_id=None, model=None, usage=None):
            tokens = {
                kind: getattr(usage, kind, None) or 0
                for kind in TOKEN_KINDS
            }
            priced_model = model or body.get("model")
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
                    effort=(body.get("output_config") or {}).get("effort"),
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
        if 200 <= response.status_code < 300 and body.get("stream"):
            # The body is read by the caller; ClaudeClient records the attempt from its final message.
            context.pending = partial(record, status_code=response.status_code, request_id=response.request_id)
        elif 200 <= response.status_code < 300:
            try:
                message = response.parse()
            except Exception:
                record("unparseable_response", response.status_code, response.request_id)
                raise
            record("ok", response.status_code, response.request_id, message.model, message.usage)
        else:
            record(f"http_{response.status_code}", response.status_code, response.request_id)
        return response


# --- Models and efforts per purpose ------------------------------------------------------

PURPOSES = ("jd_enhancement", "interview_plan", "interview_fill", "interview_generation", "candidate_scoring", "repair")
EFFORTS = ("low", "medium", "high", "xhigh", "max")

# Built-in effort per purpose (the model is CLAUDE_MODEL for all: quality first). Sonnet 5.5's own
# default is "high" (https://platform.claude.com/docs/en/models/sonnet-5-5/overview). Lower only
# where the task is narrow enough that more thinking buys no better answer:
PURPOSE_DEFAULTS = {
    # Rewrites the manager's facts into a structured JD: everything downstream derives from it.
    "jd_enhancement": {"effort": "high"},
    # Picks 5 distinct areas, a level and a question type each: a short selection (about 250
    # output tokens) from a JD whose deliverables, knowledge and competencies are already spelled
    # out (the enhanced JD, or the manager's WORK inputs), checked by validate_plan (distinct
    # topics, fixed vocabularies) with one repair. Every kit waits for it before any question is
    # written, so its thinking is pure latency: Anthropic's guidance for latency-sensitive work
    # is medium or low (https://platform.claude.com/docs/en/build-with-claude/effort); at medium
    # a similar-JD kit takes 0.33x the one-call path's time instead of 0.25x (bench/README.md).
    "interview_plan": {"effort": "low"},
    # Writes ONE question for a slot whose topic, level, type and aim the plan fixed; its output
    # is validated (and repaired once) like any other. Five run at once, so their thinking is
    # paid five times: low keeps a kit's thinking near the one-call path's.
    "interview_fill": {"effort": "low"},
    # The one-call path (use_cache false): plan and write all 5 questions in one answer.
    "interview_generation": {"effort": "high"},
    # Judges a person's answers against criteria with verbatim evidence: never economised.
    "candidate_scoring": {"effort": "high"},
    # A repair call uses the settings of the purpose it repairs unless CLAUDE_*_REPAIR is set.
    "repair": {},
}


@dataclass(frozen=True)
class PurposeSettings:
    """The model and effort one purpose's calls use, and the settings that chose them."""

    model: str
    effort: str | None  # None: send no effort (the model's own default)
    model_setting: str = "CLAUDE_MODEL"  # the configuration name to change to pick another model
    effort_setting: str = "CLAUDE_EFFORT"


def purpose_settings(config):
    """Return {purpose: PurposeSettings} from CLAUDE_MODEL / CLAUDE_EFFORT, CLAUDE_PURPOSES_JSON and
    CLAUDE_MODEL_<PURPOSE> / CLAUDE_EFFORT_<PURPOSE> (highest precedence), over PURPOSE_DEFAULTS.

    Raises config.ConfigError naming the setting for an unknown purpose or effort level.
    """
    from config import ConfigError

    overrides = {}
    raw = config.get("CLAUDE_PURPOSES_JSON") or {}
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else raw
        for purpose, values in parsed.items():
            unknown = set(values) - {"model", "effort"}
            if unknown:
                raise ValueError(f"unknown keys {sorted(unknown)} for {purpose!r}")
            overrides[purpose] = {key: (value, "CLAUDE_PURPOSES_JSON") for key, value in values.items() if value}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f'CLAUDE_PURPOSES_JSON must be a JSON object like {{"interview_fill": {{"effort": "low"}}}}: {exc}'
        ) from None
    for purpose, values in (config.get("CLAUDE_PURPOSE_OVERRIDES") or {}).items():
        for key, value in values.items():
            overrides.setdefault(purpose, {})[key] = (value, f"CLAUDE_{key.upper()}_{purpose.upper()}")
    unknown = sorted(set(overrides) - set(PURPOSES))
    if unknown:
        raise ConfigError(f"Unknown Claude purpose(s) {unknown} in CLAUDE_MODEL_*/CLAUDE_EFFORT_*/CLAUDE_PURPOSES_JSON; purposes: {', '.join(PURPOSES)}")

    default_effort = config.get("CLAUDE_EFFORT")
    settings = {}
    for purpose in PURPOSES:
        own = overrides.get(purpose, {})
        if purpose == "repair":  # only what is set explicitly; the rest comes from the repaired purpose
            model, model_setting = own.get("model", (None, None))
            effort, effort_setting = own.get("effort", (None, None))
        else:
            model, model_setting = own.get("model", (config["CLAUDE_MODEL"], "CLAUDE_MODEL"))
            if "effort" in own:
                effort, effort_setting = own["effort"]
            elif default_effort:
                effort, effort_setting = default_effort, "CLAUDE_EFFORT"
            else:
                effort = PURPOSE_DEFAULTS[purpose].get("effort")
                effort_setting = f"built-in; CLAUDE_EFFORT_{purpose.upper()} changes it"
        if effort is not None and effort not in EFFORTS:
            raise ConfigError(f"{effort_setting} must be one of {', '.join(EFFORTS)}, not {effort!r}")
        settings[purpose] = PurposeSettings(model, effort, model_setting, effort_setting)
    return settings


# Models that answer 400 to output_config.effort: effort exists on Opus 4.5 and later, Sonnet 4.6
# and later and Haiku 5.5 (https://platform.claude.com/docs/en/build-with-claude/effort).
_NO_EFFORT_PREFIXES = (
    "claude-3", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-2", "claude-sonnet-4-0",
    "claude-opus-4-1", "claude-opus-4-0", "claude-opus-4-2",
)


def supports_effort(model):
    """Return False for the models known not to take ``output_config.effort``."""
    return not (model or "").startswith(_NO_EFFORT_PREFIXES)


def _base_purpose(purpose):
    return purpose.removesuffix(".repair")


# --- Streaming ---------------------------------------------------------------------------

# The SDK refuses a non-streaming request whose max_tokens could take more than 10 minutes,
# estimating 60 minutes per 128,000 output tokens (anthropic _base_client._calculate_nonstreaming_timeout;
# https://platform.claude.com/docs/en/cli-sdks-libraries/sdks/python#long-requests).
_NONSTREAMING_MAX_SECONDS = 10 * 60
_SECONDS_PER_OUTPUT_TOKEN = 60 * 60 / 128_000


def needs_streaming(max_tokens):
    """Return True when the SDK would refuse ``max_tokens`` without streaming (above 21,333 tokens)."""
    return max_tokens * _SECONDS_PER_OUTPUT_TOKEN > _NONSTREAMING_MAX_SECONDS


# Anthropic's default prompt-cache lifetime, refreshed by every read
# (https://platform.claude.com/docs/en/build-with-claude/prompt-caching); a margin for clock and
# network.
_PROMPT_CACHE_TTL_SECONDS = 300
_PROMPT_CACHE_MARGIN_SECONDS = 30


# --- Deprecations -------------------------------------------------------------------------

def sdk_deprecated_models():
    """Return {model id: end-of-life date or None} from the anthropic SDK's own deprecation table."""
    try:
        from anthropic._data import DEPRECATED_MODELS
    except ImportError:  # an SDK without the table
        return {}
    return {model: _parse_sdk_date(text) for model, text in DEPRECATED_MODELS.items()}


def _parse_sdk_date(text):
    """Parse the SDK's "November 30th, 2026" into a date (None when it has another form)."""
    cleaned = re.sub(r"(\d+)(st|nd|rd|th)", r"\1", text or "")
    try:
        return datetime.strptime(cleaned, "%B %d, %Y").date()
    except ValueError:
        return None


def deprecation_warnings(models, *, today=None):
    """Return one warning line per model the SDK lists as deprecated, saying whether it is past end of life.

    models: {model id: the setting that chose it}. today: a date (default: today, UTC).
    """
    today = today or datetime.now(timezone.utc).date()
    table = sdk_deprecated_models()
    lines = []
    for model, setting in models.items():
        if model not in table:
            continue
        end = table[model]
        when = f"reached end of life on {end.isoformat()}" if end and end <= today else (
            f"reaches end of life on {end.isoformat()}" if end else "is deprecated"
        )
        lines.append(
            f"{setting}={model}: the anthropic SDK lists this model as deprecated; it {when}. "
            "Choose a current model (docs/claude.md; `flask --app app claude check`)."
        )
    return lines


# --- The client -----------------------------------------------------------------------------

class ClaudeClient:
    """Narrow adapter over ``anthropic.Anthropic`` for JSON-producing calls.

    ``provider`` is "anthropic" or "sandbox"; ``model`` the default model (CLAUDE_MODEL);
    ``purposes`` {purpose: PurposeSettings} (default: every purpose on ``model``, no effort).
    ``max_concurrent_calls`` bounds the calls in flight at once through this client (all threads).
    """

    def __init__(
        self, *, provider, model, max_tokens, timeout, max_retries, api_key=None, base_url=None, prices=None,
        purposes=None, prompt_caching=True, max_concurrent_calls=64,
    ):
        _silence_sdk_request_logging()
        self.provider = provider
        self.model = model
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.prompt_caching = prompt_caching
        self.purposes = purposes or {p: PurposeSettings(model, None) for p in PURPOSES if p != "repair"}
        self._slots = threading.BoundedSemaphore(max(1, max_concurrent_calls))
        self._prefix_lock = threading.Lock()
        self._prefix_state = {}  # (model, purpose) -> monotonic time the cached prefix expires, or "uncacheable"
        http_client = None
        if provider == "sandbox":
            api_key = "sandbox-no-key"
            base_url = SANDBOX_BASE_URL
            http_client = httpx2.Client(transport=httpx2.MockTransport(sandbox_provider.handle_http_request))
            prices = FreePriceTable()
        self.prices = prices or PriceTable({})
        self._sdk = anthropic.Anthropic(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            middleware=[_RecordAttempts(self.prices)],
        )

    def settings_for(self, purpose):
        """Return the PurposeSettings of a purpose; "x.repair" takes the "repair" overrides, else x's."""
        own = self.purposes.get(_base_purpose(purpose)) or PurposeSettings(self.model, None)
        repair = self.purposes.get("repair")
        if purpose.endswith(".repair") and repair is not None and (repair.model or repair.effort):
            return PurposeSettings(
                repair.model or own.model,
                repair.effort or own.effort,
                repair.model_setting if repair.model else own.model_setting,
                repair.effort_setting if repair.effort else own.effort_setting,
            )
        return own

    def model_for(self, purpose):
        """Return the model id a purpose's calls use (CLAUDE_MODEL unless overridden)."""
        return self.settings_for(purpose).model

    def prefix_cached(self, purpose):
        """Return whether this process saw a call of ``purpose`` write or read Anthropic's prompt
        cache within its 5-minute lifetime (less a margin), i.e. whether concurrent calls of it
        would read the cache rather than each write it. None when a call showed that the
        purpose's prefix is too short to be cached (so there is nothing to wait for)."""
        with self._prefix_lock:
            state = self._prefix_state.get((self.model_for(purpose), _base_purpose(purpose)))
        if state == "uncacheable":
            return None
        return state is not None and time.monotonic() < state

    def _note_prefix(self, purpose, model, usage):
        key = (model, _base_purpose(purpose))
        written = getattr(usage, "cache_creation_input_tokens", 0) or 0
        read = getattr(usage, "cache_read_input_tokens", 0) or 0
        with self._prefix_lock:
            if written or read:
                self._prefix_state[key] = time.monotonic() + _PROMPT_CACHE_TTL_SECONDS - _PROMPT_CACHE_MARGIN_SECONDS
            elif self.prompt_caching:
                self._prefix_state[key] = "uncacheable"

    def generate_json(self, *, purpose, system, messages, schema, validate, recorder, on_started=None):
        """Ask Claude for JSON matching ``schema`` and return ``validate(parsed_json)``.

        purpose: label of the call in the audit ("jd_enhancement", ...; the repair call gets
        ".repair" appended); it picks the model and effort (settings_for). system: the purpose's
        stable instructions (marked with cache_control). validate: callable(dict) -> value, raising
        InvalidOutput. recorder: object with ``add_call(CallRecord)``; receives every HTTP attempt.
        on_started: called once, as soon as the first answer has begun (its message_start: Anthropic
        has then written the prompt cache) or has failed; the call is streamed to know it.
        Only text blocks are read (thinking blocks are skipped). Output that is not JSON, fails
        ``validate``, or ends with stop_reason ``max_tokens`` or ``refusal`` gets exactly one
        repair call; the SDK's retries are the only other repeats. Thread-safe.

        Raises ClaudeBadOutput (502) when the repair also fails, ClaudeRejected (502; a 404 names
        the model setting to change) or ClaudeFailed (502) for API errors, ClaudeUnavailable (503)
        for overload, rate limits and connection failures, ClaudeTimeout (504) when every attempt
        timed out.
        """
        output_format = {"type": "json_schema", "schema": anthropic.transform_schema(schema)}
        problems = []
        current_messages = messages
        for repair_round in (False, True):
            try:
                message = self._create(
                    purpose=f"{purpose}.repair" if repair_round else purpose,
                    system=system,
                    messages=current_messages,
                    output_format=output_format,
                    recorder=recorder,
                    on_started=None if repair_round else on_started,
                )
            finally:
                if on_started is not None:
                    on_started()  # idempotent for threading.Event.set; never leave waiters hanging
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

    def request_arguments(self, *, purpose, system, messages, output_format=None, max_tokens=None):
        """Return the keyword arguments of ``messages.create`` for one call of ``purpose``.

        Never a forced tool_choice nor disabled thinking (both 400 on the 5.5 generation).
        """
        settings = self.settings_for(purpose)
        output_config = {}
        if output_format is not None:
            output_config["format"] = output_format
        if settings.effort and supports_effort(settings.model):
            output_config["effort"] = settings.effort
        block = {"type": "text", "text": system}
        if self.prompt_caching:
            block["cache_control"] = {"type": "ephemeral"}
        arguments = {
            "model": settings.model,
            "max_tokens": max_tokens or self.max_tokens,
            "system": [block],
            "messages": messages,
        }
        if output_config:
            arguments["output_config"] = output_config
        return arguments

    def _create(self, *, purpose, system, messages, output_format, recorder, on_started=None):
        arguments = self.request_arguments(purpose=purpose, system=system, messages=messages, output_format=output_format)
        settings = self.settings_for(purpose)
        context = _CallContext(recorder=recorder, purpose=purpose)
        if not self._slots.acquire(timeout=self.timeout):
            raise ClaudeUnavailable(
                f"Too many Claude calls in flight in this process (CLAUDE_MAX_CONCURRENT_CALLS); none freed within {self.timeout:g} s"
            )
        token = _current_call.set(context)
        try:
            streamed = self.provider != "sandbox" and (on_started is not None or needs_streaming(arguments["max_tokens"]))
            if streamed:
                message = self._stream(context, arguments, on_started)
            else:
                message = self._sdk.messages.create(**arguments)
            # Keyed by the model asked for: the answer may name a dated snapshot of it.
            self._note_prefix(purpose, settings.model, message.usage)
            return message
        except (anthropic.APITimeoutError, httpx2.TimeoutException) as exc:
            raise ClaudeTimeout(f"Claude did not answer within {self.timeout:g} s on any attempt") from exc
        except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
            raise ClaudeUnavailable("Claude could not be reached; try again later") from exc
        except anthropic.APIStatusError as exc:
            raise _status_error(exc, settings) from exc
        except anthropic.APIResponseValidationError as exc:
            raise ClaudeBadOutput("Claude's response did not match the Messages API format") from exc
        finally:
            _current_call.reset(token)
            self._slots.release()

    def _stream(self, context, arguments, on_started=None):
        """Stream one call with the SDK's helper and record the attempt from its final message.

        on_started is called at the first event (message_start). A stream that breaks after it
        began is recorded as "stream_interrupted" with the usage reported so far (billed).
        """
        stream = None
        try:
            with self._sdk.messages.stream(**arguments) as stream:
                for event in stream:
                    if event.type == "message_start" and on_started is not None:
                        on_started()
                message = stream.get_final_message()
        except Exception:
            if context.pending is not None:  # the stream broke after a 2xx began: record the attempt
                snapshot = getattr(stream, "current_message_snapshot", None) if stream is not None else None
                context.pending("stream_interrupted", model=getattr(snapshot, "model", None),
                                usage=getattr(snapshot, "usage", None))
            raise
        if context.pending is not None:
            context.pending("ok", model=message.model, usage=message.usage)
        return message

    def check(self, *, purposes=None):
        """Ask the Models API about each configured model and send one tiny request per model.

        Each distinct (model, effort) is probed once, with that effort. Returns [{purpose, model,
        model_setting, effort, effort_setting, lifecycle, retires_at, price, problem, warning}]
        (problem None when fine). Used by ``flask --app app claude check``; audits nothing (a few tokens).
        """
        rows, probed = [], {}
        for purpose in purposes or [p for p in PURPOSES if p != "repair"]:
            settings = self.settings_for(purpose)
            key = (settings.model, settings.effort)
            if key not in probed:
                probed[key] = self._probe(settings)
            info = probed[key]
            price = self.prices.price_of(settings.model)
            problem = info.get("problem")
            if problem is None and price is None:
                problem = f"no price for {settings.model}: its calls would be unpriced (add it with CLAUDE_PRICES_JSON)"
            rows.append({"purpose": purpose, "model": settings.model, "model_setting": settings.model_setting,
                         "effort": settings.effort, "effort_setting": settings.effort_setting,
                         "lifecycle": info.get("lifecycle"), "retires_at": info.get("retires_at"),
                         "price": price, "problem": problem, "warning": info.get("warning")})
        return rows

    def _probe(self, settings):
        if self.provider == "sandbox":
            return {"lifecycle": "sandbox"}
        try:
            info = self._sdk.models.retrieve(settings.model)
        except anthropic.NotFoundError:
            return {"problem": f"{settings.model_setting}={settings.model}: the Models API does not know this model (retired or misspelt)"}
        except anthropic.APIError as exc:
            return {"problem": f"the Models API answered {type(exc).__name__}: {getattr(exc, 'message', exc)}"}
        result = {"lifecycle": getattr(info, "lifecycle", None),
                  "retires_at": getattr(info, "retires_at", None)}
        if result["lifecycle"] == "retired":
            result["problem"] = f"{settings.model_setting}={settings.model} is retired"
            return result
        try:
            self._sdk.messages.create(
                model=settings.model, max_tokens=64, messages=[{"role": "user", "content": "Reply with the word OK."}],
                **({"output_config": {"effort": settings.effort}} if settings.effort and supports_effort(settings.model) else {}),
            )
        except anthropic.APIStatusError as exc:
            result["problem"] = str(_status_error(exc, settings))
        except anthropic.APIError as exc:
            result["problem"] = f"the test request failed: {type(exc).__name__}"
        if result["lifecycle"] == "deprecated" and "problem" not in result:
            result["warning"] = f"{settings.model} is deprecated (retires {result['retires_at']})"
        return result


def _stop_reason_problems(stop_reason):
    if stop_reason == "max_tokens":
        return ["the answer was cut off at the max_tokens limit; be more concise"]
    if stop_reason == "refusal":
        return ["the model declined to answer"]
    return []


def _status_error(exc, settings=None):
    """Map an SDK status error (after the SDK's retries) to a domain error."""
    status = exc.status_code
    ref = f" (Anthropic request id {exc.request_id})" if exc.request_id else ""
    if 200 <= status < 300:  # an error event inside a streamed answer: map by its type
        status = _STREAM_ERROR_STATUS.get(_error_type(exc), 500)
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
    if status == 404 and settings is not None and "model" in _error_message(exc).lower():
        return ClaudeRejected(
            f"Claude does not know the model {settings.model!r} (HTTP 404 not_found_error): it is retired or "
            f"misspelt. Set {settings.model_setting} to a current model such as claude-sonnet-5-5 "
            f"(check with `flask --app app claude check`){ref}",
            extra={"model": settings.model, "setting": settings.model_setting},
        )
    detail = _error_message(exc)
    return ClaudeRejected(f"Claude rejected the request (HTTP {status}{': ' + detail if detail else ''}){ref}")


# Error event types of a streamed answer, as the HTTP status the same error has without streaming
# (https://platform.claude.com/docs/en/api/errors).
_STREAM_ERROR_STATUS = {
    "overloaded_error": 529, "rate_limit_error": 429, "api_error": 500, "timeout_error": 504,
    "invalid_request_error": 400, "authentication_error": 401, "permission_error": 403, "not_found_error": 404,
}


def _error_type(exc):
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return error.get("type")
    return None


def _error_message(exc):
    """The API's own short error message (it never echoes request content), at most 300 characters."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message") or "")[:300]
    return ""


def build_claude_client(config, provider):
    """Return the ClaudeClient for a Flask config mapping and a resolved provider name."""
    sandbox = provider == "sandbox"
    model = sandbox_provider.SANDBOX_MODEL if sandbox else config["CLAUDE_MODEL"]
    purposes = purpose_settings({**config, "CLAUDE_MODEL": model})
    if sandbox:  # every purpose on the sandbox "model"
        purposes = {p: PurposeSettings(model if s.model else None, s.effort, s.model_setting, s.effort_setting)
                    for p, s in purposes.items()}
    return ClaudeClient(
        provider=provider,
        model=model,
        max_tokens=config["CLAUDE_MAX_TOKENS"],
        timeout=config["CLAUDE_TIMEOUT_SECONDS"],
        max_retries=config["CLAUDE_MAX_RETRIES"],
        api_key=config.get("ANTHROPIC_API_KEY"),
        base_url=config.get("ANTHROPIC_BASE_URL"),
        prices=PriceTable.from_config(config),
        purposes=purposes,
        prompt_caching=config.get("CLAUDE_PROMPT_CACHING", True),
        max_concurrent_calls=config.get("CLAUDE_MAX_CONCURRENT_CALLS", 64),
    )
