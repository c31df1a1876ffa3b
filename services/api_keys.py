"""API keys: created once (plaintext shown once), stored as SHA-256 digests, revocable.

Keys are 32 random bytes (urlsafe base64) with a readable prefix; a fast digest is the usual
choice for such high-entropy secrets (a slow password hash adds nothing and costs every
request). Roles: admin, recruiter (may write), viewer, auditor (read only).
"""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from models import ApiKey, db, utcnow
from services.errors import InvalidInput, NotFound

ROLES = ("admin", "recruiter", "viewer", "auditor")
WRITE_ROLES = ("admin", "recruiter")
KEY_PREFIX = "tsk_"
_LAST_USED_RESOLUTION = timedelta(minutes=5)
# key digest -> (Principal, monotonic expiry); plain dict operations are atomic under the GIL.
_principal_cache = {}


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user id (stored as created_by_user_id / user_id) and a role."""

    user_id: str
    role: str
    api_key_id: int | None = None


def create_api_key(*, name, role):
    """Create a key; return (ApiKey, plaintext key). The plaintext is not stored anywhere.

    Raises InvalidInput (field role or name).
    """
    if role not in ROLES:
        raise InvalidInput("role", f"must be one of {', '.join(ROLES)}")
    if not name or len(name) > 100:
        raise InvalidInput("name", "must be 1 to 100 characters")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey(name=name, role=role, key_prefix=plaintext[:12], key_hash=_digest(plaintext), created_at=utcnow())
    db.session.add(api_key)
    db.session.commit()
    return api_key, plaintext


def list_api_keys():
    """Return every ApiKey (revoked included), oldest first."""
    return db.session.scalars(db.select(ApiKey).order_by(ApiKey.id)).all()


def revoke_api_key(api_key_id):
    """Revoke a key (idempotent). Raises NotFound."""
    api_key = db.session.get(ApiKey, api_key_id)
    if api_key is None:
        raise NotFound(f"API key {api_key_id} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        db.session.commit()
    _principal_cache.pop(api_key.key_hash, None)
    return api_key


def set_token_budgets(api_key_id, *, daily=..., monthly=...):
    """Set a key's daily and/or monthly token budget (None = use the API_KEY_TOKEN_BUDGET_* default).

    Arguments left as ... are unchanged. Raises NotFound, InvalidInput (negative budget).
    """
    api_key = db.session.get(ApiKey, api_key_id)
    if api_key is None:
        raise NotFound(f"API key {api_key_id} not found")
    for field, value in (("daily_token_budget", daily), ("monthly_token_budget", monthly)):
        if value is ...:
            continue
        if value is not None and value < 0:
            raise InvalidInput(field, "must be 0 or more tokens")
        setattr(api_key, field, value)
    db.session.commit()
    return api_key


def authenticate_api_key(plaintext, *, cache_seconds=0):
    """Return the Principal for a presented key, or None if it is unknown or revoked.

    With cache_seconds > 0 a valid key is remembered in this process for that long (no database
    query per request); revoking a key forgets it here at once, other processes within
    cache_seconds (AUTH_CACHE_SECONDS).
    """
    digest = _digest(plaintext)
    if cache_seconds > 0:
        cached = _principal_cache.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
    api_key = db.session.scalar(db.select(ApiKey).where(ApiKey.key_hash == digest))
    if api_key is None or api_key.revoked_at is not None:
        _principal_cache.pop(digest, None)
        return None
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > _LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        db.session.commit()
    principal = Principal(user_id=f"apikey:{api_key.id}", role=api_key.role, api_key_id=api_key.id)
    if cache_seconds > 0:
        _principal_cache[digest] = (principal, time.monotonic() + cache_seconds)
    return principal


def _digest(plaintext):
    return hashlib.sha256(plaintext.encode()).hexdigest()
