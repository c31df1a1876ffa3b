"""Interview generation: 5 scenario questions with 8-10 criteria each, from an enhanced JD.

With the question cache on (ENABLE_QUESTION_CACHE and the request's use_cache not false):
plan -> look up -> fill. Claude plans the 5 slots (topic, skill_level, question_type, what it
tests); each slot is looked up in the cache (services/question_cache.py); the slots that miss
are written by Claude at once, one call per slot (at most CLAUDE_FILL_CONCURRENCY at a time),
none of which sees the JD; each gets its own repair if its answer is unusable, and the kit is
stored only when all five questions are valid. New questions go into the cache. With the cache
off, the 5 questions are generated in one call.

Fair hiring: Claude's plan, fills and one-call kits are validated with the fair-hiring guard
(services/generated_content.py: a finding gets the repair call, then 502); a cache entry with a
finding is never reused: the slot is a miss, written afresh, and the entry is replaced in the
cache. The audit row and /metrics count those findings by category (never the text).

WORK coverage (services/coverage.py): the JD's knowledge and competency items are listed in the
plan (or the one-call) prompt; each stored question records the items it covers (``covers``) and
the interview the items it was made for (``work_items``). A planned question, written or cached,
covers what its slot claimed and its own text supports; a one-call question what it supports.
"""

import logging
import threading
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models import (
    Interview,
    InterviewQuestion,
    JobDescription,
    QuestionCacheEntry,
    db,
    utcnow,
)
from prompts import (
    FILL_SCHEMA,
    INTERVIEW_KIT_SCHEMA,
    PLAN_SCHEMA,
    PROMPT_VERSION,
    build_fill_messages,
    build_interview_messages,
    build_plan_messages,
    build_requisition_plan_messages,
)
from services import coverage, metrics
from services import question_cache as cache
from services.audit import audited_operation
from services.progress import report
from services.concurrency import run_concurrently
from services.errors import Conflict, InvalidInput, NotFound
from services.generated_content import (
    content_findings,
    filled_questions_validator,
    validate_interview_kit,
    validate_plan,
)
from services.pricing import TOKEN_KINDS

log = logging.getLogger(__name__)
_VERSION_RACE_ATTEMPTS = 5


@dataclass
class GenerationResult:
    """A stored interview and what generating it cost."""

    interview: Interview
    tokens_used: int  # all tokens billed for this generation (input + output + cache write + cache read)
    cached_questions: int  # questions reused from the question cache instead of generated
    provider: str
    model: str
    usage: dict = field(default_factory=dict)  # the four Anthropic token kinds, summed over every call
    cost_usd: Decimal = Decimal(0)  # USD at the recorded prices (priced calls only)


@dataclass(frozen=True)
class RequisitionFacts:
    """What an interview plan is made from: the enhanced JD, or (``enhanced`` false) the requisition's
    own basic JD and WORK inputs, for a plan made while the enhancement is still running."""

    title: str
    description: str
    level: str | None = None
    department: str | None = None
    work_inputs: dict | None = None
    enhanced: bool = True
    # The WORK knowledge and competency items, [{"item", "kind"}] (services.coverage.work_items).
    work_items: tuple = ()

    @classmethod
    def from_job_description(cls, job_description):
        return cls(
            title=job_description.enhanced_title or job_description.basic_title,
            description=job_description.enhanced_description,
            level=job_description.basic_level,
            work_items=tuple(coverage.work_items(job_description.work_knowledge, job_description.work_competencies)),
        )

    @classmethod
    def from_requisition(cls, *, basic_title, basic_description, basic_level=None, basic_department=None,
                         work_inputs=None, **_):
        """The facts of a requisition not yet enhanced (the workflow's enhance arguments)."""
        work_inputs = work_inputs or {}
        return cls(
            title=basic_title, description=basic_description, level=basic_level, department=basic_department,
            work_inputs=work_inputs, enhanced=False,
            work_items=tuple(coverage.work_items(work_inputs.get("work_knowledge"), work_inputs.get("work_competencies"))),
        )

    def plan_messages(self):
        if self.enhanced:
            return build_plan_messages(
                title=self.title, description=self.description, level=self.level, work_items=self.work_items
            )
        return build_requisition_plan_messages(
            title=self.title, description=self.description, department=self.department, level=self.level,
            work_inputs=self.work_inputs, work_items=self.work_items,
        )


