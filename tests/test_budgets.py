"""Token budgets: refused at the boundary before Claude is called, logged, and reset by period."""

from datetime import timedelta

import pytest

from models import GenerationLog, db, utcnow
from services.budgets import period_bounds
from tests.helpers import all_rows, api_key_id, enhance_body
from tests.stub_messages_api import enhanced_jd

RESERVES = {"jd_enhancement": 1000, "interview_generation": 5000, "candidate_scoring": 2000}


@pytest.fixture
def budget_app(app_factory):
    return app_factory(TOKEN_BUDGET_DAILY=10_000, BUDGET_RESERVE_TOKENS=RESERVES)


def enhance(client, headers, claude, req_id, *, spend):
    """POST an enhance whose Claude call reports ``spend`` tokens."""
    claude.reply_json(enhanced_jd(), usage={"input_tokens": spend - 1, "output_tokens": 1})
    return client.post("/api/interview/jd/enhance", json=enhance_body(req_id), headers=headers)


def test_a_request_is_allowed_up_to_the_budget_and_refused_one_token_past_it(budget_app, admin, claude):
    client = budget_app.test_client()
    assert enhance(client, admin, claude, "REQ-B1", spend=8_999).status_code == 200
    # spent 8,999 + reserve 1,000 = 9,999 <= 10,000: allowed
    assert enhance(client, admin, claude, "REQ-B2", spend=1).status_code == 200
    # spent 9,000 + reserve 1,000 = 10,000 <= 10,000: allowed (the boundary itself)
    assert enhance(client, admin, claude, "REQ-B3", spend=1).status_code == 200
    calls = claude.calls

    refused = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-B4"), headers=admin)

    assert refused.status_code == 429  # spent 9,001 + 1,000 > 10,000
    assert claude.calls == calls  # Claude was not called
    body = refused.get_json()
    assert body["success"] is False and "daily token budget" in body["error"]
    budget = body["budget"]
    assert (budget["scope"], budget["period"], budget["limit"], budget["spent"], budget["reserve"]) == ("global", "daily", 10_000, 9_001, 1_000)
    assert budget["reset_at"].endswith("T00:00:00+00:00")
    assert 0 < int(refused.headers["Retry-After"]) <= 86_400
    log = all_rows(budget_app, GenerationLog)[-1]
    assert (log.status, log.error_kind, log.tokens_used, log.req_id) == ("refused", "budget_exceeded", 0, "REQ-B4")


def test_a_workflow_reserves_both_of_its_operations(app_factory, admin, claude):
    client = app_factory(TOKEN_BUDGET_DAILY=5_999, BUDGET_RESERVE_TOKENS=RESERVES).test_client()

    response = client.post("/api/interview/workflow/full", json={**enhance_body("REQ-B5"), "interview_name": "x"}, headers=admin)

    assert response.status_code == 429  # 0 + 1,000 + 5,000 > 5,999
    assert response.get_json()["budget"]["reserve"] == 6_000
    assert claude.calls == 0


def test_the_daily_budget_resets_the_next_utc_day(budget_app, admin, claude):
    client = budget_app.test_client()
    enhance(client, admin, claude, "REQ-B6", spend=9_500)
    assert client.post("/api/interview/jd/enhance", json=enhance_body("REQ-B7"), headers=admin).status_code == 429

    with budget_app.app_context():  # the spending happened yesterday
        yesterday, _ = period_bounds("daily", utcnow() - timedelta(days=1))
        db.session.execute(db.update(GenerationLog).values(started_at=yesterday + timedelta(hours=23)))
        db.session.commit()

    assert enhance(client, admin, claude, "REQ-B7", spend=100).status_code == 200


def test_a_monthly_budget_counts_the_whole_utc_month(app_factory, admin, claude):
    app = app_factory(TOKEN_BUDGET_MONTHLY=10_000, BUDGET_RESERVE_TOKENS=RESERVES)
    client = app.test_client()
    enhance(client, admin, claude, "REQ-B8", spend=9_500)
    with app.app_context():  # earlier this month, or last month
        start, _ = period_bounds("monthly", all_rows(app, GenerationLog)[-1].started_at)
        db.session.execute(db.update(GenerationLog).values(started_at=start))
        db.session.commit()
    refused = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-B9"), headers=admin)
    assert refused.status_code == 429 and refused.get_json()["budget"]["period"] == "monthly"

    with app.app_context():
        db.session.execute(db.update(GenerationLog).values(started_at=start - timedelta(seconds=1)))
        db.session.commit()

    assert enhance(client, admin, claude, "REQ-B9", spend=100).status_code == 200


def test_a_key_budget_refuses_that_key_only(app_factory, make_key, claude):
    app = app_factory(BUDGET_RESERVE_TOKENS=RESERVES)
    client = app.test_client()
    frugal, other = make_key("recruiter"), make_key("recruiter")
    key_id = api_key_id(app, frugal)
    result = app.test_cli_runner().invoke(args=["api-keys", "set-budget", str(key_id), "--daily", "5000"])
    assert result.exit_code == 0, result.output
    enhance(client, frugal, claude, "REQ-B10", spend=4_500)

    refused = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-B11"), headers=frugal)

    assert refused.status_code == 429
    assert refused.get_json()["budget"]["scope"] == "api_key"
    assert enhance(client, other, claude, "REQ-B12", spend=10).status_code == 200


def test_the_per_key_default_budget_applies_to_every_key(app_factory, make_key, claude):
    app = app_factory(API_KEY_TOKEN_BUDGET_DAILY=3_000, BUDGET_RESERVE_TOKENS=RESERVES)
    client = app.test_client()
    first, second = make_key("recruiter"), make_key("recruiter")
    enhance(client, first, claude, "REQ-B13", spend=2_500)

    assert client.post("/api/interview/jd/enhance", json=enhance_body("REQ-B14"), headers=first).status_code == 429
    assert enhance(client, second, claude, "REQ-B15", spend=10).status_code == 200


def test_manual_scoring_calls_no_claude_and_is_never_refused(app_factory, admin, claude):
    from tests.stub_messages_api import interview_kit

    app = app_factory(BUDGET_RESERVE_TOKENS=RESERVES)
    client = app.test_client()
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())
    interview_id = client.post("/api/interview/workflow/full", json={**enhance_body("REQ-B16"), "interview_name": "x"}, headers=admin).get_json()["interview_id"]
    tight = app_factory(TOKEN_BUDGET_DAILY=1, BUDGET_RESERVE_TOKENS=RESERVES).test_client()

    manual = tight.post(f"/api/interview/{interview_id}/evaluations", json={"candidate_id": "C", "mode": "manual", "scores": []}, headers=admin)
    ai = tight.post(f"/api/interview/{interview_id}/evaluations", json={"candidate_id": "C", "mode": "ai", "answers": []}, headers=admin)

    assert manual.status_code == 201
    assert ai.status_code == 429
    assert claude.calls == 2  # the workflow's enhance and generate; neither evaluation called Claude


def test_set_budget_rejects_nonsense_and_can_clear_a_budget(app, make_key):
    key_id = api_key_id(app, make_key("viewer"))
    runner = app.test_cli_runner()

    assert runner.invoke(args=["api-keys", "set-budget", str(key_id), "--daily", "lots"]).exit_code != 0
    assert runner.invoke(args=["api-keys", "set-budget", str(key_id), "--daily", "-5"]).exit_code != 0
    assert "daily 1,000" in runner.invoke(args=["api-keys", "set-budget", str(key_id), "--daily", "1000"]).output
    assert "daily default" in runner.invoke(args=["api-keys", "set-budget", str(key_id), "--daily", "none"]).output


