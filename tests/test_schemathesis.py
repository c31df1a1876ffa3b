"""Schemathesis fuzzes every operation of /openapi.json against the running app (in-process WSGI).

Every generated request (positive and negative, from the examples, coverage and fuzzing phases)
must answer without a 5xx it did not document, with a documented status code, content type,
body schema and headers. Requests carry an admin API key, so the whole API is reachable.

- test_every_operation_conforms: all operations, Claude answered by the sandbox provider (every
  call succeeds). A few stored resources (job description, interviews, evaluation, cache
  entries, generation logs) are created first and generated ids are sometimes swapped for
  theirs, so requests also reach the code behind the 404s.
- test_claude_failures_are_documented: the operations that call Claude, with the stub Messages
  API failing (529 overloaded -> 503, unusable output -> 502), against stored resources; each
  operation must have met the failure at least once.
- test_rate_limited_answers_are_documented: tiny rate limits; every operation that documents 429
  must have answered it at least once (and none may answer it undocumented).

Bounded (max_examples per operation, derandomized, fixed seed): about 30 s on SQLite, 60 s on
MariaDB. Deselect with ``-m "not fuzz"``.
"""

import uuid
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import TestPhase
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from routes.idempotency import HEADER as IDEMPOTENCY_KEY
from tests.helpers import workflow_body
from tests.stub_messages_api import interview_kit

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 25
SEED = 20261121
CLAUDE_OPERATIONS = r"^/api/interview/(jd/enhance|generate|workflow/(full|create)|\{interview_id\}/evaluations)$"


def fuzz_settings(max_examples=MAX_EXAMPLES):
    """Hypothesis settings of a fuzz test: bounded and reproducible (no example database)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(autouse=True)
def _nodeid_for_schemathesis(request):
    """schemathesis 4.32's pytest integration reads and rewrites ``node._nodeid``, which pytest 9.2
    no longer has (it keeps ``_id``); give it one so its per-operation labels still work."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def _schema(app, headers, *, upstream_failure=None):
    """The app's /openapi.json as a schemathesis schema; ``upstream_failure`` is the one 5xx status
    not_a_server_error accepts (a documented Claude failure), for the Claude-failure runs."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "headers": headers,
            # The configured Authorization is the credential; don't generate X-API-Key (it would win).
            "generation": {"deterministic": True, "with-security-parameters": False},
            "checks": {
                "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"] + ([str(upstream_failure)] if upstream_failure else [])}
            },
        }
    )
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)


def _seed(app, headers):
    """Store resources through the API (sandbox provider): return the ids worth aiming at."""
    client = app.test_client()

    def post(path, body):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.get_data(as_text=True)[:500])
        return response.get_json()

    full = post("/api/interview/workflow/full", workflow_body("REQ-FUZZ-1"))
    second = post("/api/interview/generate", {"req_id": "REQ-FUZZ-1", "job_description_id": full["job_description_id"]})
    questions = full["interview"]["questions"]
    evaluation = post(
        f"/api/interview/{full['interview_id']}/evaluations",
        {
            "candidate_id": "CAND-FUZZ-1",
            "mode": "manual",
            "scores": [{"question_number": q["question_number"], "checked_criteria": [q["criteria"][0]["criterion"]]} for q in questions],
        },
    )["evaluation"]
    cache = client.get("/api/admin/cache", headers=headers).get_json()
    logs = client.get("/api/admin/generation-logs", headers=headers).get_json()
    return {
        "job_description_id": full["job_description_id"],
        # PATCH may archive an interview; evaluations are aimed at the other one.
        "interview_id": full["interview_id"],
        "patched_interview_id": second["interview_id"],
        "evaluation_id": evaluation["id"],
        "req_id": "REQ-FUZZ-1",
        "candidate_id": "CAND-FUZZ-1",
        "entry_id": [entry["id"] for entry in cache["entries"]][:3] or None,
        "log_id": [log["id"] for log in logs["generation_logs"]][:3] or None,
        "question_numbers": [q["question_number"] for q in questions],
        "criteria": [c["criterion"] for q in questions for c in q["criteria"]][:10],
    }


def _aimed_evaluation(known, mode):
    """A valid evaluation request of ``mode`` on the stored interview's questions: AI scoring's
    answers, or manual scores ticking stored criteria.

    Aiming only the question numbers of a generated list once left the mode and the other list as
    generated, so AI scoring got past validation by luck alone (on SQLite through the documented
    example's interview 1, an id MySQL does not reuse)."""
    numbers = known["question_numbers"]
    if mode == "ai":
        items = [{"question_number": number, "answer_text": "I would reproduce the failure first."} for number in numbers]
        return {"candidate_id": "CAND-FUZZ-2", "mode": "ai", "answers": items}
    items = [{"question_number": number, "checked_criteria": known["criteria"][i : i + 2]} for i, number in enumerate(numbers)]
    return {"candidate_id": "CAND-FUZZ-2", "mode": "manual", "scores": items}


def _aim_at_stored_resources(schema, known):
    """Hooks: half the generated path ids (and job_description_id in bodies) become ids of stored
    resources, and two thirds of evaluation bodies valid requests (AI scoring or manual) on the stored questions, so
    requests get past the 404s and 400s."""

    def choices(name, operation):
        if name == "interview_id" and operation.method.upper() == "PATCH":
            name = "patched_interview_id"
        value = known.get(name)
        return value if isinstance(value, list) else ([value] if value is not None else [])

    @schema.hook("flatmap_path_parameters")
    def _path(ctx, parameters):
        if not isinstance(parameters, dict):
            return st.just(parameters)
        swaps = {name: choices(name, ctx.operation) for name in parameters}
        swaps = {name: values for name, values in swaps.items() if values}
        if not swaps:
            return st.just(parameters)
        stored = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in swaps.items()})
        return st.one_of(st.just(parameters), stored.map(lambda values: {**parameters, **values}))

    @schema.hook("flatmap_body")
    def _body(ctx, body):
        if not isinstance(body, dict):
            return st.just(body)
        if "job_description_id" in body:
            stored = {**body, "job_description_id": known["job_description_id"], "req_id": known["req_id"]}
            return st.sampled_from([body, stored])
        if ctx.operation.method.upper() == "POST" and ctx.operation.path.endswith("/evaluations"):
            return st.sampled_from([body, _aimed_evaluation(known, "ai"), _aimed_evaluation(known, "manual")])
        return st.just(body)

    return schema


