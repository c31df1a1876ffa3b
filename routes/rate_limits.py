"""Rate limits per caller, by route class, counted with the ``limits`` library.

Classes (each a bucket shared by its routes, per caller): "claude" for POSTs that call Claude
(RATE_LIMIT_CLAUDE, default 30/minute), "write" for other writes (RATE_LIMIT_WRITE, 120/minute),
"read" for reads (RATE_LIMIT_READ, 1200/minute). A setting may join several limits with ";"
("30/minute;500/hour"), in the notation of ``limits.parse_many``. Each counts in a fixed window
(``limits.strategies.FixedWindowRateLimiter``).

The caller is the authenticated principal (API key id, or X-User-ID in trusted-headers mode),
however its credential is spelled; requests without valid credentials count by client address,
so made-up keys share one bucket. Only the decorated views count: /health and /metrics do not.

Every counted answer carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (Unix seconds) of the caller's most used limit. Over a limit: 429 in the
error envelope, "Rate limit exceeded: 30 per 1 minute ...", with ``Retry-After`` (seconds to the
end of the window) as well.

Counts live in memory (per process) unless RATELIMIT_STORAGE_URI names shared storage, e.g.
redis://127.0.0.1:6379?socket_timeout=0.5&socket_connect_timeout=0.5 (redis-py's URL options; without
them a Redis that hangs holds requests), so every worker and host shares one count. When that storage
fails and RATELIMIT_SWALLOW_ERRORS is on (the default), requests are counted in this process's memory
instead (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) or not at all, and after RATELIMIT_STORAGE_RETRY_SECONDS
(5) one request tries the shared storage again while the others keep counting in memory; a request is
never refused because the counter is down. With RATELIMIT_SWALLOW_ERRORS off, a storage failure
answers 503. A malformed RATE_LIMIT_* setting stops the app at startup (ConfigError).

Why not Flask-Limiter (used until 2026-12-07): its per-request hooks resolved and filtered
limits on every request, limited or not, which cost more CPU than a bare Flask request
(bench/README.md, "Read speed"). The counting, the storage and the notation are the same
``limits`` library Flask-Limiter is built on, with its key layout (prefix, caller, scope) and its
order (several limits checked shortest window first), so counts in Redis keep their meaning.
"""

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass

from flask import current_app, g, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests

from config import ConfigError
from routes.auth import request_principal

log = logging.getLogger(__name__)
SETTINGS = ("RATE_LIMIT_CLAUDE", "RATE_LIMIT_WRITE", "RATE_LIMIT_READ")


def caller_key():
    """Return the rate-limit bucket owner: the principal's user id, else the client address."""
    principal = request_principal()
    if principal is not None:
        return "caller:" + principal.user_id
    return "addr:" + (request.remote_addr or "unknown")


@functools.lru_cache(maxsize=64)
def parse_limits(setting):
    """Return the RateLimitItems of a setting such as "30/minute;500/hour", shortest window first
    (ValueError if malformed)."""
    return tuple(sorted(parse_many(setting), key=lambda item: item.get_expiry()))


@dataclass(frozen=True)
class Counted:
    """What one request's count left: the limit reported in the X-RateLimit-* headers (the one with
    the fewest requests left), the requests left in its window and when it resets (Unix seconds)."""

    item: RateLimitItem
    remaining: int
    reset_at: float


