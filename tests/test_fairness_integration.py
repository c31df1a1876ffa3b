"""The fair-hiring guard wired into what the service generates and stores, through HTTP with the
real SDK against the stub Messages API: generated questions and criteria, the enhanced JD, the
hiring manager's inputs, the question cache, AI scoring, the audit row and /metrics."""

import copy
import logging

import pytest

from models import GenerationLog, Interview, InterviewQuestion, JobDescription, QuestionCacheEntry, db
from tests import helpers
from tests.helpers import all_rows, count_rows, enhance, enhance_body, generate, generate_from_plan, workflow_body
from tests.stub_messages_api import (
    assessment,
    enhanced_jd,
    fill_slots,
    filled_questions,
    interview_kit,
    interview_plan,
    is_repair_request,
    schema_title,
)
from tests.test_jobs import wait_for_job
from tests.test_metrics import scrape, value

AGE_AND_FAMILY = "How old are you? Do you plan to have children? Then walk us through your last incident."
TOPICS = ["Kafka event streaming", "PostgreSQL query tuning", "Incident response", "Code review culture", "Deadline trade-offs"]


def _kit_asking(question_text=AGE_AND_FAMILY, number=2):
    kit = interview_kit()
    kit["questions"][number - 1]["question_text"] = question_text
    return kit


def _last_user_text(request_body):
    return request_body["messages"][-1]["content"]


def _log(app, operation_type):
    return [log for log in all_rows(app, GenerationLog) if log.operation_type == operation_type][-1]


def _findings_delta(before, after, source, category):
    name = "techscreen_fairness_findings_total"
    return value(after, name, category=category, source=source) - value(before, name, category=category, source=source)


# --- Generated questions and criteria ---------------------------------------------------------------

def test_a_kit_asking_about_age_and_family_plans_is_repaired_and_the_clean_kit_stored(client, admin, claude, app):
    jd_id = enhance(client, admin, claude, "REQ-F1")["job_description_id"]
    claude.requests.clear()
    before = scrape(client)
    claude.reply_json(_kit_asking()).reply_json(interview_kit())

    response = generate(client, admin, "REQ-F1", jd_id)

    assert response.status_code == 200, response.get_json()
    assert claude.calls == 2 and is_repair_request(claude.requests[1])
    repair = _last_user_text(claude.requests[1])
    assert "questions.1.question_text: age: 'How old are you' (asks for age or date of birth)" in repair
    assert "questions.1.question_text: family_status: 'plan to have children'" in repair
    assert "Suggestion: Do not ask for age" in repair
    stored = response.get_json()["interview"]["questions"][1]["question_text"]
    assert stored == interview_kit()["questions"][1]["question_text"]
    with app.app_context():
        texts = db.session.scalars(db.select(InterviewQuestion.question_text)).all()
    assert not any("How old" in text for text in texts)
    log = _log(app, "interview_generation")
    assert (log.status, log.claude_calls) == ("success", 2)
    assert log.fairness_findings == {"generated": {"age": 1, "family_status": 1}}
    after = scrape(client)
    assert _findings_delta(before, after, "generated", "age") == 1
    assert _findings_delta(before, after, "generated", "family_status") == 1


@pytest.mark.parametrize(
    ("path", "text", "problem"),
    [
        (("criteria", 3, "criterion"), "Mentions their date of birth", "questions.2.criteria.3.criterion: age: 'date of birth'"),
        (("criteria", 0, "description"), "The candidate says whether they are married.", "questions.2.criteria.0.description: family_status: 'married'"),
        (("expected_answer",), "A strong answer comes from a digital native.", "questions.2.expected_answer: age: 'digital native'"),
        (("topic",), "Native English speaker skills", "questions.2.topic: language: 'Native English speaker'"),
    ],
    ids=["criterion", "criterion_description", "expected_answer", "topic"],
)
def test_every_candidate_facing_field_of_a_question_is_scanned(client, admin, claude, path, text, problem):
    jd_id = enhance(client, admin, claude, "REQ-F2")["job_description_id"]
    claude.requests.clear()
    kit = copy.deepcopy(interview_kit())
    node = kit["questions"][2]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text
    claude.reply_json(kit).reply_json(interview_kit())

    response = generate(client, admin, "REQ-F2", jd_id)

    assert response.status_code == 200, response.get_json()
    assert claude.calls == 2
    assert problem in _last_user_text(claude.requests[1])


