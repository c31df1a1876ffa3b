"""Database models (SQLAlchemy 2 style) and the shared ``db`` extension.

The schema is created only by the Alembic migrations in ``migrations/``; a test fails when
these models and the migrations drift apart. Timestamps are stored as naive UTC and read
back as timezone-aware UTC datetimes.
"""

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import DateTime, TypeDecorator

db = SQLAlchemy(session_options={"expire_on_commit": False})


def utcnow():
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A DATETIME holding UTC: naive in the database, aware in Python (microsecond precision)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


# Long texts: TEXT holds 64 KB on MySQL, too little for a 20,000-character utf8mb4 JD.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql").with_variant(mysql.MEDIUMTEXT(), "mariadb")

REQ_ID_LENGTH = 64
USER_ID_LENGTH = 64


class ApiKey(db.Model):
    """An API key: only its SHA-256 digest is stored; the key is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    key_prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Token budgets of this key (UTC day / month); None = the API_KEY_TOKEN_BUDGET_* default.
    daily_token_budget: Mapped[int | None] = mapped_column(BigInteger)
    monthly_token_budget: Mapped[int | None] = mapped_column(BigInteger)
    # Standard Webhooks signing secret ("whsec_..."), Fernet-encrypted with WEBHOOK_ENCRYPTION_KEY
    # (services/webhooks.py); shown once by `flask --app app api-keys set-webhook`. None: no webhooks.
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    webhook_url: Mapped[str | None] = mapped_column(String(2048))  # default callback of this key's jobs


class JobDescription(db.Model):
    """One requisition's job description: the basic text, WORK inputs and Claude's enhancement."""

    __tablename__ = "job_descriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    req_id: Mapped[str] = mapped_column(String(REQ_ID_LENGTH), unique=True)
    basic_title: Mapped[str] = mapped_column(String(255))
    basic_department: Mapped[str | None] = mapped_column(String(255))
    basic_level: Mapped[str | None] = mapped_column(String(100))
    basic_description: Mapped[str] = mapped_column(LongText)
    work_output: Mapped[str | None] = mapped_column(Text)
    work_role: Mapped[str | None] = mapped_column(Text)
    work_knowledge: Mapped[str | None] = mapped_column(Text)
    work_competencies: Mapped[str | None] = mapped_column(Text)
    enhanced_title: Mapped[str | None] = mapped_column(String(255))
    enhanced_description: Mapped[str | None] = mapped_column(LongText)
    provider: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(20))
    created_by_user_id: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enhanced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Interview(db.Model):
    """A versioned interview kit generated from one job description."""

    __tablename__ = "interviews"
    __table_args__ = (UniqueConstraint("job_description_id", "version", name="uq_interviews_jd_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_description_id: Mapped[int] = mapped_column(ForeignKey("job_descriptions.id"), index=True)
    req_id: Mapped[str] = mapped_column(String(REQ_ID_LENGTH), index=True)
    interview_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    provider: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(20))
    created_by_user_id: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The WORK items the kit was made for, [{"item": str, "kind": "knowledge" | "competency"}]
    # (services/coverage.py), kept with the kit as a re-enhancement may replace the JD's inputs;
    # [] when the JD had none, None for a kit stored before coverage existed. Never changes.
    work_items: Mapped[list | None] = mapped_column(JSON)

    questions: Mapped[list["InterviewQuestion"]] = relationship(
        back_populates="interview",
        order_by="InterviewQuestion.question_number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class InterviewQuestion(db.Model):
    """One scenario question of an interview with its evaluation criteria (a JSON list)."""

    __tablename__ = "interview_questions"
    __table_args__ = (UniqueConstraint("interview_id", "question_number", name="uq_questions_interview_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    question_number: Mapped[int]
    question_text: Mapped[str] = mapped_column(Text)
    question_type: Mapped[str] = mapped_column(String(30))
    topic: Mapped[str | None] = mapped_column(String(255))
    skill_level: Mapped[str | None] = mapped_column(String(20))
    expected_answer: Mapped[str | None] = mapped_column(Text)
    # [{"criterion": str, "description": str, "is_checked": bool}, ...] (8-10 items)
    criteria: Mapped[list] = mapped_column(JSON)
    # Provenance: "generated" by Claude for this interview, or "cache" (cache_entry_id names it).
    source: Mapped[str] = mapped_column(String(20), default="generated")
    cache_entry_id: Mapped[int | None] = mapped_column(ForeignKey("question_cache.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The interview's WORK items this question tests (their exact strings, in the items' order);
    # None for a question stored before coverage existed.
    covers: Mapped[list | None] = mapped_column(JSON)

    interview: Mapped[Interview] = relationship(back_populates="questions")


class QuestionCacheEntry(db.Model):
    """A reusable question keyed by normalised topic, skill level and question type."""

    __tablename__ = "question_cache"
    __table_args__ = (
        # One entry per exact key: concurrent inserts of the same key are ignored, never an error.
        UniqueConstraint("skill_level", "question_type", "normalized_topic", name="uq_question_cache_key"),
        Index("ix_question_cache_last_used_at", "last_used_at"),
        {"sqlite_autoincrement": True},  # never reuse a deleted entry's id (MySQL does not either)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(255))
    normalized_topic: Mapped[str] = mapped_column(String(255))
    skill_level: Mapped[str] = mapped_column(String(20))
    question_type: Mapped[str] = mapped_column(String(30))
    question_text: Mapped[str] = mapped_column(Text)
    expected_answer: Mapped[str | None] = mapped_column(Text)
    criteria: Mapped[list] = mapped_column(JSON)
    usage_count: Mapped[int] = mapped_column(default=0)  # cache hits served by this entry
    # Tokens this question cost when generated (its share of the fill call): a hit avoids about this many.
    tokens_cost: Mapped[int] = mapped_column(default=0)
    prompt_version: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set at insert and on every hit; eviction removes the least recently used first.
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GenerationLog(db.Model):
    """The audit row of one operation that may call Claude, with its token totals.

    Written in its own transaction (services/audit.py) so it survives the operation's rollback.
    """

    __tablename__ = "generation_logs"
    __table_args__ = (
        Index("ix_generation_logs_started_at", "started_at"),
        Index("ix_generation_logs_user_started", "user_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_type: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(128), index=True)  # the HTTP request's X-Request-ID
    req_id: Mapped[str | None] = mapped_column(String(REQ_ID_LENGTH), index=True)
    user_id: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH), index=True)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")  # in_progress/success/failed
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(100))
    # output_config.effort of the operation's calls (low ... max); "mixed" when they differ.
    effort: Mapped[str | None] = mapped_column(String(10))
    prompt_version: Mapped[str | None] = mapped_column(String(20))
    claude_calls: Mapped[int] = mapped_column(default=0)
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cache_creation_input_tokens: Mapped[int] = mapped_column(default=0)
    cache_read_input_tokens: Mapped[int] = mapped_column(default=0)
    # Sum of the four token counts above: everything this operation was billed for.
    tokens_used: Mapped[int] = mapped_column(default=0)
    # USD at the prices in force when each call was recorded (sum of priced calls).
    cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0))
    unpriced_calls: Mapped[int] = mapped_column(default=0)  # calls of a model with no price
    latency_ms: Mapped[int | None]
    # Question cache (interview_generation): slots served from the cache, slots generated, and the
    # tokens the hits' entries cost when they were generated (an estimate of tokens avoided).
    cache_hits: Mapped[int] = mapped_column(default=0)
    cache_misses: Mapped[int] = mapped_column(default=0)
    tokens_avoided: Mapped[int] = mapped_column(default=0)
    # The fair-hiring guard's findings (services/fairness.py), counts only, never the text:
    # {source: {category: count}}, source "generated" (Claude output refused for them), "cache"
    # (entries not reused), "input" (the hiring manager's text) or "evidence" (evaluation quotes
    # not counted); None when nothing was found (and on rows written before the guard).
    fairness_findings: Mapped[dict | None] = mapped_column(JSON)
    job_description_id: Mapped[int | None]
    interview_id: Mapped[int | None]
    evaluation_id: Mapped[int | None]
    # The asynchronous job this operation ran for (jobs.id); None for a synchronous request.
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    calls: Mapped[list["GenerationCall"]] = relationship(
        back_populates="log", order_by="GenerationCall.id", cascade="all, delete-orphan"
    )


class GenerationCall(db.Model):
    """One HTTP attempt to the Messages API (SDK retries and repair calls each get a row)."""

    __tablename__ = "generation_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_log_id: Mapped[int] = mapped_column(ForeignKey("generation_logs.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(40))  # e.g. "jd_enhancement", "jd_enhancement.repair"
    attempt: Mapped[int]  # 0 for the first HTTP attempt of an SDK call, 1.. for the SDK's retries
    outcome: Mapped[str] = mapped_column(String(30))  # "ok", "http_429", "timeout", "connection_error", ...
    status_code: Mapped[int | None]
    anthropic_request_id: Mapped[str | None] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(100))
    effort: Mapped[str | None] = mapped_column(String(10))  # output_config.effort sent; null = none
    # output_tokens include thinking tokens (billed as output).
    input_tokens: Mapped[int] = mapped_column(default=0)
    output_tokens: Mapped[int] = mapped_column(default=0)
    cache_creation_input_tokens: Mapped[int] = mapped_column(default=0)
    cache_read_input_tokens: Mapped[int] = mapped_column(default=0)
    latency_ms: Mapped[int]
    cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 6))  # None: the model had no price
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    log: Mapped[GenerationLog] = relationship(back_populates="calls")


class Evaluation(db.Model):
    """A candidate's scorecard for one interview: immutable once stored (score again = new row).

    Scores: each question criteria met / criteria x 10 (one decimal); overall = mean of the
    questions x 10 (0-100, one decimal); recommendation from the thresholds stored with it.
    """

    __tablename__ = "evaluations"
    __table_args__ = (
        Index("ix_evaluations_req_id_score", "req_id", "overall_score"),
        {"sqlite_autoincrement": True},  # an erased scorecard's id must never name another candidate's
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interviews.id"), index=True)
    req_id: Mapped[str] = mapped_column(String(REQ_ID_LENGTH))
    candidate_id: Mapped[str] = mapped_column(String(128), index=True)
    candidate_name: Mapped[str | None] = mapped_column(String(255))
    evaluator: Mapped[str | None] = mapped_column(String(255))
    mode: Mapped[str] = mapped_column(String(10))  # "ai" or "manual"
    overall_score: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    recommendation: Mapped[str] = mapped_column(String(10))  # advance / hold / reject
    advance_threshold: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    reject_threshold: Mapped[Decimal] = mapped_column(Numeric(4, 1))
    tokens_used: Mapped[int] = mapped_column(default=0)
    provider: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(100))
    prompt_version: Mapped[str | None] = mapped_column(String(20))
    created_by_user_id: Mapped[str | None] = mapped_column(String(USER_ID_LENGTH), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    questions: Mapped[list["EvaluationQuestion"]] = relationship(
        back_populates="evaluation",
        order_by="EvaluationQuestion.question_number",
        cascade="all, delete-orphan",
        lazy="selectin",
        passive_deletes=True,
    )


class EvaluationQuestion(db.Model):
    """One question of an evaluation: its score, feedback and per-criterion results."""

    __tablename__ = "evaluation_questions"
    __table_args__ = (UniqueConstraint("evaluation_id", "question_number", name="uq_evaluation_questions_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"), index=True)
    question_number: Mapped[int]
    score: Mapped[Decimal] = mapped_column(Numeric(3, 1))
    feedback: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # The candidate's answer (AI mode): candidate data, erased with the evaluation, never logged.
    answer_text: Mapped[str | None] = mapped_column(LongText)
    # [{"criterion": str, "met": bool, "evidence": str | None}, ...] in the interview's order
    criteria: Mapped[list] = mapped_column(JSON)

    evaluation: Mapped[Evaluation] = relationship(back_populates="questions")


class IdempotencyKey(db.Model):
    """A client's Idempotency-Key and the response it got (replayed for 24 h; routes/idempotency.py)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("owner", "key", name="uq_idempotency_owner_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(USER_ID_LENGTH))  # the caller's user id (scopes the key)
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and canonical JSON body
    status: Mapped[str] = mapped_column(String(20))  # in_progress / completed
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(LongText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Job(db.Model):
    """An asynchronous request (``Prefer: respond-async``): its input, state and final answer.

    The service's database is the job's source of truth (services/jobs.py): the broker only
    carries the job id, so the API reads a job without the broker and a lost message is redone.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_owner_created", "owner_user_id", "created_at"),
        Index("ix_jobs_status_heartbeat", "status", "heartbeat_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # "job_" + 32 hex digits
    operation: Mapped[str] = mapped_column(String(40))  # services.jobs.OPERATIONS
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(255))
    owner_user_id: Mapped[str] = mapped_column(String(USER_ID_LENGTH))
    owner_role: Mapped[str] = mapped_column(String(20))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    req_id: Mapped[str | None] = mapped_column(String(REQ_ID_LENGTH), index=True)
    candidate_id: Mapped[str | None] = mapped_column(String(128), index=True)  # evaluations: erased with the candidate
    request_id: Mapped[str | None] = mapped_column(String(128))  # X-Request-ID of the submission
    # {"body": the validated request body, "args": the path's arguments}; cleared when the job ends
    # if it holds candidate answers.
    request: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # queued / running / succeeded / failed / canceled
    step: Mapped[str | None] = mapped_column(String(60))  # e.g. "enhancing", "filling 3 of 5", "storing"
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid of the attempt that runs it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of the latest attempt
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The answer the synchronous call would have given: its status code and JSON body.
    result_status: Mapped[int | None]
    result_body: Mapped[str | None] = mapped_column(LongText)
    callback_url: Mapped[str | None] = mapped_column(String(2048))

    deliveries: Mapped[list["WebhookDelivery"]] = relationship(
        back_populates="job", order_by="WebhookDelivery.id", cascade="all, delete-orphan", passive_deletes=True
    )


class WebhookDelivery(db.Model):
    """One webhook message (a job's end) to one URL, retried until delivered or given up."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)  # webhook-id: the same on every retry
    event_type: Mapped[str] = mapped_column(String(40))  # job.succeeded / job.failed
    url: Mapped[str] = mapped_column(String(2048))
    status: Mapped[str] = mapped_column(String(20))  # pending / sending / delivered / failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(back_populates="deliveries")
    attempt_log: Mapped[list["WebhookAttempt"]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.id", cascade="all, delete-orphan", passive_deletes=True,
        lazy="selectin",
    )


class WebhookAttempt(db.Model):
    """One HTTP attempt of a webhook delivery."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int]  # 1, 2, ...
    # delivered (2xx) / http_error (non-2xx) / network_error / refused (the SSRF guard said no)
    outcome: Mapped[str] = mapped_column(String(20))
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")
