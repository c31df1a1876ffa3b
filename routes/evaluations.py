"""Candidate evaluations (scorecards): create in AI or manual mode, read, rank, erase."""

from flask import current_app
from marshmallow import ValidationError, fields, validate, validates, validates_schema

from routes import MAX_ID, Blueprint, guard_ids
from routes.async_jobs import ACCEPTED_HEADERS, PREFER_PARAMETER, respond_async
from routes.budgets import within_budget
from routes.idempotency import PARAMETER as IDEMPOTENCY_PARAMETER
from routes.idempotency import idempotent
from routes.printouts import document_response, printout_routes
from routes.rate_limits import claude_limit, read_limit, write_limit
from routes.auth import READ_ROLES, SECURITY, WRITE_ROLES, current_user_id, require_roles
from routes.schemas import Schema, JobAcceptedSchema, OptionalText, StrictRequestSchema, SuccessSchema, callback_url_field
from services.evaluations import (
    MODES,
    create_evaluation,
    delete_evaluation,
    erase_candidate,
    get_evaluation,
    list_evaluations_for_interview,
    list_evaluations_for_requisition,
)
from services.generated_content import NonBlankString
from services.kits import render_scorecard

blp = Blueprint("evaluations", __name__, url_prefix="/api", description="Candidate evaluations (scorecards)")
guard_ids(blp, interview_id="Interview", evaluation_id="Evaluation")


class AnswerSchema(StrictRequestSchema):
    question_number = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID), metadata={"example": 1})
    answer_text = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The candidate's written or transcribed answer; blank or null meets no criterion "
                  "and is not sent to Claude (at most MAX_ANSWER_CHARS, default 20,000).",
                  "example": "First I would check consumer lag per partition in our dashboards, then ..."},
    )

    @validates("answer_text")
    def _answer_length(self, value, **kwargs):
        limit = current_app.config["MAX_ANSWER_CHARS"]
        if value is not None and len(value) > limit:
            raise ValidationError(f"is {len(value)} characters; the limit is {limit}")


class ManualScoreSchema(StrictRequestSchema):
    question_number = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID), metadata={"example": 1})
    checked_criteria = fields.List(
        fields.String(validate=validate.Length(1, 200)),
        load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "Names of the criteria the candidate met, exactly as in the interview.",
                  "example": ["Reproduces before changing", "Uses logs and metrics"]},
    )
    notes = OptionalText(validate=validate.Length(max=5000), metadata={"example": "Strong on diagnosis, vague on rollback."})


class EvaluationRequestSchema(StrictRequestSchema):
    candidate_id = NonBlankString(required=True, validate=validate.Length(max=128), metadata={"description": "The ATS's candidate reference.", "example": "CAND-88121"})
    candidate_name = OptionalText(validate=validate.Length(max=255), metadata={"example": "Ada Example"})
    evaluator = OptionalText(validate=validate.Length(max=255), metadata={"example": "j.doe@example.com"})
    mode = fields.String(required=True, validate=validate.OneOf(MODES), metadata={"description": "ai: Claude judges `answers`; manual: an interviewer's `scores`."})
    answers = fields.List(fields.Nested(AnswerSchema), validate=validate.Length(max=20), metadata={"description": "AI mode only."})
    scores = fields.List(fields.Nested(ManualScoreSchema), validate=validate.Length(max=20), metadata={"description": "Manual mode only."})
    callback_url = callback_url_field()

    @validates_schema
    def _fields_of_the_mode(self, data, **kwargs):
        if data.get("mode") == "ai":
            if "scores" in data:
                raise ValidationError("only for mode manual", "scores")
            if "answers" not in data:
                raise ValidationError("required for mode ai", "answers")
        if data.get("mode") == "manual":
            if "answers" in data:
                raise ValidationError("only for mode ai", "answers")
            if "scores" not in data:
                raise ValidationError("required for mode manual", "scores")


class CriterionResultSchema(Schema):
    criterion = fields.String()
    met = fields.Boolean()
    evidence = fields.String(allow_none=True, metadata={"description": "AI mode: a verbatim quote from the answer; null when not met."})


class QuestionResultSchema(Schema):
    question_number = fields.Integer()
    score = fields.Float(metadata={"description": "criteria met / criteria x 10, one decimal (0-10)."})
    feedback = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionResultSchema))


class ThresholdsSchema(Schema):
    advance = fields.Float(attribute="advance_threshold")
    reject = fields.Float(attribute="reject_threshold")


class EvaluationSchema(Schema):
    id = fields.Integer()
    interview_id = fields.Integer()
    req_id = fields.String()
    candidate_id = fields.String()
    candidate_name = fields.String(allow_none=True)
    evaluator = fields.String(allow_none=True)
    mode = fields.String()
    overall_score = fields.Float(metadata={"description": "Mean of the question scores x 10, one decimal (0-100).", "example": 72.5})
    recommendation = fields.String(metadata={"description": "advance (>= advance threshold), reject (< reject threshold) or hold."})
    thresholds = fields.Function(lambda e: ThresholdsSchema().dump(e), metadata={"description": "{advance, reject} used for the recommendation."})
    questions = fields.List(fields.Nested(QuestionResultSchema))
    tokens_used = fields.Integer(metadata={"description": "Tokens billed for the AI assessment (0 in manual mode)."})
    provider = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    created_at = fields.DateTime()


class EvaluationResponseSchema(SuccessSchema):
    evaluation = fields.Nested(EvaluationSchema)


