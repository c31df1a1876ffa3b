"""The fair-hiring guard (services/fairness.py): hits per category with exact spans, look-alikes
that must not hit, gender-coded wording, the labelled set, and POST /api/fairness/check."""

import json
import pathlib
import re

import pytest

from services import fairness, fairness_terms
from services.fairness import CATEGORIES, gender_coding, problems, scan
from tests.helpers import assert_error
from tests.test_metrics import scrape, value

LABELLED = pathlib.Path(__file__).parent / "data" / "fairness_labelled.jsonl"
REQUIRED_CATEGORIES = {
    "age", "sex_gender", "pregnancy", "family_status", "race_ethnicity", "national_origin", "citizenship", "language",
    "religion", "disability_health", "genetic_information", "sexual_orientation", "gender_identity", "arrest_record",
    "salary_history",
}


def found(text):
    return [(f.category, f.text) for f in scan(text)]


# --- The lexicon ---------------------------------------------------------------------------------

def test_categories_are_the_fixed_vocabulary():
    assert set(CATEGORIES) == REQUIRED_CATEGORIES
    assert len(CATEGORIES) == len(set(CATEGORIES))


@pytest.mark.parametrize("category", sorted(REQUIRED_CATEGORIES))
def test_every_category_cites_its_source_and_every_rule_has_a_reason_and_a_rewrite(category):
    entry = fairness_terms.CATEGORIES[category]

    assert len(entry["source"]) > 20
    assert entry["rules"]
    for rule in entry["rules"]:
        assert rule["reason"].strip() and rule["suggestion"].strip()
        re.compile(rule["pattern"])
    assert fairness_terms.GENDER_CODED["source"].startswith("Gaucher, Friesen & Kay (2011)")


# --- Hits ----------------------------------------------------------------------------------------

HITS = [
    ("We want a digital native on the team.", "age", "digital native"),
    ("Join a young and energetic team.", "age", "young"),
    ("Candidates must be under 30.", "age", "under 30"),
    ("Applicants should have graduated after 2015.", "age", "graduated after 2015"),
    ("Recent graduates only.", "age", "Recent graduates"),
    ("What is your date of birth?", "age", "date of birth"),
    ("He will lead the payments team.", "sex_gender", "He will"),
    ("The successful candidate will grow his team.", "sex_gender", "his"),
    ("Male candidates preferred.", "sex_gender", "Male candidates"),
    ("We are hiring a salesman.", "sex_gender", "salesman"),
    ("Are you pregnant?", "pregnancy", "pregnant"),
    ("Will you need maternity leave?", "pregnancy", "maternity"),
    ("Are you planning to have children?", "family_status", "planning to have children"),
    ("Are you married?", "family_status", "married"),
    ("What is your marital status?", "family_status", "marital status"),
    ("Please state your race on the form.", "race_ethnicity", "your race"),
    ("What is your ethnic background?", "race_ethnicity", "your ethnic background"),
    ("Were you born in Canada?", "national_origin", "born in"),
    ("What is your nationality?", "national_origin", "nationality"),
    ("US citizens only.", "citizenship", "citizens only"),
    ("Applicants must be U.S. citizens.", "citizenship", "must be U.S. citizens"),
    ("Native English speaker required.", "language", "Native English speaker"),
    ("English must be your mother tongue.", "language", "mother tongue"),
    ("What religion are you?", "religion", "religion"),
    ("Which church do you attend?", "religion", "church"),
    ("Do you have a disability?", "disability_health", "disability"),
    ("Please describe your medical history.", "disability_health", "medical history"),
    ("Would you take a genetic test?", "genetic_information", "genetic test"),
    ("Describe your family medical history.", "genetic_information", "family medical history"),
    ("What is your sexual orientation?", "sexual_orientation", "sexual orientation"),
    ("Are you transgender?", "gender_identity", "transgender"),
    ("Please state your gender identity.", "gender_identity", "gender identity"),
    ("Do you have an arrest record?", "arrest_record", "arrest record"),
    ("Have you ever been arrested?", "arrest_record", "ever been arrested"),
    ("Please share your salary history.", "salary_history", "salary history"),
    ("What is your current salary?", "salary_history", "current salary"),
]


@pytest.mark.parametrize("text, category, span", HITS, ids=[f"{c}:{s}" for _, c, s in HITS])
def test_scan_finds_the_reference_with_its_exact_span(text, category, span):
    findings = scan(text)

    assert [(f.category, f.text) for f in findings] == [(category, span)]
    finding = findings[0]
    assert text[finding.start:finding.end] == span
    assert finding.reason.strip() and finding.suggestion.strip()


def test_every_required_category_has_a_hit_above():
    assert {category for _, category, _ in HITS} == REQUIRED_CATEGORIES


def test_offsets_are_characters_of_the_whole_input_end_exclusive():
    text = "Q1. Tell us about Kafka.\nQ2. We want a digital native.\n\nQ3. Are you married?"

    findings = scan(text)

    assert [(f.category, f.start, f.end) for f in findings] == [
        ("age", text.index("digital"), text.index("digital") + len("digital native")),
        ("family_status", text.index("married"), text.index("married") + len("married")),
    ]
    assert all(text[f.start:f.end] == f.text for f in findings)


