"""Conditional GET on interview kits (routes/conditional.py): strong ETag, Last-Modified,
Cache-Control; If-None-Match answers 304 with no body; a PATCH changes the ETag at once, also
for another app instance (another worker or host) reading the same database."""

import hashlib
import os
import uuid
from datetime import timezone

import pytest
from werkzeug.http import parse_date

from tests.helpers import assert_error, workflow_body
from tests.stub_messages_api import enhanced_jd, interview_kit


def make_interview(client, headers, claude, req_id="REQ-ETAG"):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    response = client.post("/api/interview/workflow/full", json=workflow_body(req_id), headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["interview_id"]


def test_a_read_carries_a_strong_etag_of_its_body_last_modified_and_cache_control(client, admin, claude):
    interview_id = make_interview(client, admin, claude)
    response = client.get(f"/api/interview/{interview_id}", headers=admin)
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag == f'"{hashlib.sha1(response.data).hexdigest()}"'  # strong: no W/ prefix, the exact bytes
    assert response.headers["Cache-Control"] == "private, no-cache"
    created_at = response.get_json()["interview"]["created_at"]
    last_modified = parse_date(response.headers["Last-Modified"])
    assert last_modified.isoformat()[:19] == created_at[:19]  # to the second, in UTC
    # the same state reads the same ETag
    assert client.get(f"/api/interview/{interview_id}", headers=admin).headers["ETag"] == etag


def test_if_none_match_with_the_current_etag_answers_304_with_no_body(client, admin, claude):
    interview_id = make_interview(client, admin, claude)
    first = client.get(f"/api/interview/{interview_id}", headers=admin)
    etag = first.headers["ETag"]
    for validator in (etag, f'"other", {etag}', "*"):
        again = client.get(f"/api/interview/{interview_id}", headers={**admin, "If-None-Match": validator})
        assert again.status_code == 304, validator
        assert again.data == b""
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "private, no-cache"
        # RFC 9110 §15.4.5: a 304 repeats ETag and Cache-Control; werkzeug leaves out other metadata
        assert "Content-Type" not in again.headers or again.headers.get("Content-Length") in (None, "0")
    stale = client.get(f"/api/interview/{interview_id}", headers={**admin, "If-None-Match": '"not-the-current-one"'})
    assert stale.status_code == 200 and stale.get_json() == first.get_json()
    # Date is the server's to send (gunicorn does): the app adds none, on a 200, a 304 or a 200 after
    # a non-matching If-None-Match, so no answer carries two.
    assert "Date" not in first.headers and "Date" not in again.headers and "Date" not in stale.headers


def test_dates_are_not_preconditions_only_the_etag_is(client, admin, claude):
    """HTTP dates have 1 s resolution: a PATCH in the same second would look unchanged, so
    If-Modified-Since never answers 304 (and If-Unmodified-Since never 412)."""
    interview_id = make_interview(client, admin, claude)
    first = client.get(f"/api/interview/{interview_id}", headers=admin)
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert client.get(f"/api/interview/{interview_id}", headers={**admin, "If-Modified-Since": later}).status_code == 200
    assert client.get(f"/api/interview/{interview_id}", headers={**admin, "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status_code == 200
    both = {"If-Modified-Since": later, "If-None-Match": first.headers["ETag"]}
    assert client.get(f"/api/interview/{interview_id}", headers={**admin, **both}).status_code == 304


def test_if_match_goes_on_for_the_current_etag_or_star_and_is_412_otherwise(client, admin, claude):
    interview_id = make_interview(client, admin, claude)
    path = f"/api/interview/{interview_id}"
    etag = client.get(path, headers=admin).headers["ETag"]
    assert client.get(path, headers={**admin, "If-Match": "*"}).status_code == 200
    assert client.get(path, headers={**admin, "If-Match": f'"old", {etag}'}).status_code == 200
    stale = assert_error(client.get(path, headers={**admin, "If-Match": '"old"'}), 412)
    assert "no longer current" in stale["error"]
    # If-Match holds, then If-None-Match decides (RFC 9110 §13.2.2)
    assert client.get(path, headers={**admin, "If-Match": etag, "If-None-Match": etag}).status_code == 304


def test_head_is_conditional_too(client, admin, claude):
    interview_id = make_interview(client, admin, claude)
    path = f"/api/interview/{interview_id}"
    head = client.head(path, headers=admin)
    assert head.status_code == 200 and head.data == b"" and head.headers["ETag"] == client.get(path, headers=admin).headers["ETag"]
    assert client.head(path, headers={**admin, "If-None-Match": head.headers["ETag"]}).status_code == 304


def test_a_patch_changes_the_etag_at_once_for_another_instance_on_the_same_database(app_factory, claude):
    from services.api_keys import create_api_key

    first, second = app_factory(), app_factory()  # two workers (or hosts) sharing one database
    with first.app_context():
        _, key = create_api_key(name="etag", role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    reader, writer = first.test_client(), second.test_client()
    interview_id = make_interview(writer, headers, claude, "REQ-ETAG-2")
    seen = reader.get(f"/api/interview/{interview_id}", headers=headers)
    listed = reader.get("/api/interview/req/REQ-ETAG-2", headers=headers)
    assert reader.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": seen.headers["ETag"]}).status_code == 304

    patched = writer.patch(f"/api/interview/{interview_id}", json={"interview_name": "Renamed loop"}, headers=headers)
    assert patched.status_code == 200

    after = reader.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": seen.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["interview"]["interview_name"] == "Renamed loop"
    assert after.headers["ETag"] != seen.headers["ETag"]
    updated_at = after.get_json()["interview"]["updated_at"]
    assert parse_date(after.headers["Last-Modified"]).astimezone(timezone.utc).isoformat()[:19] == updated_at[:19]
    relisted = reader.get("/api/interview/req/REQ-ETAG-2", headers={**headers, "If-None-Match": listed.headers["ETag"]})
    assert relisted.status_code == 200 and relisted.headers["ETag"] != listed.headers["ETag"]
    assert reader.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": after.headers["ETag"]}).status_code == 304


def test_a_requisitions_list_is_conditional_and_a_new_version_changes_its_etag(client, admin, claude):
    interview_id = make_interview(client, admin, claude, "REQ-ETAG-3")
    listed = client.get("/api/interview/req/REQ-ETAG-3", headers=admin)
    etag = listed.headers["ETag"]
    assert listed.headers["Cache-Control"] == "private, no-cache" and listed.headers["Last-Modified"]
    assert client.get("/api/interview/req/REQ-ETAG-3", headers={**admin, "If-None-Match": etag}).status_code == 304
    job_description_id = client.get(f"/api/interview/{interview_id}", headers=admin).get_json()["interview"]["job_description_id"]
    claude.reply_json(interview_kit())
    version_2 = client.post("/api/interview/generate", json={"req_id": "REQ-ETAG-3", "job_description_id": job_description_id}, headers=admin)
    assert version_2.status_code == 200
    relisted = client.get("/api/interview/req/REQ-ETAG-3", headers={**admin, "If-None-Match": etag})
    assert relisted.status_code == 200 and len(relisted.get_json()["interviews"]) == 2


def test_errors_are_never_conditional(client, admin):
    missing = client.get("/api/interview/999999", headers={**admin, "If-None-Match": "*"})
    assert_error(missing, 404)
    assert "ETag" not in missing.headers
    unauthenticated = client.get("/api/interview/1", headers={"If-None-Match": "*"})
    assert unauthenticated.status_code == 401 and "ETag" not in unauthenticated.headers


def test_openapi_documents_the_validators_and_304(client):
    spec = client.get("/openapi.json").get_json()
    for path in ("/api/interview/{interview_id}", "/api/interview/req/{req_id}"):
        get = spec["paths"][path]["get"]
        assert "304" in get["responses"]
        assert {"ETag", "Last-Modified", "Cache-Control"} <= set(get["responses"]["200"]["headers"])
        assert {"If-None-Match", "If-Match"} <= {p["name"] for p in get["parameters"] if p["in"] == "header"}
        assert "412" in get["responses"]


def _statements(app):
    """Collect the SQL statements the app runs (a list, filled until removed with the returned undo)."""
    from sqlalchemy import event

    from models import db

    seen = []
    with app.app_context():
        engine = db.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", on_execute)
    return seen, lambda: event.remove(engine, "before_cursor_execute", on_execute)


def test_a_repeated_read_is_served_from_the_representation_made_once(app, client, admin, claude):
    interview_id = make_interview(client, admin, claude, "REQ-REPR")
    client.get("/api/interview/req/REQ-REPR", headers=admin)  # auth cached, both representations made
    first = client.get(f"/api/interview/{interview_id}", headers=admin)
    seen, undo = _statements(app)
    try:
        again = client.get(f"/api/interview/{interview_id}", headers=admin)
        listed = client.get("/api/interview/req/REQ-REPR", headers=admin)
    finally:
        undo()
    assert again.data == first.data  # byte for byte the contract schema's dump
    for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert again.headers[header] == first.headers[header], header
    assert listed.status_code == 200 and len(listed.get_json()["interviews"]) == 1
    # one stamp query per read; neither the questions nor the versions' questions were loaded again
    assert len(seen) == 2, seen
    assert not any("interview_questions" in statement for statement in seen), seen


def test_cached_reads_still_need_credentials_and_count_against_the_rate_limit(app_factory, claude, make_key):
    app = app_factory(RATE_LIMIT_READ="3/minute")
    from services.api_keys import create_api_key

    with app.app_context():
        _, key = create_api_key(name="limited", role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    interview_id = client.post("/api/interview/workflow/full", json=workflow_body("REQ-REPR-2"), headers=headers).get_json()["interview_id"]
    assert client.get(f"/api/interview/{interview_id}").status_code == 401
    assert [client.get(f"/api/interview/{interview_id}", headers=headers).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_the_representation_cache_can_be_turned_off(app_factory, claude):
    from services.api_keys import create_api_key

    app = app_factory(CACHE_TYPE="NullCache")
    with app.app_context():
        _, key = create_api_key(name="nocache", role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    interview_id = make_interview(client, headers, claude, "REQ-REPR-3")
    first = client.get(f"/api/interview/{interview_id}", headers=headers)
    seen, undo = _statements(app)
    try:
        again = client.get(f"/api/interview/{interview_id}", headers=headers)
    finally:
        undo()
    assert again.data == first.data and again.headers["ETag"] == first.headers["ETag"]
    assert any("interview_questions" in statement for statement in seen), seen


# --- Stamps in Redis (REPRESENTATION_STAMP_URL, services/representation_stamps.py) ---------------

REDIS_URL = os.environ.get("TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(not REDIS_URL and not os.environ.get("CI"), reason="TEST_REDIS_URL not set (.ci/run sets it)")


def _redis_stamps():
    """Settings for an app whose stamps are Redis tokens under a prefix of its own test."""
    assert REDIS_URL, "CI must run the Redis stamp tests: TEST_REDIS_URL is not set"
    return {"REPRESENTATION_STAMP_URL": REDIS_URL, "CACHE_KEY_PREFIX": f"techscreen-test-{uuid.uuid4().hex[:8]}:"}


@needs_redis
def test_with_redis_stamps_a_patch_or_a_new_version_changes_the_etag_at_once_for_another_instance(app_factory, claude):
    from services.api_keys import create_api_key

    settings = _redis_stamps()
    first, second = app_factory(**settings), app_factory(**settings)  # two workers (or hosts): one DB, one Redis
    with first.app_context():
        _, key = create_api_key(name="stamps", role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    reader, writer = first.test_client(), second.test_client()
    interview_id = make_interview(writer, headers, claude, "REQ-STAMP-1")
    seen = reader.get(f"/api/interview/{interview_id}", headers=headers)
    listed = reader.get("/api/interview/req/REQ-STAMP-1", headers=headers)
    assert reader.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": seen.headers["ETag"]}).status_code == 304

    assert writer.patch(f"/api/interview/{interview_id}", json={"status": "published"}, headers=headers).status_code == 200

    after = reader.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": seen.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["interview"]["status"] == "published"
    assert after.headers["ETag"] != seen.headers["ETag"]
    relisted = reader.get("/api/interview/req/REQ-STAMP-1", headers={**headers, "If-None-Match": listed.headers["ETag"]})
    assert relisted.status_code == 200 and relisted.get_json()["interviews"][0]["status"] == "published"

    job_description_id = after.get_json()["interview"]["job_description_id"]
    claude.reply_json(interview_kit())
    generated = writer.post("/api/interview/generate", json={"req_id": "REQ-STAMP-1", "job_description_id": job_description_id},
                            headers=headers)
    assert generated.status_code == 200
    versions = reader.get("/api/interview/req/REQ-STAMP-1", headers={**headers, "If-None-Match": relisted.headers["ETag"]})
    assert versions.status_code == 200 and [i["version"] for i in versions.get_json()["interviews"]] == [2, 1]


@needs_redis
def test_with_redis_stamps_a_repeated_read_runs_no_sql_at_all(app_factory, claude):
    from services.api_keys import create_api_key

    app = app_factory(**_redis_stamps())
    with app.app_context():
        _, key = create_api_key(name="stamps", role="viewer")
    headers = {"Authorization": f"Bearer {key}"}
    client = app.test_client()
    interview_id = make_interview(client, {"Authorization": f"Bearer {_admin_key(app)}"}, claude, "REQ-STAMP-2")
    first = client.get(f"/api/interview/{interview_id}", headers=headers)
    first_list = client.get("/api/interview/req/REQ-STAMP-2", headers=headers)
    seen, undo = _statements(app)
    try:
        again = client.get(f"/api/interview/{interview_id}", headers=headers)
        listed = client.get("/api/interview/req/REQ-STAMP-2", headers=headers)
        revalidated = client.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": first.headers["ETag"]})
    finally:
        undo()
    assert seen == []  # no stamp query, no ping, no closing ROLLBACK
    assert again.data == first.data and listed.data == first_list.data
    for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Cache-Control"):
        assert again.headers[header] == first.headers[header], header
    assert revalidated.status_code == 304 and revalidated.data == b""
    assert client.get("/api/interview/999999", headers=headers).status_code == 404


def _admin_key(app):
    from services.api_keys import create_api_key

    with app.app_context():
        return create_api_key(name="stamps-admin", role="admin")[1]


def test_with_redis_unreachable_reads_use_the_database_stamp_and_stay_correct(app_factory, claude, caplog):
    from bench.support import free_port

    app = app_factory(REPRESENTATION_STAMP_URL=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    headers = {"Authorization": f"Bearer {_admin_key(app)}"}
    client = app.test_client()
    interview_id = make_interview(client, headers, claude, "REQ-STAMP-3")  # its commits cannot renew tokens
    first = client.get(f"/api/interview/{interview_id}", headers=headers)
    assert first.status_code == 200
    patched = client.patch(f"/api/interview/{interview_id}", json={"interview_name": "Still right"}, headers=headers)
    assert patched.status_code == 200
    after = client.get(f"/api/interview/{interview_id}", headers={**headers, "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.get_json()["interview"]["interview_name"] == "Still right"
    assert "representation stamps: Redis" in caplog.text
