"""Usage audit for operations: totals of generation_logs grouped in SQL, the raw rows (cursor
pages) and one row with its HTTP attempts (generation_calls).

Time windows are UTC dates: ``date_from`` includes its whole day from 00:00:00 UTC,
``date_to`` includes its whole day up to 23:59:59.999999 UTC (the query is
``started_at >= date_from 00:00 AND started_at < (date_to + 1 day) 00:00``). Rows are placed
by ``started_at``, when the operation began.

Every sum is computed by the database (one GROUP BY statement); the report's totals are the
sums of those groups, so they always equal the groups added up. Costs are exact: summed as
whole micro-dollars (ROUND(cost_usd * 1,000,000)), so SQLite's floating-point storage of
NUMERIC cannot drift, and returned as Decimal with 6 places.
"""

import base64
import binascii
import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import BigInteger, and_, case, func, or_, type_coerce

from models import GenerationLog, db
from services.errors import InvalidInput, NotFound
from services.pricing import TOKEN_KINDS

GROUP_KEYS = ("day", "operation_type", "user_id", "req_id", "model", "status")
MAX_GROUP_KEYS = 2
DEFAULT_GROUP_BY = ("day",)
STATUSES = ("in_progress", "success", "failed", "refused")
# Known operation types (the filter accepts any string: a new operation needs no change here).
OPERATION_TYPES = ("jd_enhancement", "interview_generation", "candidate_scoring")
# Per group and overall, in this order (also the CSV columns after the group keys).
TOTAL_FIELDS = (
    "operations",
    "calls",
    "failures",
    *TOKEN_KINDS,
    "tokens_used",
    "cost_usd",
    "cache_hits",
    "tokens_avoided",
)
FILTER_NAMES = ("from", "to", "user_id", "req_id", "operation_type", "model", "status")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

_MICRO = Decimal(1_000_000)
_SIX_PLACES = Decimal("0.000001")

LOG_FIELDS = (
    "id",
    "operation_type",
    "req_id",
    "user_id",
    "status",
    "error_kind",
    "error_message",
    "provider",
    "model",
    "effort",
    "prompt_version",
    "claude_calls",
    *TOKEN_KINDS,
    "tokens_used",
    "cost_usd",
    "unpriced_calls",
    "latency_ms",
    "cache_hits",
    "cache_misses",
    "tokens_avoided",
    "job_description_id",
    "interview_id",
    "evaluation_id",
    "job_id",
    "request_id",
    "started_at",
    "completed_at",
    "fairness_findings",
)
CALL_FIELDS = (
    "id",
    "purpose",
    "attempt",
    "outcome",
    "status_code",
    "anthropic_request_id",
    "model",
    "effort",
    *TOKEN_KINDS,
    "cost_usd",
    "latency_ms",
    "started_at",
)


# --- Arguments ---------------------------------------------------------------------------------

def parse_group_by(values):
    """Return the group keys (a tuple of 1-2 of GROUP_KEYS) from strings such as ["day,model"] or
    ["day", "model"]; None or nothing means DEFAULT_GROUP_BY.

    Raises ValueError with a message for the client (unknown key, repeated key, more than 2).
    """
    if values is None:
        return DEFAULT_GROUP_BY
    if isinstance(values, str):
        values = [values]
    keys = [part.strip() for value in values for part in str(value).split(",")]
    if not keys or any(not key for key in keys):
        raise ValueError(f"give one or two of: {', '.join(GROUP_KEYS)} (comma-separated or repeated)")
    unknown = [key for key in keys if key not in GROUP_KEYS]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; use one or two of: {', '.join(GROUP_KEYS)}")
    if len(set(keys)) != len(keys):
        raise ValueError("a key is repeated")
    if len(keys) > MAX_GROUP_KEYS:
        raise ValueError(f"at most {MAX_GROUP_KEYS} keys, got {len(keys)}")
    return tuple(keys)


def _check_window(date_from, date_to):
    if date_from is not None and date_to is not None and date_to < date_from:
        raise InvalidInput("to", f"must be on or after from ({date_from.isoformat()})")


def _filtered(statement, *, date_from, date_to, user_id, req_id, operation_type, model, status):
    """Add the WHERE conditions of the filters (None = no condition) to ``statement``."""
    _check_window(date_from, date_to)
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}")
    if date_from is not None:
        statement = statement.where(GenerationLog.started_at >= _start_of(date_from))
    if date_to is not None and date_to < date.max:
        statement = statement.where(GenerationLog.started_at < _start_of(date_to + timedelta(days=1)))
    for column, value in (
        (GenerationLog.user_id, user_id),
        (GenerationLog.req_id, req_id),
        (GenerationLog.operation_type, operation_type),
        (GenerationLog.model, model),
        (GenerationLog.status, status),
    ):
        if value is not None:
            statement = statement.where(column == value)
    return statement


