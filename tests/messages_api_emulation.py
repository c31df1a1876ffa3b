"""How today's (December 2026) Messages API behaves, as both stubs emulate it: pure, stdlib only.

Used by tests/stub_messages_api.py (pytest) and bench/stub_messages_api.py (standalone server,
which imports this module with the repo root on sys.path). Nothing here is authoritative: the
lists of models, limits and dates are this emulation's, written down so tests can depend on them.

- ``check_request(body)``: the validation errors the API answers before any model runs
  (retired models, forced tool use and disabled thinking on the 5.5 generation, sampling
  parameters and ``thinking.type`` "enabled" on the 5 family, effort values, effort on models
  without it, max_tokens).
- ``decorate_message(request_body, message, thinking_tokens=0)``: a reply as the model sends it
  (adaptive thinking block first, thinking billed as output tokens, ``model`` echoed).
- ``PromptCache``: prompt-caching accounting (prefix = model + ``output_config.format`` + tools,
  system and messages up to the last ``cache_control``; minimum cacheable length, 5 min / 1 h
  TTL, entries readable only once the writer's response started).
- ``sse_events(message, error=None)``: the same message as the streaming events the SDK parses
  (or message_start then an ``error`` event, for a stream that fails mid-way).
- ``model_info(model_id)``: a Models API ``GET /v1/models/{id}`` answer.

Error bodies have the API's shape: ``{"type": "error", "error": {"type": ..., "message": ...}}``.
"""

import base64
import copy
import hashlib
import json
import math
import re
import threading
import time

# --- Models ----------------------------------------------------------------------------------

# Retired model ids: inference requests and GET /v1/models/{id} answer 404. The emulation's
# list, not Anthropic's authoritative one.
RETIRED_MODELS = frozenset(
    {
        "claude-sonnet-4-5",
        "claude-sonnet-4-5-20250929",
        "claude-3-7-sonnet-20250219",
        "claude-3-5-haiku-20241022",
        "claude-opus-4-20250514",
        "claude-opus-4-0",
        "claude-opus-4-1",
        "claude-opus-4-1-20250805",
    }
)

# Active models: id -> (display name, released (RFC 3339), line, max_input_tokens, max_tokens).
# Release dates are the emulation's placeholders.
MODEL_CATALOGUE = {
    "claude-sonnet-5-5": ("Claude Sonnet 5.5", "2026-11-18T00:00:00Z", "sonnet", 1_000_000, 128_000),
    "claude-opus-5-5": ("Claude Opus 5.5", "2026-11-18T00:00:00Z", "opus", 1_000_000, 128_000),
    "claude-haiku-5-5": ("Claude Haiku 5.5", "2026-11-18T00:00:00Z", "haiku", 1_000_000, 128_000),
    "claude-sonnet-5": ("Claude Sonnet 5", "2026-06-16T00:00:00Z", "sonnet", 1_000_000, 128_000),
    "claude-opus-5": ("Claude Opus 5", "2026-06-16T00:00:00Z", "opus", 1_000_000, 128_000),
    "claude-sonnet-4-6": ("Claude Sonnet 4.6", "2026-02-17T00:00:00Z", "sonnet", 1_000_000, 128_000),
    "claude-haiku-4-5": ("Claude Haiku 4.5", "2025-10-15T00:00:00Z", "haiku", 200_000, 64_000),
    "claude-opus-4-8": ("Claude Opus 4.8", "2026-04-14T00:00:00Z", "opus", 1_000_000, 128_000),
}

EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")
MAX_OUTPUT_TOKENS = 128_000  # max_tokens ceiling for models not in MODEL_CATALOGUE

_GENERATION_5_5 = re.compile(r"^claude-(sonnet|opus|haiku)-5-5(-\d{8})?$")
_FAMILY_5 = ("claude-sonnet-5", "claude-opus-5", "claude-haiku-5")
_ADAPTIVE_BY_DEFAULT = _FAMILY_5 + ("claude-fable-5",)
# Known ids that do not think unless asked; any other id (test ids included) thinks by default.
_NOT_ADAPTIVE_BY_DEFAULT = ("claude-sonnet-4", "claude-opus-4", "claude-haiku-4", "claude-3", "claude-2", "claude-instant")
_SAMPLING_PARAMS = ("temperature", "top_p", "top_k")
# Model ids that answer 400 to output_config.effort (effort exists on Opus 4.5+, Sonnet 4.6+, the 5 family).
NO_EFFORT_PREFIXES = (
    "claude-3", "claude-haiku-4-5", "claude-sonnet-4-5", "claude-sonnet-4-0", "claude-sonnet-4-2",
    "claude-opus-4-0", "claude-opus-4-1", "claude-opus-4-2",
)


