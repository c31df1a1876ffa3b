"""Authentication and role checks for routes.

AUTH_MODE=api-key (default): ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``, checked
against the hashed keys made by ``flask --app app api-keys create``.
AUTH_MODE=trusted-headers: ``X-User-ID`` and ``X-User-Role`` (admin or user; user acts as
recruiter) set by an authenticating gateway. Off by default: only safe when nothing but the
gateway can reach the service.
"""

import functools

from flask import current_app, g, request

from routes.errors import error_response
from services.api_keys import ROLES, WRITE_ROLES, Principal, authenticate_api_key

READ_ROLES = ROLES
_TRUSTED_ROLES = {"admin": "admin", "user": "recruiter"}

SECURITY = [{"bearerAuth": []}, {"apiKeyHeader": []}]
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "API key as a bearer token"},
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def require_roles(*roles):
    """Decorate a view: 401 without valid credentials, 403 when the caller's role is not in ``roles``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = request_principal()
            if principal is None:
                return error_response(401, "Missing or invalid credentials", headers={"WWW-Authenticate": "Bearer"})
            if principal.role not in roles:
                return error_response(
                    403, f"Role {principal.role!r} may not do this; it needs one of: {', '.join(roles)}"
                )
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorator


def current_user_id():
    """Return the authenticated caller's user id (set by require_roles)."""
    return g.principal.user_id


def request_principal():
    """Return the caller's Principal for this request, or None without valid credentials.

    Authenticates once per request (the rate limiter asks first, then require_roles). Raises
    the database errors of authenticate_api_key (answered 503 by the error handlers).
    """
    state = g._get_current_object()  # one context lookup, not three
    if "authenticated" not in state:
        state.authenticated = _authenticate()
    return state.authenticated


def _authenticate():
    config, headers = current_app.config, request.headers
    if config["AUTH_MODE"] == "trusted-headers":
        user_id = (headers.get("X-User-ID") or "").strip()
        role = _TRUSTED_ROLES.get((headers.get("X-User-Role") or "").strip().lower())
        if not user_id or role is None or len(user_id) > 64:
            return None
        return Principal(user_id=user_id, role=role)
    key = headers.get("X-API-Key")
    authorization = headers.get("Authorization", "")
    if not key and authorization[:7].lower() == "bearer ":
        key = authorization[7:].strip()
    if not key or len(key) > 200:
        return None
    return authenticate_api_key(key, cache_seconds=config["AUTH_CACHE_SECONDS"])


__all__ = ["READ_ROLES", "WRITE_ROLES", "SECURITY", "SECURITY_SCHEMES", "require_roles", "current_user_id", "request_principal"]