class RateLimits:
    """The app's rate-limit counter (one per app, in ``app.extensions["rate_limits"]``)."""

    def __init__(self, config):
        self.enabled = bool(config.get("RATELIMIT_ENABLED", True))
        self.headers_enabled = bool(config.get("RATELIMIT_HEADERS_ENABLED", True))
        self.prefix = config.get("RATELIMIT_KEY_PREFIX") or "techscreen"
        self.swallow_errors = bool(config.get("RATELIMIT_SWALLOW_ERRORS", True))
        uri = config.get("RATELIMIT_STORAGE_URI") or "memory://"
        self.shared = uri != "memory://"
        storage = storage_from_string(uri) if self.shared else MemoryStorage()
        self.limiter = FixedWindowRateLimiter(storage)
        self.fallback = None
        if self.shared and config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True):
            self.fallback = FixedWindowRateLimiter(MemoryStorage())
        self.retry_seconds = float(config.get("RATELIMIT_STORAGE_RETRY_SECONDS", 5))
        self._storage_down_until = None  # monotonic time after which one request tries the storage again
        self._lock = threading.Lock()
        for name in SETTINGS:
            try:
                parse_limits(config[name])
            except (KeyError, ValueError) as exc:
                raise ConfigError(f"{name}: not a rate limit such as 30/minute or 30/minute;500/hour ({exc})") from None

    def hit(self, scope, setting, caller):
        """Count one request of ``caller`` against every limit of ``setting`` in the bucket ``scope``.

        Returns (allowed, Counted or None). None when nothing could count (the storage is down
        and there is no fallback). Raises ServiceUnavailable (503, Retry-After 5) when the shared
        storage fails and RATELIMIT_SWALLOW_ERRORS is off.
        """
        items = parse_limits(setting)
        limiter = self.limiter if self._may_use_storage() else self.fallback
        if limiter is None:
            return True, None
        try:
            counted = self._hit(limiter, items, scope, caller)
        except Exception as exc:
            if limiter is not self.limiter:
                raise
            self._storage_failed(exc)
            return self._hit(self.fallback, items, scope, caller) if self.fallback else (True, None)
        if limiter is self.limiter and self._storage_down_until is not None:
            with self._lock:
                self._storage_down_until = None
            log.warning("Rate-limit storage answers again; counting there")
        return counted

    def _storage_failed(self, exc):
        """Note a failure of the shared storage: 503 when errors are not swallowed, else count elsewhere
        (or nothing) until retry_seconds have passed."""
        if not self.swallow_errors:
            log.error("Rate-limit storage failed (%s); refusing with 503", type(exc).__name__)
            raise ServiceUnavailable(description="The rate-limit counter is unavailable; try again shortly",
                                     retry_after=5) from None
        with self._lock:
            if self._storage_down_until is None:
                log.warning("Rate-limit storage failed (%s); counting %s, trying it again every %g s",
                            type(exc).__name__, "in memory" if self.fallback else "nothing", self.retry_seconds)
            self._storage_down_until = time.monotonic() + self.retry_seconds

    def _may_use_storage(self):
        """True when this request may count in the shared storage: it is up, or it has been down for
        retry_seconds and this request is the one to try it (the others go on counting in memory)."""
        if self._storage_down_until is None:
            return True
        with self._lock:
            if self._storage_down_until is None:
                return True
            if time.monotonic() < self._storage_down_until:
                return False
            self._storage_down_until = time.monotonic() + self.retry_seconds  # this request tries; the others wait
            return True

    def _hit(self, limiter, items, scope, caller):
        """Count one hit in each of ``items``' fixed windows: two storage calls per limit (with Redis,
        two round trips), where ``limiter.hit`` then ``limiter.get_window_stats`` make three.

        The arithmetic is limits' FixedWindowRateLimiter's own (``hit`` is ``storage.incr(key,
        expiry) <= amount``; ``get_window_stats`` is ``amount - storage.get(key)`` and
        ``storage.get_expiry(key)``), with the count incr returns standing in for the later get:
        the same under serial requests, and each concurrent request sees its own count."""
        storage, tightest = limiter.storage, None
        for item in items:
            key = item.key_for(self.prefix, caller, scope)
            count = storage.incr(key, item.get_expiry())
            reset_at = storage.get_expiry(key)
            if count > item.amount:
                return False, Counted(item, 0, reset_at)
            remaining = item.amount - count
            if tightest is None or remaining < tightest.remaining:
                tightest = Counted(item, remaining, reset_at)
        return True, tightest


def init_app(app):
    """Make the app's counter from its config and send the X-RateLimit-* headers of counted requests."""
    app.extensions["rate_limits"] = RateLimits(app.config)
    app.after_request(_limit_headers)


def route_class(scope, setting_name):
    """Decorate a view (outside @require_roles) to count it in the caller's ``scope`` bucket, whose
    limits are the config setting ``setting_name``; 429 (TooManyRequests) once one is used up."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            app = current_app._get_current_object()
            limits = app.extensions["rate_limits"]
            if limits.enabled:
                allowed, counted = limits.hit(scope, app.config[setting_name], caller_key())
                if counted is not None:
                    g.rate_limit = counted
                if not allowed:
                    raise TooManyRequests(description=str(counted.item))
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _limit_headers(response):
    counted = g.get("rate_limit")
    if counted is None or not current_app.extensions["rate_limits"].headers_enabled:
        return response
    response.headers["X-RateLimit-Limit"] = str(counted.item.amount)
    response.headers["X-RateLimit-Remaining"] = str(counted.remaining)
    response.headers["X-RateLimit-Reset"] = str(math.ceil(counted.reset_at))
    if response.status_code == 429:  # app._tidy_retry_after, which runs last, lets our own value win
        response.headers["Retry-After"] = str(max(1, math.ceil(counted.reset_at - time.time())))
    return response


claude_limit = route_class("claude", "RATE_LIMIT_CLAUDE")
write_limit = route_class("write", "RATE_LIMIT_WRITE")
read_limit = route_class("read", "RATE_LIMIT_READ")
