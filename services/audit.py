"""Audit of operations that call Claude: one generation_logs row each, plus one
generation_calls row per HTTP attempt.

The rows are written through their own session and transaction, never the request's, so a
failed operation's row survives that operation's rollback, and no transaction is held open
while Claude is being waited on. The one exception is success: an operation that stores an
entity ends its row in the entity's own transaction (Operation.store), so the two commit together.
"""

import logging
import threading
import time
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import GenerationCall, GenerationLog, Job, db, utcnow
from observability import current_job_attempt, current_job_id, current_request_id
from services import metrics
from services.errors import ClaudeError, JobClaimLost, ServiceError
from services.pricing import TOKEN_KINDS

_MAX_ERROR_CHARS = 2000
log = logging.getLogger(__name__)


class Operation:
    """The audit of one running operation; the Claude adapter feeds it CallRecords."""

    def __init__(self, log_id):
        self.log_id = log_id
        self.calls = []
        self.job_description_id = None
        self.interview_id = None
        self.evaluation_id = None
        # Question cache outcome (interview_generation): slots reused, slots generated, tokens avoided.
        self.cache_hits = 0
        self.cache_misses = 0
        self.tokens_avoided = 0
        # Fair-hiring findings by source and category (note_findings), counts only.
        self.fairness_findings = {}
        # Set when the operation fails because another one did (e.g. the workflow's generation when
        # its enhancement failed): (error kind, message) recorded instead of the error's own, which
        # that other operation already recorded and counted.
        self.failed_because = None
        self.started = time.perf_counter()  # for latency_ms
        self._stored = None  # what store() wrote as the end (see _recorded)
        self._lock = threading.Lock()

    def add_call(self, record):
        """Record one HTTP attempt (claude_client.CallRecord) and write its generation_calls row now.

        Written at once (its own transaction), so a process killed mid-operation still leaves
        every call it was billed for in the audit. A failed write is retried when the operation stores its result or ends.
        """
        record.persisted = _write_call(self.log_id, record)
        with self._lock:
            self.calls.append(record)
        metrics.record_claude_call(record)

    def note_findings(self, categories, source="generated"):
        """Count fair-hiring findings (one category of services/fairness.CATEGORIES each) met in
        this operation's ``source`` text, on the audit row (fairness_findings: {source: {category:
        count}}) and in /metrics (techscreen_fairness_findings_total). Counts only, never the text.

        source: "generated" (Claude's output, refused for them), "cache" (a cache entry not
        reused), "input" (the hiring manager's text) or "evidence" (an evaluation quote not counted).
        Thread-safe (concurrent fills note into one operation).
        """
        categories = list(categories)
        if not categories:
            return
        with self._lock:
            counts = self.fairness_findings.setdefault(source, {})
            for category in categories:
                counts[category] = counts.get(category, 0) + 1
        metrics.record_fairness_findings(categories, source)

    def findings_counts(self):
        """Return a copy of the fair-hiring counts {source: {category: count}}, or None when there are none."""
        with self._lock:
            return {source: dict(counts) for source, counts in self.fairness_findings.items()} or None

    def store(self, session, **entity_ids):
        """Record the stored entity's id (job_description_id, interview_id or evaluation_id) on the
        audit row, end the operation as a success, and commit ``session``: the entity, its audit
        link and the row's end in one transaction. A redone job then knows exactly what an earlier
        attempt stored (services/jobs.completed_operations).

        Inside a job, the same transaction also checks that this attempt still holds the job
        (running, same attempt number) and raises JobClaimLost otherwise, so an attempt the sweep
        gave up on (its heartbeat was late, or the job timed out) never stores a second result.
        The end (status, tokens, cost, completed_at, latency_ms) is not written again when the
        ``audited_operation`` block exits, unless something it records changed since (another
        Claude call, the question cache's counts) or the block raised (the row is then marked
        failed as usual). Raises JobClaimLost and what the commit raises (e.g. IntegrityError);
        the session's transaction is then the caller's to roll back.
        """
        job_id, attempt = current_job_id.get(), current_job_attempt.get()
        if job_id is not None and attempt is not None:
            held = session.execute(
                update(Job).where(Job.id == job_id, Job.attempts == attempt, Job.status == "running").values(heartbeat_at=utcnow())
            ).rowcount
            if not held:
                raise JobClaimLost(f"Job {job_id}: attempt {attempt} no longer holds the job; its result is not stored")
        for name, value in entity_ids.items():
            setattr(self, name, value)
        unwritten = [call for call in self.calls if not getattr(call, "persisted", False)]
        session.add_all([_call_row(self.log_id, call) for call in unwritten])  # rows whose own write failed
        # the ids set above are among the end's values
        session.execute(update(GenerationLog).where(GenerationLog.id == self.log_id).values(**_end_values(self, status="success")))
        session.commit()
        for call in unwritten:
            call.persisted = True
        self._stored = self._recorded()

    def _recorded(self):
        """What the audit row's end records, to tell whether it changed since ``store`` wrote it."""
        with self._lock:
            calls = len(self.calls)
        return (calls, self.cache_hits, self.cache_misses, self.tokens_avoided,
                self.job_description_id, self.interview_id, self.evaluation_id, self.findings_counts())

    def totals(self):
        """Return {input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens,
        tokens_used, claude_calls, cost_usd (Decimal USD), unpriced_calls} summed over every recorded
        attempt (tokens as Anthropic reported them; cost at the prices when recorded)."""
        with self._lock:
            sums = {field: sum(getattr(call, field) for call in self.calls) for field in TOKEN_KINDS}
            sums["claude_calls"] = len(self.calls)
            sums["cost_usd"] = sum((call.cost_usd for call in self.calls if call.cost_usd is not None), Decimal(0))
            sums["unpriced_calls"] = sum(1 for call in self.calls if call.cost_usd is None)
        sums["tokens_used"] = sum(sums[field] for field in TOKEN_KINDS)
        return sums

    def usage(self):
        """Return {input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens} so far."""
        totals = self.totals()
        return {kind: totals[kind] for kind in TOKEN_KINDS}

    @property
    def tokens_used(self):
        """All tokens billed so far for this operation (the four Anthropic token kinds summed)."""
        return self.totals()["tokens_used"]