@dataclass
class PreparedQuestions:
    """The 5 questions of a kit in order (each with its ``covers``), the ones Claude wrote (to be
    cached), the cache entries found but not reused for their fair-hiring findings (to be
    replaced), and the WORK items the kit was made for."""

    questions: list
    generated: list
    writer: str = "interview_fill"  # the purpose that wrote the questions (its model is the interview's)
    refused_cache_ids: list = field(default_factory=list)
    work_items: list = field(default_factory=list)  # [{"item", "kind"}]


def generate_interview(
    *, claude, question_cache, req_id, job_description_id, interview_name=None, use_cache=None, user_id=None
):
    """Generate the next version of a job description's interview kit and store it atomically.

    question_cache: services.question_cache.QuestionCache. use_cache: None follows
    ENABLE_QUESTION_CACHE, False generates every question in one call. The interview and its 5
    questions commit in one transaction; a failure stores nothing but the failed
    generation_logs row, which also records cache hits, misses and tokens avoided.

    Returns GenerationResult. Raises NotFound (404) for an unknown job description,
    InvalidInput (400, field req_id) when it belongs to another requisition, Conflict (409)
    when it has no enhanced text, and the Claude errors of ClaudeClient.generate_json.
    Audited as operation "interview_generation".
    """
    job_description = check_can_generate(job_description_id, req_id)
    facts = RequisitionFacts.from_job_description(job_description)
    use_cache = uses_question_cache(question_cache, use_cache)

    with generation_operation(claude, req_id=req_id, user_id=user_id) as operation:
        operation.job_description_id = job_description_id
        prepared = prepare_questions(claude, question_cache, operation, facts, use_cache=use_cache)
        interview = store_interview(
            operation, claude=claude, job_description_id=job_description_id, req_id=req_id,
            interview_name=interview_name, title=facts.title, prepared=prepared, user_id=user_id,
        )
    return finish_generation(claude, question_cache, operation, interview, prepared)


def check_can_generate(job_description_id, req_id):
    """Return the JobDescription an interview can be generated from (no Claude call).

    Raises NotFound (404) for an unknown job description, InvalidInput (400, field req_id) when
    it belongs to another requisition, Conflict (409) when it has no enhanced text.
    """
    job_description = db.session.get(JobDescription, job_description_id)
    if job_description is None:
        raise NotFound(f"Job description {job_description_id} not found", req_id=req_id)
    if job_description.req_id != req_id:
        raise InvalidInput(
            "req_id",
            f"job description {job_description_id} belongs to requisition {job_description.req_id!r}, not {req_id!r}",
            req_id=req_id,
        )
    if not job_description.enhanced_description:
        raise Conflict(f"Job description {job_description_id} has not been enhanced yet", req_id=req_id)
    return job_description


def uses_question_cache(question_cache, use_cache):
    """Return whether a generation goes through plan -> look up -> fill (config and request agree)."""
    return question_cache.settings.enabled and use_cache is not False


def generation_operation(claude, *, req_id, user_id):
    """The audited "interview_generation" operation (services.audit.audited_operation)."""
    return audited_operation(
        "interview_generation", claude=claude, req_id=req_id, user_id=user_id, prompt_version=PROMPT_VERSION
    )


