"""Request ids and logging.

Every request gets an id: the caller's X-Request-ID when it is a sane token (at most 128
characters of letters, digits, '.', '_', '-', ':'), otherwise a new one. It is returned in the
X-Request-ID response header, put on every log line, and stored on generation_logs rows. It is
kept in a contextvar, not in Flask's request, so services and background work can read it.

LOG_FORMAT=json writes one JSON object per line: time (UTC ISO 8601), level, logger, message,
request_id, and when known method, route, status, latency_ms, user and anthropic_request_id.
LOG_FORMAT=text (default) writes the same fields as readable text. Log lines never carry API
keys, Authorization headers, JD text or candidate answers: only ids, counts and timings.
"""

import contextvars
import json
import logging
import re
import random
import sys
import time
from datetime import datetime, timezone

from flask import g, request

current_request_id = contextvars.ContextVar("techscreen_request_id", default=None)
# The asynchronous job being run (services/jobs.py), stored on its generation_logs rows.
current_job_id = contextvars.ContextVar("techscreen_job_id", default=None)
# The attempt number that claimed it: only that attempt may store the job's results.
current_job_attempt = contextvars.ContextVar("techscreen_job_attempt", default=None)
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_EXTRA_FIELDS = ("method", "route", "status", "latency_ms", "user", "anthropic_request_id", "operation", "outcome")
request_log = logging.getLogger("techscreen.request")


class RequestIdFilter(logging.Filter):
    """Add request_id to every record (None outside a request)."""

    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for field in _EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_second = (None, "")  # (whole second, its "YYYY-MM-DDTHH:MM:SS" text), replaced whole, so any thread reads a matching pair


def _utc_stamp(created):
    """``created`` (a Unix time) as UTC ISO 8601 with microseconds and Z, the date part made once per second."""
    global _second
    whole = int(created)
    micros = round((created - whole) * 1e6)  # as datetime.fromtimestamp rounds (half to even)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    known = _second
    if known[0] != whole:
        known = _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{known[1]}.{micros:06d}Z"


class TextFormatter(logging.Formatter):
    """Readable lines with the same fields."""

    def format(self, record):
        fields = record.__dict__
        extras = " ".join(f"{f}={fields[f]}" for f in _EXTRA_FIELDS if fields.get(f) is not None)
        line = f"{_utc_stamp(record.created)} {record.levelname} [{fields.get('request_id') or '-'}] {record.name}: {record.getMessage()}"
        if extras:
            line += f" ({extras})"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(config):
    """Install one handler on the root logger with the configured format and level (idempotent)."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_techscreen", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler._techscreen = True
        handler.addFilter(RequestIdFilter())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if config.get("LOG_FORMAT") == "json" else TextFormatter())
    root.setLevel(config.get("LOG_LEVEL", "INFO"))


def register_request_ids(app):
    """Give each request an id, return it as X-Request-ID, and log one line per request."""

    @app.before_request
    def _assign_request_id():
        offered = request.environ.get("HTTP_X_REQUEST_ID", "")
        # 128 random bits as 32 hex digits, like uuid4().hex: an id, not a secret, so without the
        # system call os.urandom costs on every request.
        request_id = offered if _VALID_ID.match(offered) else f"{random.getrandbits(128):032x}"
        state = g._get_current_object()
        state.request_id = request_id
        state._request_started = time.perf_counter()
        state._request_id_token = current_request_id.set(request_id)

    @app.after_request
    def _return_request_id(response):
        state = g._get_current_object()  # one proxy lookup, not one per attribute
        request_id = state.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
            if request_log.isEnabledFor(logging.INFO):
                started, principal = state.get("_request_started"), state.get("principal")
                method, rule, status = request.method, request.url_rule, response.status_code
                route = rule.rule if rule is not None else None
                request_log.info(
                    "%s %s -> %s", method, route or request.path, status,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "latency_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
                        "user": principal.user_id if principal else None,
                    },
                )
        return response

    @app.teardown_request
    def _forget_request_id(exc):
        token = g.pop("_request_id_token", None)
        if token is not None:
            current_request_id.reset(token)
