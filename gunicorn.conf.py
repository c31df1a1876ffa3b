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
_OWN_METRICS_DIR = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _OWN_METRICS_DIR:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="techscreen-metrics-")

bind = os.environ.get("BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "600"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "60"))
keepalive = 5
# With LOG_FORMAT=json gunicorn's own messages go through the app's JSON formatter.
_JSON_LOGS = os.environ.get("LOG_FORMAT") == "json"
# The app logs one line per request itself (techscreen.request: method, route template, status,
# latency, caller, request id), so gunicorn's own access log is off unless GUNICORN_ACCESS_LOG names
# a file ("-" for stdout): a second line per request cost CPU and log-lock waits (bench/README.md,
# "Read speed"), and it would carry query strings such as an erasure's candidate_id.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
if _JSON_LOGS:
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "observability.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
        # gunicorn merges this over its own defaults, whose root logger names a handler ("console")
        # that this dict no longer has; the app adds its own root handler (observability.configure_logging).
        "root": {"level": "INFO", "handlers": []},
    }
# The access log names method, path, status, size and latency; never headers (API keys) or bodies.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
wsgi_app = "app:create_app()"
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl, shared by every gunicorn of the
# user (dev server, benchmark, tests); the service does not use it.
control_socket_disable = True


def on_starting(server):
    """Start every run with no old metric files: only prometheus-client's *.db files are removed,
    never anything else in a PROMETHEUS_MULTIPROC_DIR set by the operator."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def on_exit(server):
    """Remove the metrics directory gunicorn made for itself (not one the operator named)."""
    if _OWN_METRICS_DIR:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    """Let Prometheus forget a dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):
    """Warm the worker's read path before it takes traffic (app.warm_up; bench/README.md), and, when
    jobs run in the web process (no CELERY_BROKER_URL), start the sweep that redoes jobs left by a
    process that died (services/job_queue.py)."""
    from app import warm_up

    warm_up(worker.wsgi)
    queue = worker.wsgi.extensions.get("job_queue")
    if queue is not None and queue.embedded:
        queue.start_sweeper()
