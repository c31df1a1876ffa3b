"""The Celery worker: ``celery -A worker worker --loglevel=INFO`` (``make worker``).

Builds the Flask app with ``create_app`` from the same environment as the web service
(APP_ENV, DATABASE_URL, ANTHROPIC_API_KEY, CELERY_BROKER_URL, ...), and serves the app's job
queue (services/job_queue.py): tasks carry job and webhook-delivery ids; the job's state lives
in the service's database. Each worker's main process also runs the sweep that redoes the jobs
of dead workers and sends due webhook deliveries. CELERY_BROKER_URL is required.

Metrics: the jobs' counters (job ends, queue wait, run time, webhook attempts, Claude calls and
tokens) are counted in the worker. WORKER_METRICS_PORT serves them for Prometheus at
http://WORKER_METRICS_HOST:PORT/metrics; with the prefork pool set PROMETHEUS_MULTIPROC_DIR too (a
directory of this worker's own), so every pool process is counted.
"""

from celery.signals import worker_process_init, worker_ready, worker_shutting_down

from app import create_app
from models import db

flask_app = create_app()
queue = flask_app.extensions["job_queue"]
if queue.celery is None:
    raise RuntimeError(
        "CELERY_BROKER_URL is not set: a Celery worker needs the broker the web service sends jobs to "
        "(e.g. redis://127.0.0.1:6379/0). Without it the web service runs jobs itself."
    )
celery = app = queue.celery


@worker_process_init.connect
def _forget_inherited_connections(**kwargs):
    """A forked pool process must not reuse the parent's pooled database connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)


@worker_ready.connect
def _start_sweeper(**kwargs):
    queue.start_sweeper()
    port = flask_app.config.get("WORKER_METRICS_PORT")
    if port:
        from services.metrics import serve_worker_metrics

        serve_worker_metrics(port, flask_app.config.get("WORKER_METRICS_HOST") or "127.0.0.1")


@worker_shutting_down.connect
def _stop_sweeper(**kwargs):
    queue.stop()
