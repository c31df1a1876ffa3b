"""The WORK coverage map: splitting the inputs into items, the support check, and coverage computed,
stored and served through HTTP with the real SDK against the stub Messages API (planned kits,
cached questions, one-call kits, requisitions without items, kits stored before coverage)."""

import pytest

from models import Interview, InterviewQuestion, db
from prompts import work_item_lines
from services.coverage import (
    STEM_MATCH_THRESHOLD,
    SUPPORT_SHARE,
    coverage_map,
    coverage_summary,
    match_claims,
    question_covers,
    support_score,
    supported,
    work_items,
)
from services.generated_content import validate_plan
from tests import helpers
from tests.helpers import enhance, generate, key_headers, workflow_body
from tests.stub_messages_api import (
    enhanced_jd,
    interview_kit,
    interview_plan,
    schema_title,
)

KNOWLEDGE = "Python, PostgreSQL; Kubernetes"
COMPETENCIES = "incident response\n- mentoring"
ITEMS = ["Python", "PostgreSQL", "Kubernetes", "incident response", "mentoring"]


def _items(knowledge, competencies=None):
    return [(entry["item"], entry["kind"]) for entry in work_items(knowledge, competencies)]


def _question(topic, text, expected="", criteria=()):
    return {
        "topic": topic,
        "question_text": text,
        "expected_answer": expected,
        "criteria": [{"criterion": name, "description": description} for name, description in criteria],
    }


# --- splitting -----------------------------------------------------------------------------------

def test_items_split_on_commas_semicolons_and_newlines_keeping_the_managers_wording():
    assert _items(KNOWLEDGE, COMPETENCIES) == [
        ("Python", "knowledge"), ("PostgreSQL", "knowledge"), ("Kubernetes", "knowledge"),
        ("incident response", "competency"), ("mentoring", "competency"),
    ]


def test_bullets_and_numbered_lines_are_separators_and_their_markers_are_dropped():
    knowledge = "- Go\n* Terraform modules\n• AWS • GCP\n1. CI/CD pipelines\n2) Node.js\n  - event-driven design"
    assert [item for item, _ in _items(knowledge)] == [
        "Go", "Terraform modules", "AWS", "GCP", "CI/CD pipelines", "Node.js", "event-driven design",
    ]


def test_commas_inside_parentheses_do_not_split_an_item():
    assert [item for item, _ in _items("SQL (PostgreSQL, MySQL), cloud platforms [AWS; GCP], Python")] == [
        "SQL (PostgreSQL, MySQL)", "cloud platforms [AWS; GCP]", "Python",
    ]


def test_duplicates_are_dropped_case_insensitively_keeping_the_first_and_its_kind():
    items = _items("Python, python ,  PYTHON; Mentoring", "mentoring, Clear  writing\nclear writing")
    assert items == [("Python", "knowledge"), ("Mentoring", "knowledge"), ("Clear  writing", "competency")]


def test_empty_pieces_an_oxford_and_and_a_final_full_stop_are_dropped():
    assert [item for item, _ in _items("Python, Go, and Rust.\n\n ; ,\n-   \nor Java")] == ["Python", "Go", "Rust", "Java"]
    assert work_items(None, "") == [] and work_items("  \n", None) == []


def test_prompts_number_the_items_across_knowledge_and_competencies():
    assert work_item_lines(work_items(KNOWLEDGE, COMPETENCIES)) == [
        "Knowledge items:", "1. Python", "2. PostgreSQL", "3. Kubernetes",
        "Competency items:", "4. incident response", "5. mentoring",
    ]
    assert work_item_lines([]) == []


# --- the support check ----------------------------------------------------------------------------

KAFKA = _question(
    "Kafka event streaming",
    "Consumers of an orders topic fall behind during a flash sale. How would you find the cause and keep orders flowing?",
    "Checks consumer lag per partition, rebalancing and idempotent consumers.",
    [("Measures consumer lag", "Looks at lag per partition before scaling."), ("Considers security", "Mentions ACLs.")],
)
POSTGRES = _question(
    "PostgreSQL query tuning",
    "A report query on PostgreSQL went from 2 s to 40 s after a data migration. Walk through your diagnosis.",
    "EXPLAIN ANALYZE, missing indexes, stale statistics, vacuum.",
    [("Reads the query plan", "Uses EXPLAIN ANALYZE."), ("Checks table statistics", "Runs ANALYZE.")],
)
INCIDENT = _question(
    "Incident response",
    "At 2 a.m. the payments API starts returning errors and you are on call. What do you do in the first hour?",
    "Declares an incident, communicates early, mitigates first and writes a blameless review.",
    [("Communicates status early", "Posts updates to stakeholders."), ("Mitigates before root-causing", "Rolls back.")],
)
MENTORING = _question(
    "Mentoring junior engineers",
    "A junior engineer on your team keeps shipping changes that break the build. How do you help them?",
    "Pairs with them, gives specific feedback and agrees goals.",
    [("Gives specific feedback", "Names the behaviour and its effect.")],
)
SCALING = _question(
    "Designing for scale",
    "The platform must handle ten times today's traffic next year. Describe how it scales.",
    "Sharding, caching, queues and load tests.",
    [("Plans for scalability", "Estimates growth.")],
)