class EvaluationListResponseSchema(SuccessSchema):
    evaluations = fields.List(fields.Nested(EvaluationSchema))


class ErasureResponseSchema(SuccessSchema):
    deleted = fields.Integer(metadata={"description": "Evaluations erased."})


_MANUAL_EXAMPLE = {
    "candidate_id": "CAND-88121", "candidate_name": "Ada Example", "evaluator": "j.doe@example.com", "mode": "manual",
    "scores": [{"question_number": 1, "checked_criteria": ["Reproduces before changing"], "notes": "Clear diagnosis."}],
}
_AI_EXAMPLE = {
    "candidate_id": "CAND-88121", "mode": "ai",
    "answers": [{"question_number": 1, "answer_text": "I would first reproduce the failure in staging, then read the logs..."}],
}


@blp.route("/interview/<int:interview_id>/evaluations", methods=["POST"])
@claude_limit
@require_roles(*WRITE_ROLES)
@idempotent
@blp.arguments(EvaluationRequestSchema, examples={"manual": {"value": _MANUAL_EXAMPLE}, "ai": {"value": _AI_EXAMPLE}})
@blp.response(201, EvaluationResponseSchema)
@blp.alt_response(202, schema=JobAcceptedSchema, headers=ACCEPTED_HEADERS, description="AI mode with Prefer: respond-async: accepted as a job; Location names it")
@blp.error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503, 504)
@blp.doc(security=SECURITY, parameters=[IDEMPOTENCY_PARAMETER, PREFER_PARAMETER])
@within_budget("candidate_scoring", applies=lambda body: body.get("mode") == "ai")
@respond_async("candidate_scoring", shape=lambda result: {"evaluation": result.evaluation},
               schema=lambda: EvaluationResponseSchema(), status=201, applies=lambda body: body.get("mode") == "ai")
def create_candidate_evaluation(body, interview_id):
    """Score a candidate against the interview's criteria and store the scorecard (201).

    mode "manual": the interviewer's ticked criteria per question; mode "ai": Claude judges
    each criterion of each answered question and quotes the answer as evidence (quotes not
    found verbatim in the answer are dropped and count as not met). Questions without an
    answer or score meet nothing. Archived interviews answer 409. AI mode with `Prefer: respond-async`:
    202 and a job (GET /api/jobs/<job_id>) that ends with this answer (manual mode calls no Claude
    and always answers at once). Roles: admin, recruiter.
    """
    result = create_evaluation(
        claude=current_app.extensions["claude"],
        thresholds=current_app.extensions["evaluation_thresholds"],
        interview_id=interview_id,
        user_id=current_user_id(),
        **body,
    )
    return {"evaluation": result.evaluation}


@blp.route("/evaluations/<int:evaluation_id>")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, EvaluationResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def get_candidate_evaluation(evaluation_id):
    """Return one evaluation (scorecard). Any role."""
    return {"evaluation": get_evaluation(evaluation_id)}


@printout_routes(
    blp, "/evaluations/<int:evaluation_id>/scorecard", what="The printable scorecard", noun="a scorecard",
    file_doc="""Return the printable scorecard as scorecard.html or scorecard.pdf (Accept is not read). Any role.""",
)
def get_evaluation_scorecard(evaluation_id, format, paper, negotiated):
    """Return the printable scorecard, HTML or PDF as Accept asks. Any role.

    Per question its criteria met or not with the evidence quotes, the feedback or notes and the
    score; the overall score, the recommendation and the thresholds stored with the evaluation.
    Only what GET /api/evaluations/<id> returns: never the candidate's answers. Accept and
    `?paper=` as GET /api/interview/<id>/kit. `Cache-Control: private, no-store` (candidate data).
    """
    body = render_scorecard(evaluation_id, format=format, paper=paper)
    return document_response(body, format, f"evaluation-{evaluation_id}-scorecard", negotiated=negotiated,
                             cache_control="private, no-store")


@blp.route("/interview/<int:interview_id>/evaluations")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, EvaluationListResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def list_interview_evaluations(interview_id):
    """Return an interview's evaluations, newest first. Any role."""
    return {"evaluations": list_evaluations_for_interview(interview_id)}


@blp.route("/interview/req/<string:req_id>/evaluations")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, EvaluationListResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def list_requisition_evaluations(req_id):
    """Return all candidates' evaluations of a requisition, best overall score first. Any role."""
    return {"evaluations": list_evaluations_for_requisition(req_id)}


@blp.route("/evaluations/<int:evaluation_id>", methods=["DELETE"])
@write_limit
@require_roles("admin")
@blp.response(200, ErasureResponseSchema)
@blp.error_responses(401, 403, 404, 429)
@blp.doc(security=SECURITY)
def delete_candidate_evaluation(evaluation_id):
    """Erase one evaluation with the candidate's answers and results. The audit keeps token counts only. Role: admin."""
    delete_evaluation(evaluation_id)
    return {"deleted": 1}


@blp.route("/candidates/<path:candidate_id>", methods=["DELETE"])
@write_limit
@require_roles("admin")
@blp.response(200, ErasureResponseSchema)
@blp.error_responses(401, 403, 429)
@blp.doc(security=SECURITY)
def erase_candidate_data(candidate_id):
    """Erase every evaluation of a candidate (answers and results); idempotent, `deleted` may be 0. Role: admin."""
    return {"deleted": erase_candidate(candidate_id)}
