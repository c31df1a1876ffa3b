"""Interview generation, retrieval by id and by requisition, and status changes."""

from flask import current_app

from routes import Blueprint, guard_ids
from routes.async_jobs import ACCEPTED_HEADERS, PREFER_PARAMETER, respond_async
from routes.budgets import within_budget
from routes.conditional import (
    IF_MATCH_PARAMETER,
    IF_NONE_MATCH_PARAMETER,
    NOT_MODIFIED_DOC,
    VALIDATOR_HEADERS,
    conditional_get,
    last_modified_headers,
)
from routes.printouts import document_response, printout_routes
from routes.representations import cached_representation
from routes.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from routes.idempotency import idempotent
from routes.rate_limits import claude_limit, read_limit, write_limit
from routes.auth import READ_ROLES, SECURITY, WRITE_ROLES, current_user_id, require_roles
from routes.schemas import (
    GenerateRequestSchema,
    GenerateResponseSchema,
    InterviewCoverageResponseSchema,
    InterviewListResponseSchema,
    InterviewResponseSchema,
    InterviewUpdateSchema,
    JobAcceptedSchema,
)
from services.interview_generation import generate_interview
from services.interviews import (
    get_interview,
    get_interview_coverage,
    interview_stamp,
    list_interviews_for_requisition,
    requisition_stamp,
    update_interview,
)
from services.kits import render_interview_kit

blp = Blueprint("interviews", __name__, url_prefix="/api/interview", description="Interview kits")


guard_ids(blp, interview_id="Interview")


@blp.route("/generate", methods=["POST"])
@claude_limit
@require_roles(*WRITE_ROLES)
@idempotent
@blp.arguments(GenerateRequestSchema)
@blp.response(200, GenerateResponseSchema)
@blp.alt_response(202, schema=JobAcceptedSchema, headers=ACCEPTED_HEADERS, description="Accepted as a job (Prefer: respond-async); Location names it")
@blp.error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
@blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_PARAMETER, PREFER_PARAMETER])
@within_budget("interview_generation")
@respond_async("interview_generation", shape=lambda result: shape_generation(result), schema=GenerateResponseSchema)
def create_interview(body):
    """Generate the next version of a job description's 5-question interview kit.

    Each question has 8-10 criteria. Earlier versions stay readable. With `Prefer: respond-async`:
    202 and a job (GET /api/jobs/<job_id>) that ends with this answer. Roles: admin, recruiter.
    """
    return shape_generation(generate_interview(
        claude=current_app.extensions["claude"],
        question_cache=current_app.extensions["question_cache"],
        user_id=current_user_id(),
        **body,
    ))


def shape_generation(result):
    """The response dict of a GenerationResult (GenerateResponseSchema)."""
    interview = result.interview
    return {
        "interview_id": interview.id,
        "req_id": interview.req_id,
        "interview_name": interview.interview_name,
        "interview": interview,
        "tokens_used": result.tokens_used,
        "cached_questions": result.cached_questions,
        "cost_usd": result.cost_usd,
        "usage": result.usage,
        "provider": result.provider,
        "model": result.model,
        "created_at": interview.created_at,
    }


@blp.route("/<int:interview_id>")
@conditional_get
@read_limit
@require_roles(*READ_ROLES)
@cached_representation(interview_stamp, lambda interview_id: ("interview", interview_id))
@blp.response(200, InterviewResponseSchema, headers=VALIDATOR_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED_DOC)
@blp.error_responses(401, 404, 412, 429)
@blp.doc(security=SECURITY, parameters=[IF_NONE_MATCH_PARAMETER, IF_MATCH_PARAMETER])
def get_interview_by_id(interview_id):
    """Return one interview with its questions and criteria. Any role.

    Conditional (routes/conditional.py): the answer has a strong `ETag`, `Last-Modified` and
    `Cache-Control: private, no-cache`; `If-None-Match` with the current ETag answers 304 with
    no body. A PATCH changes the ETag at once. The body is made once per change of the
    interview's row (routes/representations.py).
    """
    interview = get_interview(interview_id)
    return {"interview": interview}, last_modified_headers(interview.updated_at or interview.created_at)


@blp.route("/<int:interview_id>/coverage")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, InterviewCoverageResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def get_interview_coverage_by_id(interview_id):
    """Return which of the requisition's WORK items each question of an interview tests. Any role.

    The items are the WORK knowledge and competencies inputs split into items (on commas,
    semicolons, newlines and bullets, kept as written). A question tests an item when its plan
    slot claimed the item and the question's own topic, text, expected answer or criteria show it
    (for a kit generated in one call: when they show it). Uncovered items come first.
    """
    return get_interview_coverage(interview_id)


@printout_routes(
    blp, "/<int:interview_id>/kit", what="The printable interviewer kit", noun="an interview kit",
    file_doc="""Return the printable interviewer kit as kit.html or kit.pdf (Accept is not read). Any role.

    The same document as GET /api/interview/<id>/kit, in the format the URL names.
    """,
)
def get_interview_kit(interview_id, format, paper, negotiated):
    """Return the printable interviewer kit, HTML or PDF as Accept asks. Any role.

    Requisition, interview name, version and status, the job description's summary; per question
    its number, type, level, topic, text, what a strong answer covers, its criteria as tick boxes
    with their descriptions and room for notes (one question per printed page); then the scoring
    rule with the advance/hold/reject thresholds in force. A draft is marked DRAFT on every page.
    `Accept: text/html` (also no Accept, or `*/*`) or `application/pdf`; anything else is 406.
    `?paper=letter` for US Letter (default A4). Rendered on every request; nothing is fetched.
    """
    body = render_interview_kit(
        interview_id, thresholds=current_app.extensions["evaluation_thresholds"], format=format, paper=paper
    )
    return document_response(body, format, f"interview-{interview_id}-kit", negotiated=negotiated,
                             cache_control="private, no-cache")


@blp.route("/<int:interview_id>", methods=["PATCH"])
@write_limit
@require_roles(*WRITE_ROLES)
@blp.arguments(InterviewUpdateSchema)
@blp.response(200, InterviewResponseSchema)
@blp.error_responses(400, 401, 403, 404, 409, 413, 415, 429)
@blp.doc(security=SECURITY)
def update_interview_by_id(body, interview_id):
    """Rename an interview or move its status draft -> published -> archived. Roles: admin, recruiter."""
    return {"interview": update_interview(interview_id, **body)}


@blp.route("/req/<string:req_id>")
@conditional_get
@read_limit
@require_roles(*READ_ROLES)
@cached_representation(requisition_stamp, lambda req_id: ("req", req_id))
@blp.response(200, InterviewListResponseSchema, headers=VALIDATOR_HEADERS)
@blp.alt_response(304, **NOT_MODIFIED_DOC)
@blp.error_responses(401, 404, 412, 429)
@blp.doc(security=SECURITY, parameters=[IF_NONE_MATCH_PARAMETER, IF_MATCH_PARAMETER])
def list_interviews_by_requisition(req_id):
    """Return every interview of a requisition, newest version first. Any role.

    Conditional as GET /api/interview/<id>; `Last-Modified` is the newest change of any version,
    and the ETag changes when a version is added or patched.
    """
    interviews = list_interviews_for_requisition(req_id)
    changed = max((i.updated_at or i.created_at for i in interviews), default=None)
    return {"req_id": req_id, "interviews": interviews}, last_modified_headers(changed)