def test_a_repair_that_still_asks_about_age_is_502_naming_the_finding_and_stores_no_interview(client, admin, claude, app):
    jd_id = enhance(client, admin, claude, "REQ-F3")["job_description_id"]
    before = scrape(client)
    claude.reply_json(_kit_asking()).reply_json(_kit_asking())

    response = generate(client, admin, "REQ-F3", jd_id)

    assert response.status_code == 502, response.get_json()
    body = response.get_json()
    assert body["success"] is False and body["req_id"] == "REQ-F3"
    assert any(p.startswith("questions.1.question_text: age: 'How old are you'") for p in body["problems"])
    assert any("family_status: 'plan to have children'" in p for p in body["problems"])
    assert "How old are you" in body["error"]
    assert count_rows(app, Interview) == 0 and count_rows(app, InterviewQuestion) == 0
    log = _log(app, "interview_generation")
    assert (log.status, log.error_kind) == ("failed", "claude_bad_output")
    assert log.fairness_findings == {"generated": {"age": 2, "family_status": 2}}  # both answers had them
    assert _findings_delta(before, scrape(client), "generated", "age") == 2


def test_a_clean_kit_needs_no_repair_and_records_no_findings(client, admin, claude, app):
    jd_id = enhance(client, admin, claude, "REQ-F4")["job_description_id"]
    claude.requests.clear()
    claude.reply_json(interview_kit())

    assert generate(client, admin, "REQ-F4", jd_id).status_code == 200
    assert claude.calls == 1
    assert _log(app, "interview_generation").fairness_findings is None


# --- Plan -> look up -> fill -------------------------------------------------------------------------

cache_app, cache_client = helpers.cache_app, helpers.cache_client  # fixtures: an app with the cache on, its client


def _fill_asking_age_in_slot(slot_number, *, repaired=True):
    """A fill responder whose answer for ``slot_number`` asks for the candidate's age (and, unless
    ``repaired``, its repair too)."""

    def respond(body):
        answer = filled_questions(fill_slots(body))
        if fill_slots(body)[0][0] == slot_number and not (repaired and is_repair_request(body)):
            answer["questions"][0]["question_text"] = "What is your date of birth? Then design the topic's system."
        return answer

    return respond


def test_a_fill_asking_for_age_gets_its_own_repair(cache_client, admin, claude, cache_app):
    jd_id = enhance(cache_client, admin, claude, "REQ-F5")["job_description_id"]
    claude.requests.clear()
    claude.reply_json(interview_plan(TOPICS))
    claude.reply_for_schema("InterviewQuestions", _fill_asking_age_in_slot(4))

    response = generate(cache_client, admin, "REQ-F5", jd_id)

    assert response.status_code == 200, response.get_json()
    repairs = [r for r in claude.requests if is_repair_request(r)]
    assert [fill_slots(r)[0][0] for r in repairs] == [4]
    assert "questions.0.question_text: age: 'date of birth'" in _last_user_text(repairs[0])
    assert not any("date of birth" in q["question_text"] for q in response.get_json()["interview"]["questions"])
    assert _log(cache_app, "interview_generation").fairness_findings == {"generated": {"age": 1}}
    with cache_app.app_context():
        assert not any("date of birth" in t for t in db.session.scalars(db.select(QuestionCacheEntry.question_text)))


def test_a_fill_that_keeps_asking_for_age_is_502_and_only_the_clean_questions_are_cached(cache_client, admin, claude, cache_app):
    jd_id = enhance(cache_client, admin, claude, "REQ-F6")["job_description_id"]
    claude.reply_json(interview_plan(TOPICS))
    claude.reply_for_schema("InterviewQuestions", _fill_asking_age_in_slot(4, repaired=False))

    response = generate(cache_client, admin, "REQ-F6", jd_id)

    assert response.status_code == 502
    assert any("question_text: age: 'date of birth'" in p for p in response.get_json()["problems"])
    assert count_rows(cache_app, Interview) == 0
    cached = {e.topic: e.question_text for e in all_rows(cache_app, QuestionCacheEntry)}
    assert sorted(cached) == sorted(TOPICS[:3] + TOPICS[4:])
    assert not any("date of birth" in text for text in cached.values())


def test_a_plan_slot_about_family_status_is_repaired(cache_client, admin, claude):
    jd_id = enhance(cache_client, admin, claude, "REQ-F7")["job_description_id"]
    claude.requests.clear()
    bad = interview_plan(TOPICS)
    bad["slots"][1]["tests"] = "Whether the candidate is married and can travel."
    claude.reply_json(bad).reply_json(interview_plan(TOPICS))
    claude.fill_responder()

    response = generate(cache_client, admin, "REQ-F7", jd_id)

    assert response.status_code == 200, response.get_json()
    plans = [r for r in claude.requests if schema_title(r) == "InterviewPlan"]
    assert len(plans) == 2
    assert "slots.1.tests: family_status: 'married'" in _last_user_text(plans[1])


# --- The question cache ---------------------------------------------------------------------------

