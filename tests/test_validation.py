"""Request validation through HTTP: every bad request answers the JSON error envelope naming the
field, and Claude (the stub Messages API) is never called for it."""

import io
import json

import pytest

from models import GenerationLog, JobDescription
from routes.schemas import EnhanceRequestSchema, GenerateRequestSchema, InterviewUpdateSchema, WorkflowRequestSchema
from tests.helpers import assert_error, count_rows, enhance_body, workflow_body
from tests.stub_messages_api import enhanced_jd, interview_kit

ENHANCE = "/api/interview/jd/enhance"
GENERATE = "/api/interview/generate"
FULL = "/api/interview/workflow/full"
CREATE = "/api/interview/workflow/create"
# Endpoints whose body is the enhance body (the workflow adds interview_name and use_cache).
ENHANCE_LIKE = [ENHANCE, FULL, CREATE]
POST_ENDPOINTS = [ENHANCE, GENERATE, FULL, CREATE]
POST_SCHEMAS = {ENHANCE: EnhanceRequestSchema, GENERATE: GenerateRequestSchema, FULL: WorkflowRequestSchema, CREATE: WorkflowRequestSchema}


def generate_body(req_id="REQ-100", **overrides):
    return {"req_id": req_id, "job_description_id": 1, **overrides}


def body_for(path, **overrides):
    if path == GENERATE:
        return generate_body(**overrides)
    if path == ENHANCE:
        return {**enhance_body(), **overrides}
    return {**workflow_body(), **overrides}


def assert_nothing_happened(claude, app):
    assert claude.calls == 0, claude.requests
    assert count_rows(app, JobDescription) == 0
    assert count_rows(app, GenerationLog) == 0


# --- required fields, blanks, types ------------------------------------------------------------

@pytest.mark.parametrize("path", ENHANCE_LIKE)
@pytest.mark.parametrize("field", ["req_id", "basic_title", "basic_description"])
def test_missing_required_field_is_400_naming_it_and_claude_is_not_called(client, admin, claude, app, path, field):
    body = body_for(path)
    del body[field]

    response = client.post(path, json=body, headers=admin)

    error = assert_error(response, 400, field)
    assert error["errors"][field] == ["Missing data for required field."]
    assert field in error["error"]
    assert_nothing_happened(claude, app)


@pytest.mark.parametrize("field", ["req_id", "job_description_id"])
def test_generate_missing_required_field_is_400_naming_it(client, admin, claude, app, field):
    body = generate_body()
    del body[field]

    assert_error(client.post(GENERATE, json=body, headers=admin), 400, field)
    assert claude.calls == 0


def test_empty_object_names_every_required_field(client, admin, claude, app):
    error = assert_error(client.post(ENHANCE, json={}, headers=admin), 400, "req_id", "basic_title", "basic_description")

    assert "req_id" not in error  # nothing to echo
    assert_nothing_happened(claude, app)


