"""A slow, local Messages API stand-in: POST /v1/messages answered by sandbox_provider.respond.

Every answer is a schema-valid Messages API response body (see sandbox_provider.py) that
behaves like today's API (tests/messages_api_emulation.py): requests the API would reject get
its 400/404 at once; the answer starts with a thinking block when the request thinks, bills the
thinking as output tokens, names the request's model, carries prompt-caching usage (always on)
and is streamed as server-sent events when the request says ``"stream": true``. GET
/v1/models/{id} answers from the emulation's catalogue. Each request is served on its own
thread, so concurrent requests wait concurrently. Loopback only.

Latency, two modes (every figure is an option; defaults in brackets):

- fixed delay (no --ttft): every answer after ``--delay`` seconds [3.0]; a stream's events
  all follow that delay.
- model speed (--ttft given): latency = ttft + output_tokens / tokens_per_second, where
  output_tokens is the sandbox answer's plus the thinking tokens of the request's effort
  (``output_config.effort``, or ``--default-effort`` [high] when absent; 0 when the request
  does not think). ``--ttft`` seconds to the first token [none]; ``--tokens-per-second`` output
  speed [80]; ``--thinking`` thinking tokens per effort [low=0,medium=400,high=1200,xhigh=2400,
  max=4800]. A stream's first event comes after ttft, the rest evenly over the remaining time.

Prompt caching: a request is accounted at its arrival; the prefix it writes (model,
output_config.format, tools, system and messages up to the breakpoint: another schema is another
entry) is readable from arrival + ttft (or + --delay in fixed-delay mode), when its response
starts; concurrent requests before that write too. 5 min TTL (1 h for ttl "1h"); minimum
cacheable lengths as in messages_api_emulation.MIN_CACHEABLE_TOKENS.

Standalone:

    python bench/stub_messages_api.py --port 8900 --delay 3
    python bench/stub_messages_api.py --port 8900 --ttft 1.5 --tokens-per-second 80 \
        --thinking low=0,medium=400,high=1200,xhigh=2400,max=4800 --default-effort high

then point the app at it (any non-empty key is accepted):

    ANTHROPIC_API_KEY=local-key ANTHROPIC_BASE_URL=http://127.0.0.1:8900 flask --app app run

GET /stats: {"arrivals": [[unix time, schema title], ...] (as before), "calls": [[unix time,
schema title, effort, model, usage dict, latency_s], ...]} (one per POST, in arrival order;
usage None for a rejected request). GET /health: counters and the latency settings.
bench/bench_workflows.py starts it as a subprocess.
"""

import argparse
import hashlib
import itertools
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import sandbox_provider
from tests.messages_api_emulation import (
    EFFORT_LEVELS,
    PromptCache,
    check_request,
    decorate_message,
    effort_of,
    error_body,
    model_info,
    sse_events,
    thinks,
)

MAX_BODY_BYTES = 8 * 1024 * 1024
DEFAULT_THINKING = "low=0,medium=400,high=1200,xhigh=2400,max=4800"
MAX_RECORDED_CALLS = 100_000


def parse_thinking(spec):
    """Parse "low=0,medium=400,..." into {effort: thinking tokens}; raise ValueError when malformed.

    Every effort level must be named once, with a whole number of tokens >= 0.
    """
    table = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        effort, sep, tokens = item.partition("=")
        effort = effort.strip()
        if not sep or effort not in EFFORT_LEVELS or effort in table:
            raise ValueError(f"bad --thinking entry {item!r}: use effort=tokens for each of {', '.join(EFFORT_LEVELS)}")
        table[effort] = int(tokens)
        if table[effort] < 0:
            raise ValueError(f"bad --thinking entry {item!r}: tokens must be >= 0")
    missing = [effort for effort in EFFORT_LEVELS if effort not in table]
    if missing:
        raise ValueError(f"--thinking misses {', '.join(missing)}")
    return table


