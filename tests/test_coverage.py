"""The WORK coverage map: splitting the inputs into items, the support check, the map, and the plan's claims."""

import pytest

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
from tests.stub_messages_api import interview_plan

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
