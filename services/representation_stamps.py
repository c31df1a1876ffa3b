"""Version tokens of the interview reads' cached representations, shared through Redis (issue 12).

A read of ``GET /api/interview/<id>`` or ``GET /api/interview/req/<req_id>`` keys its cached JSON
body (routes/representations.py) by a *stamp*. Without this module the stamp is the interview rows
themselves, read from the database on every request: correct whatever changed them, but a
database round trip (plus the pool's ping and the session's closing ROLLBACK) on every read.

With ``REPRESENTATION_STAMP_URL`` set (a Redis URL, e.g. the one the rate limits use), the stamp is
a random token kept in Redis under ``<prefix>interview:<id>`` and ``<prefix>req:<req_id>``:

- A read asks this process's copy of the token first. Each process keeps the tokens it has read
  and one RESP3 connection to Redis with ``CLIENT TRACKING ON`` (Redis 6.0 and later): Redis then
  pushes an invalidation on that connection whenever a key this process read changes, expires or
  is flushed. Before answering from its copy, a read applies every invalidation that has arrived
  (a non-blocking poll of that socket), so an unchanged kit costs no round trip at all. A token
  not held (or just invalidated) is GET over that same connection, one round trip; a missing one
  (never set, expired, or Redis restarted empty) is created with ``SET NX``: a new token only
  means bodies are made again.
- Every commit that inserts, updates or deletes an ``Interview`` (or an ``InterviewQuestion``) sets
  new tokens for that interview and its requisition, right after the commit and before the caller
  gets its answer (SQLAlchemy session events, so every code path is covered: PATCH, generation,
  workflows, jobs in Celery workers). Any worker or host reading afterwards gets the new token,
  misses its cached body and reads the database: a PATCH changes the ETag at once everywhere.
  Redis writes the SETs' invalidations in the same pass of its event loop as their answers, in no
  fixed order, so the renewal then PINGs: a PING is read in a later pass, so once it is answered
  every invalidation has been written to the other processes' sockets, and their next read applies
  it before using any copy. On one host that is before the writer answers its caller; across
  hosts the message is on its way by then, and only a read reaching another host before it (a
  lost packet and its TCP retransmission, 200 ms or more) could still get the old body. The
  writer's own process drops its copies as soon as the PING is answered.
- Tokens are random (uuid4), never counters, so a Redis that restarts empty can never hand out a
  token an old cached body is stored under.

Why not redis-py's own client-side cache: it refuses servers before Redis 7.4 (this machine and
Debian 12 run 7.0), and in a connection pool it shares one cache between connections while each
applies only the invalidations on its own socket, so a thread could be answered from a copy whose
invalidation waits on another connection. One tracking connection per process, used under a lock,
has neither problem.

Failures. Any error on the tracking connection drops every copy (invalidations may have been
lost) and closes it; it is opened again, tracking on, by the next read. A read that has heard
nothing from Redis for ``heartbeat_seconds`` (default 1) first PINGs it, so even a connection
that died silently is noticed within about that long. When Redis cannot be reached, reads fall
back to the database stamp (as without this module) for ``retry_seconds``, then try Redis again;
so does a Redis without RESP3 and ``CLIENT TRACKING`` (before 6.0, or the commands denied by an ACL),
with a warning each time.
A token that could not be set after a commit is kept and set again, before this process uses any
token, as soon as Redis answers. Until then, and for good if the process dies first, other
processes may serve the old body for at most the cached body's lifetime (CACHE_DEFAULT_TIMEOUT,
300 s by default); each such failure is logged as an error. Writes made outside the application (SQL by hand) are not seen either: same bound.
"""

import logging
import os
import select
import threading
import time
import uuid

import redis
from redis.connection import parse_url
from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from models import Interview, InterviewQuestion

log = logging.getLogger(__name__)
_DOWN = object()  # _tracked's answer when Redis was found down meanwhile
_PENDING = "techscreen_representation_stamps"  # Session.info key: scopes changed in this transaction
_MAX_UNSENT = 100_000  # scopes kept for a later retry; beyond this the oldest are dropped (and logged)