def thinking_tokens_for(body, thinking, default_effort):
    """Thinking tokens a request spends: thinking[its effort or default_effort], 0 when it does not think."""
    if not thinks(body):
        return 0
    return thinking.get(effort_of(body, default_effort), 0)


def model_latency_s(output_tokens, *, ttft, tokens_per_second):
    """Seconds until the answer is complete: ttft + output_tokens / tokens_per_second."""
    return ttft + output_tokens / tokens_per_second


def stream_pauses(latency_s, first_s, events):
    """Sleeps before each of ``events`` SSE events: ``first_s``, then the rest of ``latency_s`` evenly."""
    if events <= 0:
        return []
    if events == 1:
        return [first_s]
    rest = max(0.0, latency_s - first_s)
    return [first_s] + [rest / (events - 1)] * (events - 1)


class StubServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a deep accept queue (the default of 5 drops bursts) and counters.

    delay: fixed seconds per answer (used when ttft is None); ttft: seconds to first token;
    tokens_per_second: output speed; thinking: {effort: thinking tokens}; default_effort: for
    requests without output_config.effort.
    """

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, delay, *, ttft=None, tokens_per_second=80.0, thinking=None, default_effort="high"):
        super().__init__(address, StubHandler)
        self.delay = delay
        self.ttft = ttft
        self.tokens_per_second = tokens_per_second
        self.thinking = thinking if thinking is not None else parse_thinking(DEFAULT_THINKING)
        self.default_effort = default_effort
        self.prompt_cache = PromptCache()
        self.verbose = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0
        self.calls = []  # [unix time, schema title, effort, model, usage, latency_s] per POST

    def arrived(self, body):
        """Record a POST's arrival; return its row (filled in by ``finished``), or None past the cap."""
        row = [round(time.time(), 4), _schema_title(body), effort_of(body, self.default_effort), body.get("model"), None, None]
        with self._lock:
            if len(self.calls) >= MAX_RECORDED_CALLS:
                return None
            self.calls.append(row)
        return row

    def first_token_s(self):
        """Seconds before a response starts: ttft in model-speed mode, else the fixed delay."""
        return self.delay if self.ttft is None else self.ttft

    def latency_s(self, output_tokens):
        """Seconds until a response with ``output_tokens`` is complete, in the server's mode."""
        if self.ttft is None:
            return self.delay
        return model_latency_s(output_tokens, ttft=self.ttft, tokens_per_second=self.tokens_per_second)

    def next_id(self):
        return next(self._ids)

    def enter(self):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self._lock:
            self.in_flight -= 1
            self.served += 1


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    server_version = "TechScreenStub/1.0"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(413, error_body("request_too_large", "request body too large"))
            return
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?", 1)[0].rstrip("/") == "/reset":  # the benchmark's "nothing cached" state
            self.server.prompt_cache = PromptCache()
            self._send(200, {"reset": "prompt_cache"})
            return
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/messages":
            self._send(404, error_body("not_found_error", "this stub serves POST /v1/messages only"))
            return
        self.server.enter()
        try:
            self._answer(raw, time.monotonic())
        finally:
            self.server.leave()

    def _answer(self, raw, started):
        request_id = f"req_stub_{self.server.next_id():06d}_{hashlib.sha256(raw).hexdigest()[:12]}"
        try:
            body = json.loads(raw or b"{}")
        except ValueError as exc:
            self._send(400, error_body("invalid_request_error", f"the request body is not valid JSON: {exc}"), request_id)
            return
        row = self.server.arrived(body)
        rejection = check_request(body)
        if rejection:  # the API validates before any model runs: answered at once
            _fill(row, None, time.monotonic() - started)
            self._send(*rejection, request_id)
            return
        try:
            message = self._message(body, started)
        except ValueError as exc:  # a schema the sandbox cannot answer
            self._sleep_until(started, self.server.latency_s(0))
            _fill(row, None, time.monotonic() - started)
            self._send(400, error_body("invalid_request_error", str(exc)), request_id)
            return
        latency = self.server.latency_s(message["usage"]["output_tokens"])
        _fill(row, message["usage"], latency)
        if body.get("stream"):
            self._stream(message, started, latency, request_id)
        else:
            self._sleep_until(started, latency)
            self._send(200, message, request_id)

    def _message(self, body, arrived):
        """The sandbox's answer as today's API sends it: decorated, thinking billed, cache usage split
        (accounted as of ``arrived``, the request's time.monotonic() arrival)."""
        server = self.server
        thinking = thinking_tokens_for(body, server.thinking, server.default_effort)
        message = decorate_message(body, sandbox_provider.respond(body), thinking_tokens=thinking)
        cache = server.prompt_cache
        arrival = cache.clock() - (time.monotonic() - arrived)  # on the cache's clock (tests may set their own)
        message["usage"].update(cache.account(body, ttft=server.first_token_s(), now=arrival))
        return message

    def _stream(self, message, started, latency, request_id):
        events = list(sse_events(message))
        first = self.server.first_token_s() - (time.monotonic() - started)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", request_id)
        pauses = stream_pauses(latency - (time.monotonic() - started), max(0.0, first), len(events))
        for index, (pause, event) in enumerate(zip(pauses, events)):
            if pause > 0:
                time.sleep(pause)
            if index == 0:
                self.end_headers()  # headers with the first event, as the API does after time to first token
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    @staticmethod
    def _sleep_until(started, seconds):
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/stats":
            with self.server._lock:
                calls = [list(row) for row in self.server.calls]
            self._send(200, {"arrivals": [row[:2] for row in calls], "calls": calls})
        elif path == "/health":
            server = self.server
            self._send(200, {"status": "ok", "delay": server.delay, "ttft": server.ttft,
                             "tokens_per_second": server.tokens_per_second, "thinking": server.thinking,
                             "default_effort": server.default_effort, "served": server.served,
                             "in_flight": server.in_flight, "max_in_flight": server.max_in_flight})
        elif path.startswith("/v1/models/"):
            self._send(*model_info(path.rsplit("/", 1)[1]))
        else:
            self._send(404, error_body("not_found_error", "this stub serves POST /v1/messages only"))

    def _send(self, status, payload, request_id=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if request_id:
            self.send_header("request-id", request_id)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)


