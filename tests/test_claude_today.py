"""Today's Claude (December 2026), through the real SDK against the stub Messages API: the default
model and per-purpose efforts, today's request rules, thinking blocks and their billing, retired
models, streaming, prompt caching, concurrent fills, planning beside the enhancement, and the
`claude check` command."""

import logging
import threading
import time
from decimal import Decimal

import pytest

from claude_client import PURPOSE_DEFAULTS, ClaudeClient, needs_streaming, purpose_settings
from config import Config, ConfigError
from models import GenerationCall, GenerationLog, Interview, JobDescription, db
from prompts import INTERVIEW_SYSTEM_PROMPT
from services.pricing import PriceTable
from tests.helpers import all_rows, count_rows, enhance, enhance_body, generate, workflow_body
from tests.stub_messages_api import (
    assessment,
    enhanced_jd,
    fill_for_plan,
    fill_slots,
    interview_kit,
    interview_plan,
    schema_title,
)

TOPICS = ["Kafka event streaming", "PostgreSQL query tuning", "Incident response", "Code review culture", "Deadline trade-offs"]
SONNET_5_5 = {"input": Decimal(2), "output": Decimal(10), "cache_write": Decimal("2.50"), "cache_read": Decimal("0.10")}


@pytest.fixture
def cache_app(app_factory):
    return app_factory(ENABLE_QUESTION_CACHE=True)


def _by_title(claude, title):
    return [r for r in claude.requests if schema_title(r) == title]


def _cost(usage):
    """USD of one call at Sonnet 5.5's list prices, computed here independently of the service."""
    return (
        usage.get("input_tokens", 0) * SONNET_5_5["input"]
        + usage.get("output_tokens", 0) * SONNET_5_5["output"]
        + usage.get("cache_creation_input_tokens", 0) * SONNET_5_5["cache_write"]
        + usage.get("cache_read_input_tokens", 0) * SONNET_5_5["cache_read"]
    ) / Decimal(1_000_000)


# --- Models, efforts and request rules -------------------------------------------------------

def test_every_call_uses_claude_sonnet_5_5_with_its_purposes_effort_and_no_forbidden_parameter(cache_app, admin, claude):
    client = cache_app.test_client()
    jd_id = enhance(client, admin, claude, "REQ-T1")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS))
    claude.fill_responder()

    assert generate(client, admin, "REQ-T1", jd_id).status_code == 200

    efforts = {schema_title(r): {(r["output_config"] or {}).get("effort") for r in _by_title(claude, schema_title(r))} for r in claude.requests}
    assert efforts == {"EnhancedJobDescription": {"high"}, "InterviewPlan": {"low"}, "InterviewQuestions": {"low"}}
    for request in claude.requests:
        assert request["model"] == "claude-sonnet-5-5"
        assert "tool_choice" not in request and "thinking" not in request  # both 400 on the 5.5 generation
        assert not {"temperature", "top_p", "top_k"} & set(request)
        assert request["output_config"]["format"]["type"] == "json_schema"
        assert request["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_the_audit_records_each_calls_model_and_effort(cache_app, admin, claude):
    client = cache_app.test_client()
    jd_id = enhance(client, admin, claude, "REQ-T1")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS))
    claude.fill_responder()
    assert generate(client, admin, "REQ-T1", jd_id).status_code == 200

    calls = all_rows(cache_app, GenerationCall)
    assert {(c.purpose, c.model, c.effort) for c in calls} == {
        ("jd_enhancement", "claude-sonnet-5-5", "high"),
        ("interview_plan", "claude-sonnet-5-5", "low"),
        ("interview_fill", "claude-sonnet-5-5", "low"),
    }
    logs = {log.operation_type: log for log in all_rows(cache_app, GenerationLog)}
    assert logs["jd_enhancement"].effort == "high"
    assert logs["interview_generation"].effort == "low"
    assert logs["interview_generation"].model == "claude-sonnet-5-5"
    detail = client.get(f"/api/admin/generation-logs/{logs['interview_generation'].id}", headers=admin).get_json()["generation_log"]
    assert detail["effort"] == "low" and {c["effort"] for c in detail["calls"]} == {"low"}
    enhancement = client.get(f"/api/admin/generation-logs/{logs['jd_enhancement'].id}", headers=admin).get_json()["generation_log"]
    assert enhancement["effort"] == "high" and enhancement["calls"][0]["effort"] == "high"


