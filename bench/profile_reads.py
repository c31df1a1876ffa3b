"""Where a read's time goes: cProfile over in-process requests (Flask test client, MariaDB).

    PYTHONPATH=. python bench/profile_reads.py            # fresh DB techscreen_bench_profile, dropped after

Prints ms per request for the whole request and for the parts that matter (rate-limit check, auth,
SQL round trips, serialisation, session teardown, JSON). Cumulative wrappers nest (the limiter's
time includes auth's, which includes the view's): read them by difference.
"""

import cProfile
import logging
import os
import pstats
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402

from app import create_app  # noqa: E402
from bench import support  # noqa: E402
from config import DevelopmentConfig  # noqa: E402
from services.api_keys import create_api_key  # noqa: E402

DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_profile?charset=utf8mb4"
PARTS = [
    ("rate limit count (limits)", "rate_limits.py:hit"),
    ("auth wrapper (cumulative)", "auth.py:wrapper"),
    ("request id + request log line", "observability.py:_return_request_id"),
    ("metrics observe", "metrics.py:observe_request"),
    ("SQL queries (pymysql query)", "connections.py:query"),
    ("marshmallow serialization", "schema.py:dump"),
    ("session teardown (rollback)", "scoping.py:remove"),
    ("json encode", "provider.py:response"),
]


def main(requests=300):
    support.recreate_database(DATABASE_URL)
    try:
        app = create_app(
            DevelopmentConfig,
            SQLALCHEMY_DATABASE_URI=DATABASE_URL,
            LLM_PROVIDER="sandbox",
            RATE_LIMIT_READ="100000000/minute",
        )
        logging.getLogger().setLevel(logging.WARNING)
        with app.app_context():
            flask_migrate.upgrade()
            _, viewer = create_api_key(name="profile", role="viewer")
            _, admin = create_api_key(name="profile-admin", role="admin")
        client = app.test_client()
        write = {"Authorization": f"Bearer {admin}"}
        created = client.post("/api/interview/workflow/full", headers=write, json={
            "req_id": "PROFILE-1", "basic_title": "Senior Backend Engineer", "basic_description": "Python, PostgreSQL and Kafka services."}).get_json()
        for _ in range(2):
            client.post("/api/interview/generate", headers=write, json={"req_id": "PROFILE-1", "job_description_id": created["job_description_id"]})
        headers = {"Authorization": f"Bearer {viewer}"}
        for path in ("/health", f"/api/interview/{created['interview_id']}", "/api/interview/req/PROFILE-1"):
            for _ in range(30):
                client.get(path, headers=headers)
            profile, started = cProfile.Profile(), time.perf_counter()
            profile.enable()
            for _ in range(requests):
                client.get(path, headers=headers)
            profile.disable()
            total = (time.perf_counter() - started) / requests * 1000
            stats = pstats.Stats(profile).stats
            print(f"\n{path}: {total:.2f} ms/request in-process")
            for label, pattern in PARTS:
                spent = sum(v[3] for k, v in stats.items() if pattern in f"{k[0]}:{k[2]}") / requests * 1000
                print(f"  {label:36} {spent:6.2f} ms")
    finally:
        support.drop_database(DATABASE_URL)


if __name__ == "__main__":
    main()
