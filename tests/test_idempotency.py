"""Idempotency-Key on POSTs that create something or call Claude: replay, mismatch, concurrency, scoping."""

import threading
from datetime import timedelta

from models import GenerationLog, IdempotencyKey, Interview, JobDescription, db, utcnow
from tests.helpers import count_rows, enhance_body, workflow_body
from tests.stub_messages_api import enhanced_jd, interview_kit


def test_a_repeated_key_with_the_same_body_replays_the_response_without_new_rows_or_claude_calls(client, admin, claude, app):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    headers = {**admin, "Idempotency-Key": "wf-1"}
    first = client.post("/api/interview/workflow/full", json=workflow_body("REQ-I1"), headers=headers)
    calls, logs = claude.calls, count_rows(app, GenerationLog)

    again = client.post("/api/interview/workflow/full", json=workflow_body("REQ-I1"), headers=headers)

    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert claude.calls == calls
    assert count_rows(app, GenerationLog) == logs
    assert count_rows(app, Interview) == 1


def test_the_same_key_with_a_different_body_is_refused_with_422(client, admin, claude):
    claude.reply_json(enhanced_jd())
    headers = {**admin, "Idempotency-Key": "enh-1"}
    client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I2"), headers=headers)

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I3"), headers=headers)

    assert response.status_code == 422
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert claude.calls == 1


def test_the_same_key_while_the_first_request_runs_is_refused_with_409(app, admin, claude):
    claude.reply_json(enhanced_jd(), delay=1.0)
    headers = {**admin, "Idempotency-Key": "slow-1"}
    started = threading.Event()
    claude.on_request = lambda body: started.set()
    results = {}

    def first():
        results["first"] = app.test_client().post("/api/interview/jd/enhance", json=enhance_body("REQ-I4"), headers=headers).status_code

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(5)
    second = app.test_client().post("/api/interview/jd/enhance", json=enhance_body("REQ-I4"), headers=headers)
    thread.join()

    assert second.status_code == 409
    assert "still being processed" in second.get_json()["error"]
    assert results["first"] == 200
    assert count_rows(app, JobDescription) == 1


def test_keys_are_scoped_to_the_api_key_that_sent_them(client, make_key, claude, app):
    claude.reply_json(enhanced_jd()).reply_json(enhanced_jd())
    one, other = make_key("recruiter"), make_key("recruiter")

    a = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I5"), headers={**one, "Idempotency-Key": "shared"})
    b = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I6"), headers={**other, "Idempotency-Key": "shared"})

    assert (a.status_code, b.status_code) == (200, 200)
    assert "Idempotent-Replayed" not in b.headers
    assert claude.calls == 2


def test_a_failed_upstream_call_releases_the_key_so_a_retry_runs_again(client, admin, claude):
    claude.reply_status(400, error_type="invalid_request_error")
    headers = {**admin, "Idempotency-Key": "retry-1"}
    assert client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I7"), headers=headers).status_code == 502
    claude.reply_json(enhanced_jd())

    retry = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I7"), headers=headers)

    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers


def test_a_client_error_is_replayed_like_any_answer(client, admin, claude):
    claude.reply_json(enhanced_jd())
    client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I8"), headers=admin)
    headers = {**admin, "Idempotency-Key": "conflict-1"}
    first = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I8"), headers=headers)

    again = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I8"), headers=headers)

    assert first.status_code == again.status_code == 409
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_key_older_than_24_hours_is_processed_again(client, admin, claude, app):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    jd_id = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I9"), headers=admin).get_json()["job_description_id"]
    headers = {**admin, "Idempotency-Key": "gen-1"}
    body = {"req_id": "REQ-I9", "job_description_id": jd_id}
    client.post("/api/interview/generate", json=body, headers=headers)
    with app.app_context():
        db.session.execute(db.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    claude.reply_json(interview_kit())

    again = client.post("/api/interview/generate", json=body, headers=headers)

    assert again.status_code == 200 and "Idempotent-Replayed" not in again.headers
    assert again.get_json()["interview"]["version"] == 2


def test_without_the_header_requests_behave_as_before(client, admin, claude, app):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit()).reply_json(interview_kit())
    jd_id = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I10"), headers=admin).get_json()["job_description_id"]
    body = {"req_id": "REQ-I10", "job_description_id": jd_id}

    versions = [client.post("/api/interview/generate", json=body, headers=admin).get_json()["interview"]["version"] for _ in range(2)]

    assert versions == [1, 2]
    assert count_rows(app, IdempotencyKey) == 0


def test_an_overlong_key_is_400(client, admin):
    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I11"), headers={**admin, "Idempotency-Key": "k" * 256})

    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["errors"]


def test_json_nested_too_deeply_with_a_key_is_400_not_500(client, admin, claude):
    raw = "[" * 50_000 + "]" * 50_000

    response = client.post("/api/interview/jd/enhance", data=raw, content_type="application/json",
                           headers={**admin, "Idempotency-Key": "deep-1"})

    assert response.status_code == 400
    assert "body" in response.get_json()["errors"]
    assert claude.calls == 0


def test_a_completed_request_deletes_expired_keys_of_every_caller(client, admin, make_key, claude, app):
    other = make_key("recruiter")
    claude.reply_json(enhanced_jd()).reply_json(enhanced_jd())
    client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I20"), headers={**other, "Idempotency-Key": "old-1"})
    with app.app_context():
        db.session.execute(db.update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    client.post("/api/interview/jd/enhance", json=enhance_body("REQ-I21"), headers={**admin, "Idempotency-Key": "new-1"})

    with app.app_context():
        assert db.session.scalars(db.select(IdempotencyKey.key)).all() == ["new-1"]
