"""Idempotency keys (IETF httpapi "Idempotency-Key" draft, Stripe semantics).

A key is scoped to its owner (the caller's user id) and stored in the database, so every
worker and host sees it. The first request with a key is recorded as in_progress; when it
ends with a status below 500 (and not 429) its status and body are stored and replayed for
the same key and the same request for IDEMPOTENCY_TTL_HOURS (24). The same key with a
different request is refused (422); the same key while the first is still running is refused
(409). A 5xx or 429 releases the key, so the client may retry. An in_progress record older
than IDEMPOTENCY_ABANDONED_SECONDS (its process died) may be taken over. Each completed request
also deletes the records past their expiry (through the expires_at index), so the table holds
about one TTL of keys.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from models import IdempotencyKey, db, utcnow
from services.errors import Conflict, IdempotencyKeyReused

log = logging.getLogger(__name__)


@dataclass
class Replay:
    """A stored response to send again."""

    status: int
    body: str


def begin(*, owner, key, method, path, request_hash, ttl_hours=24, abandoned_seconds=900):
    """Claim ``key`` for this request: return its record id, or a Replay of the stored response.

    Raises Conflict (409) while the first request is running and IdempotencyKeyReused (422)
    when the key was used for a different request.
    """
    now = utcnow()
    with Session(db.engine) as session:
        for _ in range(2):
            existing = session.scalar(db.select(IdempotencyKey).where(IdempotencyKey.owner == owner, IdempotencyKey.key == key))
            if existing is not None:
                stale = existing.expires_at <= now or (
                    existing.status == "in_progress" and (now - existing.created_at).total_seconds() > abandoned_seconds
                )
                if not stale:
                    if existing.request_hash != request_hash:
                        raise IdempotencyKeyReused(
                            "This Idempotency-Key was already used with a different request; use a new key",
                            errors={"Idempotency-Key": ["already used with a different request"]},
                        )
                    if existing.status == "in_progress":
                        raise Conflict(
                            "A request with this Idempotency-Key is still being processed; retry when it has finished",
                            headers={"Retry-After": "5"},
                        )
                    return Replay(existing.response_status, existing.response_body)
                session.delete(existing)
                session.flush()
            record = IdempotencyKey(
                owner=owner, key=key, method=method, path=path[:255], request_hash=request_hash,
                status="in_progress", created_at=now, expires_at=now + timedelta(hours=ttl_hours),
            )
            session.add(record)
            try:
                session.commit()
                return record.id
            except IntegrityError:  # another request claimed the key between our read and insert
                session.rollback()
        raise Conflict("A request with this Idempotency-Key is still being processed; retry when it has finished")


def complete(record_id, *, status, body):
    """Store the response of a claimed key, to be replayed, then delete expired records."""
    with Session(db.engine) as session:
        record = session.get(IdempotencyKey, record_id)
        if record is not None:
            record.status, record.response_status, record.response_body = "completed", status, body
            session.commit()
        try:  # housekeeping in a transaction of its own: a failure never affects the answer
            session.execute(db.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            log.warning("Deleting expired idempotency keys failed: %s", type(getattr(exc, "orig", exc)).__name__)


def release(record_id):
    """Forget a claimed key (the request failed in a way worth retrying)."""
    with Session(db.engine) as session:
        session.execute(db.delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
        session.commit()
