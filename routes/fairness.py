"""Fair-hiring check of arbitrary text, for HR tools that want it in their own editor."""

from routes import Blueprint
from routes.auth import SECURITY, WRITE_ROLES, require_roles
from routes.rate_limits import write_limit
from routes.schemas import FairnessCheckRequestSchema, FairnessCheckResponseSchema
from services.fairness_check import check_fairness

blp = Blueprint("fairness", __name__, url_prefix="/api/fairness", description="Fair-hiring check")


@blp.route("/check", methods=["POST"])
@write_limit
@require_roles(*WRITE_ROLES)
@blp.arguments(FairnessCheckRequestSchema)
@blp.response(200, FairnessCheckResponseSchema)
@blp.error_responses(400, 401, 403, 413, 415, 429)
@blp.doc(security=SECURITY)
def check_text(body):
    """Find references to protected characteristics, and gender-coded wording, in a text.

    Each finding names its category, the exact span (`start`, `end`: character offsets into
    `text`, end exclusive), a reason and a neutral rewrite; gender-coded words are reported as a
    balance, not as findings. Calls no model and stores nothing. English only; a lexicon, so it
    misses paraphrases it does not know; a prompt for a reviewer, not legal advice. Roles: admin,
    recruiter.
    """
    return check_fairness(body["text"], source="check")
