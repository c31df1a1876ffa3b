"""The HTTP contract: request and response schemas (marshmallow), also the OpenAPI document.

Field names and shapes here are what HR tools integrate against: change them only additively.
Unknown request fields are rejected with 400 naming them, so a misspelt field is never
silently ignored. Timestamps are UTC ISO 8601.
"""

from flask import current_app
import marshmallow
from marshmallow import (
    RAISE,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    pre_load,
    validate,
    validates,
    validates_schema,
)

from models import REQ_ID_LENGTH
from routes import MAX_ID
from services.fairness import BALANCES as GENDER_BALANCES
from services.fairness import CATEGORIES as FAIRNESS_CATEGORIES
from services.generated_content import NonBlankString
from services.coverage import KINDS as WORK_ITEM_KINDS
from services.interviews import STATUSES, coverage_summary
from services.jd_enhancement import INPUT_FIELDS, WORK_FIELDS, input_language_findings


class Schema(marshmallow.Schema):
    """marshmallow's Schema, for every schema of the HTTP contract.

    flask-smorest and apispec deep-copy each view's documentation, schema instances included, when
    an app registers its blueprints; a schema is never changed once declared, so the copy is the
    schema itself. That halves create_app's time (it builds the OpenAPI document: 349 -> 209 ms
    on this machine), which every test pays once or more; the document is the same, byte for byte.
    """

    def __deepcopy__(self, memo):
        return self


REQ_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
_req_id_validators = [
    validate.Length(1, REQ_ID_LENGTH),
    validate.Regexp(REQ_ID_PATTERN, error="must start with a letter or digit and use only letters, digits, . _ : -"),
]


class StrictRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    @pre_load
    def _no_lone_surrogates(self, data, **kwargs):
        """Reject text that is not valid Unicode: JSON escapes such as "\\ud800" decode to unpaired
        surrogates, which neither the database driver nor the SDK can encode as UTF-8 (a 500)."""
        if isinstance(data, dict):
            errors = {
                key: ["must be valid Unicode text (it holds an unpaired surrogate)"]
                for key, value in data.items()
                if isinstance(key, str) and isinstance(value, str) and not _is_utf8_encodable(value)
            }
            if errors:
                raise ValidationError(errors)
        return data


def _is_utf8_encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class OptionalText(NonBlankString):
    """An optional text: null, missing or blank all mean "not given"."""

    def __init__(self, **kwargs):
        super().__init__(load_default=None, allow_none=True, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # Blank becomes None before deserializing, so validators (e.g. Length) never see it:
        # returning None from _deserialize ran them on None (a TypeError, a 500).
        if isinstance(value, str) and not value.strip():
            value = None
        return super().deserialize(value, attr, data, **kwargs)


def _work_input(label):
    return OptionalText(metadata={"description": f"WORK input: {label} (at most MAX_WORK_INPUT_CHARS, default 4,000)."})


def callback_url_field():
    """The optional ``callback_url`` of a Claude-calling POST (used with Prefer: respond-async)."""
    return fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=2048),
        metadata={"description": "Only with `Prefer: respond-async`: where to POST the job resource when the job "
                  "succeeds or fails, signed per Standard Webhooks with the API key's webhook secret (a key without "
                  "one gets 400). https, or http for a WEBHOOK_ALLOWED_HOSTS host; private, loopback, link-local and "
                  "metadata addresses are refused unless allow-listed. Default: the key's webhook URL.",
                  "example": "https://ats.example.com/hooks/techscreen"},
    )