@pytest.mark.parametrize(
    ("item", "question"),
    [
        ("Python", _question("Python", "A service written in Python leaks memory after a release.")),
        ("PostgreSQL", POSTGRES),
        ("Kafka", KAFKA),
        ("Experience with Kafka", KAFKA),  # filler words do not count
        ("incident response", INCIDENT),
        ("on-call", INCIDENT),
        ("communication", INCIDENT),  # "Communicates status early": the same stem
        ("mentoring", MENTORING),
        ("security", KAFKA),  # a criterion's name is part of the question
        ("SQL (PostgreSQL, MySQL)", POSTGRES),  # one alternative is enough
        ("query optimization", _question("Query optimisation", "Tune a slow report.")),  # spelling variant
        ("PostgreSQL query performance", POSTGRES),  # 2 of 3 words are enough
        ("Strong understanding of Kubernetes", _question("Kubernetes rollouts", "A deployment stalls.")),
    ],
)
def test_an_item_the_question_shows_is_supported(item, question):
    assert supported(item, question), support_score(item, question)


@pytest.mark.parametrize(
    ("item", "question"),
    [
        ("Kubernetes", KAFKA),
        ("Python", POSTGRES),
        ("Python security", _question("Python", "A service written in Python leaks memory after a release.")),
        ("MySQL", POSTGRES),
        ("Scala", SCALING),  # "scale" is a neighbouring word, not the language
        ("Rust", _question("Building trust", "How do you earn the trust of a new team?")),  # short words match exactly
        ("Go", _question("Good first issues", "Pick good first issues for a newcomer.")),
        ("mentoring", INCIDENT),
        ("incident response", MENTORING),
        ("clear writing", _question("Clear written communication", "Explain a design in a short document.")),
        ("etc.", KAFKA),  # nothing but filler: never supported
        ("product management", _question("Stakeholder management", "Your manager is away and a stakeholder objects.")),
        ("PostgreSQL replication lag", POSTGRES),  # 1 of 3 words
    ],
)
def test_an_item_the_question_does_not_show_is_not_supported(item, question):
    assert not supported(item, question), support_score(item, question)


def test_the_thresholds_are_the_documented_ones():
    assert (STEM_MATCH_THRESHOLD, SUPPORT_SHARE) == (85, 2 / 3)


def test_claims_match_items_by_similarity_and_unknown_claims_are_returned_apart():
    matched, unknown = match_claims(["postgresql", "1. Python", "Postgre SQL", " Kubernetes ", "Terraform"], ITEMS)

    assert matched == ["Python", "PostgreSQL", "Kubernetes"]  # in the items' order, each once
    assert unknown == ["Terraform"]
    assert match_claims([], ITEMS) == ([], []) and match_claims(["Python"], []) == ([], ["Python"])


def test_a_question_covers_claimed_and_supported_items_or_supported_ones_when_nothing_was_claimed():
    assert question_covers(ITEMS, INCIDENT, claimed=["incident response", "Kubernetes"]) == ["incident response"]
    assert question_covers(ITEMS, INCIDENT, claimed=[]) == []
    assert question_covers(["security", "Kafka", "Kubernetes"], KAFKA) == ["security", "Kafka"]


def test_the_map_lists_uncovered_items_first_then_covered_ones_in_input_order():
    items = work_items(KNOWLEDGE, COMPETENCIES)
    questions = [
        {"question_number": 2, "covers": ["PostgreSQL", "Python"]},
        {"question_number": 1, "covers": ["Python"]},
        {"question_number": 3, "covers": ["mentoring", "not an item"]},
        {"question_number": 4, "covers": None},
    ]

    rows = coverage_map(items, questions)

    assert [(r["item"], r["covered"], r["questions"]) for r in rows] == [
        ("Kubernetes", False, []), ("incident response", False, []),
        ("Python", True, [1, 2]), ("PostgreSQL", True, [2]), ("mentoring", True, [3]),
    ]
    assert [r["kind"] for r in rows] == ["knowledge", "competency", "knowledge", "knowledge", "competency"]
    assert coverage_summary(items, questions) == {"covered": 3, "total": 5}
    assert coverage_summary([], questions) is None and coverage_summary(None, questions) is None


