"""Usage audit (roles auditor, admin): token and cost totals grouped by day, operation, user,
requisition, model or status; the raw generation_logs rows; one row with its HTTP attempts."""

from datetime import date

from flask import Response, request
from marshmallow import (
    ValidationError,
    fields,
    validate,
    validates_schema,
)

from models import REQ_ID_LENGTH, USER_ID_LENGTH
from routes import Blueprint, guard_ids
from routes.rate_limits import read_limit
from routes.auth import SECURITY, require_roles
from routes.schemas import Schema, SuccessSchema, cost_field
from services.usage import (
    DEFAULT_PAGE_SIZE,
    GROUP_KEYS,
    MAX_PAGE_SIZE,
    OPERATION_TYPES,
    STATUSES,
    TOTAL_FIELDS,
    get_generation_log,
    list_generation_logs,
    parse_group_by,
    report_csv,
    usage_report,
)

AUDIT_ROLES = ("auditor", "admin")

blp = Blueprint(
    "admin_usage", __name__, url_prefix="/api/admin", description="Usage audit: tokens and cost of Claude operations (auditor, admin)"
)
guard_ids(blp, log_id="Generation log")


# --- Query arguments -----------------------------------------------------------------------------

_DAY_RANGE = validate.Range(date(1000, 1, 1), date(9999, 12, 31))


class _FilterQuerySchema(Schema):
    date_from = fields.Date(
        data_key="from",
        validate=_DAY_RANGE,
        metadata={"description": "First UTC day included (YYYY-MM-DD): rows with started_at from 00:00:00 UTC of this day.",
                  "example": "2026-11-01"},
    )
    date_to = fields.Date(
        data_key="to",
        validate=_DAY_RANGE,
        metadata={"description": "Last UTC day included (YYYY-MM-DD): rows with started_at up to 23:59:59.999999 UTC "
                  "of this day. Must not be before `from`.", "example": "2026-11-30"},
    )
    user_id = fields.String(validate=validate.Length(1, USER_ID_LENGTH), metadata={"description": "Exact user id, e.g. apikey:12.", "example": "apikey:12"})
    req_id = fields.String(validate=validate.Length(1, REQ_ID_LENGTH), metadata={"description": "Exact requisition id.", "example": "REQ-2026-0042"})
    operation_type = fields.String(
        validate=validate.Length(1, 40),
        metadata={"description": f"Exact operation type: {', '.join(OPERATION_TYPES)}.", "example": "interview_generation"},
    )
    model = fields.String(validate=validate.Length(1, 100), metadata={"description": "Exact model id as recorded.", "example": "claude-sonnet-5-5"})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": "Operation status."})

    @validates_schema
    def _window(self, data, **kwargs):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError(f"must be on or after from ({data['date_from'].isoformat()})", "to")


