"""Diagnostic gunicorn config: the repo's gunicorn.conf.py, plus stack samples of slow requests.

    python bench/bench_workflows.py --gunicorn-config bench/gunicorn_slow_requests.py
    SLOW_REQUEST_MS=80 SLOW_REQUEST_PATH=/api/interview/ gunicorn -c bench/gunicorn_slow_requests.py

For each request whose path starts with SLOW_REQUEST_PATH (default /api/interview/) and method is
SLOW_REQUEST_METHOD (default GET), a watcher thread samples the request thread's Python stack every
20 ms once the request has run SLOW_REQUEST_MS (default 80) ms. A request slower than that is
written, with its wall and thread-CPU ms and its samples, to
SLOW_REQUEST_DIR/slow-requests-<pid>.log (default bench/results/). A read that waits on a lock, a
new database connection or the GIL shows where. This is how the per-connection TLS context
(database.py) was found. Not for production: it adds a thread per matching request.
"""

import os
import runpy
import sys
import threading
import time
import traceback

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
globals().update({k: v for k, v in runpy.run_path(os.path.join(_REPO, "gunicorn.conf.py")).items() if not k.startswith("__")})
_repo_post_worker_init = post_worker_init  # noqa: F821 (defined by gunicorn.conf.py)

_THRESHOLD_S = float(os.environ.get("SLOW_REQUEST_MS", "80")) / 1000
_PATH = os.environ.get("SLOW_REQUEST_PATH", "/api/interview/")
_METHOD = os.environ.get("SLOW_REQUEST_METHOD", "GET")
_DIRECTORY = os.environ.get("SLOW_REQUEST_DIR") or os.path.join(_REPO, "bench", "results")
_SAMPLE_EVERY_S = 0.02
_FRAMES = 14


def post_worker_init(worker):
    """Run the repo's hook, then wrap the worker's WSGI app with the sampler."""
    _repo_post_worker_init(worker)
    os.makedirs(_DIRECTORY, exist_ok=True)
    log_path = os.path.join(_DIRECTORY, f"slow-requests-{os.getpid()}.log")
    lock = threading.Lock()
    flask_app = worker.wsgi
    inner = flask_app.wsgi_app

    def sampled(environ, start_response):
        if environ.get("REQUEST_METHOD") != _METHOD or not environ.get("PATH_INFO", "").startswith(_PATH):
            return inner(environ, start_response)
        thread_id, done, samples = threading.get_ident(), threading.Event(), []
        started, started_cpu = time.perf_counter(), time.thread_time()

        def watch():
            if done.wait(_THRESHOLD_S):
                return
            while not done.is_set():
                frame = sys._current_frames().get(thread_id)
                if frame is not None:
                    stack = traceback.extract_stack(frame)[-_FRAMES:]
                    at_ms = round((time.perf_counter() - started) * 1000)
                    samples.append((at_ms, [f"{os.path.basename(f.filename)}:{f.lineno}:{f.name}" for f in stack]))
                done.wait(_SAMPLE_EVERY_S)

        threading.Thread(target=watch, daemon=True).start()
        try:
            return inner(environ, start_response)
        finally:
            done.set()
            wall = time.perf_counter() - started
            if wall >= _THRESHOLD_S:
                cpu_ms = (time.thread_time() - started_cpu) * 1000
                header = (
                    f"{time.time():.3f} pid {os.getpid()} {_METHOD} {environ.get('PATH_INFO')} wall {wall * 1000:.0f} ms, "
                    f"thread CPU {cpu_ms:.1f} ms, threads {threading.active_count()}"
                )
                lines = [header]
                lines += [f"  @{at_ms} ms: " + " < ".join(reversed(stack)) for at_ms, stack in samples]
                with lock, open(log_path, "a") as out:
                    out.write("\n".join(lines) + "\n")

    flask_app.wsgi_app = sampled
