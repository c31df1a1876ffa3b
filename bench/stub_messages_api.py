"""A slow, local Messages API stand-in: POST /v1/messages answered by sandbox_provider.respond.

Every answer is a schema-valid Messages API response body (see sandbox_provider.py), sent after
a fixed delay (default 3 s) to imitate Claude's latency. Each request is served on its own
thread, so concurrent requests wait concurrently. Loopback only.

Standalone:

    python bench/stub_messages_api.py --port 8900 --delay 3

then point the app at it (any non-empty key is accepted):

    ANTHROPIC_API_KEY=local-key ANTHROPIC_BASE_URL=http://127.0.0.1:8900 flask --app app run

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

MAX_BODY_BYTES = 8 * 1024 * 1024


class StubServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a deep accept queue (the default of 5 drops bursts) and counters."""

    daemon_threads = True
    request_queue_size = 256

    def __init__(self, address, delay):
        super().__init__(address, StubHandler)
        self.delay = delay
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0
        self.arrivals = []  # (unix time, output schema title) of each POST, for the benchmark's timeline

    def arrived(self, title):
        with self._lock:
            if len(self.arrivals) < 100_000:
                self.arrivals.append((round(time.time(), 4), title))

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
            self._send(413, _error("request_too_large", "request body too large"))
            return
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?", 1)[0].rstrip("/") != "/v1/messages":
            self._send(404, _error("not_found_error", "this stub serves POST /v1/messages only"))
            return
        self.server.enter()
        try:
            started = time.monotonic()
            try:
                body = json.loads(raw or b"{}")
                self.server.arrived(_schema_title(body))
                answer = sandbox_provider.respond(body)
                status = 200
            except ValueError as exc:  # bad JSON or a schema the sandbox cannot answer
                answer, status = _error("invalid_request_error", str(exc)), 400
            remaining = self.server.delay - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)
            request_id = f"req_stub_{self.server.next_id():06d}_{hashlib.sha256(raw).hexdigest()[:12]}"
            self._send(status, answer, request_id)
        finally:
            self.server.leave()

    def do_GET(self):
        if self.path == "/stats":  # every arrival so far: [[unix time, schema title], ...]
            with self.server._lock:
                arrivals = list(self.server.arrivals)
            self._send(200, {"arrivals": arrivals})
        elif self.path == "/health":
            self._send(200, {"status": "ok", "delay": self.server.delay, "served": self.server.served,
                             "in_flight": self.server.in_flight, "max_in_flight": self.server.max_in_flight})
        else:
            self._send(404, _error("not_found_error", "this stub serves POST /v1/messages only"))

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


def _schema_title(body):
    try:
        return body["output_config"]["format"]["schema"].get("title")
    except (KeyError, TypeError, AttributeError):
        return None


def _error(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8900, help="port (default 8900; 0 = any free port)")
    parser.add_argument("--delay", type=float, default=3.0, help="seconds before each answer (default 3.0)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    server = StubServer((args.host, args.port), args.delay)
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print(f"stub Messages API on http://{host}:{port} (delay {args.delay:g} s)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
