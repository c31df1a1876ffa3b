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
the entity it stored, and ended, in the same transaction as that entity
(services.audit.Operation.store), and ``completed_operations`` gives a redone job what an earlier
attempt already stored (services/job_operations.py uses it).
"""

import base64
import json
import logging
import os
import socket
import threading
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import GenerationCall, GenerationLog, Job, db, utcnow
from observability import current_job_attempt, current_job_id
from services import metrics
from services.errors import Conflict, InvalidInput, JobClaimLost, NotFound
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


def worker_name():
    """This process as host:pid (a Celery pool process forks after import: computed per call)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_job_id():
    """Return a new job id: "job_" and 32 hex digits (a random UUID)."""
    return "job_" + uuid.uuid4().hex


def job_links(job, body=None):
    """Return the job's links: self, cancel, deliveries and (when known) the stored resource.

    body: the job's parsed result body, when the caller has it already."""
    links = {
        "self": f"/api/jobs/{job.id}",
        "cancel": f"/api/jobs/{job.id}/cancel",
        "deliveries": f"/api/jobs/{job.id}/deliveries",
    }
    body = body if body is not None else _result(job)
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
        "links": job_links(job, body),
    }


def job_usage(job_id):
    """Return {tokens_used, cost_usd (Decimal USD), and the four token kinds} of every Claude call
    made for the job, over all its attempts (generation_calls of its generation_logs rows)."""
    return job_usages([job_id])[job_id]


def job_usages(job_ids):
    """Return {job_id: usage as job_usage gives it} for these jobs, in one query."""
    columns = [func.coalesce(func.sum(getattr(GenerationCall, kind)), 0) for kind in TOKEN_KINDS]
    rows = db.session.execute(
        db.select(GenerationLog.job_id, *columns, func.coalesce(func.sum(GenerationCall.cost_usd), 0))
        .join(GenerationLog, GenerationLog.id == GenerationCall.generation_log_id)
        .where(GenerationLog.job_id.in_(list(job_ids)))
        .group_by(GenerationLog.job_id)
    ).all()
    found = {row[0]: row[1:] for row in rows}
    usages = {}
    for job_id in job_ids:
        values = found.get(job_id, (0,) * (len(TOKEN_KINDS) + 1))
        usage = {kind: int(value) for kind, value in zip(TOKEN_KINDS, values[:-1])}
        usage["tokens_used"] = sum(usage.values())
        usage["cost_usd"] = Decimal(values[-1]).quantize(Decimal("0.000001"))
        usages[job_id] = usage
    return usages


def _result(job):
    if job.result_body is None:
        return None
    try:
        return json.loads(job.result_body)
    except ValueError:
        return None


def _iso(moment):
    return moment.isoformat() if moment is not None else None  # as the API's other timestamps


# --- Submission and reads ----------------------------------------------------------------------


def submit_job(*, operation, method, path, principal, body, args=None, req_id=None, candidate_id=None,
               callback_url=None, request_id=None, max_attempts=3):
    """Store a new queued job and return it (committed; the caller then enqueues its id).

    body: the request body as validated by the endpoint's schema (JSON-serialisable); args: the
    path's arguments (e.g. {"interview_id": 7}). principal: services.api_keys.Principal.
    """
    if operation not in OPERATIONS:
        raise ValueError(f"unknown job operation {operation!r}")
    now = utcnow()
    job = Job(
        id=new_job_id(), operation=operation, method=method, path=path[:255],
        owner_user_id=principal.user_id, owner_role=principal.role, api_key_id=principal.api_key_id,
        req_id=req_id, candidate_id=candidate_id, request_id=request_id,
        request={"body": body, "args": args or {}}, status="queued", attempts=0, max_attempts=max_attempts,
        created_at=now, heartbeat_at=now, callback_url=callback_url,
    )
    db.session.add(job)
    db.session.commit()
    return job


def discard(job_id):
    """Delete a job that could not be enqueued (its client got a 503 and no job id)."""
    delete_jobs(db.session, [job_id])
    db.session.commit()


def get_job(job_id, *, principal):
    """Return the Job ``job_id`` as seen by ``principal``: its own jobs, or any job for an admin.

    Raises NotFound (404) for an unknown job and for another caller's job (never 403: a job id
    says nothing about whether it exists).
    """
    job = db.session.get(Job, job_id) if isinstance(job_id, str) and len(job_id) <= 36 else None
    if job is None or (principal.role != "admin" and job.owner_user_id != principal.user_id):
        raise NotFound(f"Job {job_id!r} not found")
    return job