@pytest.mark.parametrize("path", ENHANCE_LIKE)
@pytest.mark.parametrize("field", ["req_id", "basic_title", "basic_description"])
def test_blank_required_string_is_400_naming_it(client, admin, claude, app, path, field):
    for blank in ("", "   ", "\t\n", "\u00a0\u2003"):
        response = client.post(path, json=body_for(path, **{field: blank}), headers=admin)

        assert_error(response, 400, field)
    assert_nothing_happened(claude, app)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"job_description_id": "abc"}, "job_description_id"),
        ({"job_description_id": 1.5}, "job_description_id"),
        ({"job_description_id": "1"}, "job_description_id"),  # strict: a string of digits is not an integer
        ({"job_description_id": True}, "job_description_id"),
        ({"job_description_id": None}, "job_description_id"),
        ({"job_description_id": 0}, "job_description_id"),
        ({"job_description_id": -3}, "job_description_id"),
        ({"job_description_id": 10**30}, "job_description_id"),
        ({"req_id": 123}, "req_id"),
        ({"req_id": None}, "req_id"),
        ({"req_id": ["REQ-1"]}, "req_id"),
        ({"use_cache": "maybe"}, "use_cache"),
        ({"use_cache": 7}, "use_cache"),
        ({"interview_name": 5}, "interview_name"),
        ({"interview_name": "x" * 256}, "interview_name"),
    ],
)
def test_generate_wrong_type_is_400_naming_the_field(client, admin, claude, app, overrides, field):
    response = client.post(GENERATE, json=generate_body(**overrides), headers=admin)

    assert_error(response, 400, field)
    assert claude.calls == 0
    assert count_rows(app, GenerationLog) == 0


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"req_id": 123}, "req_id"),
        ({"basic_title": {"text": "Engineer"}}, "basic_title"),
        ({"basic_description": ["Build APIs"]}, "basic_description"),
        ({"basic_level": 5}, "basic_level"),
        ({"basic_department": False}, "basic_department"),
        ({"work_knowledge": ["Python"]}, "work_knowledge"),
        ({"replace": "maybe"}, "replace"),
        ({"replace": None}, "replace"),
        ({"use_cache": "maybe"}, "use_cache"),
        ({"interview_name": 42}, "interview_name"),
        ({"basic_title": "t" * 256}, "basic_title"),
        ({"basic_level": "l" * 101}, "basic_level"),
    ],
)
def test_workflow_wrong_type_is_400_naming_the_field(client, admin, claude, app, overrides, field):
    response = client.post(FULL, json=body_for(FULL, **overrides), headers=admin)

    assert_error(response, 400, field)
    assert_nothing_happened(claude, app)


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_unknown_field_is_400_naming_it(client, admin, claude, app, path):
    response = client.post(path, json=body_for(path, jobTitle="Backend Engineer"), headers=admin)

    error = assert_error(response, 400, "jobTitle")
    assert error["errors"]["jobTitle"] == ["Unknown field."]
    assert "jobTitle" in error["error"]
    assert_nothing_happened(claude, app)


def test_generate_does_not_accept_enhance_fields(client, admin, claude):
    response = client.post(GENERATE, json=generate_body(basic_title="Engineer"), headers=admin)

    assert_error(response, 400, "basic_title")
    assert claude.calls == 0


def test_patch_unknown_field_blank_name_and_bad_status_are_400(client, admin, claude):
    assert_error(client.patch("/api/interview/1", json={"colour": "red"}, headers=admin), 400, "colour")
    assert_error(client.patch("/api/interview/1", json={"interview_name": "  "}, headers=admin), 400, "interview_name")
    assert_error(client.patch("/api/interview/1", json={"status": "deleted"}, headers=admin), 400, "status")
    assert_error(client.patch("/api/interview/1", json={}, headers=admin), 400, "body")
    assert claude.calls == 0


# --- req_id ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "req_id",
    ["REQ/1", "../etc/passwd", "REQ 1", "-REQ", ".REQ", "REQ?x=1", "REQ#1", "R" * 65, "R" * 1000, "REQ-😀", "REQ\n1"],
)
def test_bad_req_id_is_400_naming_req_id(client, admin, claude, app, req_id):
    for path in POST_ENDPOINTS:
        response = client.post(path, json=body_for(path, req_id=req_id), headers=admin)

        assert_error(response, 400, "req_id")
    assert_nothing_happened(claude, app)


