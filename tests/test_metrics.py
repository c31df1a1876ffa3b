"""GET /metrics parses with prometheus-client's parser, and its counters move with real traffic."""

from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import enhance_body, workflow_body
from tests.stub_messages_api import (
    enhanced_jd,
    interview_kit,
    interview_plan,
)


def scrape(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_need_no_credentials_and_declare_every_family(client):
    families = {f.name for f in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True))}

    assert {
        "techscreen_http_requests", "techscreen_http_request_duration_seconds", "techscreen_claude_calls",
        "techscreen_claude_tokens", "techscreen_claude_cost_usd", "techscreen_claude_errors",
        "techscreen_question_cache_lookups",
    } <= families


def test_http_claude_call_and_token_counters_move_by_what_happened(client, admin, claude):
    before = scrape(client)
    claude.reply_status(429, headers={"retry-after-ms": "10"})
    claude.reply_json(enhanced_jd(), usage={"input_tokens": 100, "output_tokens": 20, "cache_read_input_tokens": 7})
    claude.reply_json(interview_kit(), usage={"input_tokens": 300, "output_tokens": 40, "cache_creation_input_tokens": 5})

    assert client.post("/api/interview/workflow/full", json=workflow_body("REQ-M1"), headers=admin).status_code == 200
    after = scrape(client)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    model = "claude-sonnet-5-5"
    assert delta("techscreen_claude_tokens_total", model=model, kind="input_tokens") == 400
    assert delta("techscreen_claude_tokens_total", model=model, kind="output_tokens") == 60
    assert delta("techscreen_claude_tokens_total", model=model, kind="cache_read_input_tokens") == 7
    assert delta("techscreen_claude_tokens_total", model=model, kind="cache_creation_input_tokens") == 5
    assert delta("techscreen_claude_calls_total", model=model, purpose="jd_enhancement", outcome="ok") == 1
    assert delta("techscreen_claude_calls_total", model="unknown", purpose="jd_enhancement", outcome="http_429") == 1
    assert delta("techscreen_http_requests_total", endpoint="/api/interview/workflow/full", method="POST", status="200") == 1
    assert delta("techscreen_http_request_duration_seconds_count", endpoint="/api/interview/workflow/full", method="POST") == 1


def test_claude_errors_are_counted_by_kind(client, admin, claude):
    before = scrape(client)
    for _ in range(3):  # the first attempt and the SDK's 2 retries
        claude.reply_status(529, headers={"retry-after-ms": "10"})

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-M2"), headers=admin)
    after = scrape(client)

    assert response.status_code == 503
    assert value(after, "techscreen_claude_errors_total", kind="claude_unavailable") - value(before, "techscreen_claude_errors_total", kind="claude_unavailable") == 1


def test_question_cache_hits_and_misses_are_counted(app_factory, admin, claude):
    client = app_factory(ENABLE_QUESTION_CACHE=True).test_client()
    topics = ["Kafka event streaming", "PostgreSQL query tuning", "Incident response", "Code review culture", "Deadline trade-offs"]
    before = scrape(client)
    for req_id in ("REQ-M3", "REQ-M4"):
        claude.reply_json(enhanced_jd())
        jd_id = client.post("/api/interview/jd/enhance", json=enhance_body(req_id), headers=admin).get_json()["job_description_id"]
        claude.reply_json(interview_plan(topics))
        claude.fill_responder()
        assert client.post("/api/interview/generate", json={"req_id": req_id, "job_description_id": jd_id}, headers=admin).status_code == 200
    after = scrape(client)

    assert value(after, "techscreen_question_cache_lookups_total", result="miss") - value(before, "techscreen_question_cache_lookups_total", result="miss") == 5
    assert value(after, "techscreen_question_cache_lookups_total", result="hit") - value(before, "techscreen_question_cache_lookups_total", result="hit") == 5