def list_jobs(*, principal, req_id=None, status=None, cursor=None, limit=50):
    """Return (jobs, next_cursor): the caller's jobs (an admin's: everyone's), newest first.

    Filters: req_id, status (one of STATUSES). cursor: the opaque ``next_cursor`` of the previous
    page (None for the first); next_cursor is None on the last page. Raises InvalidInput (400,
    field cursor) for a cursor this service did not make.
    """
    query = db.select(Job)
    if principal.role != "admin":
        query = query.where(Job.owner_user_id == principal.user_id)
    if req_id is not None:
        query = query.where(Job.req_id == req_id)
    if status is not None:
        query = query.where(Job.status == status)
    if cursor is not None:
        created_at, job_id = _decode_cursor(cursor)
        query = query.where(or_(Job.created_at < created_at, (Job.created_at == created_at) & (Job.id < job_id)))
    jobs = list(db.session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1)))
    next_cursor = _encode_cursor(jobs[limit - 1]) if len(jobs) > limit else None
    return jobs[:limit], next_cursor


def cancel_job(job_id, *, principal):
    """Cancel a queued job (it will not run) and return it.

    Raises NotFound (404) as get_job, and Conflict (409) when the job is no longer queued (a
    running job finishes; an ended one stays as it ended).
    """
    job = get_job(job_id, principal=principal)
    now = utcnow()
    body = {"success": False, "error": "The job was canceled before it ran", **({"req_id": job.req_id} if job.req_id else {})}
    changed = db.session.execute(
        update(Job).where(Job.id == job.id, Job.status == "queued")
        .values(status="canceled", step=None, finished_at=now, result_status=409, result_body=json.dumps(body),
                request=_kept_request(job))
    ).rowcount
    db.session.commit()
    db.session.refresh(job)
    if not changed:
        raise Conflict(f"Job {job.id} is {job.status}; only a queued job can be canceled", extra={"job_id": job.id, "status": job.status})
    metrics.record_job_finished(job.operation, "canceled")
    return job


def delete_jobs(session, job_ids):
    """Delete these jobs with their webhook deliveries and attempts in ``session`` (the caller
    commits). Used when a candidate's data is erased: a scoring job holds answers and a scorecard."""
    from models import WebhookAttempt, WebhookDelivery

    job_ids = [job_id for job_id in set(job_ids) if job_id]
    if not job_ids:
        return
    deliveries = db.select(WebhookDelivery.id).where(WebhookDelivery.job_id.in_(job_ids))
    session.execute(db.delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(deliveries)))
    session.execute(db.delete(WebhookDelivery).where(WebhookDelivery.job_id.in_(job_ids)))
    session.execute(db.delete(Job).where(Job.id.in_(job_ids)))


def pending_delivery_ids(job_id):
    """Return the ids of the job's webhook deliveries waiting for their first attempt."""
    from models import WebhookDelivery

    return list(db.session.scalars(db.select(WebhookDelivery.id).where(
        WebhookDelivery.job_id == job_id, WebhookDelivery.status == "pending", WebhookDelivery.attempts == 0)))


def job_counts():
    """Return {status: number of jobs} for every status in STATUSES (0 when none)."""
    counts = dict(db.session.execute(db.select(Job.status, func.count()).group_by(Job.status)).all())
    db.session.close()
    return {status: int(counts.get(status, 0)) for status in STATUSES}


def completed_operations(job):
    """Return {operation_type: GenerationLog} of what earlier attempts of ``job`` (a Job) stored.

    A first attempt (``job.attempts`` 1) has no earlier one: {} without a query. An operation
    counts once its stored entity's id is on its audit row (written in the entity's own
    transaction, services.audit.Operation.store) and the row is not failed; an in_progress row
    with an id counts too (rows written before the end moved into that transaction).
    """
    if job.attempts <= 1:
        return {}
    rows = db.session.scalars(
        db.select(GenerationLog).where(
            GenerationLog.job_id == job.id,
            or_(GenerationLog.job_description_id.is_not(None), GenerationLog.interview_id.is_not(None),
                GenerationLog.evaluation_id.is_not(None)),
            GenerationLog.status != "failed",
        ).order_by(GenerationLog.id)
    )
    done = {}
    for row in rows:
        stored = {"jd_enhancement": row.job_description_id, "interview_generation": row.interview_id,
                  "candidate_scoring": row.evaluation_id}.get(row.operation_type)
        if stored is not None:
            done[row.operation_type] = row
    return done