def test_req_id_of_exactly_64_characters_is_accepted(client, admin, claude):
    claude.reply_json(enhanced_jd())
    req_id = "R" * 64

    response = client.post(ENHANCE, json=enhance_body(req_id), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["req_id"] == req_id


# --- length limits ----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ENHANCE_LIKE)
def test_description_over_max_jd_chars_is_400_naming_basic_description_without_claude(app_factory, admin, claude, path):
    app = app_factory(MAX_JD_CHARS=100)
    client = app.test_client()

    response = client.post(path, json=body_for(path, basic_description="x" * 101), headers=admin)

    error = assert_error(response, 400, "basic_description")
    assert "100" in error["errors"]["basic_description"][0]
    assert_nothing_happened(claude, app)


def test_description_of_exactly_max_jd_chars_reaches_claude(app_factory, admin, claude):
    app = app_factory(MAX_JD_CHARS=100)
    claude.reply_json(enhanced_jd())

    response = app.test_client().post(ENHANCE, json=enhance_body(basic_description="y" * 100), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert claude.calls == 1


def test_description_limit_counts_characters_not_bytes(app_factory, admin, claude):
    app = app_factory(MAX_JD_CHARS=100)
    claude.reply_json(enhanced_jd())

    response = app.test_client().post(ENHANCE, json=enhance_body(basic_description="é" * 100), headers=admin)

    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("field", ["work_output", "work_role", "work_knowledge", "work_competencies"])
def test_work_input_over_max_work_input_chars_is_400_naming_it(app_factory, admin, claude, field):
    app = app_factory(MAX_WORK_INPUT_CHARS=50)

    for path in ENHANCE_LIKE:
        response = app.test_client().post(path, json=body_for(path, **{field: "w" * 51}), headers=admin)

        error = assert_error(response, 400, field)
        assert "50" in error["errors"][field][0]
    assert_nothing_happened(claude, app)


def test_work_input_of_exactly_max_work_input_chars_is_accepted(app_factory, admin, claude):
    app = app_factory(MAX_WORK_INPUT_CHARS=50)
    claude.reply_json(enhanced_jd())

    response = app.test_client().post(ENHANCE, json=enhance_body(work_output="w" * 50), headers=admin)

    assert response.status_code == 200, response.get_json()


def test_work_input_over_the_default_limit_is_400(client, admin, claude, app):
    limit = app.config["MAX_WORK_INPUT_CHARS"]

    response = client.post(ENHANCE, json=enhance_body(work_role="w" * (limit + 1)), headers=admin)

    assert_error(response, 400, "work_role")
    assert_nothing_happened(claude, app)


def test_several_bad_fields_are_all_named_at_once(client, admin, claude):
    body = enhance_body(req_id="bad/id", basic_title="", work_output=5, colour="red")

    error = assert_error(client.post(ENHANCE, json=body, headers=admin), 400, "req_id", "basic_title", "work_output", "colour")

    assert claude.calls == 0
    assert error["error"].startswith("Invalid input")


# --- body shape, content type, size ----------------------------------------------------------

@pytest.mark.parametrize("raw", ['{"req_id": "REQ-1",', "{req_id: 'REQ-1'}", "not json", '{"a": 1}}', "\x00", b"\xff\xfe{}"])
def test_malformed_json_is_400(client, admin, claude, raw):
    for path in POST_ENDPOINTS:
        response = client.post(path, data=raw, content_type="application/json", headers=admin)

        error = assert_error(response, 400, "body")
        assert "JSON" in error["errors"]["body"][0]
    assert claude.calls == 0


@pytest.mark.parametrize("raw", ["[]", '[{"req_id": "REQ-1"}]', '"REQ-1"', "42", "true", "null"])
def test_json_body_that_is_not_an_object_is_400(client, admin, claude, app, raw):
    for path in POST_ENDPOINTS:
        response = client.post(path, data=raw, content_type="application/json", headers=admin)

        assert_error(response, 400)
    assert_nothing_happened(claude, app)


def test_json_array_body_is_400_naming_body(client, admin, claude):
    response = client.post(ENHANCE, data=json.dumps([enhance_body()]), content_type="application/json", headers=admin)

    assert_error(response, 400, "body")
    assert claude.calls == 0


def test_json_nested_deeper_than_the_parser_can_go_is_400(client, admin, claude):
    raw = "[" * 50_000 + "]" * 50_000

    response = client.post(FULL, data=raw, content_type="application/json", headers=admin)

    assert_error(response, 400, "body")
    assert claude.calls == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None])
def test_non_json_content_type_is_415(client, admin, claude, app, content_type):
    for path in POST_ENDPOINTS:
        kwargs = {"data": json.dumps(body_for(path))}
        if content_type:
            kwargs["content_type"] = content_type

        response = client.post(path, headers=admin, **kwargs)

        error = assert_error(response, 415)
        assert "application/json" in error["error"]
    assert_nothing_happened(claude, app)


def test_patch_with_non_json_content_type_is_415(client, admin):
    response = client.patch("/api/interview/1", data="status=published", content_type="application/x-www-form-urlencoded", headers=admin)

    assert_error(response, 415)


def test_json_content_type_with_charset_is_accepted(client, admin, claude):
    claude.reply_json(enhanced_jd())

    response = client.post(ENHANCE, data=json.dumps(enhance_body()), content_type="application/json; charset=utf-8", headers=admin)

    assert response.status_code == 200, response.get_json()


def test_body_over_max_content_length_is_413_envelope(app_factory, admin, claude):
    app = app_factory(MAX_CONTENT_LENGTH=1000)

    for path in POST_ENDPOINTS:
        response = app.test_client().post(path, json=body_for(path, basic_description="x" * 2000), headers=admin)

        error = assert_error(response, 413)
        assert "1000" in error["error"]
    patch = app.test_client().patch("/api/interview/1", json={"interview_name": "n" * 2000}, headers=admin)
    assert_error(patch, 413)
    assert_nothing_happened(claude, app)


