"""Webhooks (services/webhooks.py): Standard Webhooks signatures, retries with backoff, the SSRF
guard and encrypted secrets, delivered over real HTTP to a pytest-httpserver receiver on loopback
(allow-listed with WEBHOOK_ALLOWED_HOSTS=127.0.0.1)."""

import json
import logging
import re
import socket
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from prometheus_client import REGISTRY
from pytest_httpserver import HTTPServer
from sqlalchemy import text
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from werkzeug import Response

from models import ApiKey, Job, WebhookAttempt, WebhookDelivery, db, utcnow
from services import webhooks
from services.api_keys import create_api_key, revoke_api_key
from services.errors import InvalidInput, NotFound
from services.jobs import new_job_id
from tests.helpers import assert_not_logged

# In the job's result: it must reach the receiver and never a log line.
MARKER = "result-marker-7f3a"
SECRET_PATTERN = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


@pytest.fixture(scope="module")
def receiver():
    """The integrator's endpoint: a real HTTP server on 127.0.0.1 (one per module, cleared per test)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def hook(receiver):
    receiver.clear()
    yield receiver
    receiver.clear()


@pytest.fixture
def wh_app(app_factory):
    return app_factory(WEBHOOK_ALLOWED_HOSTS="127.0.0.1")


def answering(*statuses):
    """A handler that records (body bytes, headers) and answers the statuses in turn (the last repeats)."""
    received = []

    def handler(request):
        received.append((request.get_data(), dict(request.headers)))
        return Response("ok", status=statuses[min(len(received), len(statuses)) - 1])

    handler.received = received
    return handler


def make_key(app, *, with_secret=True, url=None):
    """Create an API key (and its webhook secret); return (key id, plaintext secret or None)."""
    with app.app_context():
        key, _ = create_api_key(name="hooks", role="recruiter")
        secret = None
        if with_secret:
            _, secret = webhooks.set_webhook(
                key.id, url=url, encryption_key=app.config["WEBHOOK_ENCRYPTION_KEY"],
                allowed_hosts=app.config["WEBHOOK_ALLOWED_HOSTS"],
            )
        return key.id, secret


def make_delivery(app, url, *, key_id=None, status="succeeded", result_status=200, body=None):
    """Store an ended job of ``key_id`` and its delivery to ``url``; return (delivery id, job id)."""
    now = utcnow()
    body = body if body is not None else {"success": True, "req_id": "REQ-H1", "note": MARKER}
    with app.app_context():
        job = Job(
            id=new_job_id(), operation="jd_enhancement", method="POST", path="/api/interview/jd/enhance",
            owner_user_id=f"apikey:{key_id}", owner_role="recruiter", api_key_id=key_id, req_id="REQ-H1",
            request={"body": {}, "args": {}}, status=status, attempts=1, max_attempts=3, created_at=now, started_at=now,
            heartbeat_at=now, finished_at=now, result_status=result_status, result_body=json.dumps(body), callback_url=url,
        )
        db.session.add(job)
        deliveries = webhooks.create_deliveries(db.session, job, url=url)
        db.session.commit()
        return (deliveries[0].id if deliveries else None), job.id


def deliver_until_done(app, delivery_id, *, limit=10, config=None):
    """Call attempt_delivery as a worker would, sleeping each returned delay; return the delays."""
    delays = []
    with app.app_context():
        for _ in range(limit):
            delay = webhooks.attempt_delivery(delivery_id, config=config or app.config)
            if delay is None:
                return delays
            delays.append(delay)
            time.sleep(delay)
    raise AssertionError(f"delivery {delivery_id} still retrying after {limit} attempts: {delays}")


def delivery_row(app, delivery_id):
    with app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        db.session.expunge(delivery)
        return delivery


def attempt_rows(app, delivery_id):
    with app.app_context():
        return db.session.scalars(
            db.select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery_id).order_by(WebhookAttempt.id)
        ).all()


def counter(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def free_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- Delivery, signature, retries ------------------------------------------------------------------


def test_a_delivery_is_signed_so_standard_webhooks_verifies_it_and_another_secret_does_not(wh_app, hook, caplog):
    caplog.set_level(logging.INFO)
    handler = answering(204)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, secret = make_key(wh_app)
    delivery_id, job_id = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)

    assert deliver_until_done(wh_app, delivery_id) == []

    [(body, headers)] = handler.received
    payload = Webhook(secret).verify(body, headers)
    assert payload["type"] == "job.succeeded"
    assert payload["data"]["job_id"] == job_id and payload["data"]["status"] == "succeeded"
    assert payload["data"]["result"] == {"success": True, "req_id": "REQ-H1", "note": MARKER}
    assert payload["data"]["http_status"] == 200 and payload["data"]["links"]["self"] == f"/api/jobs/{job_id}"
    assert payload["timestamp"] == payload["data"]["finished_at"]
    assert body == json.dumps(payload, separators=(",", ":")).encode()  # compact; these exact bytes were signed
    delivery = delivery_row(wh_app, delivery_id)
    assert headers["Webhook-Id"] == delivery.message_id and re.fullmatch(r"msg_[0-9a-f]{32}", delivery.message_id)
    assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 60
    assert headers["Webhook-Signature"].startswith("v1,")
    assert headers["Content-Type"] == "application/json" and headers["User-Agent"] == "TechScreen-Webhooks/1"
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.generate_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"REQ-H1", b"REQ-H2"), headers)

    assert delivery.status == "delivered" and delivery.attempts == 1 and delivery.completed_at is not None
    assert delivery.next_attempt_at is None
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert (attempt.attempt, attempt.outcome, attempt.status_code, attempt.error) == (1, "delivered", 204, None)
    assert attempt.duration_ms >= 0
    assert_not_logged(caplog, secret, secret[len("whsec_"):], headers["Webhook-Signature"][3:], MARKER)


def test_a_receiver_failing_twice_gets_three_attempts_with_one_webhook_id_and_bounded_backoff(wh_app, hook):
    handler = answering(500, 500, 200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, secret = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    delivered_before = counter("techscreen_webhook_deliveries_total", status="delivered")
    http_errors_before = counter("techscreen_webhook_delivery_attempts_total", outcome="http_error")

    delays = deliver_until_done(wh_app, delivery_id)

    base, ceiling = wh_app.config["WEBHOOK_RETRY_BASE_SECONDS"], wh_app.config["WEBHOOK_RETRY_MAX_DELAY_SECONDS"]
    assert len(delays) == 2
    for attempt, delay in enumerate(delays, start=1):  # full jitter: anywhere in [0, min(max, base * 2^(n-1))]
        assert 0 <= delay <= min(ceiling, base * 2 ** (attempt - 1)) + 1e-9, delays
    assert len(handler.received) == 3
    assert len({headers["Webhook-Id"] for _, headers in handler.received}) == 1
    for body, headers in handler.received:
        assert Webhook(secret).verify(body, headers)["type"] == "job.succeeded"
    rows = attempt_rows(wh_app, delivery_id)
    assert [(r.attempt, r.outcome, r.status_code) for r in rows] == [
        (1, "http_error", 500), (2, "http_error", 500), (3, "delivered", 200)]
    assert rows[0].error == "HTTP 500"
    delivery = delivery_row(wh_app, delivery_id)
    assert delivery.status == "delivered" and delivery.attempts == 3
    assert counter("techscreen_webhook_deliveries_total", status="delivered") == delivered_before + 1
    assert counter("techscreen_webhook_delivery_attempts_total", outcome="http_error") == http_errors_before + 2


def test_a_failed_attempt_schedules_the_next_one_and_is_not_redone_before_it_is_due(wh_app, hook):
    handler = answering(503)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    with wh_app.app_context():
        before = utcnow()
        delay = webhooks.attempt_delivery(delivery_id, config=wh_app.config)
        pending = db.session.get(WebhookDelivery, delivery_id)
        assert pending.status == "pending" and pending.attempts == 1
        assert before <= pending.next_attempt_at <= utcnow() + timedelta(seconds=delay)
        pending.next_attempt_at = utcnow() + timedelta(hours=1)  # as if the jitter had drawn a long wait
        db.session.commit()
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is None
    assert len(handler.received) == 1


def test_next_retry_delay_stays_within_the_exponential_bounds_with_sub_second_settings():
    for attempts in range(1, 12):
        bound = min(1.0, 0.2 * 2 ** (attempts - 1))
        samples = [webhooks.next_retry_delay(attempts, base_seconds=0.2, max_seconds=1.0) for _ in range(200)]
        assert all(0 <= delay <= bound for delay in samples), (attempts, max(samples))
        assert max(samples) > 0  # milliseconds, not whole seconds rounded down to 0
    samples = [webhooks.next_retry_delay(30, base_seconds=10, max_seconds=3600) for _ in range(200)]
    assert all(0 <= delay <= 3600 for delay in samples) and max(samples) > 60


def test_a_redirect_is_not_followed(wh_app, hook):
    target = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_response(
        Response(status=302, headers={"Location": hook.url_for("/target")}))
    hook.expect_request("/target").respond_with_handler(target)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)

    with wh_app.app_context():
        delay = webhooks.attempt_delivery(delivery_id, config=wh_app.config)

    assert delay is not None  # retried, as any non-2xx
    assert target.received == [] and [request.path for request, _ in hook.log] == ["/hook"]
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert (attempt.outcome, attempt.status_code) == ("http_error", 302)
    assert "redirects are not followed" in attempt.error
    assert delivery_row(wh_app, delivery_id).status == "pending"


def test_a_huge_response_body_is_read_only_up_to_the_cap(app_factory, hook):
    # An endless 200 body: the attempt must stop reading at WEBHOOK_MAX_RESPONSE_BYTES, long before
    # the (generous) timeout would end it.
    app = app_factory(WEBHOOK_ALLOWED_HOSTS="127.0.0.1", WEBHOOK_TIMEOUT_SECONDS=30.0, WEBHOOK_MAX_RESPONSE_BYTES=4096)

    def endless(request):
        def chunks():
            while True:
                yield b"x" * 65536

        return Response(chunks(), status=200, mimetype="text/plain")

    hook.expect_request("/hook", method="POST").respond_with_handler(endless)
    key_id, _ = make_key(app)
    delivery_id, _ = make_delivery(app, hook.url_for("/hook"), key_id=key_id)

    started = time.monotonic()
    with app.app_context():
        assert webhooks.attempt_delivery(delivery_id, config=app.config) is None
    assert time.monotonic() - started < 15
    [attempt] = attempt_rows(app, delivery_id)
    assert (attempt.outcome, attempt.status_code) == ("delivered", 200)
    assert delivery_row(app, delivery_id).status == "delivered"


def test_a_closed_port_is_a_network_error_and_is_retried(wh_app):
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, f"http://127.0.0.1:{free_port()}/hook", key_id=key_id)
    errors_before = counter("techscreen_webhook_delivery_attempts_total", outcome="network_error")

    with wh_app.app_context():
        first = webhooks.attempt_delivery(delivery_id, config=wh_app.config)
        assert first is not None
        time.sleep(first)
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is not None

    rows = attempt_rows(wh_app, delivery_id)
    assert [(r.attempt, r.outcome, r.status_code) for r in rows] == [(1, "network_error", None), (2, "network_error", None)]
    assert rows[0].error.startswith("could not connect")
    delivery = delivery_row(wh_app, delivery_id)
    assert delivery.status == "pending" and delivery.attempts == 2
    assert counter("techscreen_webhook_delivery_attempts_total", outcome="network_error") == errors_before + 2


def test_a_delivery_past_its_retry_window_fails(wh_app, hook):
    handler = answering(500)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    with wh_app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        delivery.created_at = utcnow() - timedelta(hours=wh_app.config["WEBHOOK_RETRY_HOURS"], minutes=1)
        db.session.commit()
    failed_before = counter("techscreen_webhook_deliveries_total", status="failed")

    assert deliver_until_done(wh_app, delivery_id) == []

    assert len(handler.received) == 1
    delivery = delivery_row(wh_app, delivery_id)
    assert delivery.status == "failed" and delivery.completed_at is not None and delivery.next_attempt_at is None
    assert [(r.outcome, r.status_code) for r in attempt_rows(wh_app, delivery_id)] == [("http_error", 500)]
    assert counter("techscreen_webhook_deliveries_total", status="failed") == failed_before + 1


def test_a_stale_sending_claim_is_taken_over_and_a_fresh_one_is_left_alone(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    with wh_app.app_context():
        delivery = db.session.get(WebhookDelivery, delivery_id)
        delivery.status, delivery.attempts, delivery.next_attempt_at = "sending", 1, utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is None  # another worker is on it
        assert handler.received == []
        delivery.next_attempt_at = utcnow() - timedelta(minutes=6)  # ... and died
        db.session.commit()
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is None
    assert len(handler.received) == 1
    assert [(r.attempt, r.outcome) for r in attempt_rows(wh_app, delivery_id)] == [(2, "delivered")]
    assert delivery_row(wh_app, delivery_id).status == "delivered"
    with wh_app.app_context():  # over: a redelivered message finds nothing to do
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is None
    assert len(handler.received) == 1


def test_due_deliveries_lists_pending_due_and_stale_sending_ones(wh_app):
    key_id, _ = make_key(wh_app)
    now = utcnow()
    states = {
        "due": ("pending", now - timedelta(seconds=1)),
        "later": ("pending", now + timedelta(minutes=5)),
        "claimed": ("sending", now - timedelta(minutes=1)),
        "stale": ("sending", now - timedelta(minutes=6)),
        "done": ("delivered", None),
    }
    ids = {}
    for name, (status, next_attempt_at) in states.items():
        ids[name], _ = make_delivery(wh_app, "https://93.184.215.14/hook", key_id=key_id)
        with wh_app.app_context():
            delivery = db.session.get(WebhookDelivery, ids[name])
            delivery.status, delivery.next_attempt_at = status, next_attempt_at
            db.session.commit()
    with wh_app.app_context():
        due = webhooks.due_deliveries(db.session, now)
        assert sorted(due) == sorted([ids["due"], ids["stale"]])
        assert webhooks.due_deliveries(db.session, now, limit=1) == [ids["stale"]]  # the longest overdue first


def test_a_key_without_its_secret_fails_the_delivery_without_a_request(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    with wh_app.app_context():
        db.session.get(ApiKey, key_id).webhook_secret_encrypted = None
        db.session.commit()

    assert deliver_until_done(wh_app, delivery_id) == []

    assert handler.received == []
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert (attempt.outcome, attempt.status_code, attempt.error) == ("refused", None, "the API key has no webhook secret")
    assert delivery_row(wh_app, delivery_id).status == "failed"


def test_a_revoked_key_fails_the_delivery_without_a_request(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    with wh_app.app_context():
        revoke_api_key(key_id)

    assert deliver_until_done(wh_app, delivery_id) == []

    assert handler.received == []
    assert [(r.outcome, r.error) for r in attempt_rows(wh_app, delivery_id)] == [("refused", "the job's API key was revoked")]
    assert delivery_row(wh_app, delivery_id).status == "failed"


def test_the_url_is_checked_again_before_each_attempt_and_a_refusal_is_final(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    refused_before = counter("techscreen_webhook_delivery_attempts_total", outcome="refused")

    # the allow-list no longer names 127.0.0.1 (e.g. the operator removed it after the job was submitted)
    assert deliver_until_done(wh_app, delivery_id, config={**wh_app.config, "WEBHOOK_ALLOWED_HOSTS": ""}) == []

    assert handler.received == []
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert attempt.outcome == "refused" and "127.0.0.1" in attempt.error and "WEBHOOK_ALLOWED_HOSTS" in attempt.error
    assert delivery_row(wh_app, delivery_id).status == "failed"
    assert counter("techscreen_webhook_delivery_attempts_total", outcome="refused") == refused_before + 1


def test_settings_this_process_cannot_use_are_recorded_and_retried_not_failed(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)

    with wh_app.app_context():  # a worker started without WEBHOOK_ENCRYPTION_KEY cannot sign
        delay = webhooks.attempt_delivery(delivery_id, config={**wh_app.config, "WEBHOOK_ENCRYPTION_KEY": None})
    assert delay is not None and handler.received == []
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert attempt.outcome == "refused" and "WEBHOOK_ENCRYPTION_KEY" in attempt.error
    assert delivery_row(wh_app, delivery_id).status == "pending"
    time.sleep(delay)
    assert deliver_until_done(wh_app, delivery_id) == []  # once configured, the next attempt delivers
    assert len(handler.received) == 1 and delivery_row(wh_app, delivery_id).status == "delivered"


def test_a_host_that_stops_resolving_is_retried_as_a_network_error(wh_app, monkeypatch):
    key_id, _ = make_key(wh_app)
    delivery_id, _ = make_delivery(wh_app, "https://hooks.example.com/hook", key_id=key_id)

    monkeypatch.setattr(socket, "getaddrinfo", _fails_for("hooks.example.com", socket.EAI_AGAIN))
    with wh_app.app_context():
        assert webhooks.attempt_delivery(delivery_id, config=wh_app.config) is not None
    [attempt] = attempt_rows(wh_app, delivery_id)
    assert attempt.outcome == "network_error" and "does not resolve" in attempt.error
    assert delivery_row(wh_app, delivery_id).status == "pending"


def test_a_failed_job_sends_job_failed_with_its_error_and_other_ends_send_nothing(wh_app, hook):
    handler = answering(200)
    hook.expect_request("/hook", method="POST").respond_with_handler(handler)
    key_id, secret = make_key(wh_app)
    error = {"success": False, "error": "Claude is unavailable", "req_id": "REQ-H1"}
    delivery_id, _ = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id, status="failed", result_status=503, body=error)

    deliver_until_done(wh_app, delivery_id)

    payload = Webhook(secret).verify(*handler.received[0])
    assert payload["type"] == "job.failed" and payload["data"]["error"] == error and payload["data"]["result"] is None
    assert delivery_row(wh_app, delivery_id).event_type == "job.failed"
    for status in ("canceled", "running", "queued"):
        assert make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id, status=status)[0] is None
    with wh_app.app_context():
        job = db.session.get(Job, make_delivery(wh_app, None, key_id=key_id)[1])
        assert webhooks.create_deliveries(db.session, job, url=None) == []


def test_list_deliveries_shows_each_delivery_with_its_attempts(wh_app, hook):
    hook.expect_request("/hook", method="POST").respond_with_handler(answering(500, 200))
    key_id, _ = make_key(wh_app)
    delivery_id, job_id = make_delivery(wh_app, hook.url_for("/hook"), key_id=key_id)
    deliver_until_done(wh_app, delivery_id)

    with wh_app.app_context():
        [listed] = webhooks.list_deliveries(job_id)
    assert listed["delivery_id"] == delivery_id and listed["message_id"].startswith("msg_")
    assert (listed["event_type"], listed["url"], listed["status"], listed["attempts"]) == (
        "job.succeeded", hook.url_for("/hook"), "delivered", 2)
    assert listed["next_attempt_at"] is None and listed["created_at"] <= listed["completed_at"]
    assert [(a["attempt"], a["outcome"], a["status_code"], a["error"]) for a in listed["attempt_log"]] == [
        (1, "http_error", 500, "HTTP 500"), (2, "delivered", 200, None)]
    assert all(isinstance(a["duration_ms"], int) and a["started_at"].endswith("+00:00") for a in listed["attempt_log"])


@pytest.fixture(scope="module")
def tls_receiver(tmp_path_factory):
    """An https receiver on 127.0.0.1 whose self-signed certificate names only "localhost"; yields
    (server, path of the certificate as a CA file)."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    server = HTTPServer(host="127.0.0.1", ssl_context=context, threaded=True)
    server.start()
    yield server, str(folder / "cert.pem")
    server.clear()
    server.stop()


