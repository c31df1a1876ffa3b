"""Interview generation: 5 scenario questions with 8-10 criteria each, from an enhanced JD.

With the question cache on (ENABLE_QUESTION_CACHE and the request's use_cache not false):
plan -> look up -> fill. Claude plans the 5 slots (topic, skill_level, question_type, what it
tests); each slot is looked up in the cache (services/question_cache.py); only the slots that
miss are written by Claude, in one call that does not see the JD; new questions go into the
cache. With the cache off, the 5 questions are generated in one call.
"""

import logging
from dataclasses import dataclass
from functools import partial

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from models import Interview, InterviewQuestion, JobDescription, QuestionCacheEntry, db, utcnow
from prompts import (
    FILL_SCHEMA,
    INTERVIEW_KIT_SCHEMA,
    PLAN_SCHEMA,
    PROMPT_VERSION,
    build_fill_messages,
    build_interview_messages,
    build_plan_messages,
)
from services import metrics
from services import question_cache as cache
from services.audit import audited_operation
from services.errors import Conflict, InvalidInput, NotFound
from services.generated_content import filled_questions_validator, validate_interview_kit, validate_plan

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


def generate_interview(
    *, claude, question_cache, req_id, job_description_id, interview_name=None, use_cache=None, user_id=None
):
    """Generate the next version of a job description's interview kit and store it atomically.

    question_cache: services.question_cache.QuestionCache. use_cache: None follows
    ENABLE_QUESTION_CACHE, False generates every question. The interview and its 5 questions
    commit in one transaction; a failure stores nothing but the failed generation_logs row,
    which also records cache hits, misses and tokens avoided.

    Returns GenerationResult. Raises NotFound (404) for an unknown job description,
    InvalidInput (400, field req_id) when it belongs to another requisition, Conflict (409)
    when it has no enhanced text, and the Claude errors of ClaudeClient.generate_json.
    Audited as operation "interview_generation".
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
    title = job_description.enhanced_title or job_description.basic_title
    description, level = job_description.enhanced_description, job_description.basic_level
    use_cache = question_cache.settings.enabled and use_cache is not False

    with audited_operation(
        "interview_generation", claude=claude, req_id=req_id, user_id=user_id, prompt_version=PROMPT_VERSION
    ) as operation:
        operation.job_description_id = job_description_id
        if use_cache:
            questions, generated, fill_tokens = _plan_look_up_fill(
                claude, question_cache, operation, title=title, description=description, level=level
            )
        else:
            system, messages = build_interview_messages(title=title, description=description, level=level)
            questions = claude.generate_json(
                purpose="interview_generation",
                system=system,
                messages=messages,
                schema=INTERVIEW_KIT_SCHEMA,
                validate=validate_interview_kit,
                recorder=operation,
            )
            generated, fill_tokens = [], 0
        interview = _store_next_version(
            job_description_id=job_description_id,
            req_id=req_id,
            interview_name=interview_name or _default_interview_name(title),
            questions=questions,
            user_id=user_id,
            claude=claude,
        )
        operation.interview_id = interview.id
    if use_cache:
        _update_cache(question_cache, questions, generated, fill_tokens)
    return GenerationResult(interview, operation.tokens_used, operation.cache_hits, claude.provider, claude.model)


def _plan_look_up_fill(claude, question_cache, operation, *, title, description, level):
    """Return (5 questions in order, the generated ones, tokens the fill call cost)."""
    settings = question_cache.settings
    system, messages = build_plan_messages(title=title, description=description, level=level)
    slots = claude.generate_json(
        purpose="interview_plan",
        system=system,
        messages=messages,
        schema=PLAN_SCHEMA,
        validate=partial(validate_plan, similarity_threshold=settings.threshold),
        recorder=operation,
    )
    hits = cache.find_cached_questions(
        [{"number": s["slot_number"], "topic": s["topic"], "skill_level": s["skill_level"], "question_type": s["question_type"]} for s in slots],
        index=question_cache.index,
        settings=settings,
    )
    db.session.close()  # end the look-up's read before the fill call
    missing = [slot for slot in slots if slot["slot_number"] not in hits]
    # Recorded before the fill call, so a failed fill's audit row still shows the look-up's outcome.
    operation.cache_hits = len(hits)
    operation.cache_misses = len(missing)
    operation.tokens_avoided = sum(entry.tokens_cost for entry in hits.values())
    metrics.record_cache_lookups(len(hits), len(missing))
    generated, fill_tokens = [], 0
    if missing:
        before = operation.tokens_used
        system, messages = build_fill_messages(role_title=title, slots=missing)
        generated = claude.generate_json(
            purpose="interview_fill",
            system=system,
            messages=messages,
            schema=FILL_SCHEMA,
            validate=filled_questions_validator(missing),
            recorder=operation,
        )
        fill_tokens = operation.tokens_used - before
    questions = generated + [_from_cache(number, entry) for number, entry in hits.items()]
    return sorted(questions, key=lambda q: q["question_number"]), generated, fill_tokens


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


def _update_cache(question_cache, questions, generated, fill_tokens):
    """Count the hits, cache the new questions and evict, in a transaction of its own.

    The cache is an optimisation: a failure here is logged and never fails the generation.
    """
    hit_ids = [q["cache_entry_id"] for q in questions if q.get("cache_entry_id")]
    per_question = fill_tokens // len(generated) if generated else 0
    for attempt in (1, 2):
        try:
            cache.record_hits(hit_ids)
            if generated:
                cache.expire(question_cache.settings)
                cache.store_questions(generated, tokens_per_question=per_question, prompt_version=PROMPT_VERSION)
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


def _store_next_version(*, job_description_id, req_id, interview_name, questions, user_id, claude):
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
            model=claude.model,
            prompt_version=PROMPT_VERSION,
            created_by_user_id=user_id,
            created_at=now,
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
                )
                for q in questions
            ],
        )
        db.session.add(interview)
        try:
            db.session.commit()
            return interview
        except IntegrityError:
            # Another request took this version number for the same JD; take the next one.
            db.session.rollback()
    raise Conflict("Could not allocate an interview version; too many concurrent generations", req_id=req_id)