def _encode_cursor(job):
    raw = f"{job.created_at.isoformat()}|{job.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor):
    from datetime import datetime, timezone

    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, job_id = raw.split("|", 1)
        created_at = datetime.fromisoformat(moment)
        if created_at.utcoffset() is None or len(job_id) > 36:
            raise ValueError("not ours")
        return created_at.astimezone(timezone.utc), job_id
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidInput("cursor", "is not a cursor this service returned (use next_cursor as given)") from None


def _kept_request(job):
    return None if job.operation in _CANDIDATE_DATA else job.request


# --- Running -----------------------------------------------------------------------------------


class JobRunner:
    """Runs jobs by id inside an app context: claim, perform, heartbeat, end, hand over webhooks.

    performers: {operation: callable(job) -> (status_code, body dict)} that answer exactly as the
    synchronous endpoint would, errors included (routes/async_jobs.build_performers builds them).
    on_end: callable(job_id) after a job ended (the queue sends its webhook deliveries).
    """

    def __init__(self, app, performers, *, on_end=None):
        self.app = app
        self.performers = performers
        self.on_end = on_end

    def run(self, job_id):
        """Run job ``job_id`` if it is queued (or running with a stale heartbeat); return its end
        status, or None when another worker has it, it already ended, or it was canceled."""
        config = self.app.config
        with self.app.app_context():
            try:
                claimed = _claim(job_id, stale_seconds=config["JOB_STALE_SECONDS"])
                if claimed is None:
                    return None
                job, attempt, waited = claimed
                metrics.observe_job_wait(job.operation, waited)
                return self._perform(job, attempt)
            finally:
                db.session.remove()

    def _perform(self, job, attempt):
        from observability import current_request_id
        from services.progress import listening

        config = self.app.config
        started = utcnow()
        heartbeat = _Heartbeat(job.id, attempt, config["JOB_HEARTBEAT_SECONDS"])
        tokens = (current_request_id.set(job.request_id), current_job_id.set(job.id), current_job_attempt.set(attempt))
        heartbeat.start()
        try:
            # A database error here propagates: the heartbeat stops and the sweep redoes the job.
            if attempt > 1:  # only an earlier attempt can have left rows open
                _close_lost_operations(job.id)
            with listening(heartbeat.report):
                status_code, body = self._answer(job)
        finally:
            heartbeat.stop()
            current_request_id.reset(tokens[0])
            current_job_id.reset(tokens[1])
            current_job_attempt.reset(tokens[2])
            db.session.remove()
        status = "succeeded" if status_code < 400 else "failed"
        ended = _end_with_retries(job.id, worker=worker_name(), attempt=attempt, status=status, result_status=status_code,
                                  result_body=json.dumps(body, default=str), operation=job.operation)
        metrics.observe_job_run(job.operation, status if ended else "lost", (utcnow() - started).total_seconds())
        if not ended:
            log.warning("Job %s: attempt %s lost its claim before it ended (redone elsewhere)", job.id, attempt)
            return None
        if self.on_end is not None:
            self.on_end(job.id)
        return status


    def _answer(self, job):
        try:
            return self.performers[job.operation](job)
        except Exception:  # a performer answers errors itself; this is a bug: fail the job, keep the worker
            log.exception("Job %s (%s) raised", job.id, job.operation)
            return 500, _envelope("Internal server error", (job.request or {}).get("body", {}).get("req_id"))


class _Heartbeat:
    """Touches the job's heartbeat_at every ``interval`` seconds and writes its step as it changes."""

    def __init__(self, job_id, attempt, interval):
        self.job_id, self.attempt, self.interval = job_id, attempt, interval
        self._stop = threading.Event()
        self.lost = threading.Event()  # set once an update finds the job no longer this attempt's
        self._step = None
        self._written_step = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id[:12]}", daemon=True)
        self._engine = db.engine

    def start(self):
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=max(1.0, self.interval * 2))

    def report(self, step):
        """Record the job's step; raise JobClaimLost when this attempt no longer holds the job, so the
        operation stops at its next milestone instead of calling Claude for nothing."""
        with self._lock:
            self._step = step[:60]
        self._write()
        if self.lost.is_set():
            raise JobClaimLost(f"Job {self.job_id}: attempt {self.attempt} no longer holds the job")

    def _beat(self):
        while not self._stop.wait(self.interval):
            self._write(beat=True)

    def _write(self, beat=False):
        with self._lock:
            step = self._step
            if not beat and step == self._written_step:
                return
            self._written_step = step
        values = {"heartbeat_at": utcnow()}
        if step is not None:
            values["step"] = step
        try:
            with Session(self._engine) as session:
                held = session.execute(update(Job).where(Job.id == self.job_id, Job.status == "running",
                                                         Job.attempts == self.attempt).values(**values)).rowcount
                session.commit()
            if not held:
                self.lost.set()
        except SQLAlchemyError as exc:  # a missed beat is retried at the next one
            log.warning("Job %s heartbeat failed: %s", self.job_id, type(exc).__name__)