def _start_of(day):
    return datetime.combine(day, time.min, tzinfo=UTC)


def _filters_echo(*, date_from, date_to, user_id, req_id, operation_type, model, status):
    return {
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "user_id": user_id,
        "req_id": req_id,
        "operation_type": operation_type,
        "model": model,
        "status": status,
    }


# --- Report ------------------------------------------------------------------------------------

def _key_column(key):
    if key == "day":
        # The UTC date of started_at (stored naive UTC): DATE() on MariaDB/MySQL, date() on SQLite.
        return func.date(GenerationLog.started_at)
    return getattr(GenerationLog, key)


def _sum(column):
    return func.coalesce(func.sum(column), 0)


def _total_columns():
    return [
        func.count(GenerationLog.id).label("operations"),
        _sum(GenerationLog.claude_calls).label("calls"),
        _sum(case((GenerationLog.status == "failed", 1), else_=0)).label("failures"),
        *(_sum(getattr(GenerationLog, kind)).label(kind) for kind in TOKEN_KINDS),
        _sum(GenerationLog.tokens_used).label("tokens_used"),
        # Whole micro-dollars: exact on MariaDB (DECIMAL) and on SQLite (NUMERIC stored as REAL).
        type_coerce(_sum(func.round(GenerationLog.cost_usd * 1_000_000)), BigInteger).label("cost_micro_usd"),
        _sum(GenerationLog.cache_hits).label("cache_hits"),
        _sum(GenerationLog.tokens_avoided).label("tokens_avoided"),
    ]


def _ignore_group_key_indexes(keys):
    """MySQL/MariaDB hint: never read an index led by a group key (user_id, req_id) just to get
    the groups in order. When the time window is a large share of the table, the optimizer would
    otherwise walk the whole user_id index and fetch every row by primary key: 21 s instead of
    about 1 s on 1,000,000 rows for 90 days grouped by user_id (bench/bench_usage_report.py). The
    indexes stay usable for the WHERE filters. Index names come from the model, which the
    migrations match (tests/test_migrations.py)."""
    columns = {key for key in keys if key != "day"}
    names = sorted(
        index.name for index in GenerationLog.__table__.indexes if next(iter(index.columns)).name in columns
    )
    if not names:
        return None
    listed = ", ".join(names)
    return f"IGNORE INDEX FOR GROUP BY ({listed}) IGNORE INDEX FOR ORDER BY ({listed})"


def _day_string(value):
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m-%d")
    return str(value)[:10]


def _totals_of(row):
    totals = {}
    for field in TOTAL_FIELDS:
        if field == "cost_usd":
            totals[field] = (Decimal(round(row["cost_micro_usd"] or 0)) / _MICRO).quantize(_SIX_PLACES)
        else:
            totals[field] = int(row[field] or 0)
    return totals


def empty_totals():
    """Totals of no operations (zeros; cost_usd Decimal 0.000000)."""
    return {field: Decimal("0.000000") if field == "cost_usd" else 0 for field in TOTAL_FIELDS}


def usage_report(
    *,
    date_from=None,
    date_to=None,
    user_id=None,
    req_id=None,
    operation_type=None,
    model=None,
    status=None,
    group_by=DEFAULT_GROUP_BY,
):
    """Aggregate generation_logs per group, in one GROUP BY statement.

    date_from / date_to: datetime.date (UTC days, both inclusive) or None. The other filters are
    exact matches (None = any). group_by: one or two of GROUP_KEYS (a sequence, or a string
    "day,model"); "day" is the UTC date of started_at as "YYYY-MM-DD".

    Returns {"filters": {from, to, user_id, req_id, operation_type, model, status},
    "group_by": [keys], "totals": {TOTAL_FIELDS}, "groups": [{<key>: value, ..., TOTAL_FIELDS}]}
    with groups ordered by their keys (null first). Counts are ints; cost_usd is a Decimal with
    6 places (USD at the prices recorded with each call). ``totals`` cover every selected row
    and equal the sum of the groups.

    Raises InvalidInput (group_by; to before from; status).
    """
    try:
        keys = parse_group_by(group_by)
    except ValueError as exc:
        raise InvalidInput("group_by", str(exc)) from None
    filters = {
        "date_from": date_from, "date_to": date_to, "user_id": user_id, "req_id": req_id,
        "operation_type": operation_type, "model": model, "status": status,
    }
    key_columns = [_key_column(key).label(f"k_{key}") for key in keys]
    statement = _filtered(db.select(*key_columns, *_total_columns()).select_from(GenerationLog), **filters)
    plain_keys = [_key_column(key) for key in keys]
    statement = statement.group_by(*plain_keys).order_by(*plain_keys)
    hint = _ignore_group_key_indexes(keys)
    if hint:
        for dialect_name in ("mysql", "mariadb"):
            statement = statement.with_hint(GenerationLog, hint, dialect_name=dialect_name)

    groups = []
    totals = empty_totals()
    for row in db.session.execute(statement).mappings():
        group = {}
        for key in keys:
            value = row[f"k_{key}"]
            group[key] = _day_string(value) if key == "day" else value
        sums = _totals_of(row)
        for field, value in sums.items():
            totals[field] += value
        group.update(sums)
        groups.append(group)
    db.session.close()
    return {"filters": _filters_echo(**filters), "group_by": list(keys), "totals": totals, "groups": groups}


