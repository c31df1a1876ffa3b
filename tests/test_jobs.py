"""Asynchronous jobs (Prefer: respond-async) on the embedded pool, through HTTP and the real SDK
against the stub Messages API. tests/test_jobs_celery.py runs the same job code on real Celery
workers over Redis."""

import json
import time
from datetime import timedelta

import pytest

from models import GenerationLog, Interview, Job, JobDescription, db, utcnow
from tests.helpers import assert_error, count_rows, enhance, enhance_body, workflow_body
from tests.stub_messages_api import assessment, enhanced_jd, interview_kit

ASYNC = {"Prefer": "respond-async"}


def wait_for_job(client, headers, job_id, *, until=("succeeded", "failed", "canceled"), timeout=20.0):
    """Poll GET /api/jobs/<id> until its status is in ``until``; return the job resource."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/jobs/{job_id}", headers=headers)
        assert response.status_code == 200, response.get_json()
        job = response.get_json()["job"]
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} ({job['step']}) after {timeout} s"
        time.sleep(0.05)


def submit(client, headers, path, body, **extra_headers):
    response = client.post(path, json=body, headers={**headers, **ASYNC, **extra_headers})
    assert response.status_code == 202, response.get_json()
    return response


def test_prefer_respond_async_answers_202_with_a_job_that_ends_with_the_synchronous_answer(client, admin, claude, app):
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 50})
    claude.reply_json(interview_kit(), usage={"input_tokens": 200, "output_tokens": 300})
    response = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-A1"))

    accepted = response.get_json()
    assert accepted["success"] is True and accepted["status"] == "queued"
    assert accepted["job_id"].startswith("job_") and len(accepted["job_id"]) == 36
    assert response.headers["Location"] == f"/api/jobs/{accepted['job_id']}"
    assert response.headers["Preference-Applied"] == "respond-async"
    assert accepted["links"]["self"] == response.headers["Location"]

    job = wait_for_job(client, admin, accepted["job_id"])
    assert job["status"] == "succeeded", job
    assert job["http_status"] == 200 and job["error"] is None
    assert job["operation"] == "workflow_full" and job["req_id"] == "REQ-A1" and job["attempts"] == 1
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    result = job["result"]
    assert result["success"] is True and result["total_tokens_used"] == 650
    assert job["usage"]["tokens_used"] == 650 and job["usage"]["input_tokens"] == 300
    assert job["links"]["interview"] == f"/api/interview/{result['interview_id']}"
    # the very body a synchronous call gives: same fields in the same order, the stored interview
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    synchronous = client.post("/api/interview/workflow/full", json=workflow_body("REQ-A2"), headers=admin).get_json()
    assert list(result) == list(synchronous)
    assert result["interview"] == client.get(f"/api/interview/{result['interview_id']}", headers=admin).get_json()["interview"]
    with app.app_context():
        logs = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == accepted["job_id"])).all()
        assert sorted(log.operation_type for log in logs) == ["interview_generation", "jd_enhancement"]
        assert all(log.status == "success" for log in logs)


def test_each_claude_calling_post_runs_as_a_job(client, admin, claude, app):
    # enhance
    claude.reply_json(enhanced_jd())
    job = wait_for_job(client, admin, submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-E1")).get_json()["job_id"])
    assert job["status"] == "succeeded" and job["http_status"] == 200
    assert job["result"]["job_description_id"] and job["links"]["job_description"] == "/api/interview/jd/REQ-E1"
    jd_id = job["result"]["job_description_id"]
    # generate
    claude.reply_json(interview_kit())
    job = wait_for_job(client, admin, submit(client, admin, "/api/interview/generate", {"req_id": "REQ-E1", "job_description_id": jd_id}).get_json()["job_id"])
    assert job["status"] == "succeeded" and job["result"]["interview"]["version"] == 1
    interview_id = job["result"]["interview_id"]
    # workflow/create
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    job = wait_for_job(client, admin, submit(client, admin, "/api/interview/workflow/create", workflow_body("REQ-E2")).get_json()["job_id"])
    assert job["status"] == "succeeded" and job["operation"] == "workflow_create"
    # AI evaluation: 201 as synchronously
    claude.reply_json(assessment({1: [(f"Criterion 1.{i}", False, "") for i in range(1, 9)]}))
    body = {"candidate_id": "CAND-1", "mode": "ai", "answers": [{"question_number": 1, "answer_text": "Solid reasoning with logs."}]}
    job = wait_for_job(client, admin, submit(client, admin, f"/api/interview/{interview_id}/evaluations", body).get_json()["job_id"])
    assert job["status"] == "succeeded" and job["http_status"] == 201, job
    assert job["result"]["evaluation"]["candidate_id"] == "CAND-1"
    assert job["links"]["evaluation"] == f"/api/evaluations/{job['result']['evaluation']['id']}"
    with app.app_context():  # candidate answers are not kept on the job once it ended
        assert db.session.get(Job, job["job_id"]).request is None


def test_manual_scoring_ignores_the_preference_and_answers_at_once(client, admin, claude):
    jd = enhance(client, admin, claude, "REQ-M1")
    claude.reply_json(interview_kit())
    interview = client.post("/api/interview/generate", json={"req_id": "REQ-M1", "job_description_id": jd["job_description_id"]}, headers=admin).get_json()
    body = {"candidate_id": "CAND-2", "mode": "manual", "scores": [{"question_number": 1, "checked_criteria": []}]}
    response = client.post(f"/api/interview/{interview['interview_id']}/evaluations", json=body, headers={**admin, **ASYNC})
    assert response.status_code == 201
    assert "Preference-Applied" not in response.headers


def test_failures_end_the_job_with_the_synchronous_status_and_envelope(client, admin, claude):
    # Overloaded on every attempt (the SDK retries twice): 503 synchronously.
    for _ in range(3):
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    synchronous = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-F1"), headers=admin)
    for _ in range(3):
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    job = wait_for_job(client, admin, submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-F2")).get_json()["job_id"])

    assert synchronous.status_code == 503
    assert job["status"] == "failed" and job["http_status"] == 503 and job["result"] is None
    expected = synchronous.get_json()
    assert list(job["error"]) == list(expected)
    assert job["error"]["success"] is False and job["error"]["req_id"] == "REQ-F2"
    assert job["error"]["error"].split("(Anthropic")[0] == expected["error"].split("(Anthropic")[0]


def test_bad_output_fails_the_job_with_502_and_a_failed_audit_row(client, admin, claude, app):
    claude.reply_json({"nonsense": True}).reply_json({"still": "nonsense"})
    job = wait_for_job(client, admin, submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-F3")).get_json()["job_id"])
    assert job["status"] == "failed" and job["http_status"] == 502
    with app.app_context():
        [log] = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job["job_id"])).all()
        assert log.status == "failed" and log.error_kind == "claude_bad_output"
    assert count_rows(app, JobDescription) == 0


@pytest.mark.parametrize("case", ["invalid", "conflict", "unknown_jd", "viewer", "no_key", "callback_without_async"])
def test_what_the_synchronous_call_refuses_up_front_is_refused_at_once(client, admin, claude, make_key, app, case):
    if case == "invalid":
        response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-V1", basic_title=""), headers={**admin, **ASYNC})
        assert_error(response, 400, "basic_title")
    elif case == "conflict":
        enhance(client, admin, claude, "REQ-V2")
        response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-V2"), headers={**admin, **ASYNC})
        assert_error(response, 409)
    elif case == "unknown_jd":
        response = client.post("/api/interview/generate", json={"req_id": "REQ-V3", "job_description_id": 999}, headers={**admin, **ASYNC})
        assert_error(response, 404)
    elif case == "viewer":
        response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-V4"), headers={**make_key("viewer"), **ASYNC})
        assert_error(response, 403)
    elif case == "no_key":
        response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-V5"), headers=ASYNC)
        assert_error(response, 401)
    else:
        response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-V6", callback_url="https://93.184.215.14/h"), headers=admin)
        assert_error(response, 400, "callback_url")
    assert count_rows(app, Job) == 0
    assert "Preference-Applied" not in response.headers


def test_a_token_budget_refuses_the_job_synchronously(app_factory, make_key, claude):
    app = app_factory(TOKEN_BUDGET_DAILY=1000)
    client = app.test_client()
    with app.app_context():
        from services.api_keys import create_api_key

        _, key = create_api_key(name="budget", role="admin")
    response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-B1"), headers={"Authorization": f"Bearer {key}", **ASYNC})
    body = assert_error(response, 429)
    assert body["budget"]["limit"] == 1000
    assert count_rows(app, Job) == 0 and claude.calls == 0


def test_idempotency_key_replays_the_same_job(client, admin, claude, app):
    claude.reply_json(enhanced_jd())
    headers = {**admin, "Idempotency-Key": "async-key-1"}
    first = submit(client, headers, "/api/interview/jd/enhance", enhance_body("REQ-I1"))
    replay = submit(client, headers, "/api/interview/jd/enhance", enhance_body("REQ-I1"))
    assert replay.get_json()["job_id"] == first.get_json()["job_id"]
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["Location"] == first.headers["Location"]
    assert replay.headers["Preference-Applied"] == "respond-async"
    wait_for_job(client, admin, first.get_json()["job_id"])
    assert count_rows(app, Job) == 1 and claude.calls == 1


def test_cancel_a_queued_job_and_refuse_to_cancel_a_running_one(app_factory, admin, claude):
    app = app_factory(JOB_EMBEDDED_THREADS=1)
    client = app.test_client()
    claude.reply_json(enhanced_jd(), delay=1.5)
    running = submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-C1")).get_json()["job_id"]
    queued = submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-C2")).get_json()["job_id"]
    wait_for_job(client, admin, running, until=("running",))

    canceled = client.post(f"/api/jobs/{queued}/cancel", headers=admin)
    refused = client.post(f"/api/jobs/{running}/cancel", headers=admin)

    assert canceled.status_code == 200, canceled.get_json()
    job = canceled.get_json()["job"]
    assert job["status"] == "canceled" and job["http_status"] == 409 and job["error"]["success"] is False
    assert_error(refused, 409)
    assert wait_for_job(client, admin, running)["status"] == "succeeded"
    assert client.post(f"/api/jobs/{queued}/cancel", headers=admin).status_code == 409
    time.sleep(0.3)  # the canceled job's message reached the pool's only thread: it must not run
    assert wait_for_job(client, admin, queued)["status"] == "canceled"
    assert claude.calls == 1 and count_rows(app, JobDescription) == 1


def test_a_caller_sees_only_its_own_jobs_unless_admin(client, admin, make_key, claude):
    owner, other, viewer = make_key("recruiter"), make_key("recruiter"), make_key("viewer")
    claude.reply_json(enhanced_jd())
    job_id = submit(client, owner, "/api/interview/jd/enhance", enhance_body("REQ-O1")).get_json()["job_id"]
    wait_for_job(client, owner, job_id)

    assert_error(client.get(f"/api/jobs/{job_id}", headers=other), 404)
    assert_error(client.post(f"/api/jobs/{job_id}/cancel", headers=other), 404)
    assert_error(client.get(f"/api/jobs/{job_id}/deliveries", headers=other), 404)
    assert_error(client.get(f"/api/jobs/{job_id}", headers=viewer), 404)
    assert client.get(f"/api/jobs/{job_id}", headers=admin).status_code == 200
    assert client.get("/api/jobs", headers=other).get_json()["jobs"] == []
    assert [j["job_id"] for j in client.get("/api/jobs", headers=admin).get_json()["jobs"]] == [job_id]
    assert_error(client.post(f"/api/jobs/{job_id}/cancel", headers=viewer), 403)
    assert_error(client.get("/api/jobs/job_unknown", headers=admin), 404)


def test_list_filters_by_requisition_and_status_with_cursor_pagination(client, admin, claude):
    ids = []
    for n in range(5):
        claude.reply_json(enhanced_jd())
        ids.append(submit(client, admin, "/api/interview/jd/enhance", enhance_body(f"REQ-L{n % 2}", replace=True)).get_json()["job_id"])
        wait_for_job(client, admin, ids[-1])
    first = client.get("/api/jobs?limit=2", headers=admin).get_json()
    second = client.get(f"/api/jobs?limit=2&cursor={first['next_cursor']}", headers=admin).get_json()
    third = client.get(f"/api/jobs?limit=2&cursor={second['next_cursor']}", headers=admin).get_json()
    assert [j["job_id"] for j in first["jobs"] + second["jobs"] + third["jobs"]] == ids[::-1]
    assert third["next_cursor"] is None
    by_req = client.get("/api/jobs?req_id=REQ-L1", headers=admin).get_json()["jobs"]
    assert [j["job_id"] for j in by_req] == [ids[3], ids[1]]
    assert client.get("/api/jobs?status=failed", headers=admin).get_json()["jobs"] == []
    assert len(client.get("/api/jobs?status=succeeded", headers=admin).get_json()["jobs"]) == 5
    assert_error(client.get("/api/jobs?status=done", headers=admin), 400, "status")
    assert_error(client.get("/api/jobs?cursor=not-a-cursor", headers=admin), 400, "cursor")


def test_a_running_job_reports_its_step(app_factory, admin, claude):
    app = app_factory(ENABLE_QUESTION_CACHE=True)
    client = app.test_client()
    from tests.stub_messages_api import fill_slots, filled_questions, interview_plan

    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd())
    claude.reply_for_schema("InterviewPlan", interview_plan(["Kafka consumer lag", "Idempotent refunds", "Postgres locks",
                                                             "Incident review", "API versioning"]))
    claude.reply_for_schema("InterviewQuestions", lambda body: filled_questions(fill_slots(body)), delay=0.6)
    job_id = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-S1")).get_json()["job_id"]
    seen = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]
        seen.add(job["step"])
        if job["status"] == "succeeded":
            break
        time.sleep(0.05)
    assert job["status"] == "succeeded", job
    assert job["step"] is None
    assert any(step and step.startswith("filling ") and step.endswith(" of 5") for step in seen), seen


def test_a_job_whose_worker_died_is_redone_without_paying_twice(client, admin, claude, app):
    """The sweep takes a running job whose heartbeat stopped, and the redo reuses what was stored."""
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 10})
    enhanced = wait_for_job(client, admin, submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-R1")).get_json()["job_id"])
    # Make it look as if its worker died after storing the job description, before the job ended.
    with app.app_context():
        job = db.session.get(Job, enhanced["job_id"])
        job.status, job.result_body, job.result_status, job.finished_at = "running", None, None, None
        job.heartbeat_at = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)
        log = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job.id)).one()
        log.status = "in_progress"
        db.session.commit()
    app.extensions["job_queue"].sweep_once()  # (or the pool's own sweep thread, whichever comes first)

    redone = wait_for_job(client, admin, enhanced["job_id"])
    assert redone["status"] == "succeeded" and redone["attempts"] == 2
    assert redone["result"] == enhanced["result"]  # rebuilt from the stored row and its audit: same tokens
    assert claude.calls == 1 and count_rows(app, JobDescription) == 1
    with app.app_context():
        assert db.session.scalars(db.select(GenerationLog.status).where(GenerationLog.job_id == job.id)).all() == ["success"]


def test_a_job_past_its_attempts_or_timeout_is_failed_never_left_running(client, admin, app):
    with app.app_context():
        old = utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)
        for job_id, attempts, started in (("job_" + "a" * 32, 3, old), ("job_" + "b" * 32, 1, utcnow() - timedelta(hours=2))):
            db.session.add(Job(id=job_id, operation="jd_enhancement", method="POST", path="/api/interview/jd/enhance",
                               owner_user_id="apikey:0", owner_role="admin", req_id="REQ-T1", request={"body": enhance_body("REQ-T1"), "args": {}},
                               status="running", attempts=attempts, max_attempts=3, created_at=started, started_at=started,
                               heartbeat_at=old))
        db.session.commit()
    app.config["JOB_TIMEOUT_SECONDS"] = 3600
    counts = app.extensions["job_queue"].sweep_once()
    assert counts["failed"] == 2
    lost, timed_out = (client.get(f"/api/jobs/job_{c * 32}", headers=admin).get_json()["job"] for c in "ab")
    assert lost["status"] == "failed" and lost["http_status"] == 503 and "stopped 3 times" in lost["error"]["error"]
    assert timed_out["status"] == "failed" and timed_out["http_status"] == 504
    assert count_rows(app, Interview) == 0


def test_the_same_idempotency_key_without_the_preference_is_another_request(client, admin, claude):
    claude.reply_json(enhanced_jd())
    headers = {**admin, "Idempotency-Key": "async-key-2"}
    job_id = submit(client, headers, "/api/interview/jd/enhance", enhance_body("REQ-I2")).get_json()["job_id"]
    wait_for_job(client, admin, job_id)
    assert_error(client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I2"), headers=headers), 422)


def test_metrics_count_jobs_by_status_and_time_them(client, admin, claude):
    claude.reply_json(enhanced_jd())
    wait_for_job(client, admin, submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-P1")).get_json()["job_id"])
    text = client.get("/metrics").get_data(as_text=True)
    assert 'techscreen_jobs{status="succeeded"} 1.0' in text
    assert 'techscreen_jobs{status="queued"} 0.0' in text
    assert 'techscreen_jobs_finished_total{operation="jd_enhancement",status="succeeded"}' in text
    assert 'techscreen_job_queue_wait_seconds_count{operation="jd_enhancement"}' in text
    assert 'techscreen_job_run_seconds_count{operation="jd_enhancement",outcome="succeeded"}' in text


def _with_webhook_secret(app, headers, url=None):
    from services.webhooks import set_webhook
    from tests.helpers import api_key_id

    with app.app_context():
        return set_webhook(api_key_id(app, headers), url=url, encryption_key=app.config["WEBHOOK_ENCRYPTION_KEY"],
                           allowed_hosts=app.config["WEBHOOK_ALLOWED_HOSTS"])[1]


@pytest.mark.parametrize("url, reason", [
    ("https://10.0.0.7/hook", "private"),
    ("https://127.0.0.1/hook", "loopback"),
    ("https://169.254.169.254/latest/meta-data", "metadata"),
    ("https://[::1]/hook", "loopback"),
    ("http://93.184.215.14/hook", "http"),
    ("https://user:pw@93.184.215.14/hook", "userinfo"),
    ("ftp://93.184.215.14/hook", "https"),
])
def test_a_callback_url_that_could_reach_inside_is_refused_before_a_job_is_stored(client, admin, app, claude, url, reason):
    _with_webhook_secret(app, admin)
    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-X1", callback_url=url), headers={**admin, **ASYNC})
    body = assert_error(response, 400, "callback_url")
    assert reason in body["errors"]["callback_url"][0].lower() or reason in body["error"].lower(), body
    assert count_rows(app, Job) == 0 and claude.calls == 0


def test_a_callback_needs_a_key_with_a_webhook_secret(client, admin, app, claude):
    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-X2", callback_url="https://93.184.215.14/hook"),
                           headers={**admin, **ASYNC})
    body = assert_error(response, 400, "callback_url")
    assert "set-webhook" in body["errors"]["callback_url"][0]
    assert count_rows(app, Job) == 0


def test_an_embedded_job_posts_its_signed_end_to_the_callback_and_records_each_attempt(app_factory, admin, claude, httpserver):
    from standardwebhooks import Webhook, WebhookVerificationError
    from werkzeug import Response

    app = app_factory(WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    client = app.test_client()
    secret = _with_webhook_secret(app, admin, url=httpserver.url_for("/default"))
    received = []

    def answer(request):
        received.append((request.get_data(), dict(request.headers)))
        return Response(status=500 if len(received) < 3 else 200)

    httpserver.expect_request("/default", method="POST").respond_with_handler(answer)
    for _ in range(3):  # the failure's webhook: job.failed
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    job_id = submit(client, admin, "/api/interview/jd/enhance", enhance_body("REQ-X3")).get_json()["job_id"]
    job = wait_for_job(client, admin, job_id)
    deadline = time.monotonic() + 20
    while len(received) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert job["status"] == "failed" and job["callback_url"] == httpserver.url_for("/default")
    assert len(received) == 3
    payload = Webhook(secret).verify(received[-1][0], received[-1][1])
    assert payload["type"] == "job.failed" and payload["data"]["http_status"] == 503
    assert payload["data"]["error"] == job["error"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(received[-1][0], received[-1][1])
    deadline = time.monotonic() + 5
    while True:
        deliveries = client.get(f"/api/jobs/{job_id}/deliveries", headers=admin).get_json()["deliveries"]
        if deliveries[0]["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    [delivery] = deliveries
    assert delivery["status"] == "delivered" and delivery["event_type"] == "job.failed"
    assert [(a["attempt"], a["outcome"], a["status_code"]) for a in delivery["attempt_log"]] == [
        (1, "http_error", 500), (2, "http_error", 500), (3, "delivered", 200)]
    assert {headers["Webhook-Id"] for _, headers in received} == {delivery["message_id"]}


def test_erasing_a_candidate_erases_their_scoring_jobs(client, admin, claude, app):
    jd = enhance(client, admin, claude, "REQ-G1")
    claude.reply_json(interview_kit())
    interview_id = client.post("/api/interview/generate", json={"req_id": "REQ-G1", "job_description_id": jd["job_description_id"]},
                               headers=admin).get_json()["interview_id"]
    claude.reply_json(assessment({1: [(f"Criterion 1.{i}", False, "") for i in range(1, 9)]}))
    body = {"candidate_id": "CAND-ERASE", "mode": "ai", "answers": [{"question_number": 1, "answer_text": "An answer."}]}
    job_id = submit(client, admin, f"/api/interview/{interview_id}/evaluations", body).get_json()["job_id"]
    assert wait_for_job(client, admin, job_id)["status"] == "succeeded"

    erased = client.delete("/api/candidates/CAND-ERASE", headers=admin)

    assert erased.status_code == 200 and erased.get_json()["deleted"] == 1
    assert_error(client.get(f"/api/jobs/{job_id}", headers=admin), 404)
    assert count_rows(app, Job) == 0


def test_a_job_running_past_its_timeout_is_failed_even_with_a_live_heartbeat(client, admin, app):
    with app.app_context():
        started = utcnow() - timedelta(seconds=120)
        db.session.add(Job(id="job_" + "c" * 32, operation="jd_enhancement", method="POST", path="/api/interview/jd/enhance",
                           owner_user_id="apikey:0", owner_role="admin", req_id="REQ-T2", request={"body": enhance_body("REQ-T2"), "args": {}},
                           status="running", attempts=1, max_attempts=3, created_at=started, started_at=started, heartbeat_at=utcnow()))
        db.session.commit()
    app.config["JOB_TIMEOUT_SECONDS"] = 60
    assert app.extensions["job_queue"].sweep_once()["failed"] == 1
    job = client.get("/api/jobs/job_" + "c" * 32, headers=admin).get_json()["job"]
    assert job["status"] == "failed" and job["http_status"] == 504


@pytest.mark.parametrize("setting, value", [("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1,not a host!"), ("WEBHOOK_ENCRYPTION_KEY", "not-a-fernet-key")])
def test_unusable_webhook_settings_stop_startup_naming_the_setting(app_factory, setting, value):
    from config import ConfigError

    with pytest.raises(ConfigError, match=setting):
        app_factory(**{setting: value})


def _generate_body(client, admin, claude, req_id):
    jd = enhance(client, admin, claude, req_id)
    return {"req_id": req_id, "job_description_id": jd["job_description_id"]}


def _make_stale(app, job_id):
    """Age the job's heartbeat past JOB_STALE_SECONDS (its live worker's next beat will find it gone)."""
    with app.app_context():
        db.session.execute(db.update(Job).where(Job.id == job_id).values(
            heartbeat_at=utcnow() - timedelta(seconds=app.config["JOB_STALE_SECONDS"] + 1)))
        db.session.commit()


def test_an_attempt_the_sweep_gave_up_on_stores_nothing_when_it_finishes(app_factory, admin, claude):
    """A live but late first attempt and its redo: one interview, stored by the redo."""
    app = app_factory(JOB_EMBEDDED_THREADS=2)
    client = app.test_client()
    body = _generate_body(client, admin, claude, "REQ-K1")
    claude.reply_json(interview_kit(), delay=2.0, usage={"input_tokens": 111, "output_tokens": 1})
    claude.reply_json(interview_kit(), usage={"input_tokens": 222, "output_tokens": 2})
    job_id = submit(client, admin, "/api/interview/generate", body).get_json()["job_id"]
    deadline = time.monotonic() + 10
    while claude.calls < 2 and time.monotonic() < deadline:  # the first attempt is waiting on Claude
        time.sleep(0.02)
    for _ in range(20):  # the live attempt beats every 0.5 s: age it and sweep at once (or the pool's sweep does)
        _make_stale(app, job_id)
        app.extensions["job_queue"].sweep_once()
        seen = client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]
        if seen["status"] == "queued" or seen["attempts"] == 2:  # taken from the first attempt
            break
    else:
        pytest.fail("the sweep never took the job")

    job = wait_for_job(client, admin, job_id)
    time.sleep(2.5)  # the first attempt's late answer arrives and is refused

    assert job["status"] == "succeeded" and job["attempts"] == 2
    assert count_rows(app, Interview, req_id="REQ-K1") == 1
    assert job["result"]["tokens_used"] == 224
    with app.app_context():
        rows = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job_id).order_by(GenerationLog.id)).all()
        assert sorted((r.status, r.error_kind, r.tokens_used) for r in rows) == [("failed", "job_claim_lost", 112), ("success", None, 224)]
    assert client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]["usage"]["tokens_used"] == 336


def test_a_live_job_past_its_timeout_is_failed_once_and_its_late_result_discarded(app_factory, admin, claude, httpserver):
    app = app_factory(WEBHOOK_ALLOWED_HOSTS="127.0.0.1")
    client = app.test_client()
    _with_webhook_secret(app, admin)
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=204)
    body = {**_generate_body(client, admin, claude, "REQ-K2"), "callback_url": httpserver.url_for("/hook")}
    claude.reply_json(interview_kit(), delay=2.0)
    job_id = submit(client, admin, "/api/interview/generate", body).get_json()["job_id"]
    wait_for_job(client, admin, job_id, until=("running",))
    app.config["JOB_TIMEOUT_SECONDS"] = 0.5  # the pool's sweep thread (every 0.5 s) fails it

    job = wait_for_job(client, admin, job_id)
    time.sleep(2.5)  # the worker's answer arrives after the job ended

    assert job["status"] == "failed" and job["http_status"] == 504
    assert client.get(f"/api/jobs/{job_id}", headers=admin).get_json()["job"]["status"] == "failed"
    assert count_rows(app, Interview, req_id="REQ-K2") == 0
    deadline = time.monotonic() + 5
    while len(httpserver.log) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert [json.loads(request.get_data())["type"] for request, _ in httpserver.log] == ["job.failed"]


def test_a_scoring_job_fails_with_exactly_the_synchronous_envelope(client, admin, claude):
    body = _generate_body(client, admin, claude, "REQ-K3")
    claude.reply_json(interview_kit())
    interview_id = client.post("/api/interview/generate", json=body, headers=admin).get_json()["interview_id"]
    answers = {"candidate_id": "CAND-9", "mode": "ai", "answers": [{"question_number": 1, "answer_text": "An answer."}]}
    for _ in range(3):
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    synchronous = client.post(f"/api/interview/{interview_id}/evaluations", json=answers, headers=admin)
    for _ in range(3):
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
    job = wait_for_job(client, admin, submit(client, admin, f"/api/interview/{interview_id}/evaluations", answers).get_json()["job_id"])

    assert synchronous.status_code == job["http_status"] == 503
    assert set(job["error"]) == set(synchronous.get_json()) == {"success", "error"}


def test_a_job_is_refused_when_it_starts_over_budget_or_with_a_revoked_key(app_factory, claude):
    app = app_factory(JOB_EMBEDDED_THREADS=1, TOKEN_BUDGET_DAILY=1000,
                      BUDGET_RESERVE_TOKENS={"jd_enhancement": 100, "interview_generation": 100, "candidate_scoring": 100})
    client = app.test_client()
    with app.app_context():
        from services.api_keys import create_api_key, revoke_api_key

        _, spender = create_api_key(name="spender", role="admin")
        doomed_key, doomed = create_api_key(name="doomed", role="admin")
    spender, doomed = {"Authorization": f"Bearer {spender}"}, {"Authorization": f"Bearer {doomed}"}
    claude.reply_json(enhanced_jd(), delay=0.5, usage={"input_tokens": 900, "output_tokens": 50})
    first = submit(client, spender, "/api/interview/jd/enhance", enhance_body("REQ-K4")).get_json()["job_id"]
    second = submit(client, spender, "/api/interview/jd/enhance", enhance_body("REQ-K5")).get_json()["job_id"]
    third = submit(client, doomed, "/api/interview/jd/enhance", enhance_body("REQ-K6")).get_json()["job_id"]
    with app.app_context():
        revoke_api_key(doomed_key.id)

    assert wait_for_job(client, spender, first)["status"] == "succeeded"
    over = wait_for_job(client, spender, second)
    assert over["status"] == "failed" and over["http_status"] == 429 and over["error"]["budget"]["spent"] == 950
    with app.app_context():
        job = db.session.get(Job, third)
        deadline = time.monotonic() + 10
        while job.status not in ("failed", "succeeded") and time.monotonic() < deadline:
            time.sleep(0.05)
            db.session.commit()  # end the read: MariaDB's repeatable read would keep showing the old row
            db.session.refresh(job)
        assert job.status == "failed" and job.result_status == 401
    assert claude.calls == 1


def test_a_cursor_with_an_impossible_time_is_400(client, admin):
    import base64

    for raw in ("9999-12-31T23:59:59-23:59|x", "0001-01-01T00:00:00+23:59|x", "2026-01-01T00:00:00|x"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        assert_error(client.get(f"/api/jobs?cursor={cursor}", headers=admin), 400, "cursor")


def test_an_unreachable_broker_answers_503_and_keeps_no_job(app_factory, admin, claude):
    app = app_factory(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    client = app.test_client()
    started = time.monotonic()
    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-K7"), headers={**admin, **ASYNC})
    assert_error(response, 503)
    assert response.headers["Retry-After"] == "5"
    assert time.monotonic() - started < 15
    assert count_rows(app, Job) == 0 and claude.calls == 0


def test_openapi_documents_the_async_answers_and_the_job_routes(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/interview/jd/enhance", "/api/interview/generate", "/api/interview/workflow/full",
                 "/api/interview/workflow/create", "/api/interview/{interview_id}/evaluations"):
        operation = spec["paths"][path]["post"]
        accepted = operation["responses"]["202"]
        assert accepted["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/JobAccepted", path
        assert set(accepted["headers"]) == {"Location", "Preference-Applied"}, path
        assert "Prefer" in [p["name"] for p in operation["parameters"] if p["in"] == "header"], path
        body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert "callback_url" in spec["components"]["schemas"][body]["properties"], path
    assert set(spec["paths"]["/api/jobs/{job_id}"]) - {"parameters"} == {"get"}
    assert "post" in spec["paths"]["/api/jobs/{job_id}/cancel"] and "get" in spec["paths"]["/api/jobs/{job_id}/deliveries"]
    assert {"status", "req_id", "cursor", "limit"} <= {p["name"] for p in spec["paths"]["/api/jobs"]["get"]["parameters"]}
    job = spec["components"]["schemas"]["Job"]["properties"]
    assert {"job_id", "status", "step", "http_status", "result", "error", "usage", "links"} <= set(job)


def test_a_submission_reads_the_callers_key_once_in_one_database_session(client, admin, claude, app):
    """The budget check and the webhook settings share one read of the caller's api_keys row and one
    pooled connection (bench/README.md: each extra session cost a checkout, a ping and two rollbacks)."""
    import threading

    from sqlalchemy import event

    here = threading.get_ident()
    statements, checkouts = [], []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == here:  # the request's own thread, not the embedded pool's job
            statements.append(" ".join(statement.split()[:3]))

    def on_checkout(dbapi_connection, record, proxy):
        if threading.get_ident() == here:
            checkouts.append(record)

    client.get("/api/jobs", headers=admin)  # authenticates (and caches) the key first
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine.pool, "checkout", on_checkout)
    try:
        response = submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-ONE-READ"))
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine.pool, "checkout", on_checkout)
    assert wait_for_job(client, admin, response.get_json()["job_id"])["status"] == "succeeded"
    key_reads = [s for s in statements if s.startswith("SELECT api_keys.")]
    assert len(key_reads) == 1, statements
    assert any(s.startswith("INSERT INTO jobs") for s in statements), statements
    assert len(checkouts) == 1, statements


def test_a_first_attempt_ends_each_operation_in_the_commit_that_stores_its_entity(client, admin, claude, app):
    """An audited operation's end (status, tokens, cost) is written with its stored entity, in one
    transaction, and a first attempt looks up no earlier attempt's audit rows (bench/README.md:
    fewer commits per job)."""
    import threading

    from sqlalchemy import event

    here = threading.get_ident()
    statements = []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() != here:  # the job's thread(s), not the request's
            statements.append(" ".join(statement.split()[:3]))

    def on_commit(conn):
        if threading.get_ident() != here:
            statements.append("COMMIT")

    claude.reply_json(enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 10})
    claude.reply_json(interview_kit(), usage={"input_tokens": 200, "output_tokens": 20})
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    try:
        job = wait_for_job(client, admin, submit(client, admin, "/api/interview/workflow/full", workflow_body("REQ-ONE-END")).get_json()["job_id"])
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "commit", on_commit)
    assert job["status"] == "succeeded", job
    assert not [s for s in statements if s.startswith("SELECT generation_logs")], statements
    ends = [i for i, s in enumerate(statements) if s.startswith("UPDATE generation_logs")]
    assert len(ends) == 2, statements  # one per operation: the end, written once
    for end, entity in zip(ends, ("INSERT INTO job_descriptions", "INSERT INTO interviews")):
        transaction = statements[statements[:end].index(entity):end + 2]
        assert "COMMIT" not in transaction[:-1] and transaction[-1] == "COMMIT", statements
    with app.app_context():
        rows = db.session.scalars(db.select(GenerationLog).where(GenerationLog.job_id == job["job_id"]).order_by(GenerationLog.id)).all()
        assert [(r.operation_type, r.status, r.input_tokens, r.output_tokens, r.claude_calls) for r in rows] == [
            ("jd_enhancement", "success", 100, 10, 1), ("interview_generation", "success", 200, 20, 1)]
        assert all(r.completed_at is not None and r.latency_ms >= 0 and r.cost_usd > 0 for r in rows)
        assert rows[0].job_description_id is not None and rows[1].interview_id == job["result"]["interview_id"]