def test_tls_certificates_are_verified_against_the_host_name(app_factory, tls_receiver, monkeypatch):
    import ssl

    server, ca_file = tls_receiver
    server.clear()
    handler = answering(200)
    server.expect_request("/hook", method="POST").respond_with_handler(handler)
    app = app_factory(WEBHOOK_ALLOWED_HOSTS="localhost,127.0.0.1")
    key_id, secret = make_key(app)
    by_name, _ = make_delivery(app, f"https://localhost:{server.port}/hook", key_id=key_id)
    by_address, _ = make_delivery(app, f"https://127.0.0.1:{server.port}/hook", key_id=key_id)

    # The system CAs do not trust the self-signed certificate: no request is answered, retried.
    monkeypatch.setattr(webhooks, "_tls", None)
    with app.app_context():
        delay = webhooks.attempt_delivery(by_name, config=app.config)
    assert delay is not None
    [untrusted] = attempt_rows(app, by_name)
    assert untrusted.outcome == "network_error" and "certificate" in untrusted.error.lower(), untrusted.error

    # Trusted, it is reached by name through the vetted address (SNI and the check use the name) ...
    monkeypatch.setattr(webhooks, "_tls", ssl.create_default_context(cafile=ca_file))
    time.sleep(delay)
    assert deliver_until_done(app, by_name) == []
    assert delivery_row(app, by_name).status == "delivered"
    assert Webhook(secret).verify(*handler.received[0])["type"] == "job.succeeded"
    assert handler.received[0][1]["Host"] == f"localhost:{server.port}"
    # ... while the same server by address fails: the certificate does not name 127.0.0.1.
    with app.app_context():
        assert webhooks.attempt_delivery(by_address, config=app.config) is not None
    [mismatch] = attempt_rows(app, by_address)
    assert mismatch.outcome == "network_error" and "certificate" in mismatch.error.lower(), mismatch.error
    assert len(handler.received) == 1


