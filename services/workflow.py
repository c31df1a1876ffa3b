"""The full workflow: enhance a requisition's JD and generate its interview kit, in one call.

With the question cache on, the interview is planned from the requisition itself (basic title,
department, level, description and the four WORK inputs: the facts the enhancement works from)
while the enhancement runs, and the missing questions are written as soon as the plan is known,
so the kit is ready when the enhanced JD is (or soon after). The interview is stored only once
the enhancement is, and links to it. With the cache off (the one-call path), generation needs
the enhanced text and so runs after it.
"""

import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from services.concurrency import start_beside
from services.errors import ServiceError
from services.interview_generation import (
    Cancelled,
    RequisitionFacts,
    finish_generation,
    generate_interview,
    generation_operation,
    prepare_questions,
    store_interview,
    uses_question_cache,
)
from services.jd_enhancement import check_can_enhance, enhance_job_description
from services.pricing import TOKEN_KINDS

log = logging.getLogger(__name__)


@dataclass
class WorkflowResult:
    job_description: object
    interview: object
    total_tokens_used: int  # enhancement + generation, all token kinds
    provider: str
    model: str
    cached_questions: int = 0  # questions reused from the question cache
    usage: dict = field(default_factory=dict)  # the four Anthropic token kinds, both operations summed
    cost_usd: Decimal = Decimal(0)  # USD, both operations, at the recorded prices


def run_full_workflow(
    *, claude, question_cache, req_id, interview_name=None, use_cache=None, user_id=None, **enhance_args
):
    """Enhance the JD (see enhance_job_description for enhance_args) and generate its interview.

    Returns WorkflowResult. Refuses an already enhanced requisition (Conflict, 409, unless
    ``replace``) before any Claude call. When generation fails after the enhancement was
    stored, the error raised carries ``job_description_id`` so the caller can retry with
    POST /api/interview/generate instead of enhancing again. Raises what either step raises;
    when both fail, the enhancement's error. Audited as two operations, jd_enhancement and
    interview_generation.
    """
    check_can_enhance(req_id, replace=enhance_args.get("replace", False))
    if not uses_question_cache(question_cache, use_cache):
        enhancement = enhance_job_description(claude=claude, req_id=req_id, user_id=user_id, **enhance_args)
        with retry_hint(enhancement.job_description):
            generation = generate_interview(
                claude=claude, question_cache=question_cache, req_id=req_id,
                job_description_id=enhancement.job_description.id, interview_name=interview_name, use_cache=use_cache,
                user_id=user_id,
            )
        return combine_results(claude, enhancement, generation)

    facts = RequisitionFacts.from_requisition(**enhance_args)
    enhancement_failed = threading.Event()
    with generation_operation(claude, req_id=req_id, user_id=user_id) as operation:
        planned = start_beside(
            lambda: prepare_questions(claude, question_cache, operation, facts, use_cache=True, cancelled=enhancement_failed)
        )
        try:
            enhancement = enhance_job_description(claude=claude, req_id=req_id, user_id=user_id, **enhance_args)
        except BaseException as exc:
            enhancement_failed.set()  # no question is written once the plan is known
            _wait_quietly(planned)
            operation.failed_because = ("enhancement_failed", f"Not stored: the job description's enhancement failed ({getattr(exc, 'kind', type(exc).__name__)})")
            raise
        job_description = enhancement.job_description
        operation.job_description_id = job_description.id
        with retry_hint(job_description):
            prepared = planned.result()
            interview = store_interview(
                operation, claude=claude, job_description_id=job_description.id, req_id=req_id,
                interview_name=interview_name, title=job_description.enhanced_title or facts.title,
                prepared=prepared, user_id=user_id,
            )
    generation = finish_generation(claude, question_cache, operation, interview, prepared)
    return combine_results(claude, enhancement, generation)


@contextmanager
def retry_hint(job_description):
    """Give a generation error raised after the enhancement was stored its ``job_description_id``."""
    try:
        yield
    except ServiceError as exc:
        exc.extra.setdefault("job_description_id", job_description.id)
        raise


def _wait_quietly(future):
    """Wait for the planning thread after the enhancement failed (its calls are in the generation's audit row)."""
    try:
        future.result()
    except Cancelled:
        pass
    except Exception as exc:  # the enhancement's error is the one reported
        log.info("Planning beside a failed enhancement also failed: %s", getattr(exc, "kind", type(exc).__name__))


def combine_results(claude, enhancement, generation):
    """Return the WorkflowResult of an enhancement and the generation made from it (totals summed)."""
    usage = {kind: enhancement.usage.get(kind, 0) + generation.usage.get(kind, 0) for kind in TOKEN_KINDS}
    return WorkflowResult(
        job_description=enhancement.job_description,
        interview=generation.interview,
        total_tokens_used=enhancement.tokens_used + generation.tokens_used,
        provider=claude.provider,
        model=generation.model,
        cached_questions=generation.cached_questions,
        usage=usage,
        cost_usd=enhancement.cost_usd + generation.cost_usd,
    )
