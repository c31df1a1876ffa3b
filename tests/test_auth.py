"""Authentication and roles through HTTP: API keys (Bearer or X-API-Key), revocation, read-only
roles, trusted gateway headers, the ``flask api-keys`` CLI, and keys kept out of the logs."""

import hashlib
import logging

import pytest
from sqlalchemy import text

from models import ApiKey, GenerationLog, Interview, JobDescription, db
from services.api_keys import create_api_key, revoke_api_key
from tests.helpers import (
    all_rows,
    assert_error,
    assert_not_logged,
    count_rows,
    enhance_body,
    workflow_body,
)
from tests.stub_messages_api import enhanced_jd, interview_kit

ENHANCE = "/api/interview/jd/enhance"
GENERATE = "/api/interview/generate"
FULL = "/api/interview/workflow/full"
CREATE = "/api/interview/workflow/create"


def protected_requests(interview_id=1, job_description_id=1, req_id="REQ-1"):
    """(method, path, json body) for every endpoint that needs credentials, with valid bodies."""
    return [
        ("post", ENHANCE, enhance_body(req_id)),
        ("post", GENERATE, {"req_id": req_id, "job_description_id": job_description_id}),
        ("post", FULL, workflow_body(req_id)),
        ("post", CREATE, workflow_body(req_id)),
        ("patch", f"/api/interview/{interview_id}", {"status": "published"}),
        ("get", f"/api/interview/{interview_id}", None),
        ("get", f"/api/interview/req/{req_id}", None),
        ("get", f"/api/interview/jd/{req_id}", None),
    ]


WRITES = [r for r in protected_requests() if r[0] != "get"]


def call(client, method, path, body=None, headers=None):
    kwargs = {"headers": headers or {}}
    if body is not None:
        kwargs["json"] = body
    return getattr(client, method)(path, **kwargs)


def new_key(app, role="admin", name=None):
    """Create a key directly; return (ApiKey, plaintext)."""
    with app.app_context():
        return create_api_key(name=name or f"key-{role}", role=role)


def seed_workflow(client, headers, claude, req_id="REQ-SEED"):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    response = client.post(FULL, json=workflow_body(req_id), headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- API keys ------------------------------------------------------------------------------

def test_no_credentials_is_401_with_www_authenticate_everywhere(client, claude, app):
    for method, path, body in protected_requests():
        response = call(client, method, path, body)

        error = assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
        assert "credentials" in error["error"]
    assert claude.calls == 0
    assert count_rows(app, JobDescription) == 0


def test_credentials_are_checked_before_the_body_so_an_anonymous_caller_learns_nothing(client, claude):
    response = client.post(FULL, json={"colour": "red"})

    error = assert_error(response, 401)
    assert "errors" not in error
    assert claude.calls == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer tsk_not-a-real-key"},
        {"X-API-Key": "tsk_not-a-real-key"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Token tsk_not-a-real-key"},
        {"X-API-Key": ""},
        {"X-API-Key": "x" * 10_000},
        {"Authorization": "Bearer " + "x" * 10_000},
    ],
    ids=["bearer", "x-api-key", "empty-bearer", "bare-bearer", "basic", "token-scheme", "empty-x-api-key", "huge-x-api-key", "huge-bearer"],
)
def test_bad_key_is_401(client, claude, headers):
    for method, path, body in protected_requests():
        response = call(client, method, path, body, headers)

        assert_error(response, 401)
        assert "WWW-Authenticate" in response.headers
    assert claude.calls == 0


def test_a_key_with_extra_characters_is_401(client, app):
    _, plaintext = new_key(app)

    for mangled in (plaintext + "x", plaintext[:-1], plaintext.upper(), " " + plaintext + "x"):
        assert_error(client.get("/api/interview/req/REQ-1", headers={"X-API-Key": mangled}), 401)


def test_revoked_key_is_401(client, app, claude):
    api_key, plaintext = new_key(app, "admin")
    bearer = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/interview/req/REQ-1", headers=bearer).status_code == 404  # authenticated

    with app.app_context():
        revoke_api_key(api_key.id)

    for headers in (bearer, {"X-API-Key": plaintext}):
        for method, path, body in protected_requests():
            assert_error(call(client, method, path, body, headers), 401)
    assert claude.calls == 0


def test_revoking_one_key_leaves_the_others_working(client, app):
    first, first_plain = new_key(app, "admin", "first")
    _, second_plain = new_key(app, "admin", "second")

    with app.app_context():
        revoke_api_key(first.id)

    assert client.get("/api/interview/req/REQ-1", headers={"X-API-Key": first_plain}).status_code == 401
    assert client.get("/api/interview/req/REQ-1", headers={"X-API-Key": second_plain}).status_code == 404