class RepresentationStamps:
    """Tokens in Redis: ``token(scope, key)`` for a read, ``renew(scopes)`` after a commit.

    ``scope`` is ``"interview"`` (key: the interview id) or ``"req"`` (key: the req_id). Redis
    commands time out after ``timeout_seconds``; ``ttl_seconds`` (0: none) bounds how long an unused
    token stays in Redis. ``heartbeat_seconds`` is the longest a read trusts its copies without
    having heard from Redis (it PINGs first); at most ``max_copies`` tokens are held per process.
    """

    def __init__(self, url, *, ttl_seconds=300, retry_seconds=5.0, timeout_seconds=0.25, prefix="techscreen:stamp:",
                 heartbeat_seconds=1.0, max_copies=100_000):
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds)
        # The tracking connection: RESP3, so invalidations arrive on it as push messages, and bytes.
        # (from_url would let the URL's own options, e.g. ?protocol=2, win over these.)
        self._tracking_pool = redis.ConnectionPool(**{
            **parse_url(url), "socket_timeout": timeout_seconds, "socket_connect_timeout": timeout_seconds,
            "protocol": 3, "decode_responses": False})
        self._ttl = ttl_seconds or None
        self._retry_seconds = retry_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._max_copies = max_copies
        self._prefix = prefix
        self._down_until = 0.0
        self._unsent = {}  # Redis key -> None: tokens to renew once Redis answers (insertion-ordered)
        self._unsent_lock = threading.Lock()
        self._lock = threading.RLock()  # the tracking connection and the copies
        self._connection = None
        self._pid = None
        self._copies = {}  # Redis key -> token (str), each valid until Redis invalidates it
        self._generation = 0  # +1 for every invalidation applied (and every drop of all copies)
        self._last_heard = 0.0

    @classmethod
    def from_config(cls, config):
        """Return stamps for ``REPRESENTATION_STAMP_URL``, or None when it is unset (database stamps)."""
        url = config.get("REPRESENTATION_STAMP_URL")
        if not url:
            return None
        return cls(url, ttl_seconds=config.get("CACHE_DEFAULT_TIMEOUT", 300),
                   retry_seconds=config.get("REPRESENTATION_STAMP_RETRY_SECONDS", 5.0),
                   prefix=f"{config.get('CACHE_KEY_PREFIX', 'techscreen:')}stamp:")

    def token(self, scope, key):
        """Return the current token of ``scope``/``key`` (str), creating one if there is none; None
        when Redis cannot be reached (the caller then uses the database stamp). Never raises."""
        if self._down_until and time.monotonic() < self._down_until:
            return None
        name = f"{self._prefix}{scope}:{key}"
        try:
            if self._unsent:
                self._send(self._waiting())
            value = self._tracked(name)
        except Exception as exc:  # noqa: BLE001 (never raises: any failure means database stamps)
            self._drop_connection()
            self._failed("read", exc)
            return None
        if value is _DOWN:  # another thread found Redis down while this one waited for the lock
            return None
        self._down_until = 0.0
        return value

    def renew(self, scopes):
        """Give each (scope, key) of ``scopes`` a new token (after a commit changed it). Never raises:
        on a Redis failure the tokens are kept and sent with the next successful command."""
        names = [f"{self._prefix}{scope}:{key}" for scope, key in scopes]
        try:
            self._send([*self._waiting(), *names])
        except Exception as exc:  # noqa: BLE001 (runs after a commit: never raises, keeps the tokens to send)
            dropped = 0
            with self._unsent_lock:
                self._unsent.update(dict.fromkeys(names))
                while len(self._unsent) > _MAX_UNSENT:
                    self._unsent.pop(next(iter(self._unsent)))
                    dropped += 1
            if dropped:
                log.error("representation stamps: %d token(s) waiting for Redis were dropped (at most %d are kept)",
                          dropped, _MAX_UNSENT)
            self._failed("renew", exc)

    # --- the tracking connection and this process's copies ------------------------------------

    def _tracked(self, name):
        """The token under ``name``: this process's copy if Redis has not invalidated it, else GET
        (and SET NX if missing) over the tracking connection, kept unless an invalidation arrived
        meanwhile (it could be for the value just read)."""
        with self._lock:
            if self._down_until and time.monotonic() < self._down_until:
                return _DOWN
            connection = self._tracking_connection()
            self._apply_invalidations(connection)
            value = self._copies.get(name)
            if value is not None:
                return value
            generation = self._generation
            value = self._command(connection, "GET", name)
            if value is None:
                self._command(connection, "SET", name, uuid.uuid4().hex, "NX", *(("EX", self._ttl) if self._ttl else ()))
                value = self._command(connection, "GET", name)
            if value is None:
                return None
            value = value.decode()
            self._apply_invalidations(connection)
            if generation == self._generation:
                if len(self._copies) >= self._max_copies:
                    self._forget_copies()
                self._copies[name] = value
            return value

    def _tracking_connection(self):
        if self._connection is None or self._pid != os.getpid():  # none yet, or inherited by a fork
            self._copies.clear()
            self._generation += 1
            self._connection = self._tracking_pool.make_connection()
            self._connection.register_connect_callback(self._track)
            self._pid = os.getpid()
        return self._connection

    def _track(self, connection):
        """On every (re)connect: tracking on; copies kept from before may have missed invalidations."""
        if str(connection.get_protocol()) != "3":
            raise redis.ConnectionError("the tracking connection must speak RESP3")
        connection.send_command("CLIENT", "TRACKING", "ON")
        connection.read_response()
        # redis-py's hook for RESP3 invalidation pushes (its own client-side cache uses the same one).
        connection._parser.set_invalidation_push_handler(self._invalidated)
        self._forget_copies()
        self._last_heard = time.monotonic()

    def _invalidated(self, message):
        """A push ``[b"invalidate", [key, ...] or None]`` (None: the database was flushed)."""
        self._generation += 1
        try:
            keys = message[1]
            if keys is None:
                self._copies.clear()
            else:
                for key in keys:
                    self._copies.pop(key.decode() if isinstance(key, bytes) else key, None)
        except Exception:  # redis-py would log and swallow it: trust no copy rather than a stale one
            self._copies.clear()
            raise

    def _apply_invalidations(self, connection):
        if time.monotonic() - self._last_heard >= self._heartbeat_seconds:
            self._command(connection, "PING")  # pushes queued before the answer are applied on the way
        while _pending(connection):
            connection.read_response(push_request=True)

    def _command(self, connection, *args):
        connection.send_command(*args)
        value = connection.read_response()
        self._last_heard = time.monotonic()
        return value

    def _forget_copies(self):
        with self._lock:
            self._copies.clear()
            self._generation += 1

    def _drop_connection(self):
        with self._lock:
            self._forget_copies()
            connection, self._connection = self._connection, None
            if connection is not None:
                try:
                    connection.disconnect()
                except Exception:  # noqa: BLE001 (it is being thrown away)
                    pass

    # --- renewals ------------------------------------------------------------------------------

    def _waiting(self):
        with self._unsent_lock:
            return list(self._unsent)

    def _send(self, names):
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.set(name, uuid.uuid4().hex, ex=self._ttl)
        pipe.execute()
        # Redis may answer the SETs before it writes their invalidations to the tracking
        # connections (both leave in the same pass of its event loop, in no fixed order). A PING
        # is read in a later pass: once it is answered, every invalidation has been written.
        self._redis.ping()
        with self._lock:  # this process's own reads see the new tokens at once
            for name in names:
                self._copies.pop(name, None)
            self._generation += 1
        with self._unsent_lock:
            for name in names:
                self._unsent.pop(name, None)

    def _failed(self, action, exc):
        self._down_until = time.monotonic() + self._retry_seconds
        log.log(logging.ERROR if action == "renew" else logging.WARNING,
                "representation stamps: Redis %s failed (%s); database stamps for %.0f s%s", action,
                type(exc).__name__, self._retry_seconds,
                f", {len(self._unsent)} token(s) to renew when Redis answers" if self._unsent else "")