def error_body(kind, message):
    """Return an Anthropic-shaped error body, e.g. error_body("not_found_error", "model: x")."""
    return {"type": "error", "error": {"type": kind, "message": message}}


def model_info(model_id):
    """Return (status, body) for ``GET /v1/models/{model_id}``: a ModelInfo body or a 404 error body.

    Active catalogue entries only; retired and unknown ids answer 404 ``not_found_error``.
    """
    entry = MODEL_CATALOGUE.get(model_id)
    if entry is None:
        return 404, error_body("not_found_error", f"model: {model_id}")
    display_name, created_at, line, max_input_tokens, max_tokens = entry
    return 200, {
        "type": "model",
        "id": model_id,
        "display_name": display_name,
        "created_at": created_at,
        "lifecycle": "active",
        "deprecated_at": None,
        "retires_at": None,
        "line": line,
        "max_input_tokens": max_input_tokens,
        "max_tokens": max_tokens,
        "capabilities": None,
    }


def is_generation_5_5(model):
    """True for claude-(sonnet|opus|haiku)-5-5, optionally with a -YYYYMMDD suffix."""
    return bool(_GENERATION_5_5.match(model or ""))


def thinks_adaptively_by_default(model):
    """True when ``model`` thinks without being asked (the 5 family, Fable 5 and unknown ids)."""
    model = model or ""
    if model.startswith(_ADAPTIVE_BY_DEFAULT):
        return True
    return not model.startswith(_NOT_ADAPTIVE_BY_DEFAULT)


def thinks(body):
    """True when a request's answer starts with a thinking block (its ``thinking`` or the model's default)."""
    kind = (body.get("thinking") or {}).get("type")
    if kind == "disabled":
        return False
    if kind in ("adaptive", "enabled"):
        return True
    return thinks_adaptively_by_default(body.get("model"))


def supports_effort(model):
    """False for the model ids that reject ``output_config.effort`` (NO_EFFORT_PREFIXES)."""
    return not (model or "").startswith(NO_EFFORT_PREFIXES)


def effort_of(body, default=None):
    """The request's ``output_config.effort``, or ``default`` when it sets none."""
    return (body.get("output_config") or {}).get("effort") or default


# --- Validation ------------------------------------------------------------------------------


def check_request(body):
    """Return None when the API would accept ``body``, else (status, error body).

    404 not_found_error for a retired model; 400 invalid_request_error for a missing model,
    a missing or too large max_tokens, an unknown effort, any effort on a model without effort
    (``supports_effort``), forced tool use or disabled thinking on the 5.5 generation, and
    sampling parameters or ``thinking.type`` "enabled" (manual budgets) on the 5 family.
    """
    rules = (_check_model, _check_max_tokens, _check_effort, _check_generation_5_5, _check_thinking, _check_sampling)
    for rule in rules:
        problem = rule(body)
        if problem:
            return problem
    return None


def _invalid(message):
    return 400, error_body("invalid_request_error", message)


def _check_model(body):
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _invalid("model: Field required")
    if model in RETIRED_MODELS:
        return 404, error_body("not_found_error", f"model: {model}")
    return None


def _check_max_tokens(body):
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        return _invalid("max_tokens: Field required")
    entry = MODEL_CATALOGUE.get(body["model"])
    ceiling = entry[4] if entry else MAX_OUTPUT_TOKENS
    if not isinstance(max_tokens, int) or max_tokens < 1:
        return _invalid("max_tokens: Input should be a positive integer")
    if max_tokens > ceiling:
        return _invalid(
            f"max_tokens: {max_tokens} > {ceiling}, which is the maximum allowed number of output tokens for {body['model']}"
        )
    return None


def _check_effort(body):
    output_config = body.get("output_config") or {}
    if "effort" in output_config and output_config["effort"] not in EFFORT_LEVELS:
        allowed = ", ".join(f"'{level}'" for level in EFFORT_LEVELS)
        return _invalid(f"output_config.effort: Input should be one of {allowed}")
    if "effort" in output_config and not supports_effort(body["model"]):
        return _invalid(f"output_config.effort: effort is not supported for this model ({body['model']})")
    return None