def test_x_api_key_header_works_as_well_as_bearer(client, app, claude):
    _, plaintext = new_key(app, "recruiter")
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())

    created = client.post(FULL, json=workflow_body("REQ-XKEY"), headers={"X-API-Key": plaintext})

    assert created.status_code == 200, created.get_json()
    interview_id = created.get_json()["interview_id"]
    for headers in ({"X-API-Key": plaintext}, {"Authorization": f"Bearer {plaintext}"}, {"Authorization": f"bearer {plaintext}"}):
        response = client.get(f"/api/interview/{interview_id}", headers=headers)
        assert response.status_code == 200, (headers, response.get_json())


def test_authenticated_writes_record_the_key_as_the_user(client, app, claude):
    api_key, plaintext = new_key(app, "recruiter")
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())

    created = client.post(FULL, json=workflow_body("REQ-WHO"), headers={"X-API-Key": plaintext}).get_json()

    user_id = f"apikey:{api_key.id}"
    assert [jd.created_by_user_id for jd in all_rows(app, JobDescription)] == [user_id]
    assert [i.created_by_user_id for i in all_rows(app, Interview)] == [user_id]
    assert {log.user_id for log in all_rows(app, GenerationLog)} == {user_id}
    assert created["interview_id"]
    with app.app_context():
        assert db.session.get(ApiKey, api_key.id).last_used_at is not None


# --- roles ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_read_only_roles_can_get_but_not_write(client, admin, make_key, claude, app, role):
    seeded = seed_workflow(client, admin, claude, "REQ-RO")
    reader = make_key(role)
    requests = protected_requests(seeded["interview_id"], seeded["job_description_id"], "REQ-RO")

    for method, path, body in requests:
        response = call(client, method, path, body, reader)
        if method == "get":
            assert response.status_code == 200, (path, response.get_json())
            assert response.get_json()["success"] is True
        else:
            error = assert_error(response, 403)
            assert role in error["error"], error
            assert "WWW-Authenticate" not in response.headers

    assert claude.calls == 2  # only the seeding workflow
    assert count_rows(app, JobDescription) == 1
    assert count_rows(app, Interview) == 1
    assert client.get(f"/api/interview/{seeded['interview_id']}", headers=reader).get_json()["interview"]["status"] == "draft"


@pytest.mark.parametrize("role", ["viewer", "auditor"])
def test_read_only_roles_get_403_even_for_invalid_bodies(client, make_key, claude, role):
    reader = make_key(role)

    for method, path, _ in WRITES:
        assert_error(call(client, method, path, {"colour": "red"}, reader), 403)
    assert claude.calls == 0


def test_recruiter_can_post_and_patch(client, recruiter, claude, app):
    claude.reply_json(enhanced_jd())
    enhanced = client.post(ENHANCE, json=enhance_body("REQ-REC"), headers=recruiter)
    assert enhanced.status_code == 200, enhanced.get_json()

    claude.reply_json(interview_kit())
    generated = client.post(
        GENERATE, json={"req_id": "REQ-REC", "job_description_id": enhanced.get_json()["job_description_id"]}, headers=recruiter
    )
    assert generated.status_code == 200, generated.get_json()

    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    for path, req_id in ((FULL, "REQ-REC-2"),):
        response = client.post(path, json=workflow_body(req_id), headers=recruiter)
        assert response.status_code == 200, response.get_json()

    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    created = client.post(CREATE, json=workflow_body("REQ-REC-3"), headers=recruiter)
    assert created.status_code == 200, created.get_json()

    patched = client.patch(f"/api/interview/{generated.get_json()['interview_id']}", json={"status": "published"}, headers=recruiter)
    assert patched.status_code == 200, patched.get_json()
    assert patched.get_json()["interview"]["status"] == "published"
    assert claude.calls == 6


# --- trusted headers -------------------------------------------------------------------------

@pytest.fixture
def trusted_app(app_factory, app):
    # ``app`` first: app_factory empties the tables through the first app it built.
    return app_factory(AUTH_MODE="trusted-headers")


