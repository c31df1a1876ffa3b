"""Job description enhancement and retrieval."""

from flask import current_app

from routes import Blueprint
from routes.async_jobs import ACCEPTED_HEADERS, PREFER_PARAMETER, respond_async
from routes.budgets import within_budget
from routes.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from routes.idempotency import idempotent
from routes.rate_limits import claude_limit, read_limit
from routes.auth import READ_ROLES, SECURITY, WRITE_ROLES, current_user_id, require_roles
from routes.schemas import EnhanceRequestSchema, EnhanceResponseSchema, JobAcceptedSchema, JobDescriptionResponseSchema, job_description_fields
from services.jd_enhancement import enhance_job_description, get_job_description

blp = Blueprint("job_descriptions", __name__, url_prefix="/api/interview/jd", description="Job descriptions of requisitions")


@blp.route("/enhance", methods=["POST"])
@claude_limit
@require_roles(*WRITE_ROLES)
@idempotent
@blp.arguments(EnhanceRequestSchema)
@blp.response(200, EnhanceResponseSchema)
@blp.alt_response(202, schema=JobAcceptedSchema, headers=ACCEPTED_HEADERS, description="Accepted as a job (Prefer: respond-async); Location names it")
@blp.error_responses(400, 401, 403, 409, 413, 415, 422, 429, 502, 503, 504)
@blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_PARAMETER, PREFER_PARAMETER])
@within_budget("jd_enhancement")
@respond_async("jd_enhancement", shape=lambda result: shape_enhancement(result), schema=EnhanceResponseSchema)
def create_enhanced_job_description(body):
    """Enhance a requisition's job description with Claude and store both versions.

    A req_id that already has a job description answers 409 unless `replace` is true.
    `tokens_used` counts every token billed for this call (input, output, cache write, cache read).
    With `Prefer: respond-async`: 202 and a job (GET /api/jobs/<job_id>) that ends with this answer.
    Roles: admin, recruiter.
    """
    return shape_enhancement(enhance_job_description(claude=current_app.extensions["claude"], user_id=current_user_id(), **body))


def shape_enhancement(result):
    """The response dict of an EnhancementResult (EnhanceResponseSchema)."""
    return {**job_description_fields(result.job_description), "tokens_used": result.tokens_used}


@blp.route("/<string:req_id>")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, JobDescriptionResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def get_job_description_by_requisition(req_id):
    """Return a requisition's basic and enhanced job description. Any role."""
    return {"job_description": get_job_description(req_id)}