def _pending(connection):
    """Whether bytes wait on ``connection``: in redis-py's read buffer, or in the socket (one poll(2)).

    Under load every system call that releases the GIL hands it to another thread and must win it
    back; redis-py's can_read() makes three (two settimeout ioctls and a recv) on each read. Falls
    back to can_read() if redis-py's internals are not as expected."""
    sock = getattr(connection, "_sock", None)
    buffer = getattr(getattr(connection, "_parser", None), "_buffer", None)
    if sock is None or not hasattr(buffer, "unread_bytes"):
        return connection.can_read(timeout=0)
    if buffer.unread_bytes():
        return True
    poller = select.poll()  # poll(2), not select(2): a descriptor may be 1024 or more
    poller.register(sock, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _changed_scopes(session):
    """The (scope, key) pairs whose representation this flush changed."""
    scopes = set()
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Interview):
            scopes.update({("interview", instance.id), ("req", instance.req_id)})
            committed = inspect(instance).attrs.req_id.history.deleted  # a req_id changed: the old list too
            scopes.update(("req", old) for old in committed or ())
        elif isinstance(instance, InterviewQuestion):
            scopes.add(("interview", instance.interview_id))
            parent = inspect(instance).dict.get("interview")
            if parent is not None:
                scopes.add(("req", parent.req_id))
    return scopes


@event.listens_for(Session, "after_flush")
def _remember_changes(session, flush_context):
    scopes = _changed_scopes(session)
    if scopes:
        session.info.setdefault(_PENDING, set()).update(scopes)


@event.listens_for(Session, "after_commit")
def _renew_after_commit(session):
    scopes = session.info.pop(_PENDING, None)
    if scopes and has_app_context():
        stamps = current_app.extensions.get("representation_stamps")
        if stamps is not None:
            stamps.renew(sorted(scopes, key=repr))


@event.listens_for(Session, "after_rollback")
def _forget_changes(session):
    session.info.pop(_PENDING, None)