def test_one_purpose_can_have_its_own_model_and_effort(app_factory, admin, claude):
    app = app_factory(
        ENABLE_QUESTION_CACHE=True,
        CLAUDE_PURPOSE_OVERRIDES={"interview_fill": {"model": "claude-haiku-5-5", "effort": "medium"}},
        CLAUDE_PURPOSES_JSON='{"interview_plan": {"effort": "xhigh"}}',
    )
    client = app.test_client()
    jd_id = enhance(client, admin, claude, "REQ-T1")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS))
    claude.fill_responder(usage={"input_tokens": 1000, "output_tokens": 2000})

    response = generate(client, admin, "REQ-T1", jd_id)

    assert response.status_code == 200, response.get_json()
    fills = _by_title(claude, "InterviewQuestions")
    assert {(r["model"], r["output_config"]["effort"]) for r in fills} == {("claude-haiku-5-5", "medium")}
    assert _by_title(claude, "InterviewPlan")[0]["output_config"]["effort"] == "xhigh"
    # Haiku 5.5 prices the fill calls: 1000 x 0.10 + 2000 x 0.50 per million each.
    fill_costs = {c.cost_usd for c in all_rows(app, GenerationCall) if c.purpose == "interview_fill"}
    assert fill_costs == {Decimal("0.001100")}


def test_claude_effort_sets_the_default_and_a_purpose_setting_wins():
    config = {**{k: getattr(Config, k) for k in dir(Config) if k.isupper()}, "CLAUDE_EFFORT": "medium",
              "CLAUDE_PURPOSE_OVERRIDES": {"candidate_scoring": {"effort": "max"}}}

    settings = purpose_settings(config)

    assert settings["jd_enhancement"].effort == "medium" and settings["jd_enhancement"].effort_setting == "CLAUDE_EFFORT"
    assert settings["candidate_scoring"].effort == "max"
    assert settings["candidate_scoring"].effort_setting == "CLAUDE_EFFORT_CANDIDATE_SCORING"
    assert {s.model for p, s in settings.items() if p != "repair"} == {"claude-sonnet-5-5"}


def test_the_docs_document_each_purposes_built_in_effort():
    import pathlib
    import re

    readme = (pathlib.Path(__file__).resolve().parent.parent / "docs" / "claude.md").read_text()
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| [^|]+\| [^|]+\| `?([a-z_' ]+)`? \|", readme, re.MULTILINE))
    for purpose, default in PURPOSE_DEFAULTS.items():
        if "effort" in default:
            assert rows.get(purpose) == default["effort"], (purpose, rows.get(purpose))


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"CLAUDE_EFFORT": "extreme"}, "CLAUDE_EFFORT"),
        ({"CLAUDE_PURPOSE_OVERRIDES": {"interview_fill": {"effort": "turbo"}}}, "CLAUDE_EFFORT_INTERVIEW_FILL"),
        ({"CLAUDE_PURPOSE_OVERRIDES": {"interview_filling": {"effort": "low"}}}, "interview_filling"),
        ({"CLAUDE_PURPOSES_JSON": "{not json"}, "CLAUDE_PURPOSES_JSON"),
        ({"CLAUDE_PURPOSES_JSON": '{"interview_fill": {"temperature": 1}}'}, "CLAUDE_PURPOSES_JSON"),
    ],
)
def test_a_bad_model_or_effort_setting_stops_the_service_naming_it(app_factory, overrides, named):
    with pytest.raises(ConfigError, match=named):
        app_factory(**overrides)


def test_a_repair_call_uses_its_purposes_effort_unless_repair_is_set(app_factory, admin, claude):
    client = app_factory(CLAUDE_PURPOSE_OVERRIDES={"repair": {"effort": "max"}}).test_client()
    claude.reply_json("not JSON").reply_json(enhanced_jd())

    assert client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin).status_code == 200
    assert [r["output_config"]["effort"] for r in claude.requests] == ["high", "max"]


# --- Thinking blocks and their billing --------------------------------------------------------