def test_body_over_max_content_length_without_declared_length_is_413(app_factory, admin, claude):
    app = app_factory(MAX_CONTENT_LENGTH=1000)
    payload = json.dumps(enhance_body(basic_description="x" * 2000)).encode()

    # A chunked upload: no Content-Length, the server reads until the stream ends.
    response = app.test_client().post(
        ENHANCE, input_stream=io.BytesIO(payload), content_type="application/json", headers=admin,
        environ_overrides={"wsgi.input_terminated": True},
    )

    assert_error(response, 413)
    assert claude.calls == 0


# --- routing errors ----------------------------------------------------------------------------

def test_unknown_path_is_404_json(client, admin):
    for path in ["/api/nope", "/api/interview/jd", "/api/interview/abc", "/nope", "/api/interview/req/", "/api/interview/-1"]:
        assert_error(client.get(path, headers=admin), 404)
        assert_error(client.get(path), 404)


def test_interview_id_too_large_to_exist_is_404_not_500(client, admin):
    for interview_id in (2**31, 2**63, 10**30):
        assert_error(client.get(f"/api/interview/{interview_id}", headers=admin), 404)
        assert_error(client.patch(f"/api/interview/{interview_id}", json={"status": "published"}, headers=admin), 404)


def test_wrong_method_is_405_json_with_allow(client, admin):
    cases = [
        ("patch", ENHANCE, "POST"),  # (GET /api/interview/jd/enhance is the JD of requisition "enhance")
        ("get", GENERATE, "POST"),
        ("put", FULL, "POST"),
        ("delete", CREATE, "POST"),
        ("delete", "/api/interview/1", "PATCH"),
        ("post", "/api/interview/1", "GET"),
        ("put", "/api/interview/1", "GET"),
        ("post", "/api/interview/req/REQ-1", "GET"),
        ("delete", "/api/interview/jd/REQ-1", "GET"),
        ("post", "/health", "GET"),
    ]
    for method, path, allowed in cases:
        response = getattr(client, method)(path, json={}, headers=admin)

        assert_error(response, 405)
        assert allowed in response.headers.get("Allow", ""), (method, path, response.headers)


def test_non_json_body_to_an_unknown_path_or_method_is_404_or_405_not_415(client, admin):
    # The Content-Type check answers only for routes that exist: otherwise the routing error.
    assert_error(client.post("/api/nope", data="x", content_type="text/plain", headers=admin), 404)
    for method, path in [("post", "/api/interview/1"), ("put", ENHANCE), ("post", "/api/interview/req/REQ-1")]:
        response = getattr(client, method)(path, data="x", content_type="text/plain", headers=admin)
        assert_error(response, 405)
        assert response.headers.get("Allow"), (method, path)


# --- req_id echo ---------------------------------------------------------------------------

def test_req_id_is_echoed_in_validation_errors(client, admin):
    error = assert_error(client.post(ENHANCE, json=enhance_body("REQ-ECHO", basic_title=""), headers=admin), 400, "basic_title")

    assert error["req_id"] == "REQ-ECHO"


def test_req_id_is_echoed_in_domain_errors(client, admin):
    error = assert_error(client.post(GENERATE, json=generate_body("REQ-ECHO", job_description_id=999), headers=admin), 404)
    assert error["req_id"] == "REQ-ECHO"

    error = assert_error(client.get("/api/interview/jd/REQ-MISSING", headers=admin), 404)
    assert error["req_id"] == "REQ-MISSING"


def test_req_id_is_echoed_in_upstream_errors(client, admin, claude):
    claude.reply_status(400, error_type="invalid_request_error")

    error = assert_error(client.post(FULL, json=workflow_body("REQ-UP"), headers=admin), 502)

    assert error["req_id"] == "REQ-UP"


def test_error_without_req_id_has_no_req_id(client, admin):
    body = assert_error(client.post(ENHANCE, json={"basic_title": "x"}, headers=admin), 400, "req_id")

    assert "req_id" not in body


def test_non_string_req_id_is_not_echoed(client, admin):
    body = assert_error(client.post(GENERATE, json=generate_body(req_id={"x": 1}), headers=admin), 400, "req_id")

    assert "req_id" not in body


