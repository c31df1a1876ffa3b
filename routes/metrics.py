"""GET /metrics for Prometheus, and the per-request HTTP metrics hooks."""

import logging
import time

from flask import Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from routes import Blueprint
from services.jobs import job_counts
from services.metrics import exposition, job_state_exposition, observe_request

log = logging.getLogger(__name__)
blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
@blp.response(200, content_type="text/plain", description="Prometheus text exposition format")
def get_metrics():
    """Prometheus metrics: HTTP requests and latency by endpoint and status, Claude calls, tokens by
    model and kind, cost, Claude errors by kind, question cache hits and misses; jobs by status
    (read from the database at scrape time, so every worker and host counts), jobs ended, queue
    wait and run time of job attempts, webhook attempts and deliveries by outcome, fair-hiring
    findings by category (counts only). No
    credentials: expose it on an internal network only."""
    body, content_type = exposition()
    try:
        body += job_state_exposition(job_counts())
    except SQLAlchemyError as exc:  # the database is down: the process's own metrics still answer
        log.warning("techscreen_jobs left out of /metrics: %s", type(getattr(exc, "orig", exc)).__name__)
    return Response(body, content_type=content_type)


def register_request_metrics(app):
    """Count and time every request by route template, method and status (from the start time
    observability.register_request_ids records)."""

    @app.after_request
    def _observe(response):
        started = g.get("_request_started")
        if started is not None:
            asked = request._get_current_object()
            endpoint = asked.url_rule.rule if asked.url_rule else "unmatched"
            observe_request(endpoint, asked.method, response.status_code, time.perf_counter() - started)
        return response