def test_thinking_blocks_come_first_only_the_text_is_the_answer_and_thinking_is_billed_as_output(client, admin, claude):
    usage = {"input_tokens": 1500, "output_tokens": 4200}  # output includes the thinking tokens
    claude.reply_json(enhanced_jd(), usage=usage)

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["enhanced_jd"]["title"] == "Senior Backend Engineer"
    call = all_rows(client.application, GenerationCall)[-1]
    assert (call.input_tokens, call.output_tokens) == (1500, 4200)
    assert call.cost_usd == _cost(usage) == Decimal("0.045")


def test_generate_and_workflow_report_cost_usage_and_cached_questions(client, admin, claude):
    enhance_usage = {"input_tokens": 900, "output_tokens": 1700, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    kit_usage = {"input_tokens": 1600, "output_tokens": 3300, "cache_creation_input_tokens": 700, "cache_read_input_tokens": 0}
    claude.reply_json(enhanced_jd(), usage=enhance_usage)
    claude.reply_json(interview_kit(), usage=kit_usage)

    body = client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin).get_json()

    assert body["cached_questions"] == 0
    assert body["usage"] == {kind: enhance_usage[kind] + kit_usage[kind] for kind in enhance_usage}
    assert Decimal(body["cost_usd"]) == _cost(enhance_usage) + _cost(kit_usage)
    assert body["cost_usd"] == "0.056750"  # (900x2 + 1700x10) + (1600x2 + 3300x10 + 700x2.50) per million
    assert body["total_tokens_used"] == sum(body["usage"].values())

    claude.reply_json(interview_kit(), usage=kit_usage)
    generated = generate(client, admin, "REQ-T1", body["job_description_id"]).get_json()
    assert generated["usage"] == kit_usage and generated["cost_usd"] == f"{_cost(kit_usage):.6f}"
    assert generated["cached_questions"] == 0 and generated["tokens_used"] == sum(kit_usage.values())


# --- Retired models -------------------------------------------------------------------------

def test_a_retired_model_answers_502_naming_the_setting_to_change(app_factory, admin, claude):
    client = app_factory(CLAUDE_MODEL="claude-sonnet-4-5").test_client()

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 502
    message = response.get_json()["error"]
    assert "claude-sonnet-4-5" in message and "CLAUDE_MODEL" in message and "current model" in message
    assert claude.calls == 1  # a 404 is not retried
    log = all_rows(client.application, GenerationLog)[-1]
    assert (log.status, log.error_kind) == ("failed", "claude_rejected")
    assert all_rows(client.application, GenerationCall)[-1].outcome == "http_404"
    assert count_rows(client.application, JobDescription) == 0


def test_a_retired_per_purpose_model_names_its_own_setting(app_factory, admin, claude):
    app = app_factory(ENABLE_QUESTION_CACHE=True, CLAUDE_PURPOSE_OVERRIDES={"interview_fill": {"model": "claude-opus-4-1"}})
    client = app.test_client()
    jd_id = enhance(client, admin, claude, "REQ-T1")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS))

    response = generate(client, admin, "REQ-T1", jd_id)

    assert response.status_code == 502
    assert "CLAUDE_MODEL_INTERVIEW_FILL" in response.get_json()["error"]
    assert count_rows(app, Interview) == 0


def test_a_deprecated_model_is_logged_as_a_warning_at_startup(app_factory, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        app_factory(CLAUDE_MODEL="claude-sonnet-4-5")

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == "app"]
    assert any("CLAUDE_MODEL=claude-sonnet-4-5" in w and "end of life on 2026-11-30" in w for w in warnings), warnings


