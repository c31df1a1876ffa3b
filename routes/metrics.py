"""GET /metrics for Prometheus, and the per-request HTTP metrics hooks."""

import time

from flask import Response, g, request

from routes import Blueprint
from services.metrics import exposition, observe_request

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
@blp.response(200, content_type="text/plain", description="Prometheus text exposition format")
def get_metrics():
    """Prometheus metrics: HTTP requests and latency by endpoint and status, Claude calls, tokens by
    model and kind, cost, Claude errors by kind, question cache hits and misses. No credentials:
    expose it on an internal network only."""
    body, content_type = exposition()
    return Response(body, content_type=content_type)


def register_request_metrics(app):
    """Time every request and count it by route template, method and status."""

    @app.before_request
    def _start_timer():
        g._metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("_metrics_started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            observe_request(endpoint, request.method, response.status_code, time.perf_counter() - started)
        return response
