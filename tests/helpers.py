"""Request bodies, database look-ups and the question-cache set-up shared by the tests.

The fixtures here (``cache_app``, ``cache_client``) serve a test module that binds them as module
globals (``cache_app, cache_client = helpers.cache_app, helpers.cache_client``): pytest looks for
fixtures there and in conftest.py, and a bare import of them reads to linters as unused.
"""

import pytest

from models import db


def enhance_body(req_id="REQ-100", **overrides):
    body = {
        "req_id": req_id,
        "basic_title": "Backend Engineer",
        "basic_description": "Build and run our payments APIs in Python and PostgreSQL.",
        "basic_department": "Engineering",
        "basic_level": "Senior",
        "work_output": "Idempotent refunds shipped within 90 days",
        "work_role": "Payments team, reports to the engineering manager",
        "work_knowledge": "Python, PostgreSQL, Kafka",
        "work_competencies": "Ownership, clear writing",
    }
    body.update(overrides)
    return body


def workflow_body(req_id="REQ-100", **overrides):
    return enhance_body(req_id, interview_name="Payments onsite", **overrides)


def count_rows(app, model, **filters):
    """Number of rows of ``model`` matching equality ``filters``."""
    with app.app_context():
        query = db.select(db.func.count()).select_from(model)
        for name, value in filters.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def all_rows(app, model):
    with app.app_context():
        return db.session.scalars(db.select(model).order_by(model.id)).all()


def assert_error(response, status, *fields):
    """Assert ``response`` is the JSON error envelope with ``status`` naming each of ``fields``
    in ``errors``; return the parsed body."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.content_type
    body = response.get_json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    for field in fields:
        assert field in (body.get("errors") or {}), body
        assert body["errors"][field] and all(isinstance(m, str) for m in body["errors"][field]), body
    return body


def content_text(content):
    """The text of a Messages API content value (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    return "".join(block.get("text", "") for block in content if isinstance(block, dict))


def assert_not_logged(caplog, *secrets):
    """Assert the service logged something (else the check proves nothing) and none of ``secrets``."""
    assert any(record.name.startswith("techscreen") for record in caplog.records), "the service logged nothing"
    everything = caplog.text + "\n".join(
        f"{record.getMessage()} {record.args!r} {record.exc_text or ''}" for record in caplog.records
    )
    for secret in secrets:
        assert secret not in everything


def enhance(client, headers, claude, req_id="REQ-100", **overrides):
    """Store an enhanced job description through HTTP (queues the stub's answer); return the response body."""
    from tests.stub_messages_api import enhanced_jd

    claude.reply_json(enhanced_jd())
    response = client.post("/api/interview/jd/enhance", json=enhance_body(req_id, **overrides), headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def generate(client, headers, req_id, job_description_id, **extra):
    """POST /api/interview/generate; return the response."""
    return client.post(
        "/api/interview/generate", json={"req_id": req_id, "job_description_id": job_description_id, **extra}, headers=headers
    )


def api_key_id(app, headers):
    """The id of the API key in ``headers`` (Authorization: Bearer <key>), found by its hash."""
    from services.api_keys import authenticate_api_key

    with app.app_context():
        return authenticate_api_key(headers["Authorization"].split()[1]).api_key_id


def key_headers(app, name, role="admin"):
    """Auth headers for a fresh API key ``name`` of ``role`` on ``app``."""
    from services.api_keys import create_api_key

    with app.app_context():
        _, key = create_api_key(name=name, role=role)
    return {"Authorization": f"Bearer {key}"}


# --- The question cache: plan -> look up -> fill ---------------------------------------------------

@pytest.fixture
def cache_app(app_factory):
    """An app with the question cache on (ENABLE_QUESTION_CACHE)."""
    return app_factory(ENABLE_QUESTION_CACHE=True)


@pytest.fixture
def cache_client(cache_app):
    """A test client of ``cache_app``."""
    return cache_app.test_client()


def generate_from_plan(client, headers, claude, req_id, topics, *, level="senior", use_cache=None, usage=None):
    """Enhance a JD, queue a plan of ``topics``, answer every fill call by its slot, generate; return the response.

    usage: {"plan": ..., "fill": ...}, the tokens the stub reports for the plan and for each fill call.
    """
    from tests.stub_messages_api import interview_plan

    jd_id = enhance(client, headers, claude, req_id)["job_description_id"]
    claude.reply_json(interview_plan(topics, level=level), usage=(usage or {}).get("plan"))
    claude.fill_responder(usage=(usage or {}).get("fill"))
    extra = {} if use_cache is None else {"use_cache": use_cache}
    return generate(client, headers, req_id, jd_id, **extra)