def prepare_questions(claude, question_cache, operation, facts, *, use_cache, cancelled=None):
    """Return PreparedQuestions for ``facts``: plan -> look up -> concurrent fills, or one call.

    cancelled: a threading.Event; when it is set once the plan is known, no question is written
    and Cancelled is raised (the workflow's enhancement failed). Needs an application context
    (the cache look-up reads the database); holds no transaction while Claude works. Raises the
    Claude errors of ClaudeClient.generate_json; when a slot stays invalid, the valid questions
    of the others are cached first (they are paid for, and do not depend on the JD).
    """
    if use_cache:
        return _plan_look_up_fill(claude, question_cache, operation, facts, cancelled)
    report("generating")
    system, messages = build_interview_messages(
        title=facts.title, description=facts.description, level=facts.level, work_items=facts.work_items
    )
    questions = claude.generate_json(
        purpose="interview_generation",
        system=system,
        messages=messages,
        schema=INTERVIEW_KIT_SCHEMA,
        validate=partial(validate_interview_kit, on_findings=operation.note_findings),
        recorder=operation,
    )
    items = [entry["item"] for entry in facts.work_items]
    for question in questions:  # nothing was claimed: support alone decides
        question["covers"] = coverage.question_covers(items, question)
    return PreparedQuestions(questions, [], writer="interview_generation", work_items=list(facts.work_items))


def store_interview(operation, *, claude, job_description_id, req_id, interview_name, title, prepared, user_id):
    """Store the prepared questions as the job description's next interview version (one commit).

    interview_name None names it "<title> interview".
    """
    report("storing")
    interview = _store_next_version(
        operation=operation,
        job_description_id=job_description_id,
        req_id=req_id,
        interview_name=interview_name or _default_interview_name(title),
        questions=prepared.questions,
        work_items=prepared.work_items,
        user_id=user_id,
        claude=claude,
        model=claude.model_for(prepared.writer),
    )
    operation.interview_id = interview.id
    return interview


def finish_generation(claude, question_cache, operation, interview, prepared):
    """Cache the newly written questions and return the GenerationResult of a stored interview."""
    if prepared.generated or prepared.refused_cache_ids or any(q.get("cache_entry_id") for q in prepared.questions):
        _update_cache(question_cache, prepared.questions, prepared.generated, prepared.refused_cache_ids)
    totals = operation.totals()
    return GenerationResult(
        interview, totals["tokens_used"], operation.cache_hits, claude.provider, interview.model,
        usage=operation.usage(), cost_usd=totals["cost_usd"],
    )


class _Tally:
    """A recorder that forwards every call to the operation and counts one slot's tokens."""

    def __init__(self, operation):
        self.operation = operation
        self.tokens = 0

    def add_call(self, record):
        self.tokens += sum(getattr(record, kind) for kind in TOKEN_KINDS)
        self.operation.add_call(record)


class Cancelled(Exception):
    """Raised by prepare_questions when its ``cancelled`` event was set before any question was written."""


def _plan_look_up_fill(claude, question_cache, operation, facts, cancelled=None):
    """Return PreparedQuestions: plan, look each slot up, write the missing ones concurrently."""
    settings = question_cache.settings
    items = [entry["item"] for entry in facts.work_items]
    report("planning")
    system, messages = facts.plan_messages()
    slots = claude.generate_json(
        purpose="interview_plan",
        system=system,
        messages=messages,
        schema=PLAN_SCHEMA,
        validate=partial(validate_plan, similarity_threshold=settings.threshold, on_findings=operation.note_findings,
                         work_items=items),
        recorder=operation,
    )
    refused = []
    hits = cache.find_cached_questions(
        [{"number": s["slot_number"], "topic": s["topic"], "skill_level": s["skill_level"], "question_type": s["question_type"]} for s in slots],
        index=question_cache.index,
        settings=settings,
        screen=partial(_fair_to_reuse, operation, refused),
    )
    db.session.close()  # end the look-up's read before the fill calls
    missing = [slot for slot in slots if slot["slot_number"] not in hits]
    # Recorded before the fill calls, so a failed fill's audit row still shows the look-up's outcome.
    operation.cache_hits = len(hits)
    operation.cache_misses = len(missing)
    operation.tokens_avoided = sum(entry.tokens_cost for entry in hits.values())
    metrics.record_cache_lookups(len(hits), len(missing))
    if cancelled is not None and cancelled.is_set():
        raise Cancelled()
    filled = _FillProgress(len(missing))
    outcomes = run_concurrently(_fill_calls(claude, operation, facts.title, missing, filled), max_workers=settings.fill_concurrency,
                                return_exceptions=True)
    generated = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if failures:
        if generated or refused:
            _update_cache(question_cache, [], generated, refused)
        raise failures[0]
    questions = generated + [_from_cache(number, entry) for number, entry in hits.items()]
    questions.sort(key=lambda q: q["question_number"])
    _record_covers(items, slots, questions)
    return PreparedQuestions(questions, generated, refused_cache_ids=refused, work_items=list(facts.work_items))


