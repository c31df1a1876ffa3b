"""The Idempotency-Key header on POSTs that create something or call Claude."""

import functools
import hashlib
import json

from flask import current_app, g, request

from routes.errors import error_response
from services import idempotency

HEADER = "Idempotency-Key"
# OpenAPI description of the header, for @blp.doc(parameters=[...]) on idempotent operations.
PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Makes a retried POST safe: the same key and body within 24 h replays the first response "
    "(header Idempotent-Replayed: true) without new rows or Claude calls; the same key with another body is 422; "
    "while the first request runs, 409. Scoped to the caller's API key.",
    "example": "3f6c1c9e-2b0e-4a57-9c55-0b8f2f1c7d10",
}


def idempotent(view):
    """Decorate a view (below require_roles) so a repeated Idempotency-Key replays the first response.

    Without the header the view runs as usual. See services/idempotency.py for the rules.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            return error_response(400, f"{HEADER} must be 1 to 255 printable characters", errors={HEADER: ["1 to 255 printable characters"]})
        claimed = idempotency.begin(
            owner=g.principal.user_id,
            key=key,
            method=request.method,
            path=request.path,
            request_hash=_request_hash(),
            ttl_hours=current_app.config["IDEMPOTENCY_TTL_HOURS"],
            abandoned_seconds=current_app.config["IDEMPOTENCY_ABANDONED_SECONDS"],
        )
        if isinstance(claimed, idempotency.Replay):
            response = current_app.response_class(claimed.body, status=claimed.status, mimetype="application/json")
            response.headers["Idempotent-Replayed"] = "true"
            if claimed.status == 202:  # a job: the replay names it as the first answer did
                from routes.async_jobs import accepted_headers

                accepted_headers(response, json.loads(claimed.body)["job_id"])
            return response
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception as exc:  # errors answer through the app's handlers, then are stored like any answer
            response = current_app.make_response(current_app.handle_user_exception(exc))
        if response.status_code >= 500 or response.status_code == 429:
            idempotency.release(claimed)
        else:
            idempotency.complete(claimed, status=response.status_code, body=response.get_data(as_text=True))
        return response

    return wrapper


def _request_hash():
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nested too deeply to parse: hash the bytes; the view's parser answers 400
        body = None
    # Prefer: respond-async is part of the request: the same key without it is another request (422).
    from routes.async_jobs import prefers_async

    method = request.method + (" respond-async" if prefers_async() else "")
    payload = json.dumps([method, request.path, body], sort_keys=True, separators=(",", ":")) if body is not None \
        else f"{method} {request.path} " + request.get_data().hex()
    return hashlib.sha256(payload.encode()).hexdigest()