def _check_thinking(body):
    model = body["model"]
    if model.startswith(_FAMILY_5) and (body.get("thinking") or {}).get("type") == "enabled":
        return _invalid(f"thinking.type: 'enabled' (budget_tokens) is not supported with {model}; use thinking.type adaptive")
    return None


def _check_generation_5_5(body):
    model = body["model"]
    if not is_generation_5_5(model):
        return None
    if (body.get("tool_choice") or {}).get("type") in ("any", "tool"):
        return _invalid(f"tool_choice: forced tool use (type 'any' or 'tool') is not supported with {model}; use 'auto'")
    if (body.get("thinking") or {}).get("type") == "disabled":
        return _invalid(f"thinking: type 'disabled' is not supported with {model}, which always thinks adaptively")
    return None


def _check_sampling(body):
    model = body["model"]
    if not model.startswith(_FAMILY_5):
        return None
    present = [name for name in _SAMPLING_PARAMS if name in body]
    if present:
        return _invalid(f"{present[0]}: sampling parameters are not supported with {model}")
    return None


# --- Responses -------------------------------------------------------------------------------

SUMMARIZED_THINKING = "Read the request and its output schema, then wrote an answer that fits both."


def decorate_message(request_body, message, *, thinking_tokens=0):
    """Return a copy of ``message`` as the model would send it for ``request_body``.

    When the request thinks (see ``thinks``), content starts with a thinking block (text empty
    unless ``thinking.display`` is "summarized", an opaque signature). ``thinking_tokens`` are
    added to usage.output_tokens (thinking is billed as output) and reported in
    usage.output_tokens_details. ``model`` becomes the request's model.
    """
    decorated = copy.deepcopy(message)
    decorated["model"] = request_body.get("model") or decorated.get("model")
    content = list(decorated.get("content") or [])
    already = content and content[0].get("type") in ("thinking", "redacted_thinking")
    if thinks(request_body) and not already:
        content.insert(0, thinking_block(request_body, content))
    decorated["content"] = content
    if thinking_tokens:
        usage = decorated.setdefault("usage", {"input_tokens": 0, "output_tokens": 0})
        usage["output_tokens"] = usage.get("output_tokens", 0) + thinking_tokens
        details = usage.get("output_tokens_details") or {}
        usage["output_tokens_details"] = {"thinking_tokens": details.get("thinking_tokens", 0) + thinking_tokens}
    return decorated


def thinking_block(request_body, content=()):
    """A thinking block for ``request_body``: summarized text only when asked, an opaque signature."""
    summarized = (request_body.get("thinking") or {}).get("display") == "summarized"
    seed = json.dumps([request_body.get("model"), list(content)], sort_keys=True, default=str).encode()
    signature = base64.b64encode(b"stub-signature:" + hashlib.sha256(seed).digest()).decode()
    return {"type": "thinking", "thinking": SUMMARIZED_THINKING if summarized else "", "signature": signature}


# --- Streaming -------------------------------------------------------------------------------

_USAGE_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def sse_events(message, *, chunk_chars=48, error=None):
    """Yield ``message`` as Messages API server-sent events (bytes), in the order the API sends them.

    message_start (usage: input tokens, output_tokens 1), ping, per block content_block_start /
    content_block_delta (text_delta chunks of ``chunk_chars`` characters; thinking_delta then
    signature_delta; input_json_delta for tool_use) / content_block_stop, message_delta
    (stop_reason, final cumulative usage) and message_stop.

    error: an error body (``error_body(...)``) for a stream that fails after it started: only
    message_start, then ``event: error`` with that body, then the stream ends.
    """
    usage = message.get("usage") or {}
    start_usage = {key: value for key, value in usage.items() if key != "output_tokens_details"}
    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None,
             "usage": {**start_usage, "output_tokens": 1}}
    yield _event("message_start", {"type": "message_start", "message": start})
    if error is not None:
        yield _event("error", error)
        return
    yield _event("ping", {"type": "ping"})
    for index, block in enumerate(message.get("content") or []):
        yield from _block_events(index, block, chunk_chars)
    final_usage = {key: usage[key] for key in (*_USAGE_COUNTS, "output_tokens", "output_tokens_details") if key in usage}
    delta = {"stop_reason": message.get("stop_reason"), "stop_sequence": message.get("stop_sequence")}
    yield _event("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
    yield _event("message_stop", {"type": "message_stop"})


def _block_events(index, block, chunk_chars):
    kind = block.get("type")
    if kind == "text":
        start, deltas = {**block, "text": ""}, [{"type": "text_delta", "text": t} for t in _chunks(block["text"], chunk_chars)]
    elif kind == "thinking":
        start = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": t} for t in _chunks(block.get("thinking", ""), chunk_chars)]
        deltas.append({"type": "signature_delta", "signature": block.get("signature", "")})
    elif kind == "tool_use":
        start = {**block, "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": t} for t in _chunks(json.dumps(block.get("input") or {}), chunk_chars)]
    else:
        start, deltas = block, []
    yield _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
    for delta in deltas:
        yield _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
    yield _event("content_block_stop", {"type": "content_block_stop", "index": index})