def test_plan_validation_drops_claims_that_name_no_item_instead_of_failing():
    plan = interview_plan(
        ["Kafka event streaming", "PostgreSQL tuning", "Incident response", "Mentoring juniors", "Deadlines"],
        covers=[["kafka"], ["PostgreSQL", "Oracle"], [], ["Mentoring"], ["Terraform", "Go"]],
    )

    slots = validate_plan(plan, similarity_threshold=0.85, work_items=["Kafka", "PostgreSQL", "mentoring"])

    assert [s["covers"] for s in slots] == [["Kafka"], ["PostgreSQL"], [], ["mentoring"], []]
    assert [s["unknown_covers"] for s in slots] == [[], ["Oracle"], [], [], ["Terraform", "Go"]]
    legacy = validate_plan(interview_plan(["A b", "C d", "E f", "G h", "I j"]), similarity_threshold=0.85, work_items=["Kafka"])
    assert [s["covers"] for s in legacy] == [[]] * 5  # a plan without covers claims nothing


# --- through HTTP ---------------------------------------------------------------------------------

TOPICS = ["Python services", "PostgreSQL query tuning", "Incident response", "Mentoring juniors", "Code review culture"]
# The plan claims Kubernetes for the incident question, whose text never mentions it, names an item
# with another case, and one that is not an item at all.
CLAIMS = [["Python"], ["postgresql"], ["incident response", "Kubernetes"], ["mentoring", "Terraform"], []]

cache_app, cache_client = helpers.cache_app, helpers.cache_client  # fixtures: an app with the cache on, its client


def _claims_counter(client, headers, outcome):
    text = client.get("/metrics", headers=headers).get_data(as_text=True)
    prefix = f'techscreen_work_coverage_claims_total{{outcome="{outcome}"}} '
    return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


def _workflow(client, headers, claude, req_id, topics, covers, **body):
    claude.reply_for_schema("EnhancedJobDescription", enhanced_jd())
    claude.reply_for_schema("InterviewPlan", interview_plan(topics, covers=covers))
    claude.fill_responder()
    response = client.post("/api/interview/workflow/full", json=workflow_body(req_id, **body), headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_planned_workflow_stores_each_questions_covers_and_serves_the_map_uncovered_first(cache_client, admin, claude, cache_app):
    before = {outcome: _claims_counter(cache_client, admin, outcome) for outcome in ("accepted", "rejected", "unknown")}

    body = _workflow(cache_client, admin, claude, "REQ-COV1", TOPICS, CLAIMS,
                     work_knowledge=KNOWLEDGE, work_competencies=COMPETENCIES)

    [plan_request] = [r for r in claude.requests if schema_title(r) == "InterviewPlan"]
    prompt = plan_request["messages"][0]["content"]
    assert "<work_inputs>\nKnowledge items:\n1. Python\n2. PostgreSQL\n3. Kubernetes\nCompetency items:\n4. incident response\n5. mentoring\n</work_inputs>" in prompt
    interview = body["interview"]
    assert [q["covers"] for q in interview["questions"]] == [["Python"], ["PostgreSQL"], ["incident response"], ["mentoring"], []]
    assert interview["coverage"] == {"covered": 4, "total": 5}
    with cache_app.app_context():
        stored = db.session.get(Interview, body["interview_id"])
        assert stored.work_items == work_items(KNOWLEDGE, COMPETENCIES)
        assert [q.covers for q in stored.questions] == [["Python"], ["PostgreSQL"], ["incident response"], ["mentoring"], []]

    response = cache_client.get(f"/api/interview/{body['interview_id']}/coverage", headers=admin)

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "interview_id": body["interview_id"],
        "req_id": "REQ-COV1",
        "items": [
            {"item": "Kubernetes", "kind": "knowledge", "covered": False, "questions": []},
            {"item": "Python", "kind": "knowledge", "covered": True, "questions": [1]},
            {"item": "PostgreSQL", "kind": "knowledge", "covered": True, "questions": [2]},
            {"item": "incident response", "kind": "competency", "covered": True, "questions": [3]},
            {"item": "mentoring", "kind": "competency", "covered": True, "questions": [4]},
        ],
        "covered": 4,
        "total": 5,
    }
    after = {outcome: _claims_counter(cache_client, admin, outcome) for outcome in before}
    assert {outcome: after[outcome] - before[outcome] for outcome in before} == {"accepted": 4, "rejected": 1, "unknown": 1}