@pytest.mark.parametrize("role_header", ["admin", "user", "USER", " Admin "])
def test_trusted_headers_authenticate_and_store_the_user_id(trusted_app, claude, role_header):
    client = trusted_app.test_client()
    headers = {"X-User-ID": "hr-alice@example.com", "X-User-Role": role_header}
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())

    created = client.post(FULL, json=workflow_body("REQ-GW"), headers=headers)

    assert created.status_code == 200, created.get_json()
    body = created.get_json()
    assert [jd.created_by_user_id for jd in all_rows(trusted_app, JobDescription)] == ["hr-alice@example.com"]
    assert [i.created_by_user_id for i in all_rows(trusted_app, Interview)] == ["hr-alice@example.com"]
    assert {log.user_id for log in all_rows(trusted_app, GenerationLog)} == {"hr-alice@example.com"}
    assert client.get(f"/api/interview/{body['interview_id']}", headers=headers).status_code == 200
    patched = client.patch(f"/api/interview/{body['interview_id']}", json={"status": "published"}, headers=headers)
    assert patched.status_code == 200, patched.get_json()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-User-ID": "hr-alice"},
        {"X-User-ID": "hr-alice", "X-User-Role": ""},
        {"X-User-ID": "hr-alice", "X-User-Role": "viewer"},
        {"X-User-ID": "hr-alice", "X-User-Role": "recruiter"},
        {"X-User-ID": "hr-alice", "X-User-Role": "root"},
        {"X-User-ID": "hr-alice", "X-User-Role": "admin,user"},
        {"X-User-Role": "admin"},
        {"X-User-ID": "   ", "X-User-Role": "admin"},
        {"X-User-ID": "u" * 65, "X-User-Role": "admin"},
        {},
    ],
    ids=["no-role", "empty-role", "viewer", "recruiter", "root", "role-list", "no-user", "blank-user", "long-user", "nothing"],
)
def test_trusted_headers_missing_or_unknown_role_or_user_is_401(trusted_app, claude, headers):
    client = trusted_app.test_client()

    for method, path, body in protected_requests():
        response = call(client, method, path, body, headers)

        assert_error(response, 401)
        assert "WWW-Authenticate" in response.headers
    assert claude.calls == 0


def test_trusted_headers_mode_ignores_api_keys(trusted_app, admin):
    client = trusted_app.test_client()

    assert_error(client.get("/api/interview/req/REQ-1", headers=admin), 401)
    assert_error(client.post(FULL, json=workflow_body(), headers=admin), 401)


def test_api_key_mode_ignores_trusted_headers(client, claude):
    headers = {"X-User-ID": "hr-mallory", "X-User-Role": "admin"}

    for method, path, body in protected_requests():
        assert_error(call(client, method, path, body, headers), 401)
    assert claude.calls == 0


def test_api_key_mode_ignores_trusted_headers_next_to_a_read_only_key(client, make_key, claude):
    viewer = {**make_key("viewer"), "X-User-ID": "hr-mallory", "X-User-Role": "admin"}

    assert_error(client.post(FULL, json=workflow_body(), headers=viewer), 403)
    assert claude.calls == 0


# --- the CLI ---------------------------------------------------------------------------------

def _create_with_cli(app, role="recruiter", name="greenhouse-sync", *extra):
    result = app.test_cli_runner().invoke(args=["api-keys", "create", "--role", role, "--name", name, *extra])
    assert result.exit_code == 0, (result.output, result.exception)
    plaintext = [line for line in result.output.splitlines() if line.strip()][-1].strip()
    return result, plaintext


def test_cli_create_prints_the_key_once_and_stores_only_its_digest(app, client):
    result, plaintext = _create_with_cli(app, "recruiter", "greenhouse-sync")

    assert plaintext.startswith("tsk_") and len(plaintext) > 40
    assert result.output.count(plaintext) == 1
    assert "greenhouse-sync" in result.output and "recruiter" in result.output
    with app.app_context():
        row = db.session.scalars(db.select(ApiKey).where(ApiKey.name == "greenhouse-sync")).one()
        assert row.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert row.role == "recruiter" and row.revoked_at is None
        stored = db.session.execute(text("SELECT * FROM api_keys")).all()
    cells = [str(cell) for stored_row in stored for cell in stored_row]
    assert not any(plaintext in cell for cell in cells), cells
    assert not any(plaintext[4:] in cell for cell in cells)  # not even without its prefix
    assert client.get("/api/interview/req/REQ-1", headers={"Authorization": f"Bearer {plaintext}"}).status_code == 404


def test_cli_created_key_has_its_role(app, client, claude):
    _, viewer_key = _create_with_cli(app, "viewer", "dashboard")

    response = client.post(FULL, json=workflow_body(), headers={"X-API-Key": viewer_key})

    assert_error(response, 403)
    assert claude.calls == 0