def test_a_current_model_starts_without_a_deprecation_warning(app_factory, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        app_factory()

    assert not [r for r in caplog.records if r.name == "app" and "deprecated" in r.getMessage()]


# --- Streaming ------------------------------------------------------------------------------

def test_above_the_sdks_non_streaming_limit_calls_are_streamed_and_audited_from_the_final_message(app_factory, admin, claude):
    assert needs_streaming(21_334) and not needs_streaming(16_000)
    client = app_factory(CLAUDE_MAX_TOKENS=64_000).test_client()
    usage = {"input_tokens": 800, "output_tokens": 5000, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 300}
    claude.reply_json(enhanced_jd(), usage=usage)

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert claude.requests[-1]["stream"] is True and claude.requests[-1]["max_tokens"] == 64_000
    assert response.get_json()["tokens_used"] == sum(usage.values())
    [call] = all_rows(client.application, GenerationCall)
    assert (call.outcome, call.status_code, call.model, call.effort) == ("ok", 200, "claude-sonnet-5-5", "high")
    assert (call.output_tokens, call.cache_read_input_tokens, call.cost_usd) == (5000, 300, _cost(usage))
    assert call.anthropic_request_id.startswith("req_stub_")


def test_a_streamed_call_that_answers_an_error_maps_as_usual(app_factory, admin, claude):
    client = app_factory(CLAUDE_MAX_TOKENS=64_000, CLAUDE_MODEL="claude-sonnet-4-5").test_client()

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 502 and "CLAUDE_MODEL" in response.get_json()["error"]


# --- Prompt caching -------------------------------------------------------------------------

def test_each_purposes_prefix_is_written_once_and_read_by_later_calls(cache_app, admin, claude):
    client = cache_app.test_client()
    claude.prompt_caching = True
    claude.fill_responder(usage={"output_tokens": 600})

    for req_id, topics in (("REQ-T1", TOPICS), ("REQ-T2", [f"{t} practice" for t in TOPICS])):
        jd_id = enhance(client, admin, claude, req_id)["job_description_id"]
        claude.reply_json(interview_plan(topics), usage={"output_tokens": 300})
        assert generate(client, admin, req_id, jd_id).status_code == 200

    plans = [c for c in all_rows(cache_app, GenerationCall) if c.purpose == "interview_plan"]
    assert plans[0].cache_creation_input_tokens >= 512 and plans[0].cache_read_input_tokens == 0
    assert plans[1].cache_read_input_tokens == plans[0].cache_creation_input_tokens  # the later kit reads it
    fills = [c for c in all_rows(cache_app, GenerationCall) if c.purpose == "interview_fill"]
    assert sum(1 for c in fills if c.cache_creation_input_tokens) == 1  # one write for ten fills
    # Every interview purpose sends the same system prompt (its schema, and so its cache entry, differs).
    requests = _by_title(claude, "InterviewPlan") + _by_title(claude, "InterviewQuestions")
    assert {r["system"][0]["text"] for r in requests} == {INTERVIEW_SYSTEM_PROMPT}
    assert all(r["system"][-1]["cache_control"] == {"type": "ephemeral"} for r in requests)


# --- Concurrent fills ------------------------------------------------------------------------

class _InFlight:
    """A fill responder that counts calls in flight; ``barrier`` (if given) holds each answer until
    that many calls are in flight at once (a broken barrier fails the call, and the test)."""

    def __init__(self, plan, hold=0.2, barrier=None):
        self.plan, self.hold, self.barrier, self.now, self.most = plan, hold, barrier, 0, 0
        self._lock = threading.Lock()

    def __call__(self, body):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            if self.barrier is not None:
                self.barrier.wait()
            else:
                time.sleep(self.hold)
        finally:
            with self._lock:
                self.now -= 1
        return fill_for_plan(self.plan, {fill_slots(body)[0][0]})


def _kit(client, admin, claude, req_id, plan):
    jd_id = enhance(client, admin, claude, req_id)["job_description_id"]
    claude.reply_json(plan)
    return generate(client, admin, req_id, jd_id)


def test_a_cold_prefix_is_written_by_one_fill_and_read_by_the_others_then_all_fills_run_at_once(cache_app, admin, claude):
    client = cache_app.test_client()
    plan = interview_plan(TOPICS)
    claude.prompt_caching = True
    claude.reply_for_schema("InterviewQuestions", lambda body: fill_for_plan(plan, {fill_slots(body)[0][0]}), delay=0.1)

    assert _kit(client, admin, claude, "REQ-T1", plan).status_code == 200

    fills = [c for c in all_rows(cache_app, GenerationCall) if c.purpose == "interview_fill"]
    assert sorted((c.cache_creation_input_tokens > 0, c.cache_read_input_tokens > 0) for c in fills) == (
        [(False, True)] * 4 + [(True, False)]
    )  # one write, four reads: the others were sent once the first answer had begun
    first = min(fills, key=lambda c: c.started_at)
    assert first.cache_creation_input_tokens > 0
    assert [r.get("stream") for r in _by_title(claude, "InterviewQuestions")].count(True) == 1

    in_flight = _InFlight(plan, barrier=threading.Barrier(5, timeout=10))
    claude.reply_for_schema("InterviewQuestions", in_flight)  # the prefix is cached now: no waiting
    response = _kit(client, admin, claude, "REQ-T2", interview_plan([f"{t} practice" for t in TOPICS]))

    assert response.status_code == 200, response.get_json()
    assert in_flight.most == 5


def test_fill_concurrency_is_bounded_per_request(app_factory, admin, claude):
    client = app_factory(ENABLE_QUESTION_CACHE=True, CLAUDE_FILL_CONCURRENCY=2).test_client()
    plan = interview_plan(TOPICS)
    in_flight = _InFlight(plan, hold=0.2)
    claude.reply_for_schema("InterviewQuestions", in_flight)

    assert _kit(client, admin, claude, "REQ-T1", plan).status_code == 200
    assert in_flight.most == 2 and count_rows(client.application, GenerationCall, purpose="interview_fill") == 5


def test_claude_calls_are_bounded_per_process(app_factory, admin, claude):
    app = app_factory(ENABLE_QUESTION_CACHE=True, CLAUDE_FILL_CONCURRENCY=2, CLAUDE_MAX_CONCURRENT_CALLS=3)
    client = app.test_client()
    jd_ids = [enhance(client, admin, claude, f"REQ-T{i}")["job_description_id"] for i in (1, 2)]
    plan = interview_plan(TOPICS)
    claude.reply_for_schema("InterviewPlan", plan)
    # Two kits want 2 + 2 fills at once; the process allows 3.
    holder = _InFlight(plan, hold=0.3)
    claude.reply_for_schema("InterviewQuestions", holder)
    statuses = []

    def run(index):
        statuses.append(generate(app.test_client(), admin, f"REQ-T{index + 1}", jd_ids[index]).status_code)

    threads = [threading.Thread(target=run, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200, 200]
    assert holder.most == 3  # 10 fills of two kits that each allow 2 at once: never more than 3 in the process
    assert count_rows(app, GenerationCall, purpose="interview_fill") == 10
    for log in (log for log in all_rows(app, GenerationLog) if log.operation_type == "interview_generation"):
        calls = [c for c in all_rows(app, GenerationCall) if c.generation_log_id == log.id]
        assert log.claude_calls == len(calls) == 6  # its plan and its own 5 fills, exactly
        assert log.tokens_used == sum(c.input_tokens + c.output_tokens for c in calls)


# --- The workflow plans beside the enhancement ------------------------------------------------

def test_the_workflow_plans_from_the_requisitions_own_facts_while_the_enhancement_runs(cache_app, admin, claude):
    client = cache_app.test_client()
    fills_started, seen = threading.Event(), {}

    def enhancement(body):  # answers only once a fill has arrived: planning and filling ran meanwhile
        seen["fills_before_enhancement_answered"] = fills_started.wait(10)
        return enhanced_jd()

    def fill(body):
        fills_started.set()
        return fill_for_plan(plan, {fill_slots(body)[0][0]})

    plan = interview_plan(TOPICS)
    claude.reply_for_schema("EnhancedJobDescription", enhancement)
    claude.reply_for_schema("InterviewPlan", plan)
    claude.reply_for_schema("InterviewQuestions", fill)
    body = workflow_body("REQ-T1", basic_department="Payments Engineering")

    response = client.post("/api/interview/workflow/full", json=body, headers=admin)

    assert response.status_code == 200, response.get_json()
    assert seen["fills_before_enhancement_answered"] is True
    result = response.get_json()
    [plan_request] = _by_title(claude, "InterviewPlan")
    plan_text = plan_request["messages"][0]["content"]
    for fact in (body["basic_title"], body["basic_description"], body["basic_level"], body["basic_department"],
                 body["work_output"], body["work_role"], body["work_knowledge"], body["work_competencies"]):
        assert fact in plan_text  # the same requisition facts the enhancement sees
    enhancement_text = _by_title(claude, "EnhancedJobDescription")[0]["messages"][0]["content"]
    for fact in (body["basic_description"], body["work_output"], body["work_knowledge"], body["work_competencies"]):
        assert fact in enhancement_text
    assert result["cached_questions"] == 0 and len(result["interview"]["questions"]) == 5
    with cache_app.app_context():
        interview = db.session.get(Interview, result["interview_id"])
        assert interview.job_description_id == result["job_description_id"]
    logs = {log.operation_type: log for log in all_rows(cache_app, GenerationLog)}
    assert logs["interview_generation"].job_description_id == result["job_description_id"]
    assert logs["interview_generation"].interview_id == result["interview_id"]
    assert result["total_tokens_used"] == logs["jd_enhancement"].tokens_used + logs["interview_generation"].tokens_used


def test_the_create_workflow_also_plans_beside_the_enhancement_and_reports_cached_questions(cache_app, admin, claude):
    client = cache_app.test_client()
    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd())
    claude.reply_for_schema("InterviewPlan", interview_plan(TOPICS))
    claude.fill_responder()
    assert client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin).status_code == 200
    claude.requests.clear()

    response = client.post("/api/interview/workflow/create", json=workflow_body("REQ-T2"), headers=admin)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["cached_questions"] == 5 and [q["source"] for q in body["interview"]["questions"]] == ["cache"] * 5
    assert sorted(schema_title(r) for r in claude.requests) == ["EnhancedJobDescription", "InterviewPlan"]
    default_call = {"input_tokens": 1200, "output_tokens": 800}  # the stub's default usage
    assert body["usage"]["output_tokens"] == 2 * 800 and Decimal(body["cost_usd"]) == 2 * _cost(default_call)