class EnhanceRequestSchema(StrictRequestSchema):
    req_id = fields.String(required=True, validate=_req_id_validators, metadata={"description": "Requisition ID from the ATS.", "example": "REQ-2026-0042"})
    basic_title = NonBlankString(required=True, validate=validate.Length(max=255), metadata={"example": "Senior Backend Engineer"})
    basic_description = NonBlankString(
        required=True,
        metadata={"description": "The hiring manager's job description (at most MAX_JD_CHARS characters, default 20,000).",
                  "example": "We need a backend engineer to build and run our payments APIs in Python and PostgreSQL."},
    )
    basic_department = OptionalText(validate=validate.Length(max=255), metadata={"example": "Engineering"})
    basic_level = OptionalText(validate=validate.Length(max=100), metadata={"example": "Senior"})
    work_output = _work_input("what the person must deliver")
    work_role = _work_input("where the role sits and whom it works with")
    work_knowledge = _work_input("technical knowledge and tools")
    work_competencies = _work_input("behaviours and skills")
    callback_url = callback_url_field()
    replace = fields.Boolean(
        load_default=False,
        metadata={"description": "Re-enhance a req_id that already has a job description (otherwise 409). "
                  "The stored texts are overwritten only once the new enhancement succeeded."},
    )

    @validates("basic_description")
    def _jd_length(self, value, **kwargs):
        limit = current_app.config["MAX_JD_CHARS"]
        if len(value) > limit:
            raise ValidationError(f"is {len(value)} characters; the limit is {limit}")

    @validates(*WORK_FIELDS)
    def _work_length(self, value, data_key, **kwargs):
        limit = current_app.config["MAX_WORK_INPUT_CHARS"]
        if value is not None and len(value) > limit:
            raise ValidationError(f"is {len(value)} characters; the limit is {limit}")

    @post_load
    def _group_work_inputs(self, data, **kwargs):
        """Hand the four WORK fields to the services as one ``work_inputs`` mapping."""
        data["work_inputs"] = {field: data.pop(field, None) for field in WORK_FIELDS}
        return data


def _interview_name():
    return OptionalText(validate=validate.Length(max=255), metadata={"example": "Backend onsite, round 1"})


def _use_cache():
    return fields.Boolean(load_default=None, allow_none=True, metadata={"description": "Reuse cached questions (default: ENABLE_QUESTION_CACHE)."})


class GenerateRequestSchema(StrictRequestSchema):
    req_id = fields.String(required=True, validate=_req_id_validators, metadata={"example": "REQ-2026-0042"})
    job_description_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=MAX_ID), metadata={"example": 1})
    interview_name = _interview_name()
    use_cache = _use_cache()
    callback_url = callback_url_field()


class WorkflowRequestSchema(EnhanceRequestSchema):
    interview_name = _interview_name()
    use_cache = _use_cache()


class InterviewUpdateSchema(StrictRequestSchema):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": "draft -> published -> archived (draft -> archived too)."})
    interview_name = NonBlankString(validate=validate.Length(max=255))

    @validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ValidationError("send status and/or interview_name", "body")


# --- Responses ------------------------------------------------------------------------------

class BasicJDSchema(Schema):
    title = fields.String()
    department = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    description = fields.String()


class EnhancedJDSchema(Schema):
    title = fields.String(allow_none=True)
    description = fields.String(allow_none=True)


class WorkInputsSchema(Schema):
    work_output = fields.String(allow_none=True)
    work_role = fields.String(allow_none=True)
    work_knowledge = fields.String(allow_none=True)
    work_competencies = fields.String(allow_none=True)


class FairnessFindingSchema(Schema):
    category = fields.String(validate=validate.OneOf(FAIRNESS_CATEGORIES), metadata={"example": "age"})
    text = fields.String(metadata={"description": "The exact span found: the request's `text[start:end]`.", "example": "digital native"})
    start = fields.Integer(metadata={"description": "Offset of the span's first character in `text` (Unicode code points, from 0).", "example": 10})
    end = fields.Integer(metadata={"description": "Offset just past the span's last character (end exclusive).", "example": 24})
    reason = fields.String(metadata={"example": "'digital native' is a proxy for age (born into the internet era)"})
    suggestion = fields.String(metadata={"description": "A neutral rewrite.", "example": "Name the skill instead, e.g. 'fluent with modern developer tooling'."})


class GenderCodingSchema(Schema):
    masculine = fields.List(fields.String(), metadata={"description": "Masculine-coded words (Gaucher, Friesen & Kay, 2011), every occurrence, lower-cased.", "example": ["lead"]})
    feminine = fields.List(fields.String(), metadata={"description": "Feminine-coded words, every occurrence, lower-cased.", "example": []})
    balance = fields.String(
        validate=validate.OneOf(GENDER_BALANCES),
        metadata={"description": "masculine-coded when more masculine- than feminine-coded words occur, feminine-coded "
                  "when fewer, neutral when as many (or none). A balance to weigh, not an error.", "example": "masculine-coded"},
    )


