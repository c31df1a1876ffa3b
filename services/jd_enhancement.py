"""Job description enhancement: a requisition's basic JD and WORK inputs, rewritten by Claude.

Fair hiring: the hiring manager's own text is reported, never refused (input_language_findings,
computed from the stored text whenever it is read; counted once, when enhanced); the findings
are named to Claude so the enhancement does not carry them over, and the enhanced title and
description must have none (services/generated_content.py: repair, then 502).
"""

from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from sqlalchemy.exc import IntegrityError

from models import JobDescription, db, utcnow
from prompts import ENHANCED_JD_SCHEMA, PROMPT_VERSION, build_enhancement_messages
from services.audit import audited_operation
from services.errors import Conflict, NotFound
from services.fairness_check import language_findings
from services.generated_content import validate_enhanced_jd
from services.progress import report

WORK_FIELDS = ("work_output", "work_role", "work_knowledge", "work_competencies")
# The hiring manager's own text of a requisition, in the order its findings are reported.
INPUT_FIELDS = ("basic_title", "basic_department", "basic_level", "basic_description", *WORK_FIELDS)


def input_language_findings(source):
    """Return the fair-hiring findings and gender coding of a requisition's own text (INPUT_FIELDS).

    source: a JobDescription, or a mapping with those keys. Shape of
    fairness_check.language_findings: each finding names its ``field``, offsets into that
    field's text as stored. Pure; counts nothing.
    """
    get = source.get if isinstance(source, dict) else partial(getattr, source)
    return language_findings({name: get(name, None) for name in INPUT_FIELDS})


@dataclass
class EnhancementResult:
    """A stored job description and what producing it cost (tokens as Anthropic reported them)."""

    job_description: JobDescription
    tokens_used: int
    provider: str
    model: str
    usage: dict = field(default_factory=dict)  # the four Anthropic token kinds
    cost_usd: Decimal = Decimal(0)  # USD at the recorded prices


def enhance_job_description(
    *,
    claude,
    req_id,
    basic_title,
    basic_description,
    basic_department=None,
    basic_level=None,
    work_inputs=None,
    replace=False,
    user_id=None,
):
    """Enhance a requisition's job description with Claude and store both versions.

    work_inputs: {work_output, work_role, work_knowledge, work_competencies} (each str or None).
    A req_id that already has a job description raises Conflict (409) unless ``replace`` is
    true; with ``replace`` the stored texts are overwritten only after the new enhancement
    succeeded, so a failed call never loses the stored one.

    The inputs' fair-hiring findings are counted on the audit row and in /metrics (source
    "input") and named to Claude to leave out; an enhanced title or description with a finding
    gets the repair call, then ClaudeBadOutput (502) naming it.

    Returns EnhancementResult. Raises Conflict, and the Claude errors of
    ClaudeClient.generate_json (502/503/504). Audited as operation "jd_enhancement".
    """
    work_inputs = {name: (work_inputs or {}).get(name) for name in WORK_FIELDS}
    existing_id = check_can_enhance(req_id, replace=replace)
    language = input_language_findings({
        "basic_title": basic_title, "basic_department": basic_department, "basic_level": basic_level,
        "basic_description": basic_description, **work_inputs,
    })

    with audited_operation(
        "jd_enhancement", claude=claude, req_id=req_id, user_id=user_id, prompt_version=PROMPT_VERSION
    ) as operation:
        operation.note_findings((f["category"] for f in language["findings"]), source="input")
        report("enhancing")
        system, messages = build_enhancement_messages(
            title=basic_title,
            description=basic_description,
            department=basic_department,
            level=basic_level,
            work_inputs=work_inputs,
            avoid=language["findings"],
        )
        enhanced = claude.generate_json(
            purpose="jd_enhancement",
            system=system,
            messages=messages,
            schema=ENHANCED_JD_SCHEMA,
            validate=partial(validate_enhanced_jd, on_findings=operation.note_findings),
            recorder=operation,
        )
        job_description = db.session.get(JobDescription, existing_id) if existing_id else None
        if job_description is None:
            job_description = JobDescription(req_id=req_id, created_by_user_id=user_id, created_at=utcnow())
            db.session.add(job_description)
        job_description.basic_title = basic_title
        job_description.basic_description = basic_description
        job_description.basic_department = basic_department
        job_description.basic_level = basic_level
        for name, value in work_inputs.items():
            setattr(job_description, name, value)
        job_description.enhanced_title = enhanced["enhanced_title"]
        job_description.enhanced_description = enhanced["enhanced_description"]
        job_description.provider = claude.provider
        job_description.model = claude.model_for("jd_enhancement")
        job_description.prompt_version = PROMPT_VERSION
        job_description.enhanced_at = utcnow()
        try:
            db.session.flush()
            operation.store(db.session, job_description_id=job_description.id)
        except IntegrityError:
            db.session.rollback()
            existing_id = job_description_id_for(req_id)
            raise _already_enhanced(req_id, existing_id) from None
        operation.job_description_id = job_description.id
    totals = operation.totals()
    return EnhancementResult(
        job_description, totals["tokens_used"], claude.provider, job_description.model, usage=operation.usage(),
        cost_usd=totals["cost_usd"],
    )


def check_can_enhance(req_id, *, replace=False):
    """Return the id of the requisition's job description (None when it has none).

    Raises Conflict (409) when it has one and ``replace`` is false.
    """
    existing_id = job_description_id_for(req_id)
    if existing_id is not None and not replace:
        raise _already_enhanced(req_id, existing_id)
    return existing_id


def job_description_id_for(req_id):
    """Return the id of a requisition's job description, or None when it has none."""
    return db.session.scalar(db.select(JobDescription.id).where(JobDescription.req_id == req_id))


def unknown_requisition(req_id):
    """The NotFound (404) for a requisition with no job description, hence no interviews."""
    return NotFound(f"No job description or interview for requisition {req_id!r}", req_id=req_id)


def get_job_description(req_id):
    """Return the JobDescription of a requisition. Raises NotFound (404)."""
    job_description = db.session.scalar(db.select(JobDescription).where(JobDescription.req_id == req_id))
    if job_description is None:
        raise NotFound(f"No job description for requisition {req_id!r}", req_id=req_id)
    return job_description


def _already_enhanced(req_id, job_description_id):
    return Conflict(
        f"Requisition {req_id!r} already has a job description (id {job_description_id}); "
        "send \"replace\": true to enhance it again",
        req_id=req_id,
        extra={"job_description_id": job_description_id},
    )