@pytest.fixture
def answered():
    """Statuses answered per operation label ("POST /api/...") during a fuzz test."""
    return defaultdict(Counter)


def call_and_validate(case, answered):
    """Send ``case``, run CHECKS on the answer and count its status in ``answered``.

    The coverage phase keeps one Idempotency-Key (the documented example) while it varies the body,
    so each variant after the first would only meet the 422 "key used with a different request".
    Its cases that are not about the header are sent without it, to reach the body's validation.
    The examples phase sends every documented example with that one key too: each gets a key of
    its own, as a client would send, so the second example of an operation (AI scoring after
    manual) reaches the service instead of that 422."""
    phase = case.meta.phase if case.meta is not None else None
    if phase is not None and phase.name == TestPhase.COVERAGE and case.headers and phase.data.parameter != IDEMPOTENCY_KEY:
        case.headers.pop(IDEMPOTENCY_KEY, None)
    if phase is not None and phase.name == TestPhase.EXAMPLES and case.headers and IDEMPOTENCY_KEY in case.headers:
        case.headers[IDEMPOTENCY_KEY] = f"example-{uuid.uuid4().hex}"
    response = case.call_and_validate(checks=CHECKS)
    answered[case.operation.label][response.status_code] += 1


# --- All operations, Claude always answering (sandbox) ------------------------------------------------------

@pytest.fixture
def sandbox_schema(app_factory, make_key):
    app = app_factory(LLM_PROVIDER="sandbox", ENABLE_QUESTION_CACHE=True)
    headers = make_key("admin")
    known = _seed(app, headers)
    return _aim_at_stored_resources(_schema(app, headers), known)


