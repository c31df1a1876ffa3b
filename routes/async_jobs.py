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
from routes.errors import error_response, failure_answer
from services import job_operations, jobs
from services.errors import InvalidInput
from services.job_queue import QueueUnavailable

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
ASYNC_RESPONSE = {
    "description": "Accepted as a job (with `Prefer: respond-async`): `{success, job_id, status: queued, links}`. "
    "Headers: Location (the job), Preference-Applied: respond-async.",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobAccepted"}}},
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
                    raise InvalidInput("callback_url", "is only used with the header Prefer: respond-async")
                return view(body, **args)
            return _submit(operation, body, args, callback_url)

        return wrapper

    return decorator


def _submit(operation, body, args, callback_url):

    principal = g.principal
    job_operations.precheck(operation, body, args)
    callback_url = _callback_for(principal, callback_url)
    job = jobs.submit_job(
        operation=operation, method=request.method, path=request.path, principal=principal, body=body, args=args,
        req_id=body.get("req_id") or _interview_req_id(args), candidate_id=body.get("candidate_id"),
        callback_url=callback_url, request_id=current_request_id.get(),
        max_attempts=current_app.config["JOB_MAX_ATTEMPTS"],
    )
    try:
        current_app.extensions["job_queue"].enqueue_job(job.id)
    except QueueUnavailable:
        message = "The job queue is unavailable; try again shortly"
        jobs.fail_unqueued(job.id, 503, {"success": False, "error": message})
        return error_response(503, message, headers={"Retry-After": "5"})
    response = jsonify({"success": True, "job_id": job.id, "status": job.status, "links": jobs.job_links(job)})
    response.status_code = 202
    return accepted_headers(response, job.id)


def accepted_headers(response, job_id):
    """Give a 202 answer (first or replayed) its Location and Preference-Applied headers."""
    response.headers["Location"] = f"/api/jobs/{job_id}"
    response.headers["Preference-Applied"] = "respond-async"
    return response


def _callback_for(principal, callback_url):
    """The job's webhook URL: the request's, else the API key's default; checked against SSRF rules."""
    from services import webhooks

    config = current_app.config
    if principal.api_key_id is None:
        if callback_url is not None:
            raise InvalidInput("callback_url", "webhooks need API-key authentication (the signing secret belongs to the key)")
        return None
    secret, default_url = webhooks.webhook_settings(principal.api_key_id, config.get("WEBHOOK_ENCRYPTION_KEY"))
    url = callback_url or default_url
    if url is None:
        return None
    if secret is None:
        raise InvalidInput(
            "callback_url", "this API key has no webhook signing secret; an admin makes one with "
            "`flask --app app api-keys set-webhook KEY_ID`",
        )
    webhooks.check_callback_url(url, webhooks.parse_allowed_hosts(config.get("WEBHOOK_ALLOWED_HOSTS", "")))
    return url


def _interview_req_id(args):
    if "interview_id" not in args:
        return None
    from models import Interview, db

    return db.session.scalar(db.select(Interview.req_id).where(Interview.id == args["interview_id"]))


def build_performers(app):
    """Return {operation: perform(job) -> (status, body dict)} for services.jobs.JobRunner."""
    performers = {}
    for operation, run in job_operations.RUNS.items():
        shape, schema, status = _SHAPES[operation]
        performers[operation] = _performer(app, run, shape, schema(), status)
    return performers


def _performer(app, run, shape, schema, status):
    def perform(job):
        try:
            result = run(app.extensions, job)
            body = schema.dump(shape(result))
            return status, json.loads(app.json.dumps(body))
        except Exception as exc:  # noqa: BLE001 - answered as the app's error handlers answer any failure
            return failure_answer(exc, req_id=job.req_id)

    return perform