class LanguageFindingSchema(FairnessFindingSchema):
    text = fields.String(metadata={"description": "The exact span found: `<field>[start:end]` of the stored text.", "example": "digital native"})
    start = fields.Integer(metadata={"description": "Offset of the span's first character in that field's text (Unicode code points, from 0).", "example": 10})
    end = fields.Integer(metadata={"description": "Offset just past the span's last character (end exclusive).", "example": 24})
    field = fields.String(
        validate=validate.OneOf(INPUT_FIELDS),
        metadata={"description": "The input the span is in, as stored (and returned in basic_jd / work_inputs).",
                  "example": "basic_description"},
    )


class LanguageFindingsSchema(Schema):
    findings = fields.List(
        fields.Nested(LanguageFindingSchema),
        metadata={"description": "In input order (basic_title, basic_department, basic_level, basic_description, "
                  "work_output, work_role, work_knowledge, work_competencies), then by `start`."},
    )
    gender_coding = fields.Nested(GenderCodingSchema, metadata={"description": "Of all those inputs together."})


LANGUAGE_FINDINGS_DOC = (
    "The fair-hiring guard's findings in the hiring manager's own text (basic JD and WORK inputs): references "
    "to protected characteristics and their proxies, and the gender-coded wording as a balance. Reported, never "
    "refused; named to Claude to leave out. Claude's enhanced text and every generated or cached question and "
    "criterion pass the same guard before they are stored or reused (a finding there is repaired once, else 502). "
    "Computed from the stored text when read. English only; a lexicon of known phrasings (services/fairness_terms.py, "
    "with its sources), so it misses paraphrases; a prompt for a human reviewer, not legal advice."
)


class JobDescriptionSchema(Schema):
    job_description_id = fields.Integer()
    req_id = fields.String()
    basic_jd = fields.Nested(BasicJDSchema)
    enhanced_jd = fields.Nested(EnhancedJDSchema)
    work_inputs = fields.Nested(WorkInputsSchema)
    provider = fields.String(allow_none=True, metadata={"description": "anthropic or sandbox"})
    model = fields.String(allow_none=True)
    prompt_version = fields.String(allow_none=True)
    created_at = fields.DateTime()
    enhanced_at = fields.DateTime(allow_none=True)
    language_findings = fields.Nested(LanguageFindingsSchema, metadata={"description": LANGUAGE_FINDINGS_DOC})

    @pre_dump
    def _from_model(self, jd, **kwargs):
        return jd if isinstance(jd, dict) else job_description_fields(jd)


def job_description_fields(jd):
    """Return the contract's nested dict for a JobDescription model."""
    return {
        "job_description_id": jd.id,
        "req_id": jd.req_id,
        "basic_jd": {"title": jd.basic_title, "department": jd.basic_department, "level": jd.basic_level, "description": jd.basic_description},
        "enhanced_jd": {"title": jd.enhanced_title, "description": jd.enhanced_description},
        "work_inputs": {"work_output": jd.work_output, "work_role": jd.work_role, "work_knowledge": jd.work_knowledge, "work_competencies": jd.work_competencies},
        "provider": jd.provider,
        "model": jd.model,
        "prompt_version": jd.prompt_version,
        "created_at": jd.created_at,
        "enhanced_at": jd.enhanced_at,
        "language_findings": input_language_findings(jd),
    }


class CriterionSchema(Schema):
    criterion = fields.String()
    description = fields.String()
    is_checked = fields.Boolean()


class QuestionSchema(Schema):
    id = fields.Integer()
    question_number = fields.Integer()
    question_text = fields.String()
    question_type = fields.String()
    topic = fields.String(allow_none=True)
    skill_level = fields.String(allow_none=True)
    expected_answer = fields.String(allow_none=True)
    criteria = fields.List(fields.Nested(CriterionSchema))
    source = fields.String(metadata={"description": "generated, or cache (reused from the question cache)"})
    cache_entry_id = fields.Integer(allow_none=True)
    covers = fields.List(
        fields.String(), allow_none=True,
        metadata={"description": "The interview's WORK items this question tests (GET /api/interview/<id>/coverage); "
                  "null for a question stored before coverage existed.", "example": ["PostgreSQL", "incident response"]},
    )


