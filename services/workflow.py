"""The full workflow: enhance a requisition's JD, then generate its interview, in one call."""

from dataclasses import dataclass

from services.errors import ServiceError
from services.interview_generation import generate_interview
from services.jd_enhancement import enhance_job_description


@dataclass
class WorkflowResult:
    job_description: object
    interview: object
    total_tokens_used: int  # enhancement + generation, all token kinds
    provider: str
    model: str


def run_full_workflow(
    *, claude, question_cache, req_id, interview_name=None, use_cache=None, user_id=None, **enhance_args
):
    """Enhance the JD (see enhance_job_description for enhance_args) and generate its interview.

    When generation fails after the enhancement was stored, the error raised carries
    ``job_description_id`` so the caller can retry with POST /api/interview/generate
    instead of enhancing again. Raises what either step raises.
    """
    enhancement = enhance_job_description(claude=claude, req_id=req_id, user_id=user_id, **enhance_args)
    job_description = enhancement.job_description
    try:
        generation = generate_interview(
            claude=claude,
            question_cache=question_cache,
            req_id=req_id,
            job_description_id=job_description.id,
            interview_name=interview_name,
            use_cache=use_cache,
            user_id=user_id,
        )
    except ServiceError as exc:
        exc.extra.setdefault("job_description_id", job_description.id)
        raise
    return WorkflowResult(
        job_description=job_description,
        interview=generation.interview,
        total_tokens_used=enhancement.tokens_used + generation.tokens_used,
        provider=claude.provider,
        model=claude.model,
    )