def test_cli_create_quiet_prints_only_the_key(app, client):
    result, plaintext = _create_with_cli(app, "admin", "ci-script", "--quiet")

    assert result.output.strip() == plaintext
    assert client.get("/api/interview/req/REQ-1", headers={"X-API-Key": plaintext}).status_code == 404


def test_cli_create_refuses_bad_role_and_name(app):
    runner = app.test_cli_runner()

    bad_role = runner.invoke(args=["api-keys", "create", "--role", "superuser", "--name", "x"])
    assert bad_role.exit_code != 0 and "superuser" in bad_role.output
    long_name = runner.invoke(args=["api-keys", "create", "--role", "admin", "--name", "n" * 101])
    assert long_name.exit_code != 0 and "name" in long_name.output
    missing = runner.invoke(args=["api-keys", "create", "--name", "x"])
    assert missing.exit_code != 0
    assert count_rows(app, ApiKey) == 0


def test_cli_list_shows_keys_but_never_the_key_itself(app):
    _, first = _create_with_cli(app, "admin", "first-key")
    _, second = _create_with_cli(app, "auditor", "second-key")

    result = app.test_cli_runner().invoke(args=["api-keys", "list"])

    assert result.exit_code == 0, result.output
    assert "first-key" in result.output and "second-key" in result.output
    assert "auditor" in result.output
    assert first not in result.output and second not in result.output
    for plaintext in (first, second):
        assert plaintext[12:] not in result.output  # at most the short prefix is shown
    assert len(result.output.strip().splitlines()) == 2


def test_cli_revoke_makes_the_key_fail_with_401(app, client):
    _, plaintext = _create_with_cli(app, "admin", "to-revoke")
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client.get("/api/interview/req/REQ-1", headers=headers).status_code == 404
    with app.app_context():
        key_id = db.session.scalars(db.select(ApiKey.id).where(ApiKey.name == "to-revoke")).one()

    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-keys", "revoke", str(key_id)])

    assert result.exit_code == 0, (result.output, result.exception)
    assert "to-revoke" in result.output
    assert_error(client.get("/api/interview/req/REQ-1", headers=headers), 401)
    assert_error(client.get("/api/interview/req/REQ-1", headers={"X-API-Key": plaintext}), 401)
    listed = runner.invoke(args=["api-keys", "list"]).output
    assert "revoked -" not in listed
    again = runner.invoke(args=["api-keys", "revoke", str(key_id)])  # idempotent
    assert again.exit_code == 0


def test_cli_revoke_unknown_id_fails(app):
    result = app.test_cli_runner().invoke(args=["api-keys", "revoke", "999999"])

    assert result.exit_code != 0
    assert "not found" in result.output


# --- keys stay out of the logs ----------------------------------------------------------------

def test_api_key_never_appears_in_debug_logs_of_a_failing_workflow(client, app, claude, caplog):
    _, plaintext = new_key(app, "admin")
    claude.reply_status(500, headers={"x-should-retry": "false"})
    caplog.set_level(logging.DEBUG)

    bearer = client.post(FULL, json=workflow_body("REQ-LOG-1"), headers={"Authorization": f"Bearer {plaintext}"})
    claude.reply_status(500, headers={"x-should-retry": "false"})
    x_api_key = client.post(FULL, json=workflow_body("REQ-LOG-2"), headers={"X-API-Key": plaintext})

    assert_error(bearer, 502)
    assert_error(x_api_key, 502)
    assert claude.calls == 2
    assert any(record.levelno >= logging.WARNING for record in caplog.records)  # the failure was logged
    assert_not_logged(caplog, plaintext)
    # Nor is the caller's key forwarded to Claude.
    forwarded = " ".join(f"{name}: {value}" for headers in claude.request_headers for name, value in headers.items())
    assert plaintext not in forwarded


def test_rejected_key_never_appears_in_debug_logs(client, app, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "tsk_wrong-key-that-must-not-be-logged-0123456789"
    _, revoked_plain = new_key(app, "admin")
    with app.app_context():
        revoke_api_key(db.session.scalars(db.select(ApiKey.id)).one())

    for headers in ({"Authorization": f"Bearer {wrong}"}, {"X-API-Key": wrong}, {"X-API-Key": revoked_plain}):
        assert_error(client.post(FULL, json=workflow_body(), headers=headers), 401)
        assert_error(client.get("/api/interview/1", headers=headers), 401)

    assert_not_logged(caplog, wrong, revoked_plain)
