"""Asynchronous jobs: a request answered ``202 Accepted`` at once and run by a worker.

A job is a row of ``jobs`` (models.Job), the single source of truth: the queue (Celery on a
broker, or the embedded thread pool; services/job_queue.py) carries only its id. A worker
claims a job with one conditional UPDATE (queued -> running, attempts + 1), so a message
delivered twice runs the job once. While it runs, the worker touches ``heartbeat_at`` every
JOB_HEARTBEAT_SECONDS; the sweep (``sweep``, run by every worker) queues again a job whose
heartbeat is older than JOB_STALE_SECONDS (its worker died), up to ``max_attempts``, and fails
one past JOB_TIMEOUT_SECONDS. A job ends with the status code and JSON body the synchronous
call would have answered (``result_status`` / ``result_body``).

Redone work is not paid twice: each operation's audit row (generation_logs.job_id) is linked to
the entity it stored in the same transaction as that entity, and ``completed_operations`` gives
a redone job what an earlier attempt already stored (services/job_operations.py uses it).
"""

import base64
import json
import logging
import os
import socket
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, or_, update
from sqlalchemy.orm import Session

from models import GenerationCall, GenerationLog, Job, db, utcnow
from observability import current_job_id
from services import metrics
from services.errors import Conflict, InvalidInput, NotFound
from services.pricing import TOKEN_KINDS

log = logging.getLogger(__name__)

# The Claude-calling operations that may run as jobs (the POST that submitted each).
OPERATIONS = {
    "jd_enhancement": "POST /api/interview/jd/enhance",
    "interview_generation": "POST /api/interview/generate",
    "workflow_full": "POST /api/interview/workflow/full",
    "workflow_create": "POST /api/interview/workflow/create",
    "candidate_scoring": "POST /api/interview/<interview_id>/evaluations (mode ai)",
}
STATUSES = ("queued", "running", "succeeded", "failed", "canceled")
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
# Operations whose request holds candidate answers: the stored request is cleared when the job ends.
_CANDIDATE_DATA = frozenset({"candidate_scoring"})
WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


def new_job_id():
    """Return a new job id: "job_" and 32 hex digits (a random UUID)."""
    return "job_" + uuid.uuid4().hex


def job_links(job):
    """Return the job's links: self, cancel, deliveries and (when known) the stored resource."""
    links = {
        "self": f"/api/jobs/{job.id}",
        "cancel": f"/api/jobs/{job.id}/cancel",
        "deliveries": f"/api/jobs/{job.id}/deliveries",
    }
    body = _result(job)
    if job.status == "succeeded" and isinstance(body, dict):
        if body.get("interview_id"):
            links["interview"] = f"/api/interview/{body['interview_id']}"
        elif isinstance(body.get("evaluation"), dict):
            links["evaluation"] = f"/api/evaluations/{body['evaluation']['id']}"
        elif body.get("req_id") and job.operation == "jd_enhancement":
            links["job_description"] = f"/api/interview/jd/{body['req_id']}"
    return links


def job_resource(job, *, usage=None):
    """Return the job as the API shows it (GET /api/jobs/<id>, webhook payloads' ``data``).

    {job_id, operation, status, step, req_id, attempts, max_attempts, created_at, started_at,
    finished_at (UTC ISO 8601 or null), http_status (the synchronous call's status code, once
    ended), result (its body when succeeded, else null), error (its error envelope when failed or
    canceled, else null), usage ({tokens_used, cost_usd (6-place decimal string, USD), and the
    four Anthropic token kinds} over every attempt), callback_url, links}.
    usage: from ``job_usage``; None computes it.
    """
    body = _result(job)
    usage = usage if usage is not None else job_usage(job.id)
    return {
        "job_id": job.id,
        "operation": job.operation,
        "status": job.status,
        "step": job.step,
        "req_id": job.req_id,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "http_status": job.result_status,
        "result": body if job.status == "succeeded" else None,
        "error": body if job.status in ("failed", "canceled") else None,
        "usage": {
            "tokens_used": usage["tokens_used"],
            "cost_usd": f"{usage['cost_usd']:.6f}",
            **{kind: usage[kind] for kind in TOKEN_KINDS},
        },
        "callback_url": job.callback_url,
        "links": job_links(job),
    }


def job_usage(job_id):
    """Return {tokens_used, cost_usd (Decimal USD), and the four token kinds} of every Claude call
    made for the job, over all its attempts (generation_calls of its generation_logs rows)."""
    columns = [func.coalesce(func.sum(getattr(GenerationCall, kind)), 0) for kind in TOKEN_KINDS]
    row = db.session.execute(
        db.select(*columns, func.coalesce(func.sum(GenerationCall.cost_usd), 0))
        .join(GenerationLog, GenerationLog.id == GenerationCall.generation_log_id)
        .where(GenerationLog.job_id == job_id)
    ).one()
    usage = {kind: int(value) for kind, value in zip(TOKEN_KINDS, row[:-1])}
    usage["tokens_used"] = sum(usage.values())
    usage["cost_usd"] = Decimal(row[-1]).quantize(Decimal("0.000001"))
    return usage


def _result(job):
    if job.result_body is None:
        return None
    try:
        return json.loads(job.result_body)
    except ValueError:
        return None


def _iso(moment):
    return moment.isoformat() if moment is not None else None  # as the API's other timestamps
