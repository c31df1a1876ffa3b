"""gunicorn settings: threaded workers, so a request waiting a minute on Claude blocks only its thread.

Each worker process runs GUNICORN_THREADS threads (gthread). Claude calls are I/O waits that
hold no database connection, so one worker serves many concurrent workflows. The worker
timeout is above the longest Claude wait (CLAUDE_TIMEOUT_SECONDS x attempts).
"""

import os
import shutil
import tempfile

# Prometheus: workers write their counters to files here so /metrics aggregates every worker.
# Set before any worker imports prometheus_client (the app is loaded after the fork).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="techscreen-metrics-")

bind = os.environ.get("BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "600"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "60"))
keepalive = 5
accesslog = "-"
errorlog = "-"
# The access log names method, path, status, size and latency; never headers (API keys) or bodies.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
wsgi_app = "app:create_app()"
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl, shared by every gunicorn of the
# user (dev server, benchmark, tests); the service does not use it.
control_socket_disable = True


def on_starting(server):
    """Start every run with empty metric files (a reused PROMETHEUS_MULTIPROC_DIR may hold old ones)."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    """Let Prometheus forget a dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
