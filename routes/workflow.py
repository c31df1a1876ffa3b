"""The full workflow: enhance + generate in one call."""

from flask import current_app

from routes import Blueprint
from routes.async_jobs import ACCEPTED_HEADERS, PREFER_PARAMETER, respond_async
from routes.budgets import within_budget
from routes.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from routes.idempotency import idempotent
from routes.rate_limits import claude_limit
from routes.auth import SECURITY, WRITE_ROLES, current_user_id, require_roles
from routes.schemas import JobAcceptedSchema, WorkflowRequestSchema, WorkflowResponseSchema
from services.jd_enhancement import input_language_findings
from services.workflow import run_full_workflow

blp = Blueprint("workflow", __name__, url_prefix="/api/interview/workflow", description="Enhance and generate in one call")


def _run(body):
    return shape_workflow(run_full_workflow(
        claude=current_app.extensions["claude"],
        question_cache=current_app.extensions["question_cache"],
        user_id=current_user_id(),
        **body,
    ))


def shape_workflow(result):
    """The response dict of a WorkflowResult (WorkflowResponseSchema)."""
    interview = result.interview
    return {
        "job_description_id": result.job_description.id,
        "interview_id": interview.id,
        "req_id": interview.req_id,
        "interview_name": interview.interview_name,
        "enhanced_jd": {"title": result.job_description.enhanced_title, "description": result.job_description.enhanced_description},
        "interview": interview,
        "total_tokens_used": result.total_tokens_used,
        "cached_questions": result.cached_questions,
        "cost_usd": result.cost_usd,
        "usage": result.usage,
        "provider": result.provider,
        "model": result.model,
        "created_at": interview.created_at,
        "language_findings": input_language_findings(result.job_description),
    }


@blp.route("/full", methods=["POST"])
@claude_limit
@require_roles(*WRITE_ROLES)
@idempotent
@blp.arguments(WorkflowRequestSchema)
@blp.response(200, WorkflowResponseSchema)
@blp.error_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503, 504)
@blp.alt_response(202, schema=JobAcceptedSchema, headers=ACCEPTED_HEADERS, description="Accepted as a job (Prefer: respond-async); Location names it")
@blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_PARAMETER, PREFER_PARAMETER])
@within_budget("jd_enhancement", "interview_generation")
@respond_async("workflow_full", shape=shape_workflow, schema=WorkflowResponseSchema)
def create_full_workflow(body):
    """Enhance the job description, then generate its interview kit, in one call.

    Body: the enhance body plus interview_name and use_cache. With the question cache on, the
    interview is planned from the requisition (title, level, description, WORK inputs) while the
    job description is enhanced, and the missing questions are written concurrently. If generation
    fails after the enhancement was stored, the error carries `job_description_id`: retry with
    POST /api/interview/generate. With `Prefer: respond-async`: 202 and a job (GET
    /api/jobs/<job_id>) that ends with this answer. Roles: admin, recruiter.
    """
    return _run(body)


@blp.route("/create", methods=["POST"])
@claude_limit
@require_roles(*WRITE_ROLES)
@idempotent
@blp.arguments(WorkflowRequestSchema)
@blp.response(200, WorkflowResponseSchema)
@blp.error_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503, 504)
@blp.alt_response(202, schema=JobAcceptedSchema, headers=ACCEPTED_HEADERS, description="Accepted as a job (Prefer: respond-async); Location names it")
@blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_PARAMETER, PREFER_PARAMETER])
@within_budget("jd_enhancement", "interview_generation")
@respond_async("workflow_create", shape=shape_workflow, schema=WorkflowResponseSchema)
def create_workflow(body):
    """Same workflow as /full (the original design's name; WORK inputs optional)."""
    return _run(body)
