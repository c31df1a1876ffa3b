"""The OpenAPI document and Swagger UI match the routes the app really serves."""

import re

import pytest

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
WRITE_METHODS = {"post", "put", "patch", "delete"}
BODY_METHODS = {"post", "put", "patch"}
# Erasing a candidate answers 200 with deleted: 0 when nothing is stored (idempotent), never 404.
IDEMPOTENT_ERASURE = {"/api/candidates/{candidate_id}"}
SECURITY = [{"bearerAuth": []}, {"apiKeyHeader": []}]


def openapi_path(rule):
    """Flask rule -> OpenAPI path: <int:x>, <string:x>, <x> and <int(max=9):x> become {x}."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>:]+)>", r"{\1}", rule)


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")  # no credentials: the contract is public
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def api_rules(app):
    return [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/") or r.rule.startswith("/health")]


def operations(spec, prefix="/api/"):
    for path, item in spec["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    yield path, method, operation


def resolve(spec, schema):
    ref = schema.get("$ref")
    if not ref:
        return schema
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def test_openapi_path_conversion():
    assert openapi_path("/api/interview/<int:interview_id>") == "/api/interview/{interview_id}"
    assert openapi_path("/api/interview/<int(max=5):interview_id>") == "/api/interview/{interview_id}"
    assert openapi_path("/api/interview/req/<req_id>") == "/api/interview/req/{req_id}"


def test_document_is_openapi_3_with_title_and_version(spec, app):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == app.config["API_TITLE"]
    assert spec["info"]["version"] == app.config["API_VERSION"]


def test_every_api_and_health_rule_is_documented_with_every_method(spec, app):
    rules = api_rules(app)
    assert len(rules) >= 10  # sanity: the app's routes were found

    for rule in rules:
        path = openapi_path(rule.rule)
        assert path in spec["paths"], f"{rule.rule} is not in the OpenAPI document"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in spec["paths"][path], f"{method} {rule.rule} is not documented"


def test_every_documented_operation_exists(spec, app):
    served = {}
    for rule in app.url_map.iter_rules():
        served.setdefault(openapi_path(rule.rule), set()).update(m.lower() for m in rule.methods)

    for path, item in spec["paths"].items():
        assert path in served, f"{path} is documented but not served"
        for method in set(item) & HTTP_METHODS:
            assert method in served[path], f"{method.upper()} {path} is documented but not served"


def test_security_schemes_are_bearer_and_x_api_key(spec):
    schemes = spec["components"]["securitySchemes"]

    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyHeader"] == {**schemes["apiKeyHeader"], "type": "apiKey", "in": "header", "name": "X-API-Key"}


BODYLESS_ACTIONS = {("/api/jobs/{job_id}/cancel", "post")}


def test_every_api_operation_declares_security_and_documents_its_errors(spec):
    seen = 0
    for path, method, operation in operations(spec):
        seen += 1
        where = f"{method.upper()} {path}"
        assert operation.get("security") == SECURITY, where
        responses = operation["responses"]
        assert any(status.startswith("2") for status in responses), where
        assert "401" in responses, where
        if method in WRITE_METHODS:
            assert "403" in responses, where
        if method in BODY_METHODS and (path, method) not in BODYLESS_ACTIONS:
            assert "requestBody" in operation, where
            for status in ("400", "403", "413", "415"):
                assert status in responses, f"{where} does not document {status}"
        if "{" in path and path not in IDEMPOTENT_ERASURE:
            assert "404" in responses, where
    assert seen == 30


PRINTABLE = {
    "/api/interview/{interview_id}/kit": True,  # negotiated by Accept: documents 406
    "/api/interview/{interview_id}/kit.{format}": False,
    "/api/evaluations/{evaluation_id}/scorecard": True,
    "/api/evaluations/{evaluation_id}/scorecard.{format}": False,
}


def test_printable_documents_answer_html_or_pdf_and_406_only_where_accept_decides(spec):
    for path, negotiated in PRINTABLE.items():
        operation = spec["paths"][path]["get"]
        content = operation["responses"]["200"]["content"]
        assert content == {"text/html": {"schema": {"type": "string"}},
                           "application/pdf": {"schema": {"type": "string", "format": "binary"}}}, path
        assert ("406" in operation["responses"]) is negotiated, path
        assert "503" in operation["responses"], path  # PDF rendering unavailable
        query = [p for p in operation["parameters"] if p["in"] == "query"]
        assert [(p["name"], p["schema"]["enum"]) for p in query] == [("paper", ["a4", "letter"])], path
        if not negotiated:
            formats = [p for p in spec["paths"][path]["parameters"] if p["name"] == "format"]
            assert formats[0]["schema"]["enum"] == ["html", "pdf"], path


def test_health_operations_need_no_credentials(spec):
    for path, method, operation in operations(spec, "/health"):
        assert not operation.get("security"), f"{method.upper()} {path}"
    assert "503" in spec["paths"]["/health/ready"]["get"]["responses"]


def test_error_responses_use_the_error_envelope(spec):
    envelope = spec["components"]["schemas"]["ApiError"]
    assert {"success", "error", "errors", "req_id"} <= set(envelope["properties"])

    for path, method, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert resolve(spec, schema) is envelope, f"{method.upper()} {path} {status}"


def test_request_bodies_name_their_required_fields(spec):
    def body_schema(path, method="post"):
        content = spec["paths"][path][method]["requestBody"]["content"]["application/json"]
        return resolve(spec, content["schema"])

    enhance = body_schema("/api/interview/jd/enhance")
    assert set(enhance["required"]) == {"req_id", "basic_title", "basic_description"}
    assert {"work_output", "work_role", "work_knowledge", "work_competencies", "replace"} <= set(enhance["properties"])
    generate = body_schema("/api/interview/generate")
    assert set(generate["required"]) == {"req_id", "job_description_id"}
    assert generate["properties"]["job_description_id"]["type"] == "integer"
    for path in ("/api/interview/workflow/full", "/api/interview/workflow/create"):
        assert "interview_name" in body_schema(path)["properties"]
    assert {"status", "interview_name"} <= set(body_schema("/api/interview/{interview_id}", "patch")["properties"])


def test_path_parameters_are_documented(spec):
    for path, item in spec["paths"].items():
        names = re.findall(r"{([^}]+)}", path)
        documented = list(item.get("parameters", []))
        for method in set(item) & HTTP_METHODS:
            documented += item[method].get("parameters", [])
        for name in names:
            params = [p for p in documented if p["name"] == name and p["in"] == "path"]
            assert params and params[0]["required"] is True, f"{path}: {name}"
            if name == "interview_id":
                assert params[0]["schema"]["type"] == "integer"


def test_docs_is_swagger_ui_html(client):
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "swagger-ui" in page.lower()
    assert "/openapi.json" in page


def test_no_catch_all_default_response_and_429_names_retry_after(spec):
    # A "default" response would document every status code (schemathesis could not tell an
    # undocumented one), and flask-smorest's describes an error body this API never sends.
    limited = 0
    for path, method, operation in operations(spec, "/"):
        responses = operation["responses"]
        assert "default" not in responses, f"{method.upper()} {path}"
        if "429" in responses:
            limited += 1
            header = responses["429"]["headers"]["Retry-After"]
            assert header["required"] is True and header["schema"]["type"] == "integer", f"{method.upper()} {path}"
    assert limited >= 17  # every rate-limited operation (reads and writes, not only Claude calls)
