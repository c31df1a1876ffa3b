"""``Prefer: respond-async`` (RFC 7240) on the Claude-calling POSTs, and what their jobs answer.

``@respond_async(operation, ...)`` goes innermost on such a view (below @within_budget). Without
the preference the view runs as before. With it, after everything the synchronous call would
refuse up front (auth, roles, validation, rate limit, idempotency, budget; then the service's own
400/404/409 checks, services/job_operations.precheck) the request is stored as a job and
answered ``202 Accepted`` with ``Location: /api/jobs/<job_id>`` and ``Preference-Applied:
respond-async``. The job later ends with the very status code and body the synchronous call
would have given: the same service (services/job_operations.RUNS), shaped by the same function
and dumped through the same response schema (``performers``).
"""

import functools
import json
import re

from flask import current_app, g, jsonify, request

from observability import current_request_id
from routes.errors import failure_answer
from services import job_operations, jobs
from services.errors import InvalidInput

PREFER_PARAMETER = {
    "in": "header",
    "name": "Prefer",
    "required": False,
    "schema": {"type": "string"},
    "description": "`respond-async` (RFC 7240): answer 202 with a job (Location: /api/jobs/<job_id>) instead of "
    "waiting for Claude; poll the job or receive its webhook (`callback_url`). Everything refused up front "
    "(400/401/403/404/409/413/415/422/429) is still answered synchronously.",
    "example": "respond-async",
}
# OpenAPI headers of the 202 answer.
ACCEPTED_HEADERS = {
    "Location": {"description": "The job: GET it to poll.", "schema": {"type": "string", "example": "/api/jobs/job_3f6c1c9e2b0e4a579c550b8f2f1c7d10"}},
    "Preference-Applied": {"description": "respond-async (RFC 7240).", "schema": {"type": "string", "example": "respond-async"}},
}

# operation -> (shape(result) -> response dict, response schema class, success status)
_SHAPES = {}
_PREFERENCE = re.compile(r"(?:^|,)\s*respond-async\s*(?:[;,]|$)", re.IGNORECASE)


def prefers_async():
    """True when the request's Prefer header asks for respond-async."""
    return any(_PREFERENCE.search(value) for value in request.headers.getlist("Prefer"))


def respond_async(operation, *, shape, schema, status=200, applies=None):
    """Decorate a Claude-calling view (innermost) to run as a job under Prefer: respond-async.

    shape(result) turns the service's result into the response dict the schema dumps; the view
    must call the service and return shape(result) itself (so both paths shape alike).
    applies(body): False runs the request synchronously even when async is preferred (manual
    scoring calls no Claude); the preference is then not applied.
    """
    _SHAPES[operation] = (shape, schema, status)

    def decorator(view):
        @functools.wraps(view)
        def wrapper(body, **args):
            callback_url = body.pop("callback_url", None)
            wanted = prefers_async() and (applies is None or applies(body))
            if not wanted:
                if callback_url is not None:
                    raise InvalidInput("callback_url", "is only used with the header Prefer: respond-async"
                                       if applies is None or applies(body) else "is only used by requests that run as a job")
                return view(body, **args)
            return _submit(operation, body, args, callback_url)

        return wrapper

    return decorator


def _submit(operation, body, args, callback_url):
    job = job_operations.accept(
        queue=current_app.extensions["job_queue"], config=current_app.config, operation=operation,
        principal=g.principal, body=body, args=args, callback_url=callback_url, method=request.method,
        path=request.path, request_id=current_request_id.get(),
    )
    response = jsonify({"success": True, "job_id": job.id, "status": job.status, "links": jobs.job_links(job)})
    response.status_code = 202
    return accepted_headers(response, job.id)


def accepted_headers(response, job_id):
    """Give a 202 answer (first or replayed) its Location and Preference-Applied headers."""
    response.headers["Location"] = f"/api/jobs/{job_id}"
    response.headers["Preference-Applied"] = "respond-async"
    return response


def build_performers(app):
    """Return {operation: perform(job) -> (status, body dict)} for services.jobs.JobRunner."""
    performers = {}
    for operation in job_operations.RUNS:
        shape, schema, status = _SHAPES[operation]
        performers[operation] = _performer(app, shape, schema(), status)
    return performers


def _performer(app, shape, schema, status):
    def perform(job):
        try:
            result = job_operations.perform(app.extensions, job)
            body = schema.dump(shape(result))
            return status, json.loads(app.json.dumps(body))
        except Exception as exc:  # noqa: BLE001 - answered as the app's error handlers answer any failure
            # the synchronous call's envelope names the body's req_id (not the interview's, for scoring)
            return failure_answer(exc, req_id=(job.request or {}).get("body", {}).get("req_id"))

    return perform
