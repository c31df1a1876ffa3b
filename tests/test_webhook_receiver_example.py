"""examples/webhook_receiver.py: verifies Standard Webhooks signatures, dedupes on webhook-id."""

import base64
import importlib.util
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks import Webhook

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "webhook_receiver.py"
_spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE)
receiver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver)


def new_secret():
    return "whsec_" + base64.b64encode(os.urandom(24)).decode()


SECRET = new_secret()
EVENT = {
    "type": "job.succeeded",
    "timestamp": "2026-11-21T19:43:06.796207+00:00",
    "data": {"job_id": "job_" + "0" * 32, "status": "succeeded", "http_status": 200, "result": {"success": True}},
}


def signed(body, *, secret=SECRET, message_id="msg_1", at=None):
    """Headers as the service sends them: webhook-id, webhook-timestamp, webhook-signature."""
    at = at or datetime.now(UTC)
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


@pytest.fixture
def handled():
    return []


@pytest.fixture
def receiver_app(handled):
    return receiver.create_app(SECRET, handle=lambda message_id, event: handled.append((message_id, event)))


def post(app, body, headers):
    response = app.test_client().post(receiver.PATH, data=body, headers=headers)
    app.extensions["webhook_work"].join()  # until the background thread has processed what was queued
    return response


def test_a_signed_event_is_acknowledged_and_processed_once(receiver_app, handled):
    body = json.dumps(EVENT)
    response = post(receiver_app, body, signed(body))
    assert response.status_code == 204
    assert handled == [("msg_1", EVENT)]


@pytest.mark.parametrize("case", ["tampered_body", "another_secret", "no_signature", "garbled_signature", "too_old"])
def test_an_event_not_signed_with_the_secret_is_refused_with_401(receiver_app, handled, case):
    body = json.dumps(EVENT)
    headers = signed(body)
    if case == "tampered_body":
        body = body.replace('"http_status": 200', '"http_status": 201')
    elif case == "another_secret":
        headers = signed(body, secret=new_secret())
    elif case == "no_signature":
        del headers["webhook-signature"]
    elif case == "garbled_signature":
        headers["webhook-signature"] = "v1"
    else:
        headers = signed(body, at=datetime.now(UTC) - timedelta(minutes=10))
    response = post(receiver_app, body, headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": "invalid signature"}
    assert handled == []


def test_a_repeated_webhook_id_is_acknowledged_without_being_processed_twice(receiver_app, handled):
    body = json.dumps(EVENT)
    first = post(receiver_app, body, signed(body, message_id="msg_retry"))
    # a retry of the same delivery: same webhook-id and body, a later timestamp and signature
    again = post(receiver_app, body, signed(body, message_id="msg_retry", at=datetime.now(UTC) + timedelta(seconds=30)))
    other = post(receiver_app, body, signed(body, message_id="msg_other"))
    assert (first.status_code, again.status_code, other.status_code) == (204, 204, 204)
    assert [message_id for message_id, _ in handled] == ["msg_retry", "msg_other"]


def test_a_forged_repeat_does_not_mark_the_id_as_seen(receiver_app, handled):
    body = json.dumps(EVENT)
    forged = post(receiver_app, body, signed(body, secret=new_secret(), message_id="msg_2"))
    genuine = post(receiver_app, body, signed(body, message_id="msg_2"))
    assert (forged.status_code, genuine.status_code) == (401, 204)
    assert [message_id for message_id, _ in handled] == ["msg_2"]


def test_the_secret_is_never_logged(caplog):
    app = receiver.create_app(SECRET)  # the example's own handler, which logs each event
    body = json.dumps(EVENT)
    with caplog.at_level("DEBUG"):
        post(app, body, signed(body, message_id="msg_3"))
        post(app, body, signed(body, message_id="msg_3"))
        post(app, body, signed(body, secret=new_secret(), message_id="msg_4"))
    logged = caplog.text
    assert f"msg_3 job.succeeded: job {EVENT['data']['job_id']} is succeeded (http_status 200)" in logged
    assert SECRET not in logged and SECRET.removeprefix("whsec_") not in logged
    assert '"result"' not in logged and "v1," not in logged
