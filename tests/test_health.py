"""Liveness and readiness probes, and how the API answers when the database is down."""

from datetime import datetime

import pytest

from tests.helpers import assert_error, enhance_body, workflow_body

UNREACHABLE_DB = "mysql+pymysql://root@127.0.0.1:1/none"


def parse_timestamp(value):
    stamp = datetime.fromisoformat(value)
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0, value  # aware UTC
    return stamp


def test_health_is_healthy_with_a_timestamp(client):
    response = client.get("/health")  # no credentials needed

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    parse_timestamp(body["timestamp"])


def test_readiness_reports_the_database_ok(client):
    response = client.get("/health/ready")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "healthy"
    assert body["database"] == "ok"
    parse_timestamp(body["timestamp"])


@pytest.fixture
def db_down(app_factory, app):
    """An app whose database refuses connections (``app`` is built first so the fixture's
    table clean-up runs against the real test database)."""

    def make(**overrides):
        return app_factory(SQLALCHEMY_DATABASE_URI=UNREACHABLE_DB, DB_CONNECT_TIMEOUT_SECONDS=1, **overrides)

    return make


def test_liveness_does_not_need_the_database(db_down):
    response = db_down().test_client().get("/health")

    assert response.status_code == 200
    assert response.get_json()["status"] == "healthy"


def test_readiness_is_503_when_the_database_is_unreachable(db_down):
    client = db_down().test_client()

    for _ in range(2):  # and stays a clean 503 on the next probe
        response = client.get("/health/ready")

        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unavailable"
        assert body["database"] == "unreachable"
        parse_timestamp(body["timestamp"])


def test_api_answers_503_envelope_not_500_when_the_database_is_unreachable(db_down, claude):
    client = db_down(AUTH_MODE="trusted-headers").test_client()
    headers = {"X-User-ID": "hr-alice", "X-User-Role": "admin"}

    requests = [
        ("get", "/api/interview/1", None),
        ("get", "/api/interview/req/REQ-1", None),
        ("get", "/api/interview/jd/REQ-1", None),
        ("patch", "/api/interview/1", {"status": "published"}),
        ("post", "/api/interview/generate", {"req_id": "REQ-1", "job_description_id": 1}),
        ("post", "/api/interview/jd/enhance", enhance_body("REQ-1")),
        ("post", "/api/interview/workflow/full", workflow_body("REQ-1")),
    ]
    for method, path, body in requests:
        kwargs = {"headers": headers} | ({"json": body} if body is not None else {})
        response = getattr(client, method)(path, **kwargs)

        error = assert_error(response, 503)
        assert "database" in error["error"].lower(), (method, path, error)
        assert response.headers.get("Retry-After"), (method, path)
    assert claude.calls == 0  # nothing is sent to Claude when the requisition cannot even be read


def test_api_key_auth_with_the_database_down_is_503_not_401_or_500(db_down, claude):
    client = db_down().test_client()

    response = client.get("/api/interview/1", headers={"Authorization": "Bearer tsk_some-key"})

    assert_error(response, 503)
    assert claude.calls == 0


def test_validation_still_answers_400_when_the_database_is_down(db_down, claude):
    client = db_down(AUTH_MODE="trusted-headers").test_client()

    response = client.post("/api/interview/workflow/full", json={"colour": "red"}, headers={"X-User-ID": "u", "X-User-Role": "admin"})

    assert_error(response, 400, "colour")