def test_a_cached_question_with_a_finding_is_not_reused_but_written_afresh_and_replaced(
    cache_client, admin, claude, cache_app, caplog
):
    assert generate_from_plan(cache_client, admin, claude, "REQ-F8", TOPICS).status_code == 200
    with cache_app.app_context():  # an entry cached before the guard, or edited since
        entry = db.session.scalar(db.select(QuestionCacheEntry).where(QuestionCacheEntry.topic == "Incident response"))
        entry.question_text = "Are you pregnant? If not, how would you run the incident?"
        tainted_id = entry.id
        db.session.commit()
    claude.requests.clear()
    before = scrape(cache_client)

    with caplog.at_level(logging.WARNING):
        response = generate_from_plan(cache_client, admin, claude, "REQ-F9", TOPICS)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["cached_questions"] == 4
    questions = body["interview"]["questions"]
    assert [q["source"] for q in questions] == ["cache", "cache", "generated", "cache", "cache"]
    assert questions[2]["cache_entry_id"] is None and "pregnant" not in questions[2]["question_text"]
    assert [fill_slots(r)[0][0] for r in claude.requests if schema_title(r) == "InterviewQuestions"] == [3]
    log = _log(cache_app, "interview_generation")
    assert (log.cache_hits, log.cache_misses) == (4, 1)
    assert log.fairness_findings == {"cache": {"pregnancy": 1}}
    assert _findings_delta(before, scrape(cache_client), "cache", "pregnancy") == 1
    assert f"Question cache entry {tainted_id} not reused: fair-hiring findings (pregnancy)" in caplog.text
    assert "Are you pregnant" not in caplog.text
    with cache_app.app_context():  # replaced by the question written now, under the same key
        assert db.session.get(QuestionCacheEntry, tainted_id) is None
        fresh = db.session.scalar(db.select(QuestionCacheEntry).where(QuestionCacheEntry.topic == "Incident response"))
        assert fresh is not None and "pregnant" not in fresh.question_text
    claude.requests.clear()

    again = generate_from_plan(cache_client, admin, claude, "REQ-F10", TOPICS)

    assert again.get_json()["cached_questions"] == 5
    assert _log(cache_app, "interview_generation").fairness_findings is None


# --- Job descriptions ------------------------------------------------------------------------------

EXCLUSIONARY = "We want a young, energetic digital native to build our payments APIs in Python."


def test_exclusionary_wording_in_the_inputs_is_reported_on_enhance_and_on_get(client, admin, claude, app):
    before = scrape(client)
    claude.reply_json(enhanced_jd())

    response = client.post(
        "/api/interview/jd/enhance",
        json=enhance_body("REQ-J1", basic_description=EXCLUSIONARY, work_competencies="He will lead an ambitious team"),
        headers=admin,
    )

    assert response.status_code == 200, response.get_json()
    language = response.get_json()["language_findings"]
    assert [(f["field"], f["category"], f["text"]) for f in language["findings"]] == [
        ("basic_description", "age", "young"),
        ("basic_description", "age", "digital native"),
        ("work_competencies", "sex_gender", "He will"),
    ]
    first = language["findings"][1]
    assert EXCLUSIONARY[first["start"]:first["end"]] == "digital native"
    assert first["reason"] and first["suggestion"]
    assert language["gender_coding"] == {"masculine": ["lead", "ambitious"], "feminine": [], "balance": "masculine-coded"}
    stored = client.get("/api/interview/jd/REQ-J1", headers=admin).get_json()["job_description"]
    assert stored["language_findings"] == language
    assert stored["basic_jd"]["description"][first["start"]:first["end"]] == "digital native"
    prompt = claude.requests[0]["messages"][0]["content"]
    assert "Do not carry this wording" in prompt and "- 'digital native' (age:" in prompt
    log = _log(app, "jd_enhancement")
    assert log.fairness_findings == {"input": {"age": 2, "sex_gender": 1}}
    after = scrape(client)
    assert _findings_delta(before, after, "input", "age") == 2
    client.get("/api/interview/jd/REQ-J1", headers=admin)
    assert _findings_delta(after, scrape(client), "input", "age") == 0  # counted once, when enhanced, not per read


def test_clean_inputs_report_no_findings_and_tell_claude_nothing_extra(client, admin, claude):
    body = enhance(client, admin, claude, "REQ-J2")

    assert body["language_findings"] == {"findings": [], "gender_coding": {"masculine": [], "feminine": [], "balance": "neutral"}}
    assert "Do not carry this wording" not in claude.requests[0]["messages"][0]["content"]