def _chunks(text, size):
    return [text[i:i + size] for i in range(0, len(text), size)]


def _event(name, data):
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


# --- Prompt caching --------------------------------------------------------------------------

# Minimum cacheable prefix in tokens, by model id prefix (the longest matching prefix wins).
# Sonnet 5.5 512 and Sonnet 5 1,024 are Anthropic's
# (https://platform.claude.com/docs/en/build-with-claude/prompt-caching); the rest as third-party
# copies of that page give them (Opus 5.5 and Haiku 5.5 were not found: 512 assumed, as Opus 5).
MIN_CACHEABLE_TOKENS = {
    "claude-sonnet-5-5": 512,
    "claude-sonnet-5": 1024,
    "claude-haiku-5-5": 512,
    "claude-opus-5-5": 512,
    "claude-opus-5": 512,
    "claude-opus-4-8": 1024,
    "claude-opus-4-7": 2048,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-sonnet-4-6": 2048,
    "claude-haiku-4-5": 4096,
}
DEFAULT_MIN_CACHEABLE_TOKENS = 1024
CACHE_TTL_SECONDS = {"5m": 300, "1h": 3600}


def estimate_tokens(pieces):
    """Tokens of prompt ``pieces`` (JSON-serialisable): ceil(characters of their JSON / 4), at least 1."""
    return max(1, math.ceil(len(_serialise(pieces)) / 4))


def _serialise(pieces):
    return "".join(json.dumps(piece, sort_keys=True, ensure_ascii=False) for piece in pieces)


def prompt_pieces(body):
    """Return [(piece, cache_control or None)] in prompt order: tools, system blocks, message blocks.

    A piece is the block without its ``cache_control`` (so moving a breakpoint keeps the prefix).
    A string system prompt or message content counts as one text block.
    """
    pieces = [(_without_cache_control(tool), tool.get("cache_control")) for tool in body.get("tools") or []]
    for block in _blocks(body.get("system")):
        pieces.append(({"system": _without_cache_control(block)}, block.get("cache_control")))
    for message in body.get("messages") or []:
        for block in _blocks(message.get("content")):
            pieces.append(({message.get("role"): _without_cache_control(block)}, block.get("cache_control")))
    return pieces


def _blocks(content):
    if not content:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block for block in content if isinstance(block, dict)]


def _without_cache_control(block):
    return {key: value for key, value in block.items() if key != "cache_control"}


def output_format(body):
    """The request's ``output_config.format`` (structured outputs), or None.

    The API turns it into an injected system prompt, so it is part of every cached prefix.
    """
    return (body.get("output_config") or {}).get("format")