# --- odd bodies at every write endpoint -----------------------------------------------------------

_NESTED = {"a": {"b": {"c": [1, {"d": None}]}}}
ODD_BODIES = {
    "empty-object": {},
    "all-nulls": {
        "req_id": None, "basic_title": None, "basic_description": None, "job_description_id": None,
        "use_cache": None, "replace": None, "interview_name": None, "status": None,
    },
    "nested-objects": {
        "req_id": _NESTED, "basic_title": _NESTED, "basic_description": [_NESTED], "job_description_id": _NESTED,
        "work_output": _NESTED, "interview_name": [[]], "status": {"value": "published"},
    },
    "huge-ints": {
        "req_id": "FUZZ-BIG", "basic_title": 10**40, "basic_description": -(10**40), "job_description_id": 10**40,
        "use_cache": 10**40, "interview_name": 10**40, "status": 10**40,
    },
    "just-past-int64": {"req_id": "FUZZ-BIG", "job_description_id": 2**63},
    "just-past-int32": {"req_id": "FUZZ-BIG", "job_description_id": 2**31},
    "floats": {"req_id": 1e308, "basic_title": -0.0, "basic_description": 3.14, "job_description_id": 1e308, "use_cache": 0.5},
    "booleans": {"req_id": True, "basic_title": False, "basic_description": True, "job_description_id": False, "status": True},
    "unicode": {
        "req_id": "FUZZ-UNI", "basic_title": "Ingénieur logiciel — 后端工程师",
        "basic_description": "Développer des APIs de paiement en Python et PostgreSQL. 构建支付系统。Ünïcödé ✓ ∑ ∞ ﷽",
        "basic_department": "Ingénierie", "work_knowledge": "Python, PostgreSQL, Kafka — ça va", "interview_name": "Entretien n°1",
        "status": "published",
    },
    "emoji": {
        "req_id": "FUZZ-EMOJI", "basic_title": "Backend 🚀 Engineer",
        "basic_description": "Ship 💳 payments APIs in Python 🐍 and PostgreSQL 🐘. 👩🏽‍💻 family: 👨‍👩‍👧‍👦 flags: 🇫🇷",
        "work_competencies": "😀" * 50, "interview_name": "🎯 onsite",
    },
    "emoji-req-id": {"req_id": "😀", "basic_title": "😀", "basic_description": "😀", "job_description_id": 1},
    "control-chars": {
        "req_id": "FUZZ-CTRL", "basic_title": "Back\x00end\x07", "basic_description": "line\x00one\x01\x1f\x7f\r\nline two",
        "interview_name": "\x00", "status": "draft\x00",
    },
    "lone-surrogates": {"req_id": "FUZZ-SURR", "basic_title": "\ud800 title", "basic_description": "text \udfff", "interview_name": "\udc00"},
    "rtl-and-zero-width": {
        "req_id": "FUZZ-RTL", "basic_title": "\u202eenignE dnekcaB", "basic_description": "\u200b\u200d\ufeff مهندس برمجيات",
        "interview_name": "\u200b",
    },
    "long-strings": {"req_id": "R" * 5000, "basic_title": "t" * 20000, "basic_description": "d" * 100_000, "interview_name": "n" * 5000},
    "many-keys": {f"field_{i}": i for i in range(500)},
    "empty-key": {"": "", " ": None},
    "valid-with-extras": {"req_id": "FUZZ-OK", "basic_title": "Engineer", "basic_description": "Build APIs.", "__proto__": {}, "constructor": 1},
}
RAW_BODIES = {
    "raw-null": "null",
    "raw-array": "[]",
    "raw-string": '"hello"',
    "raw-number": "1e999",
    "raw-nan": '{"req_id": NaN, "job_description_id": Infinity}',
    "raw-duplicate-keys": '{"req_id": "FUZZ-A", "req_id": "FUZZ-B", "job_description_id": 1, "job_description_id": "x"}',
    "raw-bom": "\ufeff{}",
    "raw-truncated": '{"req_id": "FUZZ',
    "raw-deep-array": "[" * 20_000 + "]" * 20_000,
    "raw-deep-object": '{"a":' * 20_000 + "1" + "}" * 20_000,
    "raw-invalid-utf8": b'{"req_id": "\xff\xfe"}',
    "raw-escaped-surrogate": '{"req_id": "FUZZ-ESC", "basic_title": "\\ud83d", "basic_description": "x\\udc00y"}',
}