# --- The SSRF guard --------------------------------------------------------------------------------


NOTHING_ALLOWED = webhooks.parse_allowed_hosts("")


@pytest.mark.parametrize(
    "url, why",
    [
        ("https://127.0.0.1/hook", "loopback"),
        ("https://localhost/hook", "loopback"),
        ("https://10.1.2.3/hook", "private"),
        ("https://172.16.0.1/hook", "private"),
        ("https://192.168.1.10/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "cloud metadata"),
        ("https://[::1]/hook", "loopback"),
        ("https://[fd00:ec2::254]/hook", "cloud metadata"),
        ("https://[fec0::1]/hook", "site-local"),
        ("https://100.64.0.1/hook", "CGNAT"),
        ("https://100.100.100.200/hook", "cloud metadata"),
        ("https://0.0.0.0/hook", "unspecified"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://[::ffff:10.0.0.1]/hook", "private"),
        ("https://169.254.1.1/hook", "link-local"),
        ("https://224.0.0.1/hook", "multicast"),
    ],
)
def test_callback_urls_reaching_internal_addresses_are_refused_without_an_allow_list(url, why):
    with pytest.raises(InvalidInput) as refused:
        webhooks.check_callback_url(url, NOTHING_ALLOWED)
    reason = refused.value.errors["callback_url"][0]
    assert why in reason and "WEBHOOK_ALLOWED_HOSTS" in reason, reason


@pytest.mark.parametrize(
    "url, allow",
    [
        ("https://localhost/hook", "localhost"),  # by host name
        ("https://127.0.0.1/hook", "127.0.0.1"),  # by address
        ("https://[::1]/hook", "[::1]"),
        ("https://10.1.2.3/hook", "10.0.0.0/8"),  # by CIDR
        ("https://[::ffff:10.1.2.3]/hook", "10.0.0.0/8"),
        ("https://192.168.1.10/hook", "hooks.internal, 192.168.0.0/16"),
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),  # plain http to an allow-listed host
        ("http://localhost:8080/hook", "LOCALHOST"),
        ("https://169.254.169.254/hook", "169.254.169.254"),  # a metadata address only when listed itself
    ],
)
def test_allow_listed_hosts_addresses_and_networks_are_accepted(url, allow):
    assert webhooks.check_callback_url(url, webhooks.parse_allowed_hosts(allow))


def test_a_metadata_address_is_not_allowed_through_a_network_or_a_host_name(monkeypatch):
    with pytest.raises(InvalidInput, match="cloud metadata"):
        webhooks.check_callback_url("https://169.254.169.254/hook", webhooks.parse_allowed_hosts("169.254.0.0/16"))
    monkeypatch.setattr(socket, "getaddrinfo", _resolves_to("169.254.169.254"))
    with pytest.raises(InvalidInput, match="resolves to 169.254.169.254, a cloud metadata address"):
        webhooks.check_callback_url("https://hooks.internal/hook", webhooks.parse_allowed_hosts("hooks.internal"))


def test_a_public_address_is_accepted_and_returned():
    assert webhooks.check_callback_url("https://93.184.215.14/hook", NOTHING_ALLOWED) == ("93.184.215.14",)


def test_every_address_a_host_resolves_to_is_checked(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _resolves_to("93.184.215.14", "10.0.0.5"))
    with pytest.raises(InvalidInput) as refused:
        webhooks.check_callback_url("https://hooks.example.com/hook", NOTHING_ALLOWED)
    assert refused.value.errors["callback_url"] == [
        "hooks.example.com resolves to 10.0.0.5, a private address; WEBHOOK_ALLOWED_HOSTS can allow it"]
    monkeypatch.setattr(socket, "getaddrinfo", _resolves_to("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"))
    assert webhooks.check_callback_url("https://hooks.example.com/hook", NOTHING_ALLOWED) == (
        "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")


def test_a_host_that_does_not_resolve_is_refused(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _fails_for("hooks.example.com", socket.EAI_NONAME))
    with pytest.raises(webhooks.UnresolvableHost, match="does not resolve"):
        webhooks.check_callback_url("https://hooks.example.com/hook", NOTHING_ALLOWED)


@pytest.mark.parametrize(
    "url, why",
    [
        ("http://93.184.215.14/hook", "plain http is accepted only for allow-listed hosts"),
        ("https://user:password@93.184.215.14/hook", "userinfo"),
        ("https://@93.184.215.14/hook", "userinfo"),
        ("ftp://93.184.215.14/hook", "absolute http(s) URL"),
        ("/hook", "absolute http(s) URL"),
        ("hooks.example.com/hook", "absolute http(s) URL"),
        ("https://93.184.215.14/" + "a" * 2048, "longer than 2048"),
        ("https://93.184.215.14:99999/hook", "invalid port"),
        ("https://127.1/hook", "canonical IP address"),
        ("https://0x7f000001/hook", "canonical IP address"),
        ("https://hooks example.com/hook", "spaces"),
        ("https://93.184.215.14\\@10.0.0.1/hook", "backslashes"),
    ],
)
def test_malformed_or_unsafe_urls_are_refused_with_a_clear_reason(url, why):
    with pytest.raises(InvalidInput) as refused:
        webhooks.check_callback_url(url, webhooks.parse_allowed_hosts("10.0.0.0/8"))
    assert why in refused.value.errors["callback_url"][0]


def test_parse_allowed_hosts_reads_names_addresses_and_networks_and_names_a_bad_entry():
    allowed = webhooks.parse_allowed_hosts(" 127.0.0.1, Hooks.Internal. ,10.0.0.0/8,, [::1] ")
    assert allowed.names == {"hooks.internal"}
    assert [str(network) for network in allowed.networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert webhooks.parse_allowed_hosts(None) == webhooks.parse_allowed_hosts("") == webhooks.AllowedHosts()
    for bad in ("https://hooks.internal", "hooks.internal:8443", "10.0.0.0/33", "hooks internal"):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            webhooks.parse_allowed_hosts(f"127.0.0.1,{bad}")


_REAL_GETADDRINFO = socket.getaddrinfo


def _resolves_to(*addresses):
    """A getaddrinfo under which every name ending in .example.com or .internal has ``addresses``
    (other names, e.g. the test database's, resolve as usual)."""

    def getaddrinfo(host, port, *args, **kwargs):
        if not str(host).endswith((".example.com", ".internal")):
            return _REAL_GETADDRINFO(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
            for address in addresses
        ]

    return getaddrinfo


def _fails_for(name, error):
    """A getaddrinfo that fails with ``error`` (socket.EAI_*) for ``name`` only."""

    def getaddrinfo(host, *args, **kwargs):
        if host == name:
            raise socket.gaierror(error, "name resolution failed")
        return _REAL_GETADDRINFO(host, *args, **kwargs)

    return getaddrinfo


# --- Secrets and the CLI ---------------------------------------------------------------------------


def test_the_secret_is_stored_encrypted_and_decrypts_back(wh_app):
    key_id, secret = make_key(wh_app, url="https://93.184.215.14/hook")
    assert SECRET_PATTERN.fullmatch(secret)
    with wh_app.app_context():
        stored = db.session.execute(
            text("SELECT webhook_secret_encrypted, webhook_url FROM api_keys WHERE id = :id"), {"id": key_id}).one()
        assert secret not in stored[0] and secret[len("whsec_"):] not in stored[0]
        assert webhooks.decrypt_secret(stored[0], wh_app.config["WEBHOOK_ENCRYPTION_KEY"]) == secret
        assert stored[1] == "https://93.184.215.14/hook"
        assert webhooks.webhook_settings(key_id, wh_app.config["WEBHOOK_ENCRYPTION_KEY"]) == (secret, "https://93.184.215.14/hook")


def test_set_webhook_replaces_the_secret_and_keeps_or_clears_the_url(wh_app):
    key = wh_app.config["WEBHOOK_ENCRYPTION_KEY"]
    key_id, first = make_key(wh_app, url="https://93.184.215.14/hook")
    with wh_app.app_context():
        _, second = webhooks.set_webhook(key_id, encryption_key=key, allowed_hosts="")
        assert second != first
        assert webhooks.webhook_settings(key_id, key) == (second, "https://93.184.215.14/hook")  # url omitted: kept
        webhooks.set_webhook(key_id, url="", encryption_key=key, allowed_hosts="")
        assert webhooks.webhook_settings(key_id, key)[1] is None


def test_set_webhook_refuses_unknown_and_revoked_keys_and_unsafe_urls(wh_app):
    key = wh_app.config["WEBHOOK_ENCRYPTION_KEY"]
    key_id, _ = make_key(wh_app, with_secret=False)
    with wh_app.app_context():
        with pytest.raises(InvalidInput, match="private address"):
            webhooks.set_webhook(key_id, url="https://10.0.0.1/hook", encryption_key=key, allowed_hosts="")
        assert db.session.get(ApiKey, key_id).webhook_secret_encrypted is None  # nothing stored
        with pytest.raises(NotFound):
            webhooks.set_webhook(999_999, encryption_key=key, allowed_hosts="")
        revoke_api_key(key_id)
        with pytest.raises(NotFound, match="revoked"):
            webhooks.set_webhook(key_id, encryption_key=key, allowed_hosts="")
        assert webhooks.webhook_settings(key_id, key) == (None, None)


def test_a_missing_or_bad_encryption_key_gives_a_clear_error(wh_app):
    key_id, _ = make_key(wh_app, with_secret=False)
    with wh_app.app_context():
        assert webhooks.webhook_settings(key_id, None) == (None, None)  # no secret: nothing to decrypt
        with pytest.raises(webhooks.WebhooksNotConfigured) as missing:
            webhooks.set_webhook(key_id, encryption_key=None, allowed_hosts="")
        assert missing.value.http_status == 400 and missing.value.kind == "webhooks_not_configured"
        assert "WEBHOOK_ENCRYPTION_KEY" in missing.value.message
        with pytest.raises(webhooks.WebhookKeyInvalid, match="WEBHOOK_ENCRYPTION_KEY is not a Fernet key"):
            webhooks.set_webhook(key_id, encryption_key="not-a-fernet-key", allowed_hosts="")
        webhooks.set_webhook(key_id, encryption_key=wh_app.config["WEBHOOK_ENCRYPTION_KEY"], allowed_hosts="")
        with pytest.raises(webhooks.WebhooksNotConfigured, match="WEBHOOK_ENCRYPTION_KEY"):
            webhooks.webhook_settings(key_id, None)
        with pytest.raises(webhooks.WebhookKeyInvalid, match="cannot be decrypted"):
            webhooks.webhook_settings(key_id, Fernet.generate_key().decode())


def test_the_encryption_key_can_be_rotated_with_a_comma_list():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = webhooks.encrypt_secret("whsec_abc", old)
    assert webhooks.decrypt_secret(token, f"{new},{old}") == "whsec_abc"
    assert webhooks.decrypt_secret(webhooks.encrypt_secret("whsec_abc", f"{new},{old}"), new) == "whsec_abc"


def test_cli_set_webhook_prints_the_secret_once_with_how_to_verify(wh_app):
    key_id, _ = make_key(wh_app, with_secret=False)
    result = wh_app.test_cli_runner().invoke(
        args=["api-keys", "set-webhook", str(key_id), "--url", "https://93.184.215.14/hook"])

    assert result.exit_code == 0, result.output
    secrets = SECRET_PATTERN.findall(result.output)
    assert len(secrets) == 1
    assert "Store it now; it cannot be shown again" in result.output
    assert "standardwebhooks.Webhook(secret).verify(body, headers)" in result.output
    with wh_app.app_context():
        assert webhooks.webhook_settings(key_id, wh_app.config["WEBHOOK_ENCRYPTION_KEY"]) == (
            secrets[0], "https://93.184.215.14/hook")


def test_cli_set_webhook_reports_errors_with_the_service_message(app_factory):
    app = app_factory(WEBHOOK_ENCRYPTION_KEY=None)
    key_id, _ = make_key(app, with_secret=False)
    runner = app.test_cli_runner()

    missing = runner.invoke(args=["api-keys", "set-webhook", str(key_id)])
    assert missing.exit_code == 1 and "WEBHOOK_ENCRYPTION_KEY" in missing.output and "whsec_" not in missing.output
    unknown = runner.invoke(args=["api-keys", "set-webhook", "999999"])
    assert unknown.exit_code == 1 and "API key 999999 not found" in unknown.output
    unsafe = app_factory().test_cli_runner().invoke(
        args=["api-keys", "set-webhook", str(key_id), "--url", "http://93.184.215.14/hook"])
    assert unsafe.exit_code == 1 and "plain http is accepted only for allow-listed hosts" in unsafe.output