def _claim(job_id, *, stale_seconds):
    """Take the job for this worker: queued -> running (attempts + 1), or a running one whose
    heartbeat is older than ``stale_seconds``. Return (job, attempt, seconds waited) or None."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_seconds)
    with Session(db.engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.status in TERMINAL:
            return None
        if job.status == "running" and (job.heartbeat_at is None or job.heartbeat_at >= stale):
            return None
        if job.attempts >= job.max_attempts:
            return None  # the sweep ends it
        attempt = job.attempts + 1
        waited_since = job.heartbeat_at if job.status == "queued" and job.heartbeat_at else job.created_at
        changed = session.execute(
            update(Job).where(
                Job.id == job_id, Job.attempts == job.attempts,
                or_(Job.status == "queued", (Job.status == "running") & (Job.heartbeat_at < stale)),
            ).values(status="running", attempts=attempt, worker=worker_name(), started_at=now, heartbeat_at=now,
                     step="starting")
        ).rowcount
        session.commit()
        if not changed:
            return None
    job = db.session.get(Job, job_id, populate_existing=True)  # one read, fresher than any copy the session holds
    db.session.expunge(job)
    db.session.close()
    return job, attempt, (now - waited_since).total_seconds()


def _end(job_id, *, worker, attempt, status, result_status, result_body, operation=None):
    """Write a job's end (only if this attempt still holds it); return whether it was written."""
    now = utcnow()
    with Session(db.engine) as session:
        job = session.get(Job, job_id)
        if job is None or job.status in TERMINAL:
            return False
        conditions = [Job.id == job_id, Job.status.in_(("queued", "running"))]
        if attempt is not None:
            conditions += [Job.attempts == attempt, Job.worker == worker]
        changed = session.execute(
            update(Job).where(*conditions).values(
                status=status, step=None, finished_at=now, result_status=result_status, result_body=result_body,
                request=_kept_request(job),
            )
        ).rowcount
        if changed and job.callback_url and status in ("succeeded", "failed"):
            from services.webhooks import create_deliveries

            session.refresh(job)
            create_deliveries(session, job, url=job.callback_url)
        session.commit()
    if changed:
        metrics.record_job_finished(operation or job.operation, status)
    return bool(changed)


def _end_with_retries(job_id, **end):
    """_end, tried again on a database error (1, 2, 4 s later): a job whose end cannot be written at
    all stays running, and the sweep redoes it (finding what this attempt stored)."""
    import time

    for delay in (1, 2, 4, None):
        try:
            return _end(job_id, **end)
        except SQLAlchemyError as exc:
            if delay is None:
                raise
            log.warning("Job %s: writing its end failed (%s); retrying in %s s", job_id, type(getattr(exc, "orig", exc)).__name__, delay)
            time.sleep(delay)


def _close_lost_operations(job_id):
    """Mark the audit rows an earlier, dead attempt left in_progress as failed ("worker_lost"),
    with the token totals of the calls it recorded before it died."""
    with Session(db.engine) as session:
        rows = session.scalars(
            db.select(GenerationLog).where(GenerationLog.job_id == job_id, GenerationLog.status == "in_progress")
        ).all()
        for row in rows:
            calls = session.scalars(db.select(GenerationCall).where(GenerationCall.generation_log_id == row.id)).all()
            for kind in TOKEN_KINDS:
                setattr(row, kind, sum(getattr(call, kind) for call in calls))
            row.tokens_used = sum(getattr(row, kind) for kind in TOKEN_KINDS)
            row.claude_calls = len(calls)
            row.cost_usd = sum((call.cost_usd for call in calls if call.cost_usd is not None), Decimal(0))
            row.unpriced_calls = sum(1 for call in calls if call.cost_usd is None)
            stored = row.job_description_id or row.interview_id or row.evaluation_id
            row.status = "success" if stored else "failed"
            if not stored:
                row.error_kind = "worker_lost"
                row.error_message = "The worker running this job's attempt stopped before the operation ended; the job was redone"
            row.completed_at = utcnow()
        session.commit()


