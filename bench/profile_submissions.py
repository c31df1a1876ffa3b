"""Where an asynchronous submission's CPU goes: cProfile over in-process submissions.

    PYTHONPATH=. python bench/profile_submissions.py [--requests 300] [--top 25]

Submits ``POST /api/interview/workflow/full`` with ``Prefer: respond-async`` through the Flask
test client (no HTTP server), against a fresh MariaDB database (techscreen_bench_profile_jobs,
dropped after) and a Redis broker (redis://127.0.0.1:6379/13, a queue of its own, purged after;
no worker consumes it). Prints ms of CPU per submission, the database round trips per
submission, the share of time by layer (cumulative, so layers nest: read by difference), and
the functions with the most own time.
"""

import argparse
import cProfile
import logging
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402
from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from bench import support  # noqa: E402
from config import DevelopmentConfig  # noqa: E402
from models import db  # noqa: E402
from services.api_keys import create_api_key  # noqa: E402

DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_profile_jobs?charset=utf8mb4"
BROKER_URL = "redis://127.0.0.1:6379/13"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PARTS = [
    ("rate limit count (limits)", "rate_limits.py:hit"),
    ("auth + view (cumulative)", "auth.py:wrapper"),
    ("idempotency wrapper (cumulative)", "idempotency.py:wrapper"),
    ("budget check", "budgets.py:check_budgets"),
    ("job_operations.accept (cumulative)", "job_operations.py:accept"),
    ("  precheck", "job_operations.py:precheck"),
    ("  webhook settings + callback", "job_operations.py:_callback_for"),
    ("  submit_job (INSERT + COMMIT)", "jobs.py:submit_job"),
    ("  enqueue (Celery send_task)", "job_queue.py:enqueue_job"),
    ("request body parsing (webargs)", "core.py:parse"),
    ("request id + request log line", "observability.py:_return_request_id"),
    ("metrics observe", "metrics.py:observe_request"),
    ("SQL (pymysql query)", "connections.py:query"),
    ("pool checkout", "base.py:_checkout"),
    ("session teardown", "scoping.py:remove"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    support.recreate_database(DATABASE_URL)
    queue = f"techscreen-profile-{int(time.time())}"
    app = None
    try:
        app = create_app(
            DevelopmentConfig, SQLALCHEMY_DATABASE_URI=DATABASE_URL, LLM_PROVIDER="sandbox",
            CELERY_BROKER_URL=BROKER_URL, CELERY_QUEUE=queue, RATE_LIMIT_CLAUDE="100000000/minute",
            ENABLE_QUESTION_CACHE=False,
        )
        logging.getLogger().setLevel(logging.WARNING)
        with app.app_context():
            flask_migrate.upgrade()
            _, key = create_api_key(name="profile", role="admin")
        app.extensions["job_queue"].warm_up()
        round_trips = [0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: round_trips.__setitem__(0, round_trips[0] + 1))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}", "Prefer": "respond-async"}

        def submit(number):
            answer = client.post("/api/interview/workflow/full", headers=headers, json={
                "req_id": f"PROFILE-{number}", "basic_title": "Senior Backend Engineer",
                "basic_description": "Builds Python, PostgreSQL and Kafka services for payroll."})
            assert answer.status_code == 202, answer.get_json()

        for number in range(30):
            submit(number)
        if os.environ.get("PROFILE_SQL"):
            logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
            logging.getLogger("sqlalchemy.pool").setLevel(logging.DEBUG)
            submit(29)
            logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
            logging.getLogger("sqlalchemy.pool").setLevel(logging.WARNING)
        round_trips[0] = 0
        profile = cProfile.Profile()
        started, cpu = time.perf_counter(), time.process_time()
        profile.enable()
        for number in range(30, 30 + options.requests):
            submit(number)
        profile.disable()
        wall = (time.perf_counter() - started) / options.requests * 1000
        cpu = (time.process_time() - cpu) / options.requests * 1000
        plain_started, plain_cpu = time.perf_counter(), time.process_time()
        for number in range(100000, 100000 + options.requests):
            submit(number)
        plain_wall = (time.perf_counter() - plain_started) / options.requests * 1000
        plain_cpu = (time.process_time() - plain_cpu) / options.requests * 1000
        print(f"without the profiler: {plain_wall:.2f} ms wall, {plain_cpu:.2f} ms CPU per submission")
        print(f"under cProfile: {wall:.2f} ms wall, {cpu:.2f} ms CPU; "
              f"{round_trips[0] / options.requests:.1f} SQL statements per submission")
        stats = pstats.Stats(profile)
        total = sum(v[2] for v in stats.stats.values())
        for label, pattern in PARTS:
            spent = sum(v[3] for k, v in stats.stats.items() if pattern in f"{k[0]}:{k[2]}")
            print(f"  {label:38} {spent / total * 100:5.1f} %")
        by_package = {}
        for (filename, _, _), value in stats.stats.items():
            by_package[_package(filename)] = by_package.get(_package(filename), 0) + value[2]
        print("own time by package:")
        for package, spent in sorted(by_package.items(), key=lambda item: -item[1])[:15]:
            print(f"  {package:38} {spent / total * 100:5.1f} %  {spent / options.requests * 1000:5.2f} ms")
        stats.sort_stats("tottime").print_stats(options.top)
        if os.environ.get("PROFILE_CALLERS"):
            stats.print_callers(os.environ["PROFILE_CALLERS"])
    finally:
        if app is not None:
            app.extensions["job_queue"].stop()
        _purge(queue)
        support.drop_database(DATABASE_URL)


def _package(filename):
    """The package a profiled function belongs to: site-packages' top folder, the stdlib module, or
    "app" for the repo's own code; built-ins (socket reads, locks) keep their name."""
    if filename == "~":
        return "built-ins (socket I/O, locks, C functions)"
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if filename.startswith(REPO):
        return "app"
    return "stdlib " + os.path.basename(filename)


def _purge(queue):
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    client.delete(queue, f"{queue}.webhooks")


if __name__ == "__main__":
    main()