def test_a_failed_enhancement_stops_the_kit_before_any_question_is_written(cache_app, admin, claude):
    client = cache_app.test_client()
    claude.reply_for_schema("EnhancedJobDescription", "not JSON")  # unusable, and so is its repair
    claude.reply_for_schema("InterviewPlan", interview_plan(TOPICS), delay=0.5)  # the plan arrives after that
    claude.fill_responder()
    errors_before = _claude_errors(client)

    response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin)

    assert response.status_code == 502 and response.get_json()["error"].startswith("Claude returned unusable output")
    assert count_rows(cache_app, JobDescription) == 0 and count_rows(cache_app, Interview) == 0
    assert _by_title(claude, "InterviewQuestions") == []  # no question paid for
    logs = {log.operation_type: log for log in all_rows(cache_app, GenerationLog)}
    assert (logs["jd_enhancement"].status, logs["jd_enhancement"].error_kind) == ("failed", "claude_bad_output")
    assert (logs["interview_generation"].status, logs["interview_generation"].error_kind) == ("failed", "enhancement_failed")
    assert logs["interview_generation"].claude_calls == 1  # the plan it had paid for, audited
    assert _claude_errors(client) - errors_before == 1  # one failure, counted once


def _claude_errors(client):
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))
        for sample in family.samples
        if sample.name == "techscreen_claude_errors_total"
    )


