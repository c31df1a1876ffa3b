"""Rate limits per caller with Flask-Limiter, by route class.

Classes (each a bucket shared by its routes, per caller): "claude" for POSTs that call Claude
(RATE_LIMIT_CLAUDE, default 30/minute), "write" for other writes (RATE_LIMIT_WRITE, 120/minute),
"read" for reads (RATE_LIMIT_READ, 1200/minute). The caller is the authenticated principal
(API key id, or X-User-ID in trusted-headers mode), however its credential is spelled; requests
without valid credentials count by client address, so made-up keys share one bucket. Over the
limit: 429 in the error envelope with Retry-After and X-RateLimit-* headers.
Counts live in memory (per process) unless RATELIMIT_STORAGE_URI names shared storage, e.g.
redis://127.0.0.1:6379, so every worker and host shares one count.
"""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from routes.auth import request_principal


def caller_key():
    """Return the rate-limit bucket owner: the principal's user id, else the client address."""
    principal = request_principal()
    if principal is not None:
        return "caller:" + principal.user_id
    return "addr:" + (get_remote_address() or "unknown")


limiter = Limiter(key_func=caller_key)


def _limit(config_name):
    return lambda: current_app.config[config_name]


claude_limit = limiter.shared_limit(_limit("RATE_LIMIT_CLAUDE"), scope="claude")
write_limit = limiter.shared_limit(_limit("RATE_LIMIT_WRITE"), scope="write")
read_limit = limiter.shared_limit(_limit("RATE_LIMIT_READ"), scope="read")