class CoverageSummarySchema(Schema):
    covered = fields.Integer(metadata={"description": "WORK items tested by at least one question.", "example": 4})
    total = fields.Integer(metadata={"description": "WORK knowledge and competency items of the requisition.", "example": 5})


class _Derived(fields.Nested):
    """A nested object computed from the object being dumped by ``derive(obj)``, not read from an attribute."""

    def __init__(self, nested, derive, **kwargs):
        super().__init__(nested, dump_only=True, **kwargs)
        self.derive = derive

    def serialize(self, attr, obj, accessor=None, **kwargs):
        return self._serialize(self.derive(obj), attr, obj, **kwargs)


class InterviewSchema(Schema):
    id = fields.Integer()
    job_description_id = fields.Integer()
    req_id = fields.String()
    interview_name = fields.String()
    status = fields.String(metadata={"description": "draft, published or archived"})
    version = fields.Integer()
    provider = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    prompt_version = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime(allow_none=True)
    questions = fields.List(fields.Nested(QuestionSchema))
    coverage = _Derived(
        CoverageSummarySchema, coverage_summary, allow_none=True,
        metadata={"description": "How many of the requisition's WORK knowledge and competency items the questions "
                  "test (GET /api/interview/<id>/coverage has the map); null when it has none, or for a kit stored "
                  "before coverage existed."},
    )


class SuccessSchema(Schema):
    """Base of every success response: ``success`` is always true."""

    success = fields.Boolean(dump_default=True)


class EnhanceResponseSchema(SuccessSchema, JobDescriptionSchema):
    tokens_used = fields.Integer(metadata={"description": "Tokens billed for this enhancement (input + output + cache write + cache read)."})


class JobDescriptionResponseSchema(SuccessSchema):
    job_description = fields.Nested(JobDescriptionSchema)


class UsageSchema(Schema):
    """Tokens billed, by Anthropic's token kinds (summed over every call of the operation)."""

    input_tokens = fields.Integer(metadata={"description": "Input tokens not read from or written to the prompt cache."})
    output_tokens = fields.Integer(metadata={"description": "Output tokens, thinking tokens included (billed as output)."})
    cache_creation_input_tokens = fields.Integer(metadata={"description": "Input tokens written to the prompt cache."})
    cache_read_input_tokens = fields.Integer(metadata={"description": "Input tokens read from the prompt cache."})


# USD amounts are exact decimal strings ("0.012150"), never JSON numbers (no float rounding).
COST_DOC = {"type": "string", "format": "decimal", "pattern": r"^[0-9]+\.[0-9]{6}$", "example": "0.012150"}


def cost_field(description, **kwargs):
    """A USD amount: Decimal dumped as an exact 6-place string, documented as such in OpenAPI."""
    return fields.Decimal(as_string=True, places=6, metadata={**COST_DOC, "description": description}, **kwargs)


def _operation_cost(description):
    return cost_field(description + " USD at Anthropic's list prices (services/pricing.py); calls of an unpriced model count 0.")


class GenerateResponseSchema(SuccessSchema):
    interview_id = fields.Integer()
    req_id = fields.String()
    interview_name = fields.String()
    interview = fields.Nested(InterviewSchema)
    tokens_used = fields.Integer(metadata={"description": "Tokens billed for this generation, all kinds."})
    cached_questions = fields.Integer(metadata={"description": "Questions reused from the question cache."})
    cost_usd = _operation_cost("What this generation cost.")
    usage = fields.Nested(UsageSchema, metadata={"description": "This generation's tokens by kind."})
    provider = fields.String()
    model = fields.String()
    created_at = fields.DateTime()