def _fair_to_reuse(operation, refused, entry):
    """Return whether a cache entry may be reused: it must pass the fair-hiring scan that Claude's
    questions pass. One that does not is counted (source "cache"), logged by id and category
    (never its text) and remembered in ``refused``, to be replaced by the question written now."""
    found = content_findings(_from_cache(0, entry))
    if not found:
        return True
    categories = [finding.category for _, finding in found]
    operation.note_findings(categories, source="cache")
    refused.append(entry.id)
    log.warning("Question cache entry %s not reused: fair-hiring findings (%s)", entry.id, ", ".join(sorted(set(categories))))
    return False


def _record_covers(items, slots, questions):
    """Set each planned question's ``covers``: the items its slot claimed that the question supports
    (written or cached alike), and count the claims by outcome."""
    claims = {slot["slot_number"]: slot for slot in slots}
    accepted = rejected = unknown = 0
    for question in questions:
        slot = claims[question["question_number"]]
        question["covers"] = coverage.question_covers(items, question, claimed=slot["covers"])
        accepted += len(question["covers"])
        rejected += len(slot["covers"]) - len(question["covers"])
        unknown += len(slot["unknown_covers"])
    metrics.record_coverage_claims(accepted, rejected, unknown)


class _FillProgress:
    """Reports "filling N of M" as the fills of a kit finish (thread-safe)."""

    def __init__(self, total):
        self.total, self.done, self._lock = total, 0, threading.Lock()
        if total:
            report(f"filling 0 of {total}")

    def one_done(self):
        with self._lock:
            self.done += 1
            report(f"filling {self.done} of {self.total}")


def _fill_calls(claude, operation, role_title, slots, progress=None):
    """One call per slot. When this process has not seen the fill prefix in Anthropic's prompt cache
    lately, the first call goes alone until its answer has begun (the cache is then written) and
    the others follow and read it, instead of each paying a cache write (entries are readable only
    once the first response has begun: https://platform.claude.com/docs/en/build-with-claude/prompt-caching)."""
    calls = [partial(_fill_slot, claude, operation, role_title, slot, progress=progress) for slot in slots]
    if len(slots) < 2 or claude.prefix_cached("interview_fill") is not False:
        return calls
    first_started = threading.Event()
    wait_seconds = claude.timeout

    def after_first(call):
        def run():
            first_started.wait(wait_seconds)
            return call()

        return run

    calls[0] = partial(_fill_slot, claude, operation, role_title, slots[0], on_started=first_started.set, progress=progress)
    return [calls[0], *(after_first(call) for call in calls[1:])]


def _fill_slot(claude, operation, role_title, slot, on_started=None, progress=None):
    """Write one slot's question (its own call, and its own repair when needed)."""
    tally = _Tally(operation)
    system, messages = build_fill_messages(role_title=role_title, slots=[slot])
    [question] = claude.generate_json(
        purpose="interview_fill",
        system=system,
        messages=messages,
        schema=FILL_SCHEMA,
        validate=filled_questions_validator([slot], on_findings=operation.note_findings),
        recorder=tally,
        on_started=on_started,
    )
    question["tokens_cost"] = tally.tokens
    if progress is not None:
        progress.one_done()
    return question


