"""The error envelope and the one mapping from failures to HTTP responses.

Every error answers ``{success: false, error: "<message>", req_id?, errors?: {field: [messages]}}``
(plus context such as job_description_id). Domain errors carry their status
(services/errors.py); database connection failures are 503; anything unexpected is logged
and answers a generic 500 without details.
"""

import logging

import flask_smorest
from flask import current_app, g, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError

from services.errors import ServiceError

log = logging.getLogger(__name__)

_HTTP_MESSAGES = {
    400: "Invalid request",
    401: "Missing or invalid credentials",
    403: "Your role does not allow this operation",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Content-Type must be application/json",
}


def error_response(status, message, *, req_id=None, errors=None, extra=None, headers=None):
    """Return a (response, status) pair in the error envelope."""
    body = envelope(message, req_id=req_id or _req_id_from_request(), errors=errors, extra=extra)
    if headers and "Retry-After" in headers:
        g.own_retry_after = headers["Retry-After"]  # wins over the rate limit's (app.py)
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def envelope(message, *, req_id=None, errors=None, extra=None):
    """Return the error envelope {success: false, error, req_id?, errors?, **extra} as a dict."""
    body = {"success": False, "error": message}
    if req_id:
        body["req_id"] = req_id
    if errors:
        body["errors"] = errors
    body.update(extra or {})
    return body


def failure_answer(exc, *, req_id=None):
    """Return (status, envelope dict) for an exception, as the app's error handlers answer it.

    For work done outside a request (jobs): ServiceError -> its status; a database outage ->
    503; anything else -> 500 (logged). req_id: the requisition, when the error does not name it.
    Rolls the session back first, as the handlers do.
    """
    _rollback_quietly()
    if isinstance(exc, ServiceError):
        if exc.http_status >= 500:
            log.warning("%s: %s", exc.kind, exc.message)
        return exc.http_status, envelope(exc.message, req_id=exc.req_id or req_id, errors=exc.errors, extra=exc.extra)
    if isinstance(exc, OperationalError):
        log.error("Database unavailable: %s", type(getattr(exc, "orig", None) or exc).__name__)
        return 503, envelope("The database is unavailable; try again shortly", req_id=req_id)
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return 503, envelope("The database connection was lost; try again shortly", req_id=req_id)
    log.error("Unhandled exception in a job", exc_info=exc)
    return 500, envelope("Internal server error", req_id=req_id)


class Api(flask_smorest.Api):
    """flask-smorest Api that answers HTTP errors (webargs validation included) in our envelope.

    No ``default`` response is documented: flask-smorest's would describe its own error schema
    (code/status/message), which this API never sends, and would make every status code
    "documented". Each operation lists its error statuses instead (Blueprint.error_responses).
    """

    DEFAULT_ERROR_RESPONSE_NAME = None

    def handle_http_exception(self, error):
        data = getattr(error, "data", None) or {}
        errors = _flatten_locations(data.get("messages") or data.get("errors"))
        message = data.get("message") or _HTTP_MESSAGES.get(error.code) or error.description or error.name
        if errors and error.code == 400:
            message = "Invalid input: " + "; ".join(f"{field}: {msgs[0]}" for field, msgs in errors.items())
        if error.code == 429:  # routes/rate_limits: the description is the limit, e.g. "30 per 1 minute"
            message = f"Rate limit exceeded: {error.description} for this caller; retry after Retry-After seconds"
        if error.code == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            message = f"Request body too large; the limit is {limit} bytes"
        if error.code >= 500:
            log.error("Unhandled error answered %s", error.code, exc_info=getattr(error, "original_exception", None))
            if error.code == 500:  # other 5xx carry a description written for the caller (e.g. the rate limits' 503)
                message = "Internal server error"
        # Keep the exception's own headers (e.g. Allow on 405) besides its Content-Type.
        headers = {name: value for name, value in error.get_headers() if name.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return error_response(error.code, message, errors=errors or None, headers=headers)


def register_error_handlers(app):
    """Map domain errors, database outages and unexpected exceptions to the error envelope."""

    @app.errorhandler(ServiceError)
    def _service_error(exc):
        if exc.http_status >= 500:
            log.warning("%s: %s", exc.kind, exc.message)
        return error_response(
            exc.http_status, exc.message, req_id=exc.req_id, errors=exc.errors, extra=exc.extra, headers=exc.headers
        )

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc):
        _rollback_quietly()
        log.error("Database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        return error_response(503, "The database is unavailable; try again shortly", headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc):
        _rollback_quietly()
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return error_response(503, "The database connection was lost; try again shortly", headers={"Retry-After": "5"})
        log.exception("Unhandled exception on %s %s", request.method, request.path)
        return error_response(500, "Internal server error")


def _rollback_quietly():
    from models import db

    try:
        db.session.rollback()
    except Exception:  # the connection may be gone; nothing more to undo
        log.debug("rollback after error failed", exc_info=True)


def _flatten_locations(messages):
    """webargs nests errors by location ({"json": {field: [...]}}); the envelope keys by field."""
    if not isinstance(messages, dict):
        return {}
    flat = {}
    for location, value in messages.items():
        if isinstance(value, dict):
            _flatten_into(flat, value, "")
        else:
            flat.setdefault("body", []).extend(_as_list(value))
    return flat


def _flatten_into(flat, messages, prefix):
    """Nested errors ({"answers": {0: {"answer_text": [...]}}}) become {"answers.0.answer_text": [...]}."""
    for key, value in messages.items():
        name = "body" if key == "_schema" and not prefix else (prefix if key == "_schema" else f"{prefix}{key}")
        if isinstance(value, dict):
            _flatten_into(flat, value, f"{name}.")
        else:
            flat.setdefault(name, []).extend(_as_list(value))


def _as_list(messages):
    return [str(m) for m in messages] if isinstance(messages, list) else [str(messages)]


def _req_id_from_request():
    try:
        if request.view_args and isinstance(request.view_args.get("req_id"), str):
            return request.view_args["req_id"]
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict) and isinstance(body.get("req_id"), str):
                return body["req_id"][:64]
    except Exception:  # an unreadable body must not turn an error response into a 500
        return None
    return None