def test_offsets_count_characters_not_bytes():
    text = "Café team — we want a digital native."

    (finding,) = scan(text)

    assert (finding.start, finding.end) == (22, 36) and text[22:36] == "digital native"


def test_one_span_is_reported_once_under_its_longest_reading():
    assert found("Describe your family medical history.") == [("genetic_information", "family medical history")]


def test_several_findings_come_in_text_order():
    text = "He will lead. Are you married? US citizens only. What is your current salary?"

    assert [f.category for f in scan(text)] == ["sex_gender", "family_status", "citizenship", "salary_history"]


# --- Look-alikes ---------------------------------------------------------------------------------

LOOK_ALIKES = [
    "Write a Python 3 script that parses the access log.",
    "We are hiring a senior engineer.",
    "Experience building native mobile apps.",
    "Debug a crash in native code called through JNI.",
    "How does a child process inherit file descriptors?",
    "Rebase onto the master branch before merging.",
    "Given a parent node, return its descendants.",
    "Tune the young generation GC.",
    "Explain how the young and old generations differ in the JVM's garbage collector.",
    "The OOM killer killed the process.",
    "Describe a race condition you fixed.",
    "Compare white-box testing with black-box testing.",
    "Add a blacklist of IP ranges.",
    "Modernise a legacy billing system.",
    "We have a mature codebase.",
    "Implement a health check endpoint.",
    "Why should a disabled button still be focusable?",
    "There was a pregnant pause before the answer.",
    "Keep p99 latency under 30 ms.",
    "Implement a genetic algorithm for route planning.",
    "Explain Church encoding of booleans.",
    "We value strong convictions, loosely held.",
    "Describe the trade-offs of a citizen developer platform.",
    "A customer says he cannot log in; how do you debug it?",
    "What are your salary expectations?",
    "Improve the checkout for users with disabilities (WCAG 2.1 AA).",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_do_not_hit(text):
    assert found(text) == []


@pytest.mark.parametrize("text", [
    "Candidates must be authorized to work in the United States.",
    "You must have the right to work in the UK.",
    "Visa sponsorship is not available for this role.",
    "Fluent English is required.",
    "Professional proficiency in German is required.",
    "Must be able to lift 25 lbs, with or without reasonable accommodation.",
])
def test_the_legal_right_to_work_a_proficiency_and_essential_functions_do_not_hit(text):
    assert found(text) == []


def test_an_equal_opportunity_statement_does_not_hit():
    text = ("We are an equal opportunity employer and do not discriminate on the basis of race, religion, sex, "
            "sexual orientation, gender identity, national origin, age or disability.")

    assert found(text) == []


def test_a_job_description_with_one_problem_reports_only_that_one():
    jd = ("About us: a fintech in Berlin. You will own the ledger service and lead design reviews. "
          "Requirements: 5+ years with Kotlin; Kafka and PostgreSQL; fluent English. "
          "Ideally a recent graduate only. We offer 30 days of holiday.")

    assert found(jd) == [("age", "recent graduate")]


# --- problems() ----------------------------------------------------------------------------------

def test_problems_name_where_the_category_the_span_and_the_reason():
    (line,) = problems("We want a digital native.", "question 3")

    assert line == "question 3: age: 'digital native' ('digital native' is a proxy for age (born into the internet era))"
    assert problems("Explain consistent hashing.", "question 1") == []


# --- Gender-coded wording ------------------------------------------------------------------------

def test_masculine_coded_wording_is_a_balance_not_a_finding():
    text = "We want an ambitious, competitive and self-reliant leader."

    assert gender_coding(text) == {
        "masculine": ["ambitious", "competitive", "self-reliant", "leader"], "feminine": [], "balance": "masculine-coded",
    }
    assert scan(text) == []


def test_feminine_coded_wording_and_a_tie():
    assert gender_coding("A supportive, understanding and honest teammate.")["balance"] == "feminine-coded"
    assert gender_coding("A decisive and supportive teammate.") == {
        "masculine": ["decisive"], "feminine": ["supportive"], "balance": "neutral",
    }
    assert gender_coding("Explain consistent hashing.") == {"masculine": [], "feminine": [], "balance": "neutral"}


def test_software_senses_of_coded_words_are_not_counted():
    text = "Fork a child process, check the HTTP response code, update a dependency and git commit."

    assert gender_coding(text) == {"masculine": [], "feminine": [], "balance": "neutral"}


def test_every_occurrence_is_counted():
    assert gender_coding("Lead the team; leadership matters; leads everywhere.")["masculine"] == ["lead", "leadership", "leads"]


# --- The labelled set ----------------------------------------------------------------------------

def test_labelled_set_recall_is_at_least_95_percent_and_false_positives_at_most_2_percent():
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line.strip()]
    positives = [r for r in rows if r["label"] == "positive"]
    negatives = [r for r in rows if r["label"] == "negative"]
    assert len(positives) >= 60 and len(negatives) >= 60
    assert {r["category"] for r in positives} == REQUIRED_CATEGORIES

    missed = [r for r in positives if r["category"] not in {f.category for f in scan(r["text"])}]
    flagged = [(r["text"], found(r["text"])) for r in negatives if scan(r["text"])]
    recall = 1 - len(missed) / len(positives)
    false_positive_rate = len(flagged) / len(negatives)
    print(f"\nfairness labelled set: {len(positives)} positives, {len(negatives)} negatives; "
          f"recall {recall:.3f} ({len(positives) - len(missed)}/{len(positives)}), "
          f"false-positive rate {false_positive_rate:.3f} ({len(flagged)}/{len(negatives)})")
    for row in missed:
        print(f"  missed ({row['category']}): {row['text']}")
    for text, hits in flagged:
        print(f"  flagged: {text} -> {hits}")

    assert recall >= 0.95, missed
    assert false_positive_rate <= 0.02, flagged
    for row in positives:
        assert all(f.suggestion for f in scan(row["text"]))


