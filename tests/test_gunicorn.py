"""The service under gunicorn with the repo's gunicorn.conf.py, as production runs it."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_gunicorn_starts_with_either_log_format_and_logs_each_request(tmp_path, log_format):
    port = _free_port()
    env = {**os.environ, "APP_ENV": "development", "LLM_PROVIDER": "sandbox", "LOG_FORMAT": log_format,
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "BIND": f"127.0.0.1:{port}",
           "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "2", "PYTHONPATH": REPO_ROOT}
    stderr = open(tmp_path / "stderr.log", "w+")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", os.path.join(REPO_ROOT, "gunicorn.conf.py")],
                              cwd=REPO_ROOT, env=env, stdout=stderr, stderr=subprocess.STDOUT)
    try:
        deadline, ready = time.monotonic() + 30, False
        while not ready and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=10):
                    ready = True
            except OSError:
                time.sleep(0.2)
        answer = None
        if ready:  # then exactly one request with a request id of its own
            request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": "gunicorn-check"})
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = response.status, json.load(response)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stderr.seek(0)
    output = stderr.read()

    assert answer is not None, f"gunicorn did not serve /health:\n{output[-2000:]}"
    assert answer[0] == 200 and answer[1]["status"] == "healthy"
    request_lines = [line for line in output.splitlines() if "gunicorn-check" in line]
    assert len(request_lines) == 1  # one line per request: the app's own
    assert "HTTP/1.1\" 200" not in output  # gunicorn's access log ('"GET /health HTTP/1.1" 200 ...') is off
    if log_format == "json":
        line = json.loads(request_lines[0])
        assert line["logger"] == "techscreen.request" and line["status"] == 200 and line["request_id"] == "gunicorn-check"