@pytest.fixture
def sandbox_app(app_factory):
    # The sandbox provider answers every well-formed body, so valid odd bodies run end to end
    # (database included) instead of stopping at an empty stub queue.
    return app_factory(LLM_PROVIDER="sandbox")


@pytest.mark.parametrize("name", sorted(ODD_BODIES) + sorted(RAW_BODIES))
def test_odd_bodies_never_cause_a_server_error(sandbox_app, admin, claude, name):
    client = sandbox_app.test_client()
    seeded = client.post(FULL, json=workflow_body("FUZZ-SEED"), headers=admin)
    assert seeded.status_code == 200, seeded.get_json()
    interview_id = seeded.get_json()["interview_id"]
    targets = [("post", path, schema) for path, schema in POST_SCHEMAS.items()] + [
        ("patch", f"/api/interview/{interview_id}", InterviewUpdateSchema),
        ("patch", "/api/interview/999999", InterviewUpdateSchema),
    ]
    for method, path, schema in targets:
        if name in ODD_BODIES:
            # As sent, and cut down to the fields this endpoint knows, so that odd values also
            # get past the unknown-field check into the services and the database.
            known = {k: v for k, v in ODD_BODIES[name].items() if k in schema().fields}
            attempts = [{"json": ODD_BODIES[name]}, {"json": known}]
        else:
            attempts = [{"data": RAW_BODIES[name], "content_type": "application/json"}]
        for kwargs in attempts:
            response = getattr(client, method)(path, headers=admin, **kwargs)
            assert response.status_code < 500, (method, path, kwargs, response.status_code, response.get_data(as_text=True)[:500])
            assert response.is_json, (method, path, response.content_type)
            assert isinstance(response.get_json()["success"], bool)
    # Everything still works afterwards (no poisoned session or connection).
    assert client.get(f"/api/interview/{interview_id}", headers=admin).status_code == 200
    assert claude.calls == 0  # the sandbox, not the stub, answered


def test_blank_optional_texts_with_a_length_limit_mean_not_given(sandbox_app, admin):
    # Found by schemathesis: a blank basic_department / basic_level / interview_name became None
    # and then met its Length validator (a TypeError, a 500).
    client = sandbox_app.test_client()
    body = {**workflow_body("REQ-BLANKS", basic_department="", basic_level="  ", work_role=""), "interview_name": ""}

    created = client.post(FULL, json=body, headers=admin)

    assert created.status_code == 200, created.get_json()
    jd = client.get("/api/interview/jd/REQ-BLANKS", headers=admin).get_json()["job_description"]
    assert (jd["basic_jd"]["department"], jd["basic_jd"]["level"], jd["work_inputs"]["work_role"]) == (None, None, None)
    generated = client.post(
        GENERATE, json={"req_id": "REQ-BLANKS", "job_description_id": jd["job_description_id"], "interview_name": " "}, headers=admin
    )
    assert generated.status_code == 200, generated.get_json()


def test_odd_body_with_valid_fields_is_stored_verbatim(sandbox_app, admin):
    client = sandbox_app.test_client()
    body = ODD_BODIES["emoji"]

    created = client.post(FULL, json=body, headers=admin)

    assert created.status_code == 200, created.get_json()
    jd = client.get(f"/api/interview/jd/{body['req_id']}", headers=admin).get_json()["job_description"]
    assert jd["basic_jd"]["title"] == body["basic_title"]
    assert jd["basic_jd"]["description"] == body["basic_description"]
    assert jd["work_inputs"]["work_competencies"] == body["work_competencies"]
    assert created.get_json()["interview_name"] == body["interview_name"]


def test_lone_surrogates_are_400_naming_the_field(client, admin, claude, app):
    raw = '{"req_id": "REQ-S", "basic_title": "Engineer \\ud800", "basic_description": "Build APIs."}'

    response = client.post(ENHANCE, data=raw, content_type="application/json", headers=admin)

    assert_error(response, 400, "basic_title")
    assert_nothing_happened(claude, app)


def test_a_valid_request_after_rejected_ones_still_reaches_claude_once(client, admin, claude):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    for bad in ({}, {"req_id": "x/y"}, enhance_body(basic_title="")):
        assert client.post(FULL, json=bad, headers=admin).status_code == 400

    response = client.post(FULL, json=workflow_body("REQ-AFTER"), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert claude.calls == 2