# --- The sweep ---------------------------------------------------------------------------------


def sweep(config, *, enqueue_job, enqueue_delivery, now=None):
    """Find work nobody is doing and hand it on; return {requeued, failed, deliveries} counts.

    - running jobs whose heartbeat is older than JOB_STALE_SECONDS (their worker died): queued
      again and re-enqueued, or, once ``max_attempts`` attempts were made, failed (503 envelope);
    - queued jobs not enqueued for 5 x JOB_STALE_SECONDS (their message was lost with an embedded
      pool or a broker restart): re-enqueued (a duplicate message is harmless: the claim runs a job once);
    - jobs started (or queued) longer than JOB_TIMEOUT_SECONDS ago: failed (504 envelope);
    - webhook deliveries of the jobs it failed, and those overdue by a minute (lost messages,
      retries too far off to queue): handed to ``enqueue_delivery``.
    Needs an application context. Safe to run in several processes at once (conditional updates).
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=config["JOB_STALE_SECONDS"])
    lost_message = now - timedelta(seconds=5 * config["JOB_STALE_SECONDS"])
    too_old = now - timedelta(seconds=config["JOB_TIMEOUT_SECONDS"])
    counts = {"requeued": 0, "failed": 0, "deliveries": 0}
    ended = []  # jobs this sweep failed: their webhooks go out now
    with Session(db.engine) as session:
        candidates = session.scalars(
            db.select(Job).where(Job.status.in_(("queued", "running")),
                                 or_(Job.heartbeat_at < stale, func.coalesce(Job.started_at, Job.created_at) < too_old))
        ).all()
        rows = [(job.id, job.status, job.attempts, job.max_attempts, job.created_at, job.started_at, job.heartbeat_at, job.req_id, job.operation)
                for job in candidates]
    for job_id, status, attempts, max_attempts, created_at, started_at, heartbeat_at, req_id, operation in rows:
        failure = None
        if (started_at or created_at) < too_old:
            failure = 504, f"The job did not finish within JOB_TIMEOUT_SECONDS ({config['JOB_TIMEOUT_SECONDS']:.0f} s); submit it again"
        elif status == "running" and heartbeat_at < stale and attempts >= max_attempts:
            failure = 503, f"The job's worker stopped {attempts} times before it finished; submit it again"
        if failure is not None:
            if _end(job_id, worker=None, attempt=None, status="failed", result_status=failure[0],
                    result_body=json.dumps(_envelope(failure[1], req_id)), operation=operation):
                counts["failed"] += 1
                ended.append(job_id)
            continue
        if status == "running" and heartbeat_at < stale:
            with Session(db.engine) as session:
                changed = session.execute(
                    update(Job).where(Job.id == job_id, Job.status == "running", Job.attempts == attempts,
                                      Job.heartbeat_at < stale)
                    .values(status="queued", worker=None, step="queued again (worker lost)", heartbeat_at=now)
                ).rowcount
                session.commit()
            if changed:
                log.warning("Job %s: worker lost on attempt %s; queued again", job_id, attempts)
                enqueue_job(job_id)
                counts["requeued"] += 1
        elif status == "queued" and heartbeat_at < lost_message:
            with Session(db.engine) as session:
                changed = session.execute(
                    update(Job).where(Job.id == job_id, Job.status == "queued", Job.heartbeat_at < lost_message)
                    .values(heartbeat_at=now)
                ).rowcount
                session.commit()
            if changed:
                enqueue_job(job_id)
                counts["requeued"] += 1
    from services.webhooks import due_deliveries

    overdue = [delivery_id for job_id in ended for delivery_id in pending_delivery_ids(job_id)]
    db.session.close()
    # Deliveries are queued by whoever made them due (the job's end, the previous attempt); the sweep
    # sends those overdue by a minute: their message was lost, or their retry was too far off to queue.
    with Session(db.engine) as session:
        overdue += due_deliveries(session, now - timedelta(seconds=60))
    for delivery_id in dict.fromkeys(overdue):
        enqueue_delivery(delivery_id)
        counts["deliveries"] += 1
    return counts


def _envelope(message, req_id):
    return {"success": False, "error": message, **({"req_id": req_id} if req_id else {})}