class WorkflowResponseSchema(SuccessSchema):
    job_description_id = fields.Integer()
    interview_id = fields.Integer()
    req_id = fields.String()
    interview_name = fields.String()
    enhanced_jd = fields.Nested(EnhancedJDSchema)
    interview = fields.Nested(InterviewSchema)
    total_tokens_used = fields.Integer(metadata={"description": "Tokens billed for enhancement plus generation."})
    cached_questions = fields.Integer(metadata={"description": "Questions reused from the question cache."})
    cost_usd = _operation_cost("What the enhancement and the generation cost together.")
    usage = fields.Nested(UsageSchema, metadata={"description": "Enhancement plus generation tokens by kind."})
    provider = fields.String()
    model = fields.String()
    created_at = fields.DateTime()
    language_findings = fields.Nested(LanguageFindingsSchema, metadata={"description": LANGUAGE_FINDINGS_DOC})


class InterviewResponseSchema(SuccessSchema):
    interview = fields.Nested(InterviewSchema)


class InterviewListResponseSchema(SuccessSchema):
    req_id = fields.String()
    interviews = fields.List(fields.Nested(InterviewSchema))


class FairnessCheckRequestSchema(StrictRequestSchema):
    # Not stripped (unlike NonBlankString): the findings' offsets are into the text exactly as sent.
    text = fields.String(
        required=True,
        metadata={"description": "Any text to check: a job description, an interview question, a criterion "
                  "(at most MAX_JD_CHARS characters, default 20,000, as a job description). Not blank.",
                  "example": "We want a digital native. He will lead our payments team."},
    )

    @validates("text")
    def _text_length(self, value, **kwargs):
        if not value.strip():
            raise ValidationError("must not be blank")
        limit = current_app.config["MAX_JD_CHARS"]
        if len(value) > limit:
            raise ValidationError(f"is {len(value)} characters; the limit is {limit}")


class FairnessCheckResponseSchema(SuccessSchema):
    findings = fields.List(fields.Nested(FairnessFindingSchema), metadata={"description": "In order of `start`; none overlap."})
    gender_coding = fields.Nested(GenderCodingSchema)


class CoverageItemSchema(Schema):
    item = fields.String(metadata={"description": "The item as the hiring manager wrote it.", "example": "PostgreSQL"})
    kind = fields.String(metadata={"description": "knowledge or competency (the WORK input it came from).",
                                   "enum": list(WORK_ITEM_KINDS), "example": "knowledge"})
    covered = fields.Boolean(metadata={"description": "Tested by at least one question."})
    questions = fields.List(fields.Integer(), metadata={"description": "Numbers of the questions that test it, ascending.", "example": [2]})


class InterviewCoverageResponseSchema(SuccessSchema):
    interview_id = fields.Integer()
    req_id = fields.String()
    items = fields.List(
        fields.Nested(CoverageItemSchema),
        metadata={"description": "Uncovered items first, then covered ones, each in the order of the WORK inputs "
                  "(knowledge, then competencies). Empty when the requisition has no items."},
    )
    covered = fields.Integer(metadata={"description": "Items tested by at least one question.", "example": 4})
    total = fields.Integer(metadata={"description": "All items (0 when there are none).", "example": 5})


class ApiErrorSchema(Schema):
    success = fields.Boolean(metadata={"example": False})
    error = fields.String(metadata={"example": "Invalid input: basic_title: Missing data for required field."})
    req_id = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={"example": {"basic_title": ["Missing data for required field."]}})
    job_description_id = fields.Integer(metadata={"description": "On 409, and when a workflow failed after its enhancement was stored."})
    budget = fields.Dict(
        metadata={"description": "On 429: the budget refused (scope global|api_key, period daily|monthly, limit, spent, reserve in tokens; reset_at UTC).",
                  "example": {"scope": "api_key", "period": "daily", "limit": 100000, "spent": 98500, "reserve": 4000, "reset_at": "2026-11-22T00:00:00+00:00"}}
    )
    status = fields.String(metadata={"description": "On 409 for an interview status change: the interview's current status.", "example": "archived"})
    problems = fields.List(
        fields.String(),
        metadata={"description": "On 502 when Claude's output stayed unusable: what was wrong with it (at most 20).",
                  "example": ["question 3 has 4 criteria; it needs 8 to 10"]},
    )


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "healthy"})
    timestamp = fields.DateTime()
    database = fields.String(metadata={"example": "ok"})


# --- Asynchronous jobs (routes/jobs.py, routes/async_jobs.py) ---------------------------------

JOB_STATUSES = ("queued", "running", "succeeded", "failed", "canceled")