# The printable kit and scorecard lay out a PDF for about a second per request: fuzzed with fewer
# examples, in a test of their own, so the suite stays within CI's time.
PRINTABLE_OPERATIONS = r"/(kit|scorecard)(\.\{format\})?$"
sandbox = schemathesis.pytest.from_fixture("sandbox_schema").exclude(path_regex=PRINTABLE_OPERATIONS)
printable = schemathesis.pytest.from_fixture("sandbox_schema").include(path_regex=PRINTABLE_OPERATIONS)


@pytest.fixture
def reaches_success(answered):
    """After the test: every operation it called answered at least one 2xx, so the seed, the keys
    and the hooks let requests through to the service (401, 404 and 400 are documented
    everywhere, so conforming alone would not show that)."""
    yield
    never = {label: sorted(counts) for label, counts in answered.items() if not any(200 <= s < 300 for s in counts)}
    assert answered and not never, f"operations with no 2xx answer (their statuses): {never}"


@sandbox.parametrize()
@fuzz_settings()
def test_every_operation_conforms(case, answered, reaches_success):
    call_and_validate(case, answered)


@printable.parametrize()
@fuzz_settings(6)
def test_every_printable_operation_conforms(case, answered, reaches_success):
    call_and_validate(case, answered)


# --- Claude failing: the Claude-calling operations document 502/503 ------------------------------------------

@pytest.fixture(params=[529, "unusable_output"], ids=["overloaded_503", "unusable_output_502"])
def claude_failure_schema(request, app_factory, make_key, claude, answered):
    sandbox_app = app_factory(LLM_PROVIDER="sandbox")  # stores the resources; same database
    headers = make_key("admin")
    known = _seed(sandbox_app, headers)
    if request.param == 529:
        claude.reply_status(529, error_type="overloaded_error", message="Overloaded")
        expected = 503
    else:
        claude.reply_json(interview_kit(criteria_counts=(1,)))  # fits no output rule, nor does its repair
        expected = 502
    claude.repeat_last = True
    app = app_factory(CLAUDE_MAX_RETRIES=0)  # Claude is the stub; no SDK retries (no back-off sleeps)
    schema = _aim_at_stored_resources(_schema(app, headers, upstream_failure=expected), known)
    yield schema
    # Not a vacuous pass: every Claude-calling operation got past validation to the failing Claude.
    labels = [result.ok().label for result in schema.include(path_regex=CLAUDE_OPERATIONS, method="POST").get_all_operations()]
    assert len(labels) == 5 and all(answered[label][expected] for label in labels), {label: dict(answered[label]) for label in labels}


claude_failing = schemathesis.pytest.from_fixture("claude_failure_schema").include(path_regex=CLAUDE_OPERATIONS, method="POST")


@claude_failing.parametrize()
@fuzz_settings(15)
def test_claude_failures_are_documented(case, answered):
    # About the synchronous failure answers: with Prefer: respond-async the failure is the job's
    # (202 here; tests/test_jobs.py shows the job ending with the same status and envelope).
    # callback_url goes only with that header (else 400), so it goes too.
    if case.headers:
        case.headers.pop("Prefer", None)
    if isinstance(case.body, dict):
        case.body.pop("callback_url", None)
    call_and_validate(case, answered)


# --- Over the rate limit: every rate-limited operation documents 429 ------------------------------------------

@pytest.fixture
def rate_limited_schema(app_factory, make_key, answered):
    app = app_factory(LLM_PROVIDER="sandbox", RATE_LIMIT_CLAUDE="1/hour", RATE_LIMIT_WRITE="1/hour", RATE_LIMIT_READ="1/hour")
    schema = _schema(app, make_key("admin"))
    yield schema
    # Every operation that documents 429 met its limit (status_code_conformance covers the others).
    limited = [
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method, operation in item.items()
        if path.startswith("/api/") and isinstance(operation, dict) and "429" in operation.get("responses", {})
    ]
    assert len(limited) >= 16 and all(answered[label][429] for label in limited), {label: dict(answered[label]) for label in limited}


rate_limited = schemathesis.pytest.from_fixture("rate_limited_schema").include(path_regex=r"^/api/")


@rate_limited.parametrize()
@fuzz_settings(5)
def test_rate_limited_answers_are_documented(case, answered):
    call_and_validate(case, answered)
