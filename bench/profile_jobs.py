"""Where a job's CPU goes in its worker: yappi (CPU clock, every thread) over async workflows.

    PYTHONPATH=. python bench/profile_jobs.py [--jobs 40] [--threads 4] [--top 30]

Runs --jobs async full workflows (``Prefer: respond-async``, question cache off: an enhancement
and a one-call generation each) on the embedded job pool (--threads threads, the same JobRunner
code a Celery worker runs) against bench/stub_messages_api.py answering at once (--delay 0), on a
fresh MariaDB database (techscreen_bench_profile_run, dropped after), all under yappi
(4 warm-up jobs first). Prints the CPU ms per job, the
database statements and commits per job, CPU by layer (cumulative: layers nest) and the
functions with the most own CPU. Needs ``pip install yappi`` (a diagnostic, not a requirement).
"""

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import flask_migrate  # noqa: E402
import yappi  # noqa: E402
from sqlalchemy import event  # noqa: E402

from app import create_app  # noqa: E402
from bench import support  # noqa: E402
from config import DevelopmentConfig  # noqa: E402
from models import Job, db  # noqa: E402
from services.api_keys import create_api_key  # noqa: E402

DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_profile_run?charset=utf8mb4"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYERS = [
    ("JobRunner.run (a whole job)", "jobs.py", "run"),
    ("  Anthropic SDK: Messages.create", "messages.py", "create"),
    ("  answer parsing + validation (generate_json)", "claude_client.py", "generate_json"),
    ("  store the job description", "jd_enhancement.py", "store_job_description"),
    ("  store the interview", "interview_generation.py", "store_interview"),
    ("  audit rows (audited_operation)", "audit.py", "audited_operation"),
    ("  progress reports (step)", "progress.py", "report"),
    ("  the job's end (result, status)", "jobs.py", "_end"),
    ("  response dump (schema + JSON)", "async_jobs.py", "perform"),
    ("heartbeats", "jobs.py", "_write"),
    ("SQL: pymysql Cursor.execute", "cursors.py", "execute"),
    ("SQLAlchemy Session.commit", "session.py", "commit"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--top", type=int, default=30)
    options = parser.parse_args()
    support.recreate_database(DATABASE_URL)
    port = support.free_port()
    log = open(os.devnull, "w")
    stub = support.start([sys.executable, os.path.join(REPO, "bench", "stub_messages_api.py"), "--port", str(port),
                          "--delay", "0"], dict(os.environ), log)
    app = None
    try:
        support.wait_ready(f"http://127.0.0.1:{port}/health", [stub])
        app = create_app(
            DevelopmentConfig, SQLALCHEMY_DATABASE_URI=DATABASE_URL, LLM_PROVIDER="anthropic",
            ANTHROPIC_API_KEY="bench-key", ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}",
            RATE_LIMIT_CLAUDE="100000000/minute", ENABLE_QUESTION_CACHE=False, JOB_EMBEDDED_THREADS=options.threads,
        )
        logging.getLogger().setLevel(logging.WARNING)
        with app.app_context():
            flask_migrate.upgrade()
            _, key = create_api_key(name="profile", role="admin")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}", "Prefer": "respond-async"}
        jds = support.load_job_descriptions(support.DEFAULT_JD_FILE)
        warm = _submit(client, headers, jds, "WARM", 4)
        _wait(app, warm)
        statements = [0, 0]
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", lambda *a, **k: _add(statements, 0))
            event.listen(db.engine, "commit", lambda *a, **k: _add(statements, 1))
        statements[:] = [0, 0]
        yappi.set_clock_type("cpu")
        yappi.start(builtins=False, profile_threads=True)
        started, cpu = time.perf_counter(), time.process_time()
        ids = _submit(client, headers, jds, "PROF", options.jobs)
        _wait(app, ids)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        yappi.stop()
        per_job = cpu / options.jobs * 1000
        print(f"{options.jobs} jobs on {options.threads} threads: {wall:.2f} s wall, {per_job:.1f} ms CPU per job, "
              f"submission included (yappi's own overhead included); {statements[0] / options.jobs:.1f} SQL statements and "
              f"{statements[1] / options.jobs:.1f} commits per job")
        stats = yappi.get_func_stats()
        for label, filename, name in LAYERS:
            spent = sum(s.ttot for s in stats if s.module.endswith(filename) and s.name.split(".")[-1] == name)
            print(f"  {label:48} {spent / options.jobs * 1000:7.2f} ms/job")
        by_package = {}
        for s in stats:
            package = _package(s.module)
            by_package[package] = by_package.get(package, 0) + s.tsub
        print("own CPU by package:")
        for package, spent in sorted(by_package.items(), key=lambda item: -item[1])[:15]:
            print(f"  {package:48} {spent / options.jobs * 1000:7.2f} ms/job")
        print("the app's functions by CPU including what they call (nested: read by difference):")
        mine = [s for s in stats if s.module.startswith(REPO) and "/bench/" not in s.module]
        for s in sorted(mine, key=lambda s: -s.ttot)[:options.top]:
            print(f"  {s.ttot / options.jobs * 1000:7.2f} ms/job  {s.ncall / options.jobs:6.1f} calls/job  "
                  f"{s.name} ({os.path.relpath(s.module, REPO)}:{s.lineno})")
        print("functions with the most own CPU:")
        for s in sorted(stats, key=lambda s: -s.tsub)[:options.top]:
            print(f"  {s.tsub / options.jobs * 1000:7.3f} ms/job  {s.ncall / options.jobs:7.1f} calls/job  "
                  f"{s.name} ({s.module.split('site-packages/')[-1].replace(REPO + '/', '')}:{s.lineno})")
    finally:
        if app is not None:
            app.extensions["job_queue"].stop()
        support.stop(stub)
        support.drop_database(DATABASE_URL)


def _add(counter, index):
    counter[index] += 1


def _submit(client, headers, jds, prefix, n):
    ids = []
    for i in range(n):
        jd = jds[i % len(jds)]
        body = {**support.enhance_body(jd, f"{prefix}-{i:03d}", 20_000), "interview_name": f"{jd['title'][:200]} - profile"}
        answer = client.post("/api/interview/workflow/full", headers=headers, json=body)
        assert answer.status_code == 202, answer.get_json()
        ids.append(answer.get_json()["job_id"])
    return ids


def _wait(app, ids, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            open_jobs = db.session.scalar(db.select(db.func.count()).select_from(Job).where(
                Job.id.in_(ids), Job.status.in_(("queued", "running"))))
            db.session.remove()
        if not open_jobs:
            return
        time.sleep(0.05)
    raise RuntimeError("jobs did not end in time")


def _package(filename):
    if "site-packages/" in filename:
        return filename.split("site-packages/")[1].split("/")[0]
    if filename.startswith(REPO):
        return "app: " + os.path.relpath(filename, REPO)
    return "stdlib " + os.path.basename(filename)


if __name__ == "__main__":
    main()