def test_scan_is_pure_and_takes_any_text():
    assert scan("") == [] and gender_coding("") == {"masculine": [], "feminine": [], "balance": "neutral"}
    assert scan("\n\n . ! ?") == []
    assert scan("digital native " * 2000)[0].category == "age"  # a JD-sized input
    assert not hasattr(fairness, "db") and "flask" not in fairness.__dict__


# --- POST /api/fairness/check --------------------------------------------------------------------

def test_check_answers_findings_and_gender_coding_without_calling_claude(client, recruiter, claude):
    text = "We want a digital native. He will lead an ambitious team."

    response = client.post("/api/fairness/check", json={"text": text}, headers=recruiter)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True
    assert body["findings"] == [
        {"category": "age", "text": "digital native", "start": 10, "end": 24,
         "reason": "'digital native' is a proxy for age (born into the internet era)",
         "suggestion": "Name the skill instead, e.g. 'fluent with modern developer tooling'."},
        {"category": "sex_gender", "text": "He will", "start": 26, "end": 33,
         "reason": "a gendered pronoun for the hire", "suggestion": "Use 'they' or 'you', or 'the engineer'."},
    ]
    assert body["gender_coding"] == {"masculine": ["lead", "ambitious"], "feminine": [], "balance": "masculine-coded"}
    assert claude.calls == 0
    assert "X-RateLimit-Limit" in response.headers


def test_check_offsets_are_into_the_text_as_sent_leading_whitespace_included(client, admin):
    text = "\n\n   Are you married?  "

    (finding,) = client.post("/api/fairness/check", json={"text": text}, headers=admin).get_json()["findings"]

    assert text[finding["start"]:finding["end"]] == finding["text"] == "married"


def test_check_of_clean_text_answers_no_findings(client, admin):
    response = client.post("/api/fairness/check", json={"text": "Explain consistent hashing."}, headers=admin)

    assert response.status_code == 200
    assert response.get_json()["findings"] == []
    assert response.get_json()["gender_coding"]["balance"] == "neutral"


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": "   "}, {"text": None}, {"text": 42}])
def test_check_without_text_is_400_naming_it(client, admin, body):
    assert_error(client.post("/api/fairness/check", json=body, headers=admin), 400, "text")


def test_check_rejects_unknown_fields_naming_them(client, admin):
    assert_error(client.post("/api/fairness/check", json={"text": "ok", "lang": "en"}, headers=admin), 400, "lang")


def test_check_longer_than_a_job_description_is_400(app_factory, make_key):
    app = app_factory(MAX_JD_CHARS=100)
    client = app.test_client()
    with app.app_context():
        from services.api_keys import create_api_key

        _, key = create_api_key(name="test-admin", role="admin")
    headers = {"Authorization": f"Bearer {key}"}

    error = assert_error(client.post("/api/fairness/check", json={"text": "x" * 101}, headers=headers), 400, "text")
    assert "limit is 100" in error["errors"]["text"][0]
    assert client.post("/api/fairness/check", json={"text": "x" * 100}, headers=headers).status_code == 200


def test_check_is_for_write_roles_only(client, make_key):
    assert_error(client.post("/api/fairness/check", json={"text": "Are you married?"}, headers=make_key("viewer")), 403)
    assert_error(client.post("/api/fairness/check", json={"text": "Are you married?"}), 401)


def test_check_is_415_for_a_non_json_body(client, admin):
    response = client.post("/api/fairness/check", data="text=hi", headers={**admin, "Content-Type": "text/plain"})

    assert_error(response, 415)


def test_metrics_count_findings_by_category_never_the_text(client, admin):
    before = scrape(client)

    client.post("/api/fairness/check", json={"text": "Are you married? Are you single? Native English speaker."}, headers=admin)
    after = scrape(client)

    def delta(category):
        return (value(after, "techscreen_fairness_findings_total", category=category, source="check")
                - value(before, "techscreen_fairness_findings_total", category=category, source="check"))

    assert delta("family_status") == 2
    assert delta("language") == 1
    exposition = client.get("/metrics").get_data(as_text=True)
    assert "techscreen_fairness_findings_total" in exposition
    assert "married" not in exposition and "Native English" not in exposition