class GroupByField(fields.List):
    """One or two group keys, comma-separated (``day,model``) or repeated (``group_by=day&group_by=model``)."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=validate.OneOf(GROUP_KEYS)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        values = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ValidationError("must be strings")
        try:
            return list(parse_group_by(values))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


class UsageQuerySchema(_FilterQuerySchema):
    group_by = GroupByField(
        metadata={"description": "One or two keys: day (UTC date of started_at), operation_type, user_id, req_id, model, "
                  "status; comma-separated (`day,model`) or repeated. Default: day.", "example": ["day", "model"]},
    )
    format = fields.String(
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: the groups as text/csv (also chosen by `Accept: text/csv`); default json."},
    )


class GenerationLogQuerySchema(_FilterQuerySchema):
    cursor = fields.String(
        validate=validate.Length(1, 200),
        metadata={"description": "The `next_cursor` of the previous page; omit for the first page."},
    )
    limit = fields.Integer(load_default=DEFAULT_PAGE_SIZE, validate=validate.Range(1, MAX_PAGE_SIZE),
                           metadata={"description": f"Rows per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."})


# --- Responses -----------------------------------------------------------------------------------

def _totals_fields():
    described = {
        "operations": "Operations (generation_logs rows).",
        "calls": "HTTP attempts to the Messages API (SDK retries and repair calls included).",
        "failures": "Operations with status failed.",
        "input_tokens": "Input tokens billed.",
        "output_tokens": "Output tokens billed.",
        "cache_creation_input_tokens": "Prompt-cache write tokens billed.",
        "cache_read_input_tokens": "Prompt-cache read tokens billed.",
        "tokens_used": "All four token kinds summed.",
        "cache_hits": "Interview slots served from the question cache.",
        "tokens_avoided": "Estimated tokens the question-cache hits avoided.",
    }
    result = {}
    for field in TOTAL_FIELDS:
        if field == "cost_usd":
            result[field] = cost_field("USD, exact decimal string with 6 places, at the prices recorded with each call "
                                  "(calls of an unpriced model add 0).")
        else:
            result[field] = fields.Integer(metadata={"description": described[field]})
    return result


UsageTotalsSchema = type("UsageTotalsSchema", (Schema,), _totals_fields())
UsageGroupSchema = type(
    "UsageGroupSchema",
    (Schema,),
    {
        "day": fields.String(metadata={"description": "Present when grouped by day: UTC date YYYY-MM-DD.", "example": "2026-11-01"}),
        "operation_type": fields.String(metadata={"description": "Present when grouped by operation_type."}),
        "user_id": fields.String(allow_none=True, metadata={"description": "Present when grouped by user_id."}),
        "req_id": fields.String(allow_none=True, metadata={"description": "Present when grouped by req_id."}),
        "model": fields.String(allow_none=True, metadata={"description": "Present when grouped by model."}),
        "status": fields.String(metadata={"description": "Present when grouped by status."}),
        **_totals_fields(),
    },
)


class UsageFiltersSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", allow_none=True)
    to = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    req_id = fields.String(allow_none=True)
    operation_type = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    status = fields.String(allow_none=True)


class UsageReportResponseSchema(SuccessSchema):
    filters = fields.Nested(UsageFiltersSchema, metadata={"description": "The filters applied (null = not filtered)."})
    group_by = fields.List(fields.String(), metadata={"description": "The group keys, in order."})
    totals = fields.Nested(UsageTotalsSchema, metadata={"description": "Over every selected row (= the groups summed)."})
    groups = fields.List(fields.Nested(UsageGroupSchema), metadata={"description": "One per distinct key value(s), ordered by the keys (null first)."})


class GenerationCallSchema(Schema):
    id = fields.Integer()
    purpose = fields.String(metadata={"example": "jd_enhancement"})
    attempt = fields.Integer(metadata={"description": "0 = first HTTP attempt of an SDK call, 1.. = the SDK's retries."})
    outcome = fields.String(metadata={"description": "ok, http_<status>, timeout, connection_error, unparseable_response."})
    status_code = fields.Integer(allow_none=True)
    anthropic_request_id = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    effort = fields.String(allow_none=True, metadata={"description": "output_config.effort sent (low, medium, high, xhigh, max); null: none."})
    input_tokens = fields.Integer()
    output_tokens = fields.Integer()
    cache_creation_input_tokens = fields.Integer()
    cache_read_input_tokens = fields.Integer()
    cost_usd = cost_field("USD, 6 places; null when the model had no price.", allow_none=True)
    latency_ms = fields.Integer()
    started_at = fields.DateTime()


class GenerationLogSchema(Schema):
    id = fields.Integer()
    operation_type = fields.String()
    req_id = fields.String(allow_none=True)
    user_id = fields.String(allow_none=True)
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    error_kind = fields.String(allow_none=True)
    error_message = fields.String(allow_none=True)
    provider = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    effort = fields.String(allow_none=True, metadata={"description": "The calls' effort; mixed when they differ."})
    prompt_version = fields.String(allow_none=True)
    claude_calls = fields.Integer()
    input_tokens = fields.Integer()
    output_tokens = fields.Integer()
    cache_creation_input_tokens = fields.Integer()
    cache_read_input_tokens = fields.Integer()
    tokens_used = fields.Integer()
    cost_usd = cost_field("USD, 6 places, sum of the priced calls.")
    unpriced_calls = fields.Integer(metadata={"description": "Calls of a model with no price (not in cost_usd)."})
    latency_ms = fields.Integer(allow_none=True)
    cache_hits = fields.Integer()
    cache_misses = fields.Integer()
    tokens_avoided = fields.Integer()
    job_description_id = fields.Integer(allow_none=True)
    interview_id = fields.Integer(allow_none=True)
    evaluation_id = fields.Integer(allow_none=True, metadata={"description": "candidate_scoring: the scorecard stored."})
    job_id = fields.String(allow_none=True, metadata={"description": "The asynchronous job the operation ran for (GET /api/jobs/<job_id>); null for a synchronous request."})
    request_id = fields.String(allow_none=True, metadata={"description": "X-Request-ID of the HTTP request that ran the operation."})
    started_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    fairness_findings = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.Integer()), allow_none=True,
        metadata={"description": "The fair-hiring guard's findings, counts by source and category, never the text: "
                  "generated (Claude output refused for them), cache (cached questions not reused), input (the hiring "
                  "manager's text), evidence (evaluation quotes not counted). Null when none were found.",
                  "example": {"input": {"age": 2}, "generated": {"family_status": 1}}},
    )


class GenerationLogDetailSchema(GenerationLogSchema):
    calls = fields.List(fields.Nested(GenerationCallSchema), metadata={"description": "HTTP attempts, oldest first."})


class GenerationLogListResponseSchema(SuccessSchema):
    generation_logs = fields.List(fields.Nested(GenerationLogSchema), metadata={"description": "Newest first (started_at, then id, descending)."})
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as `cursor` for the next page; null on the last page."})


class GenerationLogResponseSchema(SuccessSchema):
    generation_log = fields.Nested(GenerationLogDetailSchema)


# --- Examples ------------------------------------------------------------------------------------

def _example_totals(operations, calls, failures, tokens, cost, hits=0, avoided=0):
    inp, out, write, read = tokens
    return {"operations": operations, "calls": calls, "failures": failures, "input_tokens": inp, "output_tokens": out,
            "cache_creation_input_tokens": write, "cache_read_input_tokens": read, "tokens_used": inp + out + write + read,
            "cost_usd": cost, "cache_hits": hits, "tokens_avoided": avoided}


_REPORT_EXAMPLE = {
    "success": True,
    "filters": {"from": "2026-11-01", "to": "2026-11-30", "user_id": None, "req_id": None, "operation_type": None,
                "model": None, "status": None},
    "group_by": ["day", "model"],
    "totals": _example_totals(3, 4, 1, (5100, 3200, 200, 4000), "0.043100", 5, 2920),
    "groups": [
        {"day": "2026-11-01", "model": "claude-sonnet-5-5", **_example_totals(2, 3, 0, (4000, 2600, 200, 4000), "0.034900", 5, 2920)},
        {"day": "2026-11-02", "model": "claude-sonnet-5-5", **_example_totals(1, 1, 1, (1100, 600, 0, 0), "0.008200")},
    ],
}
_REPORT_DESCRIPTION = "The report (JSON); with format=csv or Accept: text/csv, its groups as CSV"
_CSV_EXAMPLE = (
    "day,model," + ",".join(TOTAL_FIELDS) + "\r\n"
    "2026-11-01,claude-sonnet-5-5,2,3,0,4000,2600,200,4000,10800,0.034900,5,2920\r\n"
    "2026-11-02,claude-sonnet-5-5,1,1,1,1100,600,0,0,1700,0.008200,0,0\r\n"
)
_LOG_EXAMPLE = {
    "id": 812, "operation_type": "jd_enhancement", "req_id": "REQ-2026-0042", "user_id": "apikey:12", "status": "success",
    "error_kind": None, "error_message": None, "provider": "anthropic", "model": "claude-sonnet-5-5", "effort": "high",
    "prompt_version": "v3", "claude_calls": 2, "input_tokens": 1000, "output_tokens": 500, "cache_creation_input_tokens": 200,
    "cache_read_input_tokens": 3000, "tokens_used": 4700, "cost_usd": "0.007800", "unpriced_calls": 0, "latency_ms": 8125,
    "cache_hits": 0, "cache_misses": 0, "tokens_avoided": 0, "job_description_id": 77, "interview_id": None, "evaluation_id": None, "job_id": None,
    "request_id": "5f0c2b7e9d3a4c1b8e6f2a7d9c0b1e3f",
    "started_at": "2026-11-01T09:30:00.125000+00:00", "completed_at": "2026-11-01T09:30:08.250000+00:00",
    "fairness_findings": {"input": {"age": 2}},
}
_CALL_EXAMPLES = [
    {"id": 1501, "purpose": "jd_enhancement", "attempt": 0, "outcome": "http_429", "status_code": 429,
     "anthropic_request_id": "req_011CUa1", "model": None, "effort": "high", "input_tokens": 0, "output_tokens": 0,
     "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "cost_usd": "0.000000", "latency_ms": 140,
     "started_at": "2026-11-01T09:30:00.130000+00:00"},
    {"id": 1502, "purpose": "jd_enhancement", "attempt": 1, "outcome": "ok", "status_code": 200,
     "anthropic_request_id": "req_011CUa2", "model": "claude-sonnet-5-5", "effort": "high", "input_tokens": 1000,
     "output_tokens": 500, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 3000, "cost_usd": "0.007800", "latency_ms": 7950,
     "started_at": "2026-11-01T09:30:00.300000+00:00"},
]


# --- Views ---------------------------------------------------------------------------------------

def _wants_csv(requested_format):
    if requested_format is not None:
        return requested_format == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


@blp.route("/usage")
@read_limit
@require_roles(*AUDIT_ROLES)
@blp.arguments(UsageQuerySchema, location="query")
@blp.response(200, UsageReportResponseSchema, example=_REPORT_EXAMPLE, description=_REPORT_DESCRIPTION)
@blp.alt_response(200, schema={"type": "string"}, content_type="text/csv", example=_CSV_EXAMPLE, success=True,
                  description=_REPORT_DESCRIPTION)
@blp.error_responses(400, 401, 403, 429)
@blp.doc(security=SECURITY)
def get_usage_report(query):
    """Token and cost totals of Claude operations, grouped by one or two keys.

    Filters: `from` / `to` are UTC days, both inclusive (`from` from 00:00:00 UTC, `to` through
    23:59:59.999999 UTC, of started_at); user_id, req_id, operation_type, model and status are
    exact matches. `group_by`: one or two of day, operation_type, user_id, req_id, model, status
    (default day). `totals` cover every selected operation and equal the groups summed;
    `cost_usd` is an exact decimal string with 6 places. With `format=csv` or
    `Accept: text/csv` the answer is the groups as CSV: a header of the key columns then the
    totals fields, the same numbers as the JSON. Roles: auditor, admin.
    """
    requested_format = query.pop("format", None)
    report = usage_report(**query)
    if _wants_csv(requested_format):
        return Response(
            report_csv(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="usage-by-{"-".join(report["group_by"])}.csv"'},
        )
    return report


@blp.route("/generation-logs")
@read_limit
@require_roles(*AUDIT_ROLES)
@blp.arguments(GenerationLogQuerySchema, location="query")
@blp.response(200, GenerationLogListResponseSchema, example={"success": True, "generation_logs": [_LOG_EXAMPLE],
                                                             "next_cursor": "MjAyNi0xMS0wMVQwOTozMDowMC4xMjUwMDB8ODEy"})
@blp.error_responses(400, 401, 403, 429)
@blp.doc(security=SECURITY)
def list_generation_log_rows(query):
    """The audited operations (generation_logs rows), newest first, one page at a time.

    Same filters as /api/admin/usage. Pages are keyed by a cursor (started_at, id): pass
    `next_cursor` as `cursor` until it is null; no row is repeated or skipped. Roles: auditor, admin.
    """
    rows, next_cursor = list_generation_logs(**query)
    return {"generation_logs": rows, "next_cursor": next_cursor}


@blp.route("/generation-logs/<int:log_id>")
@read_limit
@require_roles(*AUDIT_ROLES)
@blp.response(200, GenerationLogResponseSchema, example={"success": True, "generation_log": {**_LOG_EXAMPLE, "calls": _CALL_EXAMPLES}})
@blp.error_responses(401, 403, 404, 429)
@blp.doc(security=SECURITY)
def get_generation_log_row(log_id):
    """One audited operation with each HTTP attempt it made (SDK retries and repair calls
    included): purpose, attempt, outcome, status code, Anthropic request id, model, tokens,
    cost and latency. Roles: auditor, admin.
    """
    return {"generation_log": get_generation_log(log_id)}
