"""Jobs on real Celery workers (`celery -A worker worker`, prefork) over the local Redis.

The workers are separate processes built by worker.py from the environment, against the test
database and the stub Messages API on loopback; the test's app only submits and reads. Needs
TEST_REDIS_URL (.ci/run sets it, starting Redis when it is down); skipped without it outside CI.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from config import TestingConfig
from models import GenerationCall, GenerationLog, Interview, Job, JobDescription, db
from tests.helpers import count_rows, enhance_body, workflow_body
from tests.stub_messages_api import enhanced_jd, interview_kit, schema_title
from tests.test_jobs import submit, wait_for_job

REDIS_URL = os.environ.get("TEST_REDIS_URL")
ROOT = Path(__file__).resolve().parent.parent

if not REDIS_URL:
    if os.environ.get("CI"):
        pytest.fail("TEST_REDIS_URL is not set: CI must run the Celery worker tests against Redis", pytrace=False)
    pytest.skip("TEST_REDIS_URL is not set (a Redis for the Celery broker)", allow_module_level=True)


class Workers:
    """Celery worker processes (each its own process group), their logs, and a way to kill one."""

    def __init__(self, database_url, stub_url, queue, tmp_path):
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "DATABASE_URL": database_url,
            "ANTHROPIC_API_KEY": "test-key-not-secret",
            "ANTHROPIC_BASE_URL": stub_url,
            "LLM_PROVIDER": "anthropic",
            "CELERY_BROKER_URL": REDIS_URL,
            "CELERY_QUEUE": queue,
            "ENABLE_QUESTION_CACHE": "false",
            "CLAUDE_TIMEOUT_SECONDS": "10",
            "JOB_HEARTBEAT_SECONDS": "0.5",
            "JOB_STALE_SECONDS": "8",  # generous: a loaded CI machine (or SQLite's write lock) delays beats
            "JOB_SWEEP_SECONDS": "0.5",
            "WEBHOOK_ENCRYPTION_KEY": TestingConfig.WEBHOOK_ENCRYPTION_KEY,
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
            "WEBHOOK_RETRY_MAX_DELAY_SECONDS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.queue = queue
        self.tmp_path = tmp_path
        self.processes = []

    def start(self, name, concurrency=2, **env):
        log = open(self.tmp_path / f"{name}.log", "w")  # noqa: SIM115 - the worker writes to it until stopped
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker", "worker", "-P", "prefork", "-c", str(concurrency),
             "-Q", f"{self.queue},{self.queue}.webhooks", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        process.log_path = log.name
        self.processes.append(process)
        return process

    def kill_holder_of(self, worker_field):
        """SIGKILL the whole worker (main process and pool) whose pool process is host:pid."""
        pid = int(worker_field.rsplit(":", 1)[1])
        group = os.getpgid(pid)
        os.killpg(group, signal.SIGKILL)
        for process in self.processes:
            if process.pid == group:
                process.wait(timeout=10)
                return process
        raise AssertionError(f"no worker of ours holds pid {pid}")

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def logs(self):
        return "\n".join(Path(p.log_path).read_text()[-3000:] for p in self.processes)


@pytest.fixture
def workers(database_url, stub_server, tmp_path):
    queue = f"techscreen-test-{uuid.uuid4().hex[:8]}"
    running = Workers(database_url, stub_server.url_for("/").rstrip("/"), queue, tmp_path)
    yield running
    running.stop()


@pytest.fixture
def celery_app(app_factory, workers):
    return app_factory(CELERY_BROKER_URL=REDIS_URL, CELERY_QUEUE=workers.queue, WEBHOOK_ALLOWED_HOSTS="127.0.0.1")


def _free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_celery_worker_runs_the_job_to_the_synchronous_answer(celery_app, workers, admin, claude, tmp_path):
    client = celery_app.test_client()
    port = _free_port()
    (tmp_path / "metrics").mkdir()
    workers.start("w1", WORKER_METRICS_PORT=str(port), PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 50})
    claude.reply_json(interview_kit(), usage={"input_tokens": 200, "output_tokens": 300})
    job_id = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-W1")).get_json()["job_id"]

    job = wait_for_job(client, admin, job_id, timeout=60)

    assert job["status"] == "succeeded", (job, workers.logs())
    assert job["result"]["total_tokens_used"] == 650 and job["usage"]["tokens_used"] == 650
    with celery_app.app_context():
        worker = db.session.get(Job, job_id).worker
    assert worker.rsplit(":", 1)[1] != str(os.getpid())  # run by a worker process, not by the web app
    assert count_rows(celery_app, Interview, req_id="REQ-W1") == 1
    # the worker serves its own metrics: the job's end, its timings and its Claude calls
    import httpx2 as httpx

    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert 'techscreen_jobs_finished_total{operation="workflow_full",status="succeeded"} 1.0' in text
    assert 'techscreen_job_run_seconds_count{operation="workflow_full",outcome="succeeded"} 1.0' in text
    assert 'techscreen_claude_calls_total{model="claude-sonnet-5-5",outcome="ok",purpose="jd_enhancement"} 1.0' in text


def test_a_failure_on_a_worker_has_the_synchronous_status(celery_app, workers, admin, claude):
    client = celery_app.test_client()
    workers.start("w1")
    for _ in range(3):
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    job_id = submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-W2")).get_json()["job_id"]
    job = wait_for_job(client, admin, job_id, timeout=60)
    assert job["status"] == "failed" and job["http_status"] == 503, (job, workers.logs())
    assert job["error"]["success"] is False and job["error"]["req_id"] == "REQ-W2"


def test_a_webhook_from_a_worker_is_signed_and_retried(celery_app, workers, admin, claude):
    from standardwebhooks import Webhook

    from services.webhooks import set_webhook
    from tests.helpers import api_key_id

    with celery_app.app_context():
        _, secret = set_webhook(api_key_id(celery_app, admin), url=None, encryption_key=celery_app.config["WEBHOOK_ENCRYPTION_KEY"],
                                allowed_hosts=None)
    receiver = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    receiver.start()
    answers = [500, 503, 204]
    received = []

    def handler(request):
        received.append((request.get_data(), dict(request.headers)))
        return Response(status=answers[min(len(received), len(answers)) - 1])

    receiver.expect_request("/hook", method="POST").respond_with_handler(handler)
    try:
        client = celery_app.test_client()
        workers.start("w1")
        claude.reply_json(enhanced_jd())
        body = enhance_body("REQ-W3", callback_url=receiver.url_for("/hook"))
        job_id = submit(client, admin, "/api/interview/jd/enhance", body).get_json()["job_id"]
        wait_for_job(client, admin, job_id, timeout=60)
        deadline = time.monotonic() + 30
        while len(received) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        receiver.stop()

    assert len(received) == 3, workers.logs()
    payload = Webhook(secret).verify(received[-1][0], received[-1][1])
    assert payload["type"] == "job.succeeded" and payload["data"]["job_id"] == job_id
    assert payload["data"]["result"]["req_id"] == "REQ-W3"
    assert len({headers["Webhook-Id"] for _, headers in received}) == 1
    deliveries = client.get(f"/api/jobs/{job_id}/deliveries", headers=admin).get_json()["deliveries"]
    assert [a["outcome"] for a in deliveries[0]["attempt_log"]] == ["http_error", "http_error", "delivered"]
    assert deliveries[0]["status"] == "delivered"


def test_a_worker_killed_mid_job_leaves_it_to_another_worker_with_one_interview_and_exact_tokens(celery_app, workers, admin, claude):
    import itertools
    import threading

    client = celery_app.test_client()
    workers.start("w1", concurrency=1)
    workers.start("w2", concurrency=1)
    killed, kit_calls = threading.Event(), itertools.count()

    def kit(body):
        if next(kit_calls) == 0:
            killed.wait(30)  # the first attempt's call is answered only once its worker is dead
            return interview_kit(), {"input_tokens": 999, "output_tokens": 999}
        return interview_kit(), {"input_tokens": 200, "output_tokens": 300}

    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 50})
    claude.reply_for_schema("InterviewKit", kit)
    job_id = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-W4")).get_json()["job_id"]

    running = wait_for_job(client, admin, job_id, until=("running",), timeout=60)
    deadline = time.monotonic() + 30
    while running["step"] != "generating" and time.monotonic() < deadline:
        time.sleep(0.05)
        running = client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]
    assert running["step"] == "generating", (running, workers.logs())
    with celery_app.app_context():
        first_worker = db.session.get(Job, job_id).worker
    dead = workers.kill_holder_of(first_worker)
    killed.set()

    job = wait_for_job(client, admin, job_id, timeout=90)

    assert dead.returncode == -signal.SIGKILL
    assert job["status"] == "succeeded" and job["attempts"] == 2, (job, workers.logs())
    with celery_app.app_context():
        assert db.session.get(Job, job_id).worker != first_worker
        logs = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job_id).order_by(GenerationLog.id)).all()
        calls = db.session.scalars(db.select(GenerationCall).join(GenerationLog).where(GenerationLog.job_id == job_id)).all()
    assert count_rows(celery_app, Interview, req_id="REQ-W4") == 1
    assert count_rows(celery_app, JobDescription, req_id="REQ-W4") == 1
    # The enhancement was paid once (stored by the first attempt, reused by the second); the killed
    # generation call never answered that worker, so the audit holds exactly the answers received.
    enhancement_requests = [b for b in claude.requests if schema_title(b) == "EnhancedJobDescription"]
    assert len(enhancement_requests) == 1
    assert sorted((log.operation_type, log.status, log.error_kind) for log in logs) == [
        ("interview_generation", "failed", "worker_lost"), ("interview_generation", "success", None), ("jd_enhancement", "success", None),
    ]
    assert sum(call.input_tokens + call.output_tokens for call in calls) == 150 + 500
    assert job["usage"]["tokens_used"] == 650 and job["result"]["total_tokens_used"] == 650


def test_a_worker_killed_during_the_fills_of_a_cached_workflow_leaves_one_kit_and_pays_the_enhancement_once(
        celery_app, workers, admin, claude):
    import threading

    from tests.stub_messages_api import fill_slots, filled_questions, interview_plan

    client = celery_app.test_client()
    for name in ("w1", "w2"):
        workers.start(name, concurrency=1, ENABLE_QUESTION_CACHE="true")
    killed = threading.Event()

    def fills(body):
        if not killed.is_set():
            killed.wait(10)  # held until the worker that sent it is dead
        return filled_questions(fill_slots(body)), {"input_tokens": 40, "output_tokens": 60}

    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 50})
    claude.reply_for_schema("InterviewPlan", interview_plan(["Kafka lag", "Refund idempotency", "Postgres locks",
                                                             "Incident review", "API versioning"]),
                            usage={"input_tokens": 30, "output_tokens": 20})
    claude.reply_for_schema("InterviewQuestions", fills)
    job_id = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-W5")).get_json()["job_id"]

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]
        if (running["step"] or "").startswith("filling"):
            break
        time.sleep(0.05)
    assert (running["step"] or "").startswith("filling"), (running, workers.logs())
    # The plan and its fills run beside the enhancement: the kill comes once the enhancement is
    # stored (on a loaded machine its commit can come after the first fill is sent).
    while time.monotonic() < deadline and count_rows(celery_app, JobDescription, req_id="REQ-W5") == 0:
        time.sleep(0.05)
    assert count_rows(celery_app, JobDescription, req_id="REQ-W5") == 1, workers.logs()
    with celery_app.app_context():
        first_worker = db.session.get(Job, job_id).worker
    workers.kill_holder_of(first_worker)
    killed.set()

    job = wait_for_job(client, admin, job_id, timeout=90)

    assert job["status"] == "succeeded" and job["attempts"] == 2, (job, workers.logs())
    assert count_rows(celery_app, Interview, req_id="REQ-W5") == 1
    assert count_rows(celery_app, JobDescription, req_id="REQ-W5") == 1
    assert [schema_title(b) for b in claude.requests].count("EnhancedJobDescription") == 1
    with celery_app.app_context():
        logs = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job_id)).all()
        calls = db.session.scalars(db.select(GenerationCall).join(GenerationLog).where(GenerationLog.job_id == job_id)).all()
    audited = sum(call.input_tokens + call.output_tokens + call.cache_creation_input_tokens + call.cache_read_input_tokens
                  for call in calls)
    succeeded = sum(log.tokens_used for log in logs if log.status == "success")
    assert job["usage"]["tokens_used"] == audited  # every call recorded once, both attempts
    assert job["result"]["total_tokens_used"] == succeeded  # the answer counts the operations that made the kit
    assert ("interview_generation", "failed", "worker_lost") in {(log.operation_type, log.status, log.error_kind) for log in logs}