class JobLinksSchema(Schema):
    self = fields.String(metadata={"example": "/api/jobs/job_3f6c1c9e2b0e4a579c550b8f2f1c7d10"})
    cancel = fields.String(metadata={"description": "POST here to cancel a queued job."})
    deliveries = fields.String(metadata={"description": "The job's webhook deliveries and their attempts."})
    interview = fields.String(metadata={"description": "When succeeded with an interview: the interview kit."})
    evaluation = fields.String(metadata={"description": "When succeeded with a scorecard: the evaluation."})
    job_description = fields.String(metadata={"description": "When an enhancement succeeded: the job description."})


class JobAcceptedSchema(SuccessSchema):
    job_id = fields.String(metadata={"example": "job_3f6c1c9e2b0e4a579c550b8f2f1c7d10"})
    status = fields.String(metadata={"example": "queued"})
    links = fields.Nested(JobLinksSchema)


class JobUsageSchema(UsageSchema):
    tokens_used = fields.Integer(metadata={"description": "Every token billed for the job, all attempts."})
    cost_usd = fields.String(metadata={**COST_DOC, "description": "USD of every Claude call made for the job, all attempts."})


class JobSchema(Schema):
    job_id = fields.String()
    operation = fields.String(metadata={"description": "jd_enhancement, interview_generation, workflow_full, workflow_create or candidate_scoring."})
    status = fields.String(metadata={"description": "queued, running, succeeded, failed or canceled.", "enum": list(JOB_STATUSES)})
    step = fields.String(allow_none=True, metadata={"description": "While running: e.g. enhancing, planning, filling 3 of 5, storing.", "example": "filling 3 of 5"})
    req_id = fields.String(allow_none=True)
    attempts = fields.Integer(metadata={"description": "Attempts started (a job is redone when its worker dies)."})
    max_attempts = fields.Integer()
    created_at = fields.String(metadata={"format": "date-time"})
    started_at = fields.String(allow_none=True, metadata={"format": "date-time", "description": "Start of the latest attempt."})
    finished_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    http_status = fields.Integer(allow_none=True, metadata={"description": "Once ended: the status code the synchronous call would have answered (200, 201, 4xx, 5xx)."})
    result = fields.Dict(allow_none=True, metadata={"description": "When succeeded: the body the synchronous call answers."})
    error = fields.Dict(allow_none=True, metadata={"description": "When failed or canceled: the error envelope the synchronous call would have answered."})
    usage = fields.Nested(JobUsageSchema)
    callback_url = fields.String(allow_none=True, metadata={"description": "Where the job's end is POSTed (webhook)."})
    links = fields.Nested(JobLinksSchema)


class JobResponseSchema(SuccessSchema):
    job = fields.Nested(JobSchema)


class JobListResponseSchema(SuccessSchema):
    jobs = fields.List(fields.Nested(JobSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last."})


class JobListQuerySchema(Schema):
    req_id = fields.String(validate=validate.Length(1, 64))
    status = fields.String(validate=validate.OneOf(JOB_STATUSES))
    cursor = fields.String(validate=validate.Length(1, 200))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 200))


class WebhookAttemptSchema(Schema):
    attempt = fields.Integer()
    outcome = fields.String(metadata={"description": "delivered, http_error, network_error or refused."})
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()
    started_at = fields.String(metadata={"format": "date-time"})


class WebhookDeliverySchema(Schema):
    delivery_id = fields.Integer()
    message_id = fields.String(metadata={"description": "The webhook-id header: the same on every retry (dedupe on it)."})
    event_type = fields.String(metadata={"description": "job.succeeded or job.failed."})
    url = fields.String()
    status = fields.String(metadata={"description": "pending, sending, delivered or failed."})
    attempts = fields.Integer()
    next_attempt_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    created_at = fields.String(metadata={"format": "date-time"})
    completed_at = fields.String(allow_none=True, metadata={"format": "date-time"})
    attempt_log = fields.List(fields.Nested(WebhookAttemptSchema))


class WebhookDeliveriesResponseSchema(SuccessSchema):
    job_id = fields.String()
    deliveries = fields.List(fields.Nested(WebhookDeliverySchema))
