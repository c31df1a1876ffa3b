"""Usage-report benchmark: GET /api/admin/usage's service function on 1,000,000 generation_logs rows in MariaDB.

In one run (loopback only; the database is dropped at the end unless --keep):

1. drops and recreates the MariaDB database ``techscreen_bench_usage`` (utf8mb4), builds the app
   (DevelopmentConfig, LLM_PROVIDER=sandbox: no Claude call is made) and runs the migrations, so
   the table has exactly the migrations' indexes;
2. bulk-inserts --rows synthetic generation_logs rows (pymysql executemany = multi-row INSERTs of
   --chunk rows), started_at uniformly spread over the 365 days before 2026-12-01 00:00 UTC,
   ~200 users, ~5,000 requisitions, 5 operation types, 3 models, status 94 % success / 5 % failed
   / 1 % refused, realistic token counts and cost_usd priced with services/pricing.py; ids grow
   with started_at as in production (--order random scatters them: the worst case);
3. ANALYZE TABLE, then times ``services.usage.usage_report`` (the function the endpoint and the CLI
   call) --runs times per scenario, each in a fresh session as a request has: the two goal
   scenarios (a 30-day window, 2026-11-01..2026-11-30, grouped by day and grouped by user_id) and
   a few informative ones (a pair of keys, one user, a whole year), plus the generation-logs
   listing (first page and a page deep inside the window);
4. EXPLAINs the SQL each scenario sent;
5. with --try-index "name:col1,col2,..." (repeatable), creates each index in the bench database
   and times the same scenarios again, to measure an index before asking for a migration.

    python bench/bench_usage_report.py                      # 1,000,000 rows, 7 runs per scenario
    python bench/bench_usage_report.py --order random       # worst case: started_at independent of id
    python bench/bench_usage_report.py --rows 200000 --runs 5 --try-index "ix_try:started_at,user_id"

Prints a table and writes JSON to bench/results/usage-report-<UTC stamp>.json. Exit status 0 when
both goal scenarios have a max under --goal-ms (default 1000).
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event

from bench import support
from bench.support import REPO_ROOT, RESULTS_DIR

DEFAULT_SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306"
DATABASE = "techscreen_bench_usage"
END = datetime(2026, 12, 1, tzinfo=UTC)  # rows cover [END - 365 days, END)
WINDOW = (date(2026, 11, 1), date(2026, 11, 30))  # the goal scenarios' 30 UTC days
OPERATION_TYPES = {  # synthetic mix; (share, input, output) typical tokens per operation
    "jd_enhancement": (0.30, 1_800, 1_200),
    "interview_generation": (0.25, 2_600, 4_500),
    "candidate_scoring": (0.30, 4_000, 1_100),
    "interview_plan": (0.10, 1_500, 400),
    "jd_translation": (0.05, 1_600, 1_500),
}
MODELS = (("claude-sonnet-4-5", 0.70), ("claude-haiku-4-5", 0.25), ("claude-opus-4-1", 0.05))
USERS = 200
REQUISITIONS = 5_000
COLUMNS = (
    "operation_type", "req_id", "user_id", "status", "error_kind", "error_message", "provider", "model",
    "prompt_version", "claude_calls", "input_tokens", "output_tokens", "cache_creation_input_tokens",
    "cache_read_input_tokens", "tokens_used", "cost_usd", "unpriced_calls", "latency_ms", "cache_hits",
    "cache_misses", "tokens_avoided", "job_description_id", "interview_id", "started_at", "completed_at",
)


def main(argv=None):
    args = _parse_args(argv)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    stamp = support.utc_stamp()
    result = {
        "started_at": stamp,
        "setup": {
            "rows": args.rows, "order": args.order, "runs_per_scenario": args.runs, "chunk": args.chunk, "seed": args.seed,
            "window": [d.isoformat() for d in WINDOW], "goal_ms": args.goal_ms,
            "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        },
    }
    started = time.perf_counter()
    support.recreate_database(support.database_url(args.server_url, DATABASE))
    try:
        result.update(_run(args))
    finally:
        if not args.keep:
            support.drop_database(support.database_url(args.server_url, DATABASE))
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    goal = [s for s in result["baseline"]["scenarios"] if s["goal"]]
    result["verdict"] = {
        "goal_met": all(s["max_ms"] < args.goal_ms for s in goal),
        "goal_scenarios": {s["name"]: {"median_ms": s["median_ms"], "max_ms": s["max_ms"]} for s in goal},
        "with_tried_indexes": {
            tried["name"]: all(s["max_ms"] < args.goal_ms for s in tried["scenarios"] if s["goal"])
            for tried in result.get("tried_indexes", [])
        },
    }
    path = os.path.join(RESULTS_DIR, f"usage-report-{stamp}.json")
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2, default=str)
    print(f"\nGoal (each goal scenario's max < {args.goal_ms:g} ms) with the migrations' indexes: "
          f"{'MET' if result['verdict']['goal_met'] else 'NOT MET'}")
    for name, met in result["verdict"]["with_tried_indexes"].items():
        print(f"  with {name} (cumulative): {'MET' if met else 'NOT MET'}")
    print(f"Results: {os.path.relpath(path, REPO_ROOT)} (total {result['total_seconds']} s)")
    return 0 if result["verdict"]["goal_met"] else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Usage-report benchmark (MariaDB, 1M generation_logs rows).")
    parser.add_argument("--rows", type=int, default=1_000_000, help="generation_logs rows (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per scenario (default 7)")
    parser.add_argument("--order", choices=("chronological", "random"), default="chronological",
                        help="chronological (default): ids grow with started_at, as in production; random: "
                             "started_at independent of id (worst case: a window's rows are scattered over the table)")
    parser.add_argument("--chunk", type=int, default=5_000, help="rows per INSERT batch (default 5,000)")
    parser.add_argument("--goal-ms", type=float, default=1000.0, help="goal: max ms of each goal scenario (default 1000)")
    parser.add_argument("--try-index", action="append", default=[], metavar="NAME:COL,COL",
                        help="create this index in the bench database and time every scenario again (repeatable)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER_URL),
                        help=f"MariaDB/MySQL server URL without database (default {DEFAULT_SERVER_URL}); "
                             f"database {DATABASE} is DROPPED and recreated")
    parser.add_argument("--keep", action="store_true", help=f"keep database {DATABASE} afterwards")
    parser.add_argument("--seed", type=int, default=20261121, help="random seed (default 20261121)")
    return parser.parse_args(argv)


# --- Database -------------------------------------------------------------------------------------

def _run(args):
    import logging

    import flask_migrate

    from app import create_app
    from config import DevelopmentConfig
    from models import db

    url = support.database_url(args.server_url, DATABASE)
    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=url, LLM_PROVIDER="sandbox")
    out = {}
    with app.app_context():
        try:
            t0 = time.perf_counter()
            flask_migrate.upgrade()
            logging.getLogger("alembic").setLevel(logging.WARNING)
            out["migrate_seconds"] = round(time.perf_counter() - t0, 1)

            t0 = time.perf_counter()
            out["data"] = _bulk_insert(args)
            out["insert_seconds"] = round(time.perf_counter() - t0, 1)
            out["table"] = _table_stats()
            print(f"inserted {args.rows:,} rows in {out['insert_seconds']} s "
                  f"({out['table']['data_mb']} MB data + {out['table']['index_mb']} MB indexes); "
                  f"{out['data']['rows_in_window']:,} rows in {WINDOW[0]}..{WINDOW[1]}", flush=True)
            out["indexes"] = _indexes()

            print("\n== Baseline: the migrations' indexes", flush=True)
            out["baseline"] = {"scenarios": _measure_all(args)}
            out["tried_indexes"] = []
            for spec in args.try_index:
                name, _, columns = spec.partition(":")
                cols = [c.strip() for c in columns.split(",") if c.strip()]
                if not name or not cols:
                    sys.exit(f"--try-index {spec!r}: use NAME:COL,COL")
                t0 = time.perf_counter()
                with db.engine.begin() as conn:
                    conn.exec_driver_sql(f"CREATE INDEX `{name}` ON generation_logs ({', '.join(f'`{c}`' for c in cols)})")
                    conn.exec_driver_sql("ANALYZE TABLE generation_logs")
                build = round(time.perf_counter() - t0, 1)
                print(f"\n== With index {name} ({', '.join(cols)}), built in {build} s", flush=True)
                out["tried_indexes"].append({"name": name, "columns": cols, "build_seconds": build,
                                             "index_mb_after": _table_stats()["index_mb"],
                                             "scenarios": _measure_all(args)})
        finally:
            db.session.remove()
            db.engine.dispose()
    return out


# --- Data -----------------------------------------------------------------------------------------

def _bulk_insert(args):
    from services.pricing import PriceTable

    rng = random.Random(args.seed)
    prices = PriceTable.from_config({})
    span_us = 365 * 86_400 * 1_000_000
    start = END - timedelta(days=365)
    op_names = list(OPERATION_TYPES)
    op_weights = [OPERATION_TYPES[name][0] for name in op_names]
    model_names = [m for m, _ in MODELS]
    model_weights = [w for _, w in MODELS]
    window_start = datetime.combine(WINDOW[0], datetime.min.time(), tzinfo=UTC)
    window_end = datetime.combine(WINDOW[1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    sql = f"INSERT INTO generation_logs ({', '.join(COLUMNS)}) VALUES ({placeholders})"
    offsets = [rng.randrange(span_us) for _ in range(args.rows)]
    if args.order == "chronological":
        offsets.sort()  # as in production: rows are inserted when their operation starts
    in_window = 0
    connection = support.server_connection(args.server_url, DATABASE, charset="utf8mb4", autocommit=False)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET unique_checks = 0")
            batch = []
            for i in range(args.rows):
                op = rng.choices(op_names, op_weights)[0]
                _, base_in, base_out = OPERATION_TYPES[op]
                model = rng.choices(model_names, model_weights)[0]
                roll = rng.random()
                status = "success" if roll < 0.94 else "failed" if roll < 0.99 else "refused"
                started = start + timedelta(microseconds=offsets[i])
                in_window += window_start <= started < window_end
                if status == "refused":
                    calls, tokens = 0, (0, 0, 0, 0)
                else:
                    calls = 1 + (rng.random() < 0.08) + (rng.random() < 0.03)
                    cached = rng.random() < 0.3
                    tokens = (
                        int(base_in * rng.uniform(0.6, 1.6)),
                        0 if status == "failed" and rng.random() < 0.5 else int(base_out * rng.uniform(0.5, 1.5)),
                        int(base_in * 0.5) if cached and rng.random() < 0.2 else 0,
                        int(base_in * rng.uniform(0.5, 2.0)) if cached else 0,
                    )
                cost = prices.cost(model, input_tokens=tokens[0], output_tokens=tokens[1],
                                   cache_creation_input_tokens=tokens[2], cache_read_input_tokens=tokens[3])
                hits = rng.randint(0, 5) if op == "interview_generation" and status == "success" else 0
                latency = rng.randint(800, 40_000) if calls else 3
                naive = started.replace(tzinfo=None)
                batch.append((
                    op, f"REQ-2026-{rng.randrange(REQUISITIONS):05d}", f"apikey:{1 + int(rng.paretovariate(1.2) * 7) % USERS}",
                    status, {"failed": "claude_bad_output", "refused": "budget_exceeded"}.get(status),
                    "synthetic failure" if status == "failed" else None, "anthropic", model, "v3", calls, *tokens,
                    sum(tokens), cost, 0, latency, hits, (5 - hits) if op == "interview_generation" and status == "success" else 0,
                    hits * 700, rng.randrange(1, 50_000), rng.randrange(1, 50_000) if op != "jd_enhancement" else None,
                    naive, naive + timedelta(milliseconds=latency),
                ))
                if len(batch) >= args.chunk:
                    cursor.executemany(sql, batch)
                    batch.clear()
                    if (i + 1) % 100_000 == 0:
                        connection.commit()
                        print(f"  {i + 1:,} rows", flush=True)
            if batch:
                cursor.executemany(sql, batch)
            connection.commit()
            cursor.execute("ANALYZE TABLE generation_logs")
            cursor.fetchall()
    finally:
        connection.close()
    return {"rows_in_window": in_window, "users": USERS, "requisitions": REQUISITIONS,
            "operation_types": op_names, "models": model_names}


def _table_stats():
    from sqlalchemy import text

    from models import db

    row = db.session.execute(text(
        "SELECT table_rows, data_length, index_length FROM information_schema.tables "
        "WHERE table_schema = :db AND table_name = 'generation_logs'"), {"db": DATABASE}).one()
    db.session.remove()
    return {"rows_estimate": row[0], "data_mb": round(row[1] / 1e6, 1), "index_mb": round(row[2] / 1e6, 1)}


def _indexes():
    from sqlalchemy import text

    from models import db

    rows = db.session.execute(text("SHOW INDEX FROM generation_logs")).mappings().all()
    db.session.remove()
    indexes = {}
    for row in rows:
        indexes.setdefault(row["Key_name"], []).append(row["Column_name"])
    return indexes


# --- Scenarios ------------------------------------------------------------------------------------

def _scenarios():
    from services.usage import list_generation_logs, usage_report

    frm, to = WINDOW

    def deep_page():
        # A cursor in the middle of the window: rows strictly older than 2026-11-15 12:00.
        from services.usage import encode_cursor

        return list_generation_logs(date_from=frm, date_to=to, limit=50,
                                    cursor=encode_cursor(datetime(2026, 11, 15, 12, tzinfo=UTC), 2**31 - 1))

    return [
        ("30 days by day", True, lambda: usage_report(date_from=frm, date_to=to, group_by=("day",))),
        ("30 days by user_id", True, lambda: usage_report(date_from=frm, date_to=to, group_by=("user_id",))),
        ("30 days by day,model", False, lambda: usage_report(date_from=frm, date_to=to, group_by=("day", "model"))),
        ("30 days, one user, by day", False,
         lambda: usage_report(date_from=frm, date_to=to, user_id="apikey:8", group_by=("day",))),
        ("90 days by user_id", False,
         lambda: usage_report(date_from=date(2026, 9, 2), date_to=to, group_by=("user_id",))),
        ("365 days by model", False, lambda: usage_report(group_by=("model",))),
        ("generation-logs first page (50)", False, lambda: list_generation_logs(date_from=frm, date_to=to, limit=50)),
        ("generation-logs page mid-window", False, deep_page),
    ]


def _measure_all(args):
    from models import db

    results = []
    for name, goal, run in _scenarios():
        statements = []

        def capture(conn, cursor, statement, parameters, context, executemany, _into=statements):
            _into.append((statement, parameters))

        timings = []
        summary = None
        for i in range(args.runs):
            if i == 0:
                event.listen(db.engine, "before_cursor_execute", capture)
            t0 = time.perf_counter()
            answer = run()
            timings.append((time.perf_counter() - t0) * 1000)
            if i == 0:
                event.remove(db.engine, "before_cursor_execute", capture)
                summary = _summarise(answer)
            db.session.remove()
        entry = {
            "name": name, "goal": goal, "runs": len(timings),
            "first_ms": round(timings[0], 1),
            "median_ms": round(statistics.median(timings), 1),
            "max_ms": round(max(timings), 1),
            "all_ms": [round(t, 1) for t in timings],
            "answer": summary,
            "explain": _explain(statements),
        }
        results.append(entry)
        plan = "; ".join(f"{p['table']}: type={p['type']} key={p['key']} rows~{p['rows']} {p['Extra'] or ''}".strip()
                         for e in entry["explain"] for p in e["plan"])
        print(f"  {name:34} median {entry['median_ms']:8.1f} ms  max {entry['max_ms']:8.1f} ms  "
              f"(first {entry['first_ms']:.1f})  {summary}\n      EXPLAIN {plan}", flush=True)
    return results


def _summarise(answer):
    if isinstance(answer, dict):
        return f"{len(answer['groups'])} groups, {answer['totals']['operations']:,} operations, cost {answer['totals']['cost_usd']}"
    rows, cursor = answer
    return f"{len(rows)} rows, next_cursor {'set' if cursor else 'null'}"


def _explain(statements):
    from models import db

    explained = []
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN " + statement, parameters)
            columns = [c[0] for c in cursor.description]
            plans = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
            explained.append({
                "statement": " ".join(statement.split()),
                "plan": [{k: plan.get(k) for k in ("table", "type", "possible_keys", "key", "rows", "Extra")} for plan in plans],
            })
        cursor.close()
    finally:
        raw.close()
    return explained


if __name__ == "__main__":
    sys.exit(main())