def test_a_failed_generation_after_the_enhancement_keeps_the_job_description(cache_app, admin, claude):
    client = cache_app.test_client()
    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd())
    claude.reply_for_schema("InterviewPlan", {"slots": []})  # invalid, and its repair too

    response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin)

    assert response.status_code == 502
    assert response.get_json()["job_description_id"] == all_rows(cache_app, JobDescription)[0].id
    assert count_rows(cache_app, Interview) == 0


def test_a_requisition_already_enhanced_is_refused_before_any_claude_call(cache_app, admin, claude):
    client = cache_app.test_client()
    enhance(client, admin, claude, "REQ-T1")
    before = claude.calls

    response = client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin)

    assert response.status_code == 409
    assert claude.calls == before


# --- flask claude check ---------------------------------------------------------------------

def test_claude_check_prints_model_price_and_effort_per_purpose(app_factory, claude):
    app = app_factory()
    claude.repeat_last = True
    claude.reply_json("OK")
    result = app.test_cli_runner().invoke(args=["claude", "check"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for purpose in ("jd_enhancement", "interview_plan", "interview_fill", "interview_generation", "candidate_scoring"):
        [line] = [line for line in lines if line.startswith(purpose)]
        assert "claude-sonnet-5-5" in line and "2 / 10 / 2.50 / 0.10" in line and line.endswith("OK")
    assert "effort low" in next(line for line in lines if line.startswith("interview_fill"))
    assert set(claude.model_requests) == {"claude-sonnet-5-5"}
    # one tiny request per distinct (model, effort), with that effort
    assert sorted(r["output_config"]["effort"] for r in claude.requests) == ["high", "low"]
    assert all(r["max_tokens"] <= 64 for r in claude.requests)


def test_claude_check_exits_1_for_a_retired_model(app_factory, claude):
    app = app_factory(CLAUDE_MODEL="claude-sonnet-4-5")
    result = app.test_cli_runner().invoke(args=["claude", "check"])

    assert result.exit_code == 1
    assert "PROBLEM" in result.output and "CLAUDE_MODEL=claude-sonnet-4-5" in result.output
    assert "end of life on 2026-11-30" in result.output


def test_claude_check_exits_1_for_a_model_the_models_api_does_not_know(app_factory, claude):
    app = app_factory(CLAUDE_PURPOSE_OVERRIDES={"interview_fill": {"model": "claude-sonnet-5-6-typo"}})
    claude.repeat_last = True
    claude.reply_json("OK")
    result = app.test_cli_runner().invoke(args=["claude", "check"])

    assert result.exit_code == 1
    [line] = [line for line in result.output.splitlines() if line.startswith("interview_fill")]
    assert "CLAUDE_MODEL_INTERVIEW_FILL=claude-sonnet-5-6-typo" in line and "does not know this model" in line


def test_a_model_without_a_price_is_a_check_problem(claude):
    client = ClaudeClient(provider="anthropic", model="claude-sonnet-5-5", max_tokens=1000, timeout=5, max_retries=0,
                          api_key="k", base_url=claude.base_url, prices=PriceTable({}))
    claude.repeat_last = True
    claude.reply_json("OK")

    rows = client.check(purposes=["jd_enhancement"])

    assert rows[0]["price"] is None and "no price for claude-sonnet-5-5" in rows[0]["problem"]


def test_claude_check_exits_1_when_the_test_request_fails(app_factory, claude):
    app = app_factory()
    claude.reply_status(401, error_type="authentication_error")
    result = app.test_cli_runner().invoke(args=["claude", "check"])

    assert result.exit_code == 1 and "ANTHROPIC_API_KEY" in result.output


# --- More settings ---------------------------------------------------------------------------

def test_per_purpose_settings_are_read_from_the_environment(monkeypatch):
    from config import _purpose_overrides

    monkeypatch.setenv("CLAUDE_MODEL_INTERVIEW_FILL", "claude-haiku-5-5")
    monkeypatch.setenv("CLAUDE_EFFORT_CANDIDATE_SCORING", "max")
    monkeypatch.setenv("CLAUDE_EFFORT_REPAIR", "medium")

    assert _purpose_overrides() == {
        "interview_fill": {"model": "claude-haiku-5-5"},
        "candidate_scoring": {"effort": "max"},
        "repair": {"effort": "medium"},
    }


def test_a_model_without_effort_gets_no_effort_parameter(app_factory, admin, claude):
    client = app_factory(CLAUDE_PURPOSE_OVERRIDES={"jd_enhancement": {"model": "claude-haiku-4-5"}}).test_client()
    claude.reply_json(enhanced_jd())

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 200, response.get_json()  # the stub answers 400 to effort on Haiku 4.5
    assert "effort" not in claude.requests[0]["output_config"] and claude.requests[0]["model"] == "claude-haiku-4-5"
    assert response.get_json()["model"] == "claude-haiku-4-5"  # the job description records the model used
    assert all_rows(client.application, GenerationCall)[-1].effort is None


def test_a_repair_uses_the_effort_of_the_purpose_it_repairs_by_default(cache_app, admin, claude):
    client = cache_app.test_client()
    jd_id = enhance(client, admin, claude, "REQ-T1")["job_description_id"]
    claude.reply_json({"slots": []}).reply_json(interview_plan(TOPICS))
    claude.fill_responder()

    assert generate(client, admin, "REQ-T1", jd_id).status_code == 200
    plans = _by_title(claude, "InterviewPlan")
    assert [r["output_config"]["effort"] for r in plans] == ["low", "low"]
    assert {c.purpose: c.effort for c in all_rows(cache_app, GenerationCall)}["interview_plan.repair"] == "low"


# --- Exact audit under concurrency, and errors inside a stream ------------------------------------

def test_a_fill_retried_by_the_sdk_is_audited_exactly_beside_the_others(cache_app, admin, claude):
    from tests.stub_messages_api import StubError

    client = cache_app.test_client()
    plan = interview_plan(TOPICS)
    once = threading.Lock()
    failed = []

    def fill(body):
        number = fill_slots(body)[0][0]
        with once:
            if number == 3 and not failed:
                failed.append(number)
                return StubError(429, "rate_limit_error", "slow down", headers={"retry-after-ms": "10"})
        return fill_for_plan(plan, {number}), {"input_tokens": 100 + number, "output_tokens": 500}

    claude.reply_for_schema("InterviewQuestions", fill)

    response = _kit(client, admin, claude, "REQ-T1", plan)

    assert response.status_code == 200, response.get_json()
    fills = [c for c in all_rows(cache_app, GenerationCall) if c.purpose == "interview_fill"]
    assert sorted((c.attempt, c.outcome) for c in fills) == [(0, "http_429")] + [(0, "ok")] * 4 + [(1, "ok")]
    assert len({c.anthropic_request_id for c in fills}) == 6
    assert sum(c.input_tokens for c in fills) == sum(100 + n for n in range(1, 6))
    log = [log for log in all_rows(cache_app, GenerationLog) if log.operation_type == "interview_generation"][-1]
    assert log.claude_calls == 7 and response.get_json()["usage"]["input_tokens"] == log.input_tokens


def test_an_error_event_inside_a_streamed_answer_maps_by_its_type(app_factory, admin, claude):
    client = app_factory(CLAUDE_MAX_TOKENS=64_000).test_client()
    claude.reply_json(enhanced_jd(), stream_error=True)  # message_start, then an overloaded_error event

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-T1"), headers=admin)

    assert response.status_code == 503, response.get_json()
    assert "overloaded" in response.get_json()["error"].lower()
    [call] = all_rows(client.application, GenerationCall)
    assert call.outcome == "stream_interrupted" and call.input_tokens > 0  # message_start's usage is billed
    assert all_rows(client.application, GenerationLog)[-1].status == "failed"


def test_ai_scoring_and_the_usage_report_are_priced_at_the_default_model(client, admin, claude, auditor_key):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    interview = client.post("/api/interview/workflow/full", json=workflow_body("REQ-T1"), headers=admin).get_json()["interview"]
    first = interview["questions"][0]
    usage = {"input_tokens": 3000, "output_tokens": 2500}  # output includes the judgement's thinking
    claude.reply_json(assessment({1: [(c["criterion"], False, "") for c in first["criteria"]]}), usage=usage)
    body = {"candidate_id": "CAND-1", "mode": "ai", "answers": [{"question_number": 1, "answer_text": "I would look at lag first."}]}

    assert client.post(f"/api/interview/{interview['id']}/evaluations", json=body, headers=admin).status_code == 201

    scoring = [log for log in all_rows(client.application, GenerationLog) if log.operation_type == "candidate_scoring"][-1]
    assert (scoring.model, scoring.effort, scoring.unpriced_calls, scoring.cost_usd) == ("claude-sonnet-5-5", "high", 0, _cost(usage))
    report = client.get("/api/admin/usage", query_string={"group_by": "operation_type"}, headers=auditor_key).get_json()
    assert {log.unpriced_calls for log in all_rows(client.application, GenerationLog)} == {0}  # every call priced
    default_call = {"input_tokens": 1200, "output_tokens": 800}
    assert Decimal(report["totals"]["cost_usd"]) == 2 * _cost(default_call) + _cost(usage)


@pytest.fixture
def auditor_key(make_key):
    return make_key("auditor")



def test_a_prefix_seen_cached_stays_known_when_the_answer_names_a_dated_snapshot(claude):
    client = ClaudeClient(provider="anthropic", model="claude-sonnet-5-5", max_tokens=1000, timeout=5, max_retries=0,
                          api_key="k", base_url=claude.base_url, prices=PriceTable({}))
    claude.reply_json({"ok": True}, model="claude-sonnet-5-5-20261118", usage={"cache_read_input_tokens": 900})

    all_calls = _Recorder()
    client.generate_json(purpose="interview_fill", system="s", messages=[{"role": "user", "content": "u"}],
                         schema={"type": "object"}, validate=lambda data: data, recorder=all_calls)

    assert client.prefix_cached("interview_fill") is True and len(all_calls.calls) == 1


class _Recorder:
    def __init__(self):
        self.calls = []

    def add_call(self, record):
        self.calls.append(record)
