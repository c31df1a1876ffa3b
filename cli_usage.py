"""``flask --app app usage report``: the usage audit report (GET /api/admin/usage) in a terminal.

    flask --app app usage report --from 2026-11-01 --to 2026-11-30 --group-by day,model

Same function and numbers as the endpoint (services/usage.py): ``--from`` / ``--to`` are UTC days,
both inclusive; ``--csv`` prints the endpoint's CSV instead of the table.
"""

import click
from flask.cli import AppGroup

from services.errors import ServiceError
from services.usage import (
    GROUP_KEYS,
    STATUSES,
    TOTAL_FIELDS,
    format_cost,
    report_csv,
    usage_report,
)

# Terminal headers of TOTAL_FIELDS (the CSV and JSON use the full names).
SHORT_HEADERS = {
    "operations": "ops",
    "calls": "calls",
    "failures": "failed",
    "input_tokens": "input",
    "output_tokens": "output",
    "cache_creation_input_tokens": "cache_write",
    "cache_read_input_tokens": "cache_read",
    "tokens_used": "tokens",
    "cost_usd": "cost_usd",
    "cache_hits": "q_cache_hits",
    "tokens_avoided": "tokens_avoided",
}
_DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.group("usage", cls=AppGroup)
def usage():
    """Usage audit: tokens and cost of Claude operations (generation_logs)."""


@usage.command("report")
@click.option("--from", "date_from", type=_DAY, help="First UTC day included (YYYY-MM-DD), from 00:00:00 UTC.")
@click.option("--to", "date_to", type=_DAY, help="Last UTC day included (YYYY-MM-DD), through 23:59:59.999999 UTC.")
@click.option("--group-by", "group_by", multiple=True,
              help=f"One or two of {', '.join(GROUP_KEYS)}, comma-separated or repeated (default day).")
@click.option("--user-id", help="Only this user id (e.g. apikey:12).")
@click.option("--req-id", help="Only this requisition.")
@click.option("--operation-type", help="Only this operation type (jd_enhancement, interview_generation, candidate_scoring).")
@click.option("--model", help="Only this model id.")
@click.option("--status", type=click.Choice(STATUSES), help="Only operations with this status.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (as GET /api/admin/usage?format=csv) instead of a table.")
def report(date_from, date_to, group_by, user_id, req_id, operation_type, model, status, as_csv):
    """Print token and cost totals grouped by one or two keys, with a totals line.

    Columns: ops = operations, failed = failed operations, calls = HTTP attempts to Claude,
    cache_write / cache_read = prompt-cache tokens, tokens = all four kinds, q_cache_hits /
    tokens_avoided = question-cache reuse. Cost in USD at the prices recorded with each call.
    """
    try:
        result = usage_report(
            date_from=date_from.date() if date_from else None,
            date_to=date_to.date() if date_to else None,
            user_id=user_id,
            req_id=req_id,
            operation_type=operation_type,
            model=model,
            status=status,
            group_by=list(group_by) or None,
        )
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    if as_csv:
        click.echo(report_csv(result), nl=False)
        return
    click.echo(_title(result))
    click.echo(format_table(result))


def _title(result):
    filters = result["filters"]
    window = f"{filters['from'] or 'start'} .. {filters['to'] or 'now'} (UTC days, inclusive)"
    others = ", ".join(f"{name}={value}" for name, value in filters.items() if name not in ("from", "to") and value is not None)
    return f"Usage {window}, grouped by {', '.join(result['group_by'])}" + (f"; {others}" if others else "")


def format_table(result):
    """The report as an aligned text table: keys left-aligned, numbers right-aligned, a totals line."""
    keys = result["group_by"]
    header = [*keys, *(SHORT_HEADERS[field] for field in TOTAL_FIELDS)]
    body = [[_key_cell(group[key]) for key in keys] + _number_cells(group) for group in result["groups"]]
    total = ["TOTAL"] + [""] * (len(keys) - 1) + _number_cells(result["totals"])
    widths = [max(len(row[i]) for row in [header, *body, total]) for i in range(len(header))]

    def line(row):
        cells = [cell.ljust(width) if i < len(keys) else cell.rjust(width) for i, (cell, width) in enumerate(zip(row, widths))]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * width for width in widths)
    lines = [line(header), rule, *(line(row) for row in body)]
    if not body:
        lines.append("(no operations)")
    lines += [rule, line(total)]
    return "\n".join(lines)


def _key_cell(value):
    return "(none)" if value is None else str(value)


def _number_cells(sums):
    return [format_cost(sums[field]) if field == "cost_usd" else str(sums[field]) for field in TOTAL_FIELDS]