def test_a_claimed_item_the_question_does_not_support_is_not_counted(cache_client, admin, claude):
    # Every slot claims Kubernetes; only the question written about it shows it.
    topics = ["Kubernetes rollouts", "PostgreSQL query tuning", "Incident response", "Mentoring juniors", "Code review culture"]
    body = _workflow(cache_client, admin, claude, "REQ-COV2", topics, [["Kubernetes"]] * 5,
                     work_knowledge="Kubernetes", work_competencies=None)

    assert [q["covers"] for q in body["interview"]["questions"]] == [["Kubernetes"], [], [], [], []]
    items = cache_client.get(f"/api/interview/{body['interview_id']}/coverage", headers=admin).get_json()["items"]
    assert items == [{"item": "Kubernetes", "kind": "knowledge", "covered": True, "questions": [1]}]


def test_cached_questions_get_coverage_for_the_new_requisitions_own_items(cache_client, admin, claude):
    first = _workflow(
        cache_client, admin, claude, "REQ-COV3", ["Kafka event streaming", "PostgreSQL query tuning", "Incident response",
                                                  "Code review culture", "Deadline trade-offs"],
        [["Kafka"], ["PostgreSQL"], [], [], []], work_knowledge="Kafka, PostgreSQL", work_competencies=None,
    )
    claude.requests.clear()

    second = _workflow(
        cache_client, admin, claude, "REQ-COV4", ["event streaming with Kafka", "PostgreSQL query tuning", "Mentoring juniors",
                                                  "Vendor negotiation", "Budget planning"],
        [["event streaming"], ["SQL (PostgreSQL, MySQL)", "mentoring"], ["mentoring"], [], []],
        work_knowledge="event streaming; SQL (PostgreSQL, MySQL)", work_competencies="- mentoring\n- vendor negotiation",
    )

    questions = second["interview"]["questions"]
    assert [q["source"] for q in questions] == ["cache", "cache", "generated", "generated", "generated"]
    assert [q["question_text"] for q in questions[:2]] == [q["question_text"] for q in first["interview"]["questions"][:2]]
    # The same cached questions, checked against this requisition's items and this plan's claims.
    assert [q["covers"] for q in first["interview"]["questions"][:2]] == [["Kafka"], ["PostgreSQL"]]
    assert [q["covers"] for q in questions] == [["event streaming"], ["SQL (PostgreSQL, MySQL)"], ["mentoring"], [], []]
    assert second["interview"]["coverage"] == {"covered": 3, "total": 4}
    coverage = cache_client.get(f"/api/interview/{second['interview_id']}/coverage", headers=admin).get_json()
    assert [(row["item"], row["questions"]) for row in coverage["items"]] == [
        ("vendor negotiation", []), ("event streaming", [1]), ("SQL (PostgreSQL, MySQL)", [2]), ("mentoring", [3]),
    ]


def test_a_one_call_kit_covers_the_items_its_questions_support(client, admin, claude):
    jd_id = enhance(client, admin, claude, "REQ-COV5", work_knowledge=KNOWLEDGE, work_competencies=COMPETENCIES)["job_description_id"]
    kit = interview_kit()
    kit["questions"][0]["question_text"] = "A PostgreSQL replica lags by minutes during a sale. What do you do?"
    kit["questions"][3]["topic"] = "Mentoring"
    claude.reply_json(kit)

    response = generate(client, admin, "REQ-COV5", jd_id)

    assert response.status_code == 200, response.get_json()
    [request] = claude.requests[-1:]
    assert "1. Python\n2. PostgreSQL\n3. Kubernetes\nCompetency items:\n4. incident response\n5. mentoring" in request["messages"][0]["content"]
    interview = response.get_json()["interview"]
    assert [q["covers"] for q in interview["questions"]] == [["PostgreSQL"], [], [], ["mentoring"], []]
    assert interview["coverage"] == {"covered": 2, "total": 5}


