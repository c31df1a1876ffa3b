"""Domain errors raised by services and the Claude adapter.

Services never call ``abort()``; the HTTP layer maps these to status codes in one place
(routes/errors.py reads ``http_status``). ``kind`` is a stable machine-readable name that is
also written to ``generation_logs.error_kind``.
"""


class ServiceError(Exception):
    """Base of every domain error: a message for the client plus optional context."""

    http_status = 500
    kind = "internal_error"

    def __init__(self, message, *, req_id=None, errors=None, extra=None, headers=None):
        super().__init__(message)
        self.message = message
        self.req_id = req_id
        self.errors = errors  # {field: [messages]} for validation errors
        self.extra = extra or {}  # more JSON fields for the error body
        self.headers = headers or {}  # more HTTP headers (e.g. Retry-After)


class InvalidInput(ServiceError):
    """The request is well-formed JSON but a field's value is unusable (400)."""

    http_status = 400
    kind = "invalid_input"

    def __init__(self, field, message, *, req_id=None):
        super().__init__(f"Invalid {field}: {message}", req_id=req_id, errors={field: [message]})


class NotFound(ServiceError):
    """The named requisition, job description or interview does not exist (404)."""

    http_status = 404
    kind = "not_found"


class Conflict(ServiceError):
    """The request conflicts with stored state, e.g. a req_id already enhanced (409)."""

    http_status = 409
    kind = "conflict"


class BudgetExceeded(ServiceError):
    """A token budget would be exceeded; refused before Claude is called (429)."""

    http_status = 429
    kind = "budget_exceeded"


class IdempotencyKeyReused(ServiceError):
    """An Idempotency-Key was sent again with a different request (422)."""

    http_status = 422
    kind = "idempotency_key_reused"


class ClaudeError(ServiceError):
    """Base of upstream (Claude) failures."""

    http_status = 502
    kind = "claude_error"


class ClaudeBadOutput(ClaudeError):
    """Claude answered, but its output stayed unusable after one repair attempt (502)."""

    kind = "claude_bad_output"


class ClaudeRejected(ClaudeError):
    """The Messages API refused the request (4xx other than 429/408/409) (502)."""

    kind = "claude_rejected"


class ClaudeFailed(ClaudeError):
    """The Messages API answered with a server error after the SDK's retries (502)."""

    kind = "claude_failed"


class ClaudeUnavailable(ClaudeError):
    """Claude is overloaded, rate-limited or unreachable after the SDK's retries (503)."""

    http_status = 503
    kind = "claude_unavailable"


class ClaudeTimeout(ClaudeError):
    """Claude did not answer within CLAUDE_TIMEOUT_SECONDS on any attempt (504)."""

    http_status = 504
    kind = "claude_timeout"


class CredentialsRevoked(ServiceError):
    """The API key that submitted a job was revoked before the job ran (401, as the request would get now)."""

    http_status = 401
    kind = "credentials_revoked"


class JobQueueUnavailable(ServiceError):
    """The job queue (the broker) could not take a job (503, Retry-After 5)."""

    http_status = 503
    kind = "job_queue_unavailable"

    def __init__(self, message="The job queue is unavailable; try again shortly", **kwargs):
        super().__init__(message, headers={"Retry-After": "5"}, **kwargs)


class JobClaimLost(ServiceError):
    """The job attempt running this operation no longer holds its job (the sweep gave it to another
    attempt, failed it or it was erased): nothing is stored (409, never answered to a client)."""

    http_status = 409
    kind = "job_claim_lost"


class WebhooksNotConfigured(ServiceError):
    """WEBHOOK_ENCRYPTION_KEY is not set, so webhook secrets can be neither made nor read (400)."""

    http_status = 400
    kind = "webhooks_not_configured"

    def __init__(self, message=None, **kwargs):
        super().__init__(
            message or "Webhooks are not configured on this server: set WEBHOOK_ENCRYPTION_KEY (a Fernet key; "
            "make one with `python -c \"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())\"`)",
            **kwargs,
        )


class WebhookKeyInvalid(WebhooksNotConfigured):
    """WEBHOOK_ENCRYPTION_KEY is not a Fernet key, or does not decrypt a stored secret (500)."""

    http_status = 500
    kind = "webhooks_misconfigured"


class UnresolvableHost(InvalidInput):
    """The callback URL's host does not resolve (400; a delivery retries it as a network error)."""


# --- Secrets ------------------------------------------------------------------------------------