def _fill(row, usage, latency_s):
    if row is not None:
        row[4], row[5] = usage, round(latency_s, 4)


def _schema_title(body):
    try:
        return body["output_config"]["format"]["schema"].get("title")
    except (KeyError, TypeError, AttributeError):
        return None


def _positive(text):
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _thinking_option(text):
    try:
        return parse_thinking(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port (default 8900; 0 = any free port)")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before each answer when --ttft is not given (default 3.0)")
    parser.add_argument("--ttft", type=float, default=None,
                        help="model-speed mode: seconds to the first token; latency = ttft + output_tokens / tokens-per-second")
    parser.add_argument("--tokens-per-second", type=_positive, default=80.0, help="output tokens per second (default 80)")
    parser.add_argument("--thinking", type=_thinking_option, default=parse_thinking(DEFAULT_THINKING),
                        help=f"thinking tokens per effort (default {DEFAULT_THINKING})")
    parser.add_argument("--default-effort", choices=EFFORT_LEVELS, default="high",
                        help="effort of requests without output_config.effort (default high)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    server = StubServer((args.host, args.port), args.delay, ttft=args.ttft, tokens_per_second=args.tokens_per_second,
                        thinking=args.thinking, default_effort=args.default_effort)
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print(f"stub Messages API on http://{host}:{port} (delay {args.delay:g} s)", flush=True)
    if args.ttft is not None:
        print(f"model speed: ttft {args.ttft:g} s, {args.tokens_per_second:g} tokens/s, thinking {args.thinking}, "
              f"default effort {args.default_effort} (--delay unused)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