def test_a_requisition_without_work_items_has_null_coverage_and_an_empty_map(cache_client, admin, claude):
    body = _workflow(cache_client, admin, claude, "REQ-COV6", TOPICS, None, work_knowledge=None, work_competencies=None)

    [plan_request] = [r for r in claude.requests if schema_title(r) == "InterviewPlan"]
    assert "WORK items to cover" not in plan_request["messages"][0]["content"]
    assert body["interview"]["coverage"] is None
    assert [q["covers"] for q in body["interview"]["questions"]] == [[]] * 5
    read = cache_client.get(f"/api/interview/{body['interview_id']}", headers=admin).get_json()
    assert read["interview"]["coverage"] is None
    coverage = cache_client.get(f"/api/interview/{body['interview_id']}/coverage", headers=admin)
    assert coverage.status_code == 200
    assert coverage.get_json() == {"success": True, "interview_id": body["interview_id"], "req_id": "REQ-COV6",
                                   "items": [], "covered": 0, "total": 0}


def test_a_kit_stored_before_coverage_existed_answers_null_coverage(client, admin, claude, app):
    jd_id = enhance(client, admin, claude, "REQ-COV7")["job_description_id"]
    claude.reply_json(interview_kit())
    interview_id = generate(client, admin, "REQ-COV7", jd_id).get_json()["interview_id"]
    with app.app_context():  # as migration 0009 leaves the rows of older kits
        db.session.execute(db.update(Interview).values(work_items=None))
        db.session.execute(db.update(InterviewQuestion).values(covers=None))
        db.session.commit()

    read = client.get(f"/api/interview/{interview_id}", headers=admin).get_json()["interview"]
    listed = client.get("/api/interview/req/REQ-COV7", headers=admin).get_json()["interviews"]
    coverage = client.get(f"/api/interview/{interview_id}/coverage", headers=admin).get_json()

    assert read["coverage"] is None and [q["covers"] for q in read["questions"]] == [None] * 5
    assert listed[0]["coverage"] is None
    assert (coverage["items"], coverage["covered"], coverage["total"]) == ([], 0, 0)


def test_the_interview_read_and_the_requisition_list_carry_the_coverage_summary(client, admin, claude):
    jd_id = enhance(client, admin, claude, "REQ-COV8", work_knowledge="PostgreSQL, Kubernetes", work_competencies=None)["job_description_id"]
    kit = interview_kit()
    kit["questions"][1]["topic"] = "PostgreSQL replication"
    claude.reply_json(kit)
    interview_id = generate(client, admin, "REQ-COV8", jd_id).get_json()["interview_id"]

    read = client.get(f"/api/interview/{interview_id}", headers=admin).get_json()["interview"]
    listed = client.get("/api/interview/req/REQ-COV8", headers=admin).get_json()["interviews"]

    assert read["coverage"] == listed[0]["coverage"] == {"covered": 1, "total": 2}
    assert list(read)[-1] == "coverage"  # added at the end of the contract
    assert list(read["questions"][0])[-1] == "covers"


def test_coverage_is_readable_by_every_role_and_404s_for_an_unknown_interview(client, admin, make_key, claude):
    jd_id = enhance(client, admin, claude, "REQ-COV9")["job_description_id"]
    claude.reply_json(interview_kit())
    interview_id = generate(client, admin, "REQ-COV9", jd_id).get_json()["interview_id"]

    for role in ("viewer", "auditor", "recruiter"):
        assert client.get(f"/api/interview/{interview_id}/coverage", headers=make_key(role)).status_code == 200
    assert client.get(f"/api/interview/{interview_id}/coverage").status_code == 401
    missing = client.get(f"/api/interview/{interview_id + 1000}/coverage", headers=admin)
    assert missing.status_code == 404 and missing.get_json()["success"] is False
    assert client.get(f"/api/interview/{2**40}/coverage", headers=admin).status_code == 404


def test_the_sandbox_plan_claims_items_that_the_service_then_checks(app_factory, admin):
    app = app_factory(LLM_PROVIDER="sandbox", ENABLE_QUESTION_CACHE=True)
    client = app.test_client()
    headers = key_headers(app, "sandbox-admin")

    response = client.post(
        "/api/interview/workflow/full",
        json=workflow_body("REQ-COV10", work_knowledge="Python; PostgreSQL", work_competencies="mentoring, clear writing"),
        headers=headers,
    )

    assert response.status_code == 200, response.get_json()
    interview = response.get_json()["interview"]
    covered = {item for q in interview["questions"] for item in q["covers"]}
    assert {"Python", "PostgreSQL"} <= covered and "clear writing" not in covered
    assert interview["coverage"]["total"] == 4