@contextmanager
def audited_operation(operation_type, *, claude, req_id=None, user_id=None, prompt_version=None):
    """Open a generation_logs row (status in_progress) and close it as success or failed.

    Yields an Operation to pass to ClaudeClient.generate_json as ``recorder``. The caller's
    session is closed first (ending any read it made), so no transaction or pooled connection
    is held while Claude works. On an exception the session is rolled back first, then the row
    is marked failed with the error's kind and message, and the exception propagates.
    """
    db.session.close()
    with Session(db.engine) as session:
        log = GenerationLog(
            operation_type=operation_type,
            request_id=current_request_id.get(),
            req_id=req_id,
            user_id=user_id,
            job_id=current_job_id.get(),
            status="in_progress",
            provider=claude.provider,
            model=claude.model,
            prompt_version=prompt_version,
            started_at=utcnow(),
        )
        session.add(log)
        session.flush()
        log_id = log.id  # read before the commit expires the row (no reload query)
        session.commit()
    operation = Operation(log_id)
    try:
        yield operation
    except ServiceError as exc:
        db.session.rollback()
        if operation.failed_because is not None:
            kind, message = operation.failed_because
            _finish(operation, status="failed", error_kind=kind, error_message=message)
            raise
        if isinstance(exc, ClaudeError):
            metrics.record_claude_error(exc.kind)
        _finish(operation, status="failed", error_kind=exc.kind, error_message=exc.message)
        raise
    except Exception as exc:
        db.session.rollback()
        _finish(operation, status="failed", error_kind="internal_error", error_message=type(exc).__name__)
        raise
    else:
        if operation._stored is None or operation._stored != operation._recorded():
            _finish(operation, status="success")


def _end_values(operation, *, status, error_kind=None, error_message=None):
    """The audit row's end: {status, error_*, completed_at, latency_ms (ms since the operation
    began), stored ids, cache counts, fairness_findings, the four token kinds, tokens_used,
    claude_calls, cost_usd (Decimal USD), unpriced_calls, model and effort (one value, or "mixed")}."""
    totals = operation.totals()
    values = {
        "status": status,
        "error_kind": error_kind,
        "error_message": (error_message or None) and error_message[:_MAX_ERROR_CHARS],
        "completed_at": utcnow(),
        "latency_ms": round((time.perf_counter() - operation.started) * 1000),
        "job_description_id": operation.job_description_id,
        "interview_id": operation.interview_id,
        "evaluation_id": operation.evaluation_id,
        "cache_hits": operation.cache_hits,
        "cache_misses": operation.cache_misses,
        "tokens_avoided": operation.tokens_avoided,
        "fairness_findings": operation.findings_counts(),
        **{field: totals[field] for field in (*TOKEN_KINDS, "tokens_used", "claude_calls", "cost_usd", "unpriced_calls")},
    }
    models_seen = {call.model for call in operation.calls if call.model}
    if models_seen:
        values["model"] = models_seen.pop() if len(models_seen) == 1 else "mixed"
    efforts_seen = {call.effort for call in operation.calls if call.effort}
    values["effort"] = efforts_seen.pop() if len(efforts_seen) == 1 else ("mixed" if efforts_seen else None)
    return values


def _finish(operation, *, status, error_kind=None, error_message=None):
    values = _end_values(operation, status=status, error_kind=error_kind, error_message=error_message)
    with Session(db.engine) as session:
        # one UPDATE of the row (no read first), with any call row whose own write failed
        ended = session.execute(update(GenerationLog).where(GenerationLog.id == operation.log_id).values(**values)).rowcount
        if not ended:
            log.warning("generation_logs row %s is gone; its end (%s) was not recorded", operation.log_id, status)
        for call in operation.calls:
            if not getattr(call, "persisted", False):
                session.add(_call_row(operation.log_id, call))
        session.commit()


def _call_row(log_id, call):
    return GenerationCall(
        generation_log_id=log_id,
        purpose=call.purpose,
        attempt=call.attempt,
        outcome=call.outcome,
        status_code=call.status_code,
        anthropic_request_id=call.anthropic_request_id,
        model=call.model,
        effort=call.effort,
        latency_ms=call.latency_ms,
        cost_usd=call.cost_usd,
        started_at=call.started_at,
        **{field: getattr(call, field) for field in TOKEN_KINDS},
    )


def _write_call(log_id, call):
    try:
        with Session(db.engine) as session:
            session.add(_call_row(log_id, call))
            session.commit()
        return True
    except SQLAlchemyError as exc:
        log.warning("Writing a generation_calls row failed (retried when the operation ends): %s", type(getattr(exc, "orig", exc)).__name__)
        return False