def test_an_enhanced_jd_with_exclusionary_wording_is_repaired(client, admin, claude, app):
    tainted = enhanced_jd(description=enhanced_jd()["enhanced_description"] + "\n- Ideally a digital native.")
    claude.reply_json(tainted).reply_json(enhanced_jd())

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-J3", basic_description=EXCLUSIONARY), headers=admin)

    assert response.status_code == 200, response.get_json()
    assert claude.calls == 2
    assert "enhanced_description: age: 'digital native'" in _last_user_text(claude.requests[1])
    assert "digital native" not in response.get_json()["enhanced_jd"]["description"]
    assert len(response.get_json()["language_findings"]["findings"]) == 2  # the input's, still reported
    log = _log(app, "jd_enhancement")
    assert log.fairness_findings == {"input": {"age": 2}, "generated": {"age": 1}}


def test_an_enhanced_jd_that_keeps_its_finding_is_502_and_not_stored(client, admin, claude, app):
    tainted = enhanced_jd(title="Salesman, payments")
    claude.reply_json(tainted).reply_json(tainted)

    response = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-J4"), headers=admin)

    assert response.status_code == 502
    assert any(p.startswith("enhanced_title: sex_gender: 'Salesman'") for p in response.get_json()["problems"])
    assert count_rows(app, JobDescription) == 0
    assert client.get("/api/interview/jd/REQ-J4", headers=admin).status_code == 404
    assert _log(app, "jd_enhancement").fairness_findings == {"generated": {"sex_gender": 2}}


@pytest.mark.parametrize("path", ["/api/interview/workflow/full", "/api/interview/workflow/create"])
def test_the_workflow_reports_the_inputs_findings_with_the_jd(client, admin, claude, path):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit())

    response = client.post(path, json=workflow_body("REQ-J5", basic_description=EXCLUSIONARY), headers=admin)

    assert response.status_code == 200, response.get_json()
    findings = response.get_json()["language_findings"]["findings"]
    assert [(f["field"], f["text"]) for f in findings] == [("basic_description", "young"), ("basic_description", "digital native")]


def test_an_asynchronous_enhancement_ends_with_the_language_findings(client, admin, claude):
    claude.reply_json(enhanced_jd())

    accepted = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-J6", basic_description=EXCLUSIONARY),
                           headers={**admin, "Prefer": "respond-async"})

    assert accepted.status_code == 202, accepted.get_json()
    job = wait_for_job(client, admin, accepted.get_json()["job_id"])
    assert job["status"] == "succeeded", job
    assert [f["text"] for f in job["result"]["language_findings"]["findings"]] == ["young", "digital native"]


# --- Candidate scoring -----------------------------------------------------------------------------

ANSWER = "As a digital native I pick up new tools fast. First I would reproduce the failure in staging."


def test_a_met_criterion_citing_a_span_with_a_finding_is_not_counted(client, admin, claude, app):
    claude.reply_json(enhanced_jd()).reply_json(interview_kit((8, 9, 10, 8, 10)))
    interview = client.post("/api/interview/workflow/full", json=workflow_body("REQ-E1"), headers=admin).get_json()["interview"]
    names = [c["criterion"] for c in interview["questions"][0]["criteria"]]
    judged = [(n, False, "") for n in names]
    judged[0] = (names[0], True, "As a digital native I pick up new tools fast")
    judged[1] = (names[1], True, "reproduce the failure in staging")
    claude.reply_json(assessment({1: judged}, feedback="Clear first steps."))
    before = scrape(client)

    response = client.post(
        f"/api/interview/{interview['id']}/evaluations",
        json={"candidate_id": "CAND-F1", "mode": "ai", "answers": [{"question_number": 1, "answer_text": ANSWER}]},
        headers=admin,
    )

    assert response.status_code == 201, response.get_json()
    question = response.get_json()["evaluation"]["questions"][0]
    assert [(c["met"], c["evidence"]) for c in question["criteria"][:2]] == [
        (False, None), (True, "reproduce the failure in staging"),
    ]
    assert question["score"] == 1.3  # 1 of 8, not 2 of 8
    assert question["feedback"] == (
        "Clear first steps. Not counted as met, as the evidence quoted refers to a protected characteristic: "
        f"{names[0]!r} (age)."
    )
    log = _log(app, "candidate_scoring")
    assert log.fairness_findings == {"evidence": {"age": 1}}
    assert _findings_delta(before, scrape(client), "evidence", "age") == 1


# --- The audit API ---------------------------------------------------------------------------------

def test_the_audit_rows_show_the_counts_never_the_text(client, admin, claude, make_key):
    claude.reply_json(enhanced_jd())
    client.post("/api/interview/jd/enhance", json=enhance_body("REQ-A1", basic_description=EXCLUSIONARY), headers=admin)

    rows = client.get("/api/admin/generation-logs", headers=make_key("auditor"))

    assert rows.status_code == 200, rows.get_json()
    [row] = rows.get_json()["generation_logs"]
    assert row["fairness_findings"] == {"input": {"age": 2}}
    assert "digital native" not in rows.get_data(as_text=True)