def report_csv(report):
    """The report's groups as CSV text: a header of the group keys then TOTAL_FIELDS, one line per
    group. Numbers as in JSON (cost_usd with 6 decimals); a null key is an empty cell. Text
    cells that a spreadsheet would run as a formula (starting with = + - @, tab or CR) get a
    leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*report["group_by"], *TOTAL_FIELDS])
    for group in report["groups"]:
        writer.writerow(
            [_csv_text(group[key]) for key in report["group_by"]]
            + [format_cost(group[field]) if field == "cost_usd" else group[field] for field in TOTAL_FIELDS]
        )
    return out.getvalue()


def format_cost(value):
    """A Decimal USD amount as a string with exactly 6 decimals ("0.012150")."""
    return f"{Decimal(value).quantize(_SIX_PLACES):f}"


def _csv_text(value):
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- Raw rows ----------------------------------------------------------------------------------

def list_generation_logs(
    *,
    date_from=None,
    date_to=None,
    user_id=None,
    req_id=None,
    operation_type=None,
    model=None,
    status=None,
    cursor=None,
    limit=DEFAULT_PAGE_SIZE,
):
    """Return (rows, next_cursor): one page of generation_logs, newest first (started_at desc,
    id desc), with the report's filters.

    cursor: None for the first page, else a next_cursor returned before (it encodes the last
    row's started_at and id: pages neither repeat nor skip rows, even while rows are added).
    rows: dicts of LOG_FIELDS (cost_usd Decimal, times aware UTC). next_cursor: str or None on
    the last page. Raises InvalidInput (cursor, limit, to, status).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
    statement = _filtered(
        db.select(GenerationLog),
        date_from=date_from, date_to=date_to, user_id=user_id, req_id=req_id,
        operation_type=operation_type, model=model, status=status,
    )
    if cursor is not None:
        started_at, last_id = decode_cursor(cursor)
        statement = statement.where(
            or_(
                GenerationLog.started_at < started_at,
                and_(GenerationLog.started_at == started_at, GenerationLog.id < last_id),
            )
        )
    statement = statement.order_by(GenerationLog.started_at.desc(), GenerationLog.id.desc()).limit(limit + 1)
    logs = db.session.scalars(statement).all()
    page = [_log_dict(log) for log in logs[:limit]]
    db.session.close()
    next_cursor = encode_cursor(page[-1]["started_at"], page[-1]["id"]) if len(logs) > limit else None
    return page, next_cursor


def get_generation_log(log_id):
    """Return one generation_logs row (LOG_FIELDS) with "calls": its generation_calls rows
    (CALL_FIELDS, oldest first). Raises NotFound."""
    log = db.session.get(GenerationLog, log_id)
    if log is None:
        raise NotFound(f"Generation log {log_id} not found")
    result = _log_dict(log)
    result["calls"] = [{field: getattr(call, field) for field in CALL_FIELDS} for call in log.calls]
    db.session.close()
    return result


def _log_dict(log):
    return {field: getattr(log, field) for field in LOG_FIELDS}


def encode_cursor(started_at, log_id):
    """An opaque page cursor for (started_at, id)."""
    stamp = started_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return base64.urlsafe_b64encode(f"{stamp}|{log_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """Return (aware UTC started_at, id) from a cursor; raises InvalidInput (cursor)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        stamp, log_id = raw.split("|")
        started_at = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
        log_id = int(log_id)
        if not 0 < log_id < 2**63:
            raise ValueError(log_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise InvalidInput("cursor", "is not a next_cursor returned by this endpoint") from None
    return started_at, log_id