class PromptCache:
    """Prompt-caching accounting for one emulated API: which requests write and which read the cache.

    The cached prefix of a request is its model, its ``output_config.format`` (the system prompt
    structured outputs inject), its tools, then system and message blocks up to the breakpoint
    (the last ``cache_control``; everything for a top-level ``cache_control``). Its tokens are
    ceil(characters of the format's JSON and the prefix pieces' JSON / 4): another schema is
    another entry. An entry a request writes is readable from ``now + ttft`` (the moment its
    response begins); concurrent writers before that all write.

    minimum_tokens: {model id prefix: minimum cacheable prefix in tokens}, merged over
    MIN_CACHEABLE_TOKENS; default_minimum: for other models (tokens); clock: callable -> seconds
    (monotonic by default; tests inject their own). Thread-safe.
    """

    def __init__(self, *, minimum_tokens=None, default_minimum=DEFAULT_MIN_CACHEABLE_TOKENS, clock=time.monotonic):
        self.minimum_tokens = {**MIN_CACHEABLE_TOKENS, **(minimum_tokens or {})}
        self.default_minimum = default_minimum
        self.clock = clock
        # prefix hash -> {"writers": {token: available_at}, "available_at", "expires_at", "ttl"} (clock seconds)
        self._entries = {}
        self._lock = threading.Lock()

    def minimum_for(self, model):
        """The minimum cacheable prefix for ``model``, in tokens."""
        matches = [prefix for prefix in self.minimum_tokens if (model or "").startswith(prefix)]
        return self.minimum_tokens[max(matches, key=len)] if matches else self.default_minimum

    def account(self, body, *, ttft=0.0, now=None):
        """Return the usage split of request ``body``, recording the cache write or read it makes.

        ttft: seconds from ``now`` until this response starts; an entry it writes is readable only
        then. now: the request's arrival on ``clock`` (default: clock() now).
        Returns {"input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
        "cache_creation": {"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}} in tokens;
        input_tokens is the prompt outside the cached prefix (at least 1).
        """
        return self.reserve(body, ttft=ttft, now=now)[0]

    def reserve(self, body, *, ttft=0.0, now=None):
        """Like ``account``, but return (usage split, withdraw): calling withdraw() takes back the
        write this request recorded (for a request that ends up answered with an error). No-op
        for a read or an uncached request."""
        now = self.clock() if now is None else now
        pieces = prompt_pieces(body)
        fmt = output_format(body)
        head = [] if fmt is None else [fmt]
        total = estimate_tokens(head + [piece for piece, _ in pieces])
        breakpoint_ = self._breakpoint(body, pieces)
        if breakpoint_ is None:
            return _split(total, written=0, read=0, ttl="5m"), _nothing
        end, cache_control = breakpoint_
        prefix = head + [piece for piece, _ in pieces[: end + 1]]
        prefix_tokens = min(total, estimate_tokens(prefix))
        if prefix_tokens < self.minimum_for(body.get("model")):
            return _split(total, written=0, read=0, ttl="5m"), _nothing
        ttl = "1h" if (cache_control or {}).get("ttl") == "1h" else "5m"
        key = hashlib.sha256(
            f"{body.get('model')}\n{json.dumps(fmt, sort_keys=True)}\n{_serialise(prefix)}".encode()
        ).hexdigest()
        token = self._read_or_write(key, CACHE_TTL_SECONDS[ttl], ttft, now)
        if token is None:
            return _split(total, written=0, read=prefix_tokens, ttl=ttl), _nothing
        return _split(total, written=prefix_tokens, read=0, ttl=ttl), lambda: self._withdraw(key, token)

    @staticmethod
    def _breakpoint(body, pieces):
        """(index of the last piece cached, its cache_control), or None when nothing asks for caching."""
        marked = [index for index, (_, cache_control) in enumerate(pieces) if cache_control]
        if body.get("cache_control") and pieces:
            return len(pieces) - 1, body["cache_control"]
        if marked:
            return marked[-1], pieces[marked[-1]][1]
        return None

    def _read_or_write(self, key, ttl_seconds, ttft, now):
        """None for a cache read (entry live and available at ``now``); else record this request's
        write and return its writer token."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry["expires_at"] <= now:
                entry = None
            if entry is not None and entry["available_at"] <= now:
                entry["ttl"] = max(entry["ttl"], ttl_seconds)
                entry["expires_at"] = max(entry["expires_at"], now + entry["ttl"])
                entry["writers"].clear()  # read: the entry stands, whatever its writers answer
                return None
            if entry is None:
                entry = self._entries[key] = {"writers": {}, "ttl": ttl_seconds}
            token = object()
            # concurrent writers: whichever response starts first makes the entry readable
            entry["writers"][token] = now + ttft
            entry["ttl"] = max(entry["ttl"], ttl_seconds)
            self._settle(entry)
            return token

    def _withdraw(self, key, token):
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or token not in entry["writers"]:
                return
            del entry["writers"][token]
            if entry["writers"]:
                self._settle(entry)
            else:
                del self._entries[key]

    @staticmethod
    def _settle(entry):
        entry["available_at"] = min(entry["writers"].values())
        entry["expires_at"] = entry["available_at"] + entry["ttl"]


def _nothing():
    return None


def _split(total, *, written, read, ttl):
    return {
        "input_tokens": max(1, total - written - read),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": written if ttl == "5m" else 0,
            "ephemeral_1h_input_tokens": written if ttl == "1h" else 0,
        },
    }
