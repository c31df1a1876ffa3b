"""Token budgets: refuse an operation before Claude is called when it would exceed a budget.

Budgets are in tokens (the four Anthropic kinds summed, as tokens_used), per UTC day and per
UTC month, globally (TOKEN_BUDGET_DAILY / _MONTHLY) and per API key (the key's own budget, or
API_KEY_TOKEN_BUDGET_DAILY / _MONTHLY). Spent = tokens_used of the generation_logs rows started
in the period (for a key: its rows). An operation reserves BUDGET_RESERVE_TOKENS[operation]
tokens; it is refused when spent + reserve > budget. Operations already running count only
once they finish, so concurrent requests can overshoot by what they spend. A refusal writes a
generation_logs row with status "refused" (0 tokens) and raises BudgetExceeded (429).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import func
from sqlalchemy.orm import Session

from models import ApiKey, GenerationLog, db, utcnow
from observability import current_request_id
from services.errors import BudgetExceeded


@dataclass(frozen=True)
class BudgetPolicy:
    """Budget settings from config: limits in tokens (None = unlimited) and reserves per operation."""

    daily: int | None
    monthly: int | None
    key_daily: int | None
    key_monthly: int | None
    reserves: dict

    @classmethod
    def from_config(cls, config):
        return cls(
            daily=config.get("TOKEN_BUDGET_DAILY"),
            monthly=config.get("TOKEN_BUDGET_MONTHLY"),
            key_daily=config.get("API_KEY_TOKEN_BUDGET_DAILY"),
            key_monthly=config.get("API_KEY_TOKEN_BUDGET_MONTHLY"),
            reserves=dict(config.get("BUDGET_RESERVE_TOKENS") or {}),
        )


def period_bounds(period, now):
    """Return (start, reset_at) of the UTC day or month containing ``now``."""
    day = now.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        return day, day + timedelta(days=1)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return month, next_month


def check_budgets(policy, operation_types, *, user_id=None, api_key_id=None, req_id=None):
    """Raise BudgetExceeded (429) if any budget would be exceeded by these operations.

    operation_types: the operations the request will run (e.g. both steps of a workflow).
    Returns the caller's ApiKey row (None without api_key_id). The read stays in the caller's
    session, which is left open: while the caller holds the returned row, reading the key again
    in this session (a job's webhook settings) costs no query (the session's identity map holds
    rows only as long as someone references them). The rule for callers: close the session
    before any long wait, or reach services/audit.audited_operation, which closes it before every
    Claude call (services/job_operations.admit closes it itself).
    """
    reserve = sum(policy.reserves.get(op, 0) for op in operation_types)
    key_daily, key_monthly = policy.key_daily, policy.key_monthly
    key = None
    if api_key_id is not None:
        key = db.session.get(ApiKey, api_key_id)
        if key is not None:
            key_daily = key.daily_token_budget if key.daily_token_budget is not None else key_daily
            key_monthly = key.monthly_token_budget if key.monthly_token_budget is not None else key_monthly
    checks = [("global", "daily", policy.daily, None), ("global", "monthly", policy.monthly, None)]
    if user_id is not None and api_key_id is not None:
        checks += [("api_key", "daily", key_daily, user_id), ("api_key", "monthly", key_monthly, user_id)]
    now = utcnow()
    for scope, period, limit, owner in checks:
        if limit is None:
            continue
        start, reset_at = period_bounds(period, now)
        query = db.select(func.coalesce(func.sum(GenerationLog.tokens_used), 0)).where(GenerationLog.started_at >= start)
        if owner is not None:
            query = query.where(GenerationLog.user_id == owner)
        spent = int(db.session.scalar(query))
        if spent + reserve > limit:
            _refuse(scope, period, limit, spent, reserve, reset_at, now, operation_types, user_id, req_id)
    return key


def _refuse(scope, period, limit, spent, reserve, reset_at, now, operation_types, user_id, req_id):
    who = "this API key's" if scope == "api_key" else "the service's"
    message = (
        f"Refused: {who} {period} token budget would be exceeded ({spent:,} of {limit:,} tokens spent; "
        f"this request reserves {reserve:,}). It resets at {reset_at.isoformat()}."
    )
    db.session.close()
    with Session(db.engine) as session:
        session.add(
            GenerationLog(
                operation_type=operation_types[0],
                request_id=current_request_id.get(),
                req_id=req_id,
                user_id=user_id,
                status="refused",
                error_kind=BudgetExceeded.kind,
                error_message=message,
                started_at=now,
                completed_at=now,
                latency_ms=0,
            )
        )
        session.commit()
    raise BudgetExceeded(
        message,
        req_id=req_id,
        extra={"budget": {"scope": scope, "period": period, "limit": limit, "spent": spent, "reserve": reserve, "reset_at": _iso(reset_at)}},
        headers={"Retry-After": str(max(1, int((reset_at - now).total_seconds())))},
    )


def _iso(moment: datetime):
    return moment.astimezone(timezone.utc).isoformat()