def _from_cache(number, entry):
    return {
        "question_number": number,
        "question_type": entry.question_type,
        "skill_level": entry.skill_level,
        "topic": entry.topic,
        "question_text": entry.question_text,
        "expected_answer": entry.expected_answer,
        "criteria": entry.criteria,
        "cache_entry_id": entry.id,
    }


def _update_cache(question_cache, questions, generated, refused_ids=()):
    """Count the hits, remove the entries refused for fair-hiring findings, cache the new
    questions and evict, in a transaction of its own.

    The cache is an optimisation: a failure here is logged and never fails the generation.
    Each new entry's tokens_cost is what its own fill call(s) cost. A refused entry is removed
    before the inserts, so the question written for its slot can take its key.
    """
    hit_ids = [q["cache_entry_id"] for q in questions if q.get("cache_entry_id")]
    for attempt in (1, 2):
        try:
            cache.record_hits(hit_ids)
            if refused_ids:
                cache.remove_entries(refused_ids)
            if generated:
                cache.expire(question_cache.settings)
                cache.store_questions(generated, prompt_version=PROMPT_VERSION)
                cache.trim(question_cache.settings)
            db.session.commit()
            return
        except SQLAlchemyError as exc:  # e.g. a deadlock between workers caching at once
            db.session.rollback()
            log.warning("Question cache update failed (attempt %d): %s", attempt, type(getattr(exc, "orig", exc)).__name__)


def _default_interview_name(title):
    """Return "<title> interview", shortened to fit the interview_name column (a title may be 255 characters)."""
    suffix = " interview"
    limit = Interview.__table__.c.interview_name.type.length
    return title[: limit - len(suffix)].rstrip() + suffix


def _store_next_version(*, operation, job_description_id, req_id, interview_name, questions, work_items, user_id, claude, model):
    """Insert the interview with the next free version and its questions in one transaction."""
    cache_ids = {q["cache_entry_id"] for q in questions if q.get("cache_entry_id")}
    for _ in range(_VERSION_RACE_ATTEMPTS):
        # A cache entry evicted since the look-up keeps its question's text but loses the link.
        live_ids = set(
            db.session.scalars(db.select(QuestionCacheEntry.id).where(QuestionCacheEntry.id.in_(cache_ids)))
        ) if cache_ids else set()
        latest = db.session.scalar(
            db.select(func.max(Interview.version)).where(Interview.job_description_id == job_description_id)
        )
        now = utcnow()
        interview = Interview(
            job_description_id=job_description_id,
            req_id=req_id,
            interview_name=interview_name,
            status="draft",
            version=(latest or 0) + 1,
            provider=claude.provider,
            model=model,
            prompt_version=PROMPT_VERSION,
            created_by_user_id=user_id,
            created_at=now,
            work_items=work_items,
            questions=[
                InterviewQuestion(
                    question_number=q["question_number"],
                    question_text=q["question_text"],
                    question_type=q["question_type"],
                    topic=q["topic"],
                    skill_level=q["skill_level"],
                    expected_answer=q["expected_answer"],
                    criteria=[
                        {"criterion": c["criterion"], "description": c["description"], "is_checked": False}
                        for c in q["criteria"]
                    ],
                    source="cache" if q.get("cache_entry_id") else "generated",
                    cache_entry_id=q.get("cache_entry_id") if q.get("cache_entry_id") in live_ids else None,
                    created_at=now,
                    covers=q.get("covers", []),
                )
                for q in questions
            ],
        )
        db.session.add(interview)
        try:
            db.session.flush()
            operation.store(db.session, interview_id=interview.id)
            return interview
        except IntegrityError:
            # Another request took this version number for the same JD; take the next one.
            db.session.rollback()
    raise Conflict("Could not allocate an interview version; too many concurrent generations", req_id=req_id)
