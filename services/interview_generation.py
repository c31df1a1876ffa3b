"""Interview generation: 5 scenario questions with 8-10 criteria each, from an enhanced JD."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from models import Interview, InterviewQuestion, JobDescription, db, utcnow
from prompts import INTERVIEW_KIT_SCHEMA, PROMPT_VERSION, build_interview_messages
from services.audit import audited_operation
from services.errors import Conflict, InvalidInput, NotFound
from services.generated_content import validate_interview_kit

_VERSION_RACE_ATTEMPTS = 5


@dataclass
class GenerationResult:
    """A stored interview and what generating it cost."""

    interview: Interview
    tokens_used: int  # all tokens billed for this generation (input + output + cache write + cache read)
    cached_questions: int  # questions reused from the question cache instead of generated
    provider: str
    model: str


def generate_interview(*, claude, req_id, job_description_id, interview_name=None, use_cache=None, user_id=None):
    """Generate the next version of a job description's interview kit and store it atomically.

    The interview and its 5 questions commit in one transaction; a failure stores nothing but
    the failed generation_logs row. ``use_cache`` is accepted for the question cache (not
    used by this version: every question is generated, cached_questions is 0).

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
    system, messages = build_interview_messages(
        title=title, description=job_description.enhanced_description, level=job_description.basic_level
    )
    db.session.close()  # end the read: no connection is held while Claude works

    with audited_operation(
        "interview_generation", claude=claude, req_id=req_id, user_id=user_id, prompt_version=PROMPT_VERSION
    ) as operation:
        operation.job_description_id = job_description_id
        questions = claude.generate_json(
            purpose="interview_generation",
            system=system,
            messages=messages,
            schema=INTERVIEW_KIT_SCHEMA,
            validate=validate_interview_kit,
            recorder=operation,
        )
        interview = _store_next_version(
            job_description_id=job_description_id,
            req_id=req_id,
            interview_name=interview_name or _default_interview_name(title),
            questions=questions,
            user_id=user_id,
            claude=claude,
        )
        operation.interview_id = interview.id
    return GenerationResult(interview, operation.tokens_used, 0, claude.provider, claude.model)


def _default_interview_name(title):
    """Return "<title> interview", shortened to fit the interview_name column (a title may be 255 characters)."""
    suffix = " interview"
    limit = Interview.__table__.c.interview_name.type.length
    return title[: limit - len(suffix)].rstrip() + suffix


def _store_next_version(*, job_description_id, req_id, interview_name, questions, user_id, claude):
    """Insert the interview with the next free version and its questions in one transaction."""
    for _ in range(_VERSION_RACE_ATTEMPTS):
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
                    source="generated",
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
