"""Prometheus metrics (prometheus-client): HTTP requests and latency, Claude calls, tokens, cost
and errors, question cache look-ups, fair-hiring findings.

Under gunicorn with several workers, set PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py does) so
/metrics aggregates every worker; without it each process reports its own counters.
"""

import os

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess

from services.pricing import TOKEN_KINDS

HTTP_REQUESTS = Counter(
    "techscreen_http_requests_total", "HTTP requests answered, by route template, method and status",
    ["endpoint", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "techscreen_http_request_duration_seconds", "HTTP request latency in seconds, by route template and method",
    ["endpoint", "method"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
CLAUDE_CALLS = Counter(
    "techscreen_claude_calls_total", "Messages API HTTP attempts (SDK retries and repair calls included)",
    ["model", "purpose", "outcome"],
)
CLAUDE_TOKENS = Counter(
    "techscreen_claude_tokens_total", "Tokens reported by the Messages API, by model and kind "
    "(input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens)", ["model", "kind"],
)
CLAUDE_COST = Counter("techscreen_claude_cost_usd_total", "USD spent on Claude at recorded prices, by model", ["model"])
CLAUDE_ERRORS = Counter("techscreen_claude_errors_total", "Operations that failed on Claude, by error kind", ["kind"])
CACHE_LOOKUPS = Counter("techscreen_question_cache_lookups_total", "Question cache slot look-ups, by result (hit or miss)", ["result"])
COVERAGE_CLAIMS = Counter(
    "techscreen_work_coverage_claims_total", "WORK items claimed by interview plans' slots, by outcome: accepted "
    "(the question supports it), rejected (nothing in the question supports it), unknown (names no item)", ["outcome"],
)
JOBS_FINISHED = Counter(
    "techscreen_jobs_finished_total", "Asynchronous jobs that reached an end state, by operation and status "
    "(succeeded, failed, canceled), counted by the process that ended them", ["operation", "status"],
)
_JOB_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
JOB_QUEUE_WAIT = Histogram(
    "techscreen_job_queue_wait_seconds", "Seconds from a job's submission (or requeue) to the start of its attempt",
    ["operation"], buckets=_JOB_BUCKETS,
)
JOB_RUN_TIME = Histogram(
    "techscreen_job_run_seconds", "Seconds one job attempt ran, by operation and outcome (succeeded, failed, lost)",
    ["operation", "outcome"], buckets=_JOB_BUCKETS,
)
WEBHOOK_ATTEMPTS = Counter(
    "techscreen_webhook_delivery_attempts_total", "Webhook HTTP attempts, by outcome "
    "(delivered, http_error, network_error, refused)", ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "techscreen_webhook_deliveries_total", "Webhook deliveries that ended, by final status (delivered, failed)", ["status"],
)
FAIRNESS_FINDINGS = Counter(
    "techscreen_fairness_findings_total", "Fair-hiring findings (services/fairness.py), by category and by where the "
    "text came from (check: POST /api/fairness/check; input: a hiring manager's JD and WORK inputs; generated: "
    "Claude output refused for them; cache: cached questions not reused; evidence: evaluation quotes not counted); "
    "counts only, never the text", ["category", "source"],
)



def record_claude_call(record):
    """Count one Messages API attempt (claude_client.CallRecord)."""
    model = record.model or "unknown"
    CLAUDE_CALLS.labels(model, record.purpose, record.outcome).inc()
    for kind in TOKEN_KINDS:
        value = getattr(record, kind)
        if value:
            CLAUDE_TOKENS.labels(model, kind).inc(value)
    if record.cost_usd:
        CLAUDE_COST.labels(model).inc(float(record.cost_usd))


def record_claude_error(kind):
    """Count an operation that failed on Claude (services/errors.py kind)."""
    CLAUDE_ERRORS.labels(kind).inc()


def record_cache_lookups(hits, misses):
    """Count question cache slot look-ups."""
    if hits:
        CACHE_LOOKUPS.labels("hit").inc(hits)
    if misses:
        CACHE_LOOKUPS.labels("miss").inc(misses)


def record_coverage_claims(accepted, rejected, unknown):
    """Count a plan's WORK item claims by outcome (services/coverage.py)."""
    for outcome, count in (("accepted", accepted), ("rejected", rejected), ("unknown", unknown)):
        if count:
            COVERAGE_CLAIMS.labels(outcome).inc(count)


def record_job_finished(operation, status):
    """Count a job that reached an end state."""
    JOBS_FINISHED.labels(operation, status).inc()


def observe_job_wait(operation, seconds):
    """Time a job's wait in the queue before an attempt started."""
    JOB_QUEUE_WAIT.labels(operation).observe(max(0.0, seconds))


def observe_job_run(operation, outcome, seconds):
    """Time one job attempt (outcome: succeeded, failed, lost)."""
    JOB_RUN_TIME.labels(operation, outcome).observe(max(0.0, seconds))


def record_webhook_attempt(outcome):
    """Count one webhook HTTP attempt (delivered, http_error, network_error, refused)."""
    WEBHOOK_ATTEMPTS.labels(outcome).inc()


def record_webhook_delivery(status):
    """Count a webhook delivery that ended (delivered, failed)."""
    WEBHOOK_DELIVERIES.labels(status).inc()


def record_fairness_findings(categories, source):
    """Count fair-hiring findings by category (one category per finding) for ``source``."""
    for category in categories:
        FAIRNESS_FINDINGS.labels(category, source).inc()


_REQUEST_SERIES = {}  # (endpoint, method, status) -> (counter child, histogram child)


def observe_request(endpoint, method, status, seconds):
    """Count and time one HTTP request (``endpoint``: the route template, or "unmatched").

    Each series' children are looked up once per process (labels() costs more than the increment);
    one entry per series, so this grows exactly as the exported series do."""
    series = _REQUEST_SERIES.get((endpoint, method, status))
    if series is None:
        series = _REQUEST_SERIES[(endpoint, method, status)] = (
            HTTP_REQUESTS.labels(endpoint, method, str(status)), HTTP_LATENCY.labels(endpoint, method))
    series[0].inc()
    series[1].observe(seconds)


def job_state_exposition(counts):
    """Return the text exposition of ``techscreen_jobs{status}``: the jobs in each status now
    (counts: {status: n} from services.jobs.job_counts, read from the database at scrape time)."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily("techscreen_jobs", "Asynchronous jobs in each status now (from the database)", labels=["status"])
    for status, count in counts.items():
        family.add_metric([status], count)
    registry = CollectorRegistry()
    registry.register(_Fixed([family]))
    return generate_latest(registry)


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)


def serve_worker_metrics(port, host="127.0.0.1"):
    """Serve this worker's metrics (all its pool processes when PROMETHEUS_MULTIPROC_DIR is set) at
    http://host:port/metrics with prometheus-client's own HTTP server (a daemon thread)."""
    from prometheus_client import start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), addr=host, registry=registry)


def exposition():
    """Return (body bytes, content type) in the Prometheus text format, all workers aggregated."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
