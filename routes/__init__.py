"""HTTP layer: flask-smorest blueprints, one per resource, plus the shared Api and Blueprint.

Routes parse (schemas), call one service, and shape the response; they never touch
db.session. Validation errors answer 400 with the error envelope (routes/errors.py).
"""

import json

import flask_smorest
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser


class _Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400  # webargs' default is 422; the contract says 400 naming the field
    # An unknown query argument (a typo such as per_pag) is a 400 naming it, as unknown body fields
    # are, not silently ignored (webargs' default for the query string is EXCLUDE).
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError:
            # JSON nested deeper than the interpreter's recursion limit: invalid input, not a 500.
            # (A non-empty doc: webargs reads an empty one as "no body".)
            raise json.JSONDecodeError("JSON nested too deeply", "<request body>", 0) from None


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest Blueprint whose request validation errors are 400."""

    ARGUMENTS_PARSER = _Parser()

    def error_responses(self, *status_codes):
        """Document error answers (the error envelope) for these status codes."""

        def decorator(view):
            from routes.schemas import ApiErrorSchema

            for code in status_codes:
                view = self.alt_response(
                    code, schema=ApiErrorSchema, description=_ERROR_DESCRIPTIONS[code], headers=_ERROR_HEADERS.get(code)
                )(view)
            return view

        return decorator


_ERROR_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each field",
    401: "Missing or invalid credentials",
    403: "The caller's role may not do this",
    404: "Unknown requisition, job description or interview",
    409: "Conflicts with stored state (see `error`)",
    412: "If-Match names an ETag that is no longer current (conditional reads of interview kits)",
    413: "Request body too large",
    406: "Accept admits neither text/html nor application/pdf (printable documents); `error` names both",
    415: "Content-Type is not application/json",
    422: "The Idempotency-Key was already used with a different request",
    429: "Too many requests: the caller's rate limit for this route class is used up (X-RateLimit-* headers), or, "
    "on operations that call Claude, a token budget would be exceeded (see `budget`: scope, period, limit, spent, "
    "reserve, reset_at). Retry-After says when to try again",
    502: "Claude failed or returned unusable output",
    503: "Claude overloaded or unavailable, or the database is down (printable documents: PDF rendering unavailable)",
    504: "Claude timed out",
}

_ERROR_HEADERS = {
    429: {
        "Retry-After": {
            "description": "Seconds until the request may be retried",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
        }
    },
}


# Ids are INT columns (signed 32-bit on MySQL/MariaDB): a larger id cannot exist, and SQLite's
# driver raises OverflowError (a 500) on integers past 64 bits instead of finding nothing.
MAX_ID = 2**31 - 1


def guard_ids(blueprint, **labels):
    """Answer 404 for path ids past MAX_ID on ``blueprint`` (labels: view arg -> "Interview", ...)."""
    from services.errors import NotFound

    @blueprint.url_value_preprocessor
    def _reject_impossible_ids(endpoint, values):
        for name, label in labels.items():
            if values and isinstance(values.get(name), int) and values[name] > MAX_ID:
                raise NotFound(f"{label} {values[name]} not found")


def register_blueprints(api):
    """Register every blueprint of the service on the flask-smorest Api."""
    from routes.admin_cache import blp as admin_cache
    from routes.admin_usage import blp as admin_usage
    from routes.evaluations import blp as evaluations
    from routes.fairness import blp as fairness
    from routes.health import blp as health
    from routes.metrics import blp as metrics
    from routes.interviews import blp as interviews
    from routes.jobs import blp as jobs
    from routes.job_descriptions import blp as job_descriptions
    from routes.workflow import blp as workflow

    for blueprint in (
        health, job_descriptions, interviews, workflow, evaluations, fairness, admin_cache, metrics, admin_usage, jobs,
    ):
        api.register_blueprint(blueprint)
