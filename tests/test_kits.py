"""Printable interviewer kits and scorecards (services/kits.py, routes/printouts.py) through HTTP:
HTML5 that a strict parser accepts, every question and criterion in the HTML and in the PDF
(pypdf), DRAFT on every page of a draft, escaping, nothing loaded from the network, content
negotiation (406), and the same auth, roles, 404s and read rate limit as the JSON reads."""

import io
import logging
import re
import sys
import xml.etree.ElementTree as ET

import html5lib
import pypdf
import pytest

from prompts import ENHANCE_SYSTEM_PROMPT
from services.kits import JD_HEADINGS, SUMMARY_MAX_CHARS, coverage_rows, format_number, html_to_pdf, jd_summary
from tests.helpers import assert_error, assert_not_logged, workflow_body
from tests.stub_messages_api import assessment, enhanced_jd, interview_kit

CRITERIA_COUNTS = (8, 9, 10, 8, 10)
HOSTILE_QUESTION = 'Scenario 1: the log shows <script>alert("kit")</script> & a <b>bold</b> claim. What now?'
HOSTILE_DESCRIPTION = 'Names the "<img src=x onerror=alert(1)>" payload & explains it'


def make_interview(client, headers, claude, req_id="REQ-KIT", kit=None):
    """Store an interview through the workflow (stub Claude); return its JSON."""
    claude.reply_json(enhanced_jd()).reply_json(kit or interview_kit(CRITERIA_COUNTS))
    response = client.post("/api/interview/workflow/full", json=workflow_body(req_id), headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["interview"]


@pytest.fixture
def interview(client, admin, claude):
    """A draft interview of REQ-KIT (5 questions; 8, 9, 10, 8 and 10 criteria)."""
    return make_interview(client, admin, claude)


def parse_html5(page):
    """Parse ``page`` with html5lib in strict mode (any HTML5 parse error raises); return the tree."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(page)


def pdf_pages(data):
    """The PDF's pages as pypdf reads them, each as its text with whitespace runs made one space."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return reader, [" ".join(page.extract_text().split()) for page in reader.pages]


def normalise(text):
    return " ".join(text.split())


def sections(tree):
    return tree.findall(".//section[@class='question']")


def text_of(element):
    return normalise("".join(element.itertext()))


def facts_of(element):
    """The first <dl class="facts"> in ``element`` as {term: value}."""
    facts = element.find(".//dl[@class='facts']")
    return {text_of(group.find("dt")): text_of(group.find("dd")) for group in facts.findall("div")}


# --- The kit in HTML --------------------------------------------------------------------------------------------


def test_the_kit_is_html5_that_a_strict_parser_accepts(client, admin, interview):
    response = client.get(f"/api/interview/{interview['id']}/kit", headers=admin)

    assert response.status_code == 200
    assert response.mimetype == "text/html" and response.mimetype_params["charset"] == "utf-8"
    page = response.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>")
    tree = parse_html5(page)  # raises html5lib.html5parser.ParseError on any parse error
    assert tree.get("lang") == "en"
    ids = [element.get("id") for element in tree.iter() if element.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for element in tree.iter():  # every aria-labelledby names an element of the page
        if element.get("aria-labelledby"):
            assert element.get("aria-labelledby") in ids


def test_the_kit_holds_the_header_the_summary_and_every_question_with_its_criteria(client, admin, interview):
    tree = parse_html5(client.get(f"/api/interview/{interview['id']}/kit", headers=admin).get_data(as_text=True))
    header = tree.find(".//header")

    assert facts_of(header) == {"Requisition": interview["req_id"], "Interview": str(interview["id"]), "Version": "1",
                                "Status": "DRAFT", "Generated": facts_of(header)["Generated"]}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", facts_of(header)["Generated"])
    assert text_of(header.find("h1")) == interview["interview_name"]
    assert text_of(header.find(".//p[@class='job-title']")) == "Senior Backend Engineer"
    assert text_of(header.find(".//section[@class='summary']/p")) == "Own the payments API end to end."
    assert "Key Deliverables" not in text_of(tree.find("body"))  # only the summary of the enhanced JD
    blocks = sections(tree)
    assert len(blocks) == 5
    for block, question in zip(blocks, interview["questions"], strict=True):
        text = text_of(block)
        assert f"Question {question['question_number']}" in text
        assert question["question_text"] in text and question["expected_answer"] in text
        assert "What a strong answer covers" in text
        assert facts_of(block) == {"Type": facts_of(block)["Type"], "Level": "Senior", "Topic": question["topic"]}
        items = block.findall(".//li[@class='criterion']")
        assert [(text_of(i.find(".//span[@class='criterion-name']")), text_of(i.find(".//span[@class='criterion-description']")))
                for i in items] == [(c["criterion"], c["description"]) for c in question["criteria"]]
        assert all(i.find("span[@class='box']") is not None for i in items)  # a tick box per criterion
        assert block.find(".//div[@class='notes']") is not None  # room for notes
    assert [facts_of(b)["Type"] for b in blocks] == ["Technical", "System design", "Problem solving", "Behavioral", "Situational"]


def test_the_kit_ends_with_the_scoring_rule_and_the_thresholds_in_force(app_factory, admin, claude, interview):
    default = app_factory().test_client().get(f"/api/interview/{interview['id']}/kit", headers=admin)
    lenient = app_factory(EVALUATION_ADVANCE_THRESHOLD=62.5, EVALUATION_REJECT_THRESHOLD=40).test_client()

    scoring = text_of(parse_html5(default.get_data(as_text=True)).find(".//section[@class='scoring']"))
    assert "advance at 75 or more, reject below 50, hold in between" in scoring
    assert "criteria met ÷ its criteria × 10" in scoring and "mean of the 5 question scores × 10" in scoring
    page = parse_html5(lenient.get(f"/api/interview/{interview['id']}/kit", headers=admin).get_data(as_text=True))
    assert "advance at 62.5 or more, reject below 40, hold in between" in text_of(page.find(".//section[@class='scoring']"))


def test_a_draft_is_marked_draft_and_a_published_kit_is_not(client, admin, interview):
    path = f"/api/interview/{interview['id']}/kit"
    draft = client.get(path, headers=admin).get_data(as_text=True)
    assert '<div class="watermark" aria-hidden="true">DRAFT</div>' in draft
    assert '@top-right { content: "DRAFT"' in draft  # the margin box of every printed page

    assert client.patch(f"/api/interview/{interview['id']}", json={"status": "published"}, headers=admin).status_code == 200
    published = client.get(path, headers=admin).get_data(as_text=True)
    assert "DRAFT" not in published
    assert facts_of(parse_html5(published).find(".//header"))["Status"] == "Published"


def test_text_from_claude_is_escaped(client, admin, claude):
    kit = interview_kit(CRITERIA_COUNTS)
    kit["questions"][0]["question_text"] = HOSTILE_QUESTION
    kit["questions"][0]["criteria"][0]["description"] = HOSTILE_DESCRIPTION
    interview = make_interview(client, admin, claude, "REQ-KIT-ESC", kit=kit)

    page = client.get(f"/api/interview/{interview['id']}/kit", headers=admin).get_data(as_text=True)

    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(&#34;kit&#34;)&lt;/script&gt; &amp; a &lt;b&gt;bold&lt;/b&gt;" in page
    tree = parse_html5(page)
    assert tree.find(".//script") is None and tree.find(".//img") is None
    assert HOSTILE_QUESTION in text_of(sections(tree)[0])  # shown as the text it is
    assert HOSTILE_DESCRIPTION in text_of(sections(tree)[0])


def test_nothing_in_a_kit_loads_from_the_network(client, admin, interview):
    response = client.get(f"/api/interview/{interview['id']}/kit", headers=admin)
    page = response.get_data(as_text=True)
    tree = parse_html5(page)

    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?://""", page, re.I)
    assert not [e.tag for e in tree.iter() if e.get("src") or e.get("href")]  # no URL at all
    assert not [e.tag for e in tree.iter() if e.tag in ("script", "link", "img", "iframe", "object", "embed")]
    assert "url(" not in page and "@import" not in page and "@font-face" not in page
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # a browser may load nothing either
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_pdf_renderer_fetches_no_url(httpserver):
    """A URL in the HTML (none is there, this shows the fetcher's refusal) reaches no server."""
    base = httpserver.url_for("/")
    page = (f'<!DOCTYPE html><html><head><link rel="stylesheet" href="{base}style.css">'
            f'<style>@import url("{base}imported.css"); body {{ background: url("{base}bg.png") }}</style></head>'
            f'<body><img src="{base}logo.png" alt=""><p>Hello</p></body></html>')

    data = html_to_pdf(page)

    assert data.startswith(b"%PDF-")
    assert httpserver.log == []  # not one request reached the server


def test_the_print_stylesheet_sets_the_paper_page_breaks_and_unsplit_criteria(client, admin, interview):
    path = f"/api/interview/{interview['id']}/kit"
    a4 = client.get(path, headers=admin).get_data(as_text=True)
    letter = client.get(f"{path}?paper=letter", headers=admin).get_data(as_text=True)

    assert "size: A4;" in a4 and "size: letter;" in letter
    assert ".question { break-before: page; }" in a4
    assert re.search(r"\.criteria \{[^}]*break-inside: avoid", a4)
    assert_error(client.get(f"{path}?paper=a3", headers=admin), 400, "paper")
    assert_error(client.get(f"{path}?papr=a4", headers=admin), 400, "papr")  # unknown query arguments too


# --- The kit in PDF ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("paper", "size"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_the_pdf_holds_every_question_and_criterion_and_never_splits_a_question_s_criteria(client, admin, interview, paper, size):
    response = client.get(f"/api/interview/{interview['id']}/kit.pdf?paper={paper}", headers=admin)

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="interview-{interview["id"]}-kit.pdf"'
    reader, pages = pdf_pages(response.data)
    assert all(round(float(p.mediabox.width)) == size[0] and round(float(p.mediabox.height)) == size[1] for p in reader.pages)
    everything = " ".join(pages)
    for question in interview["questions"]:
        assert normalise(question["question_text"]) in everything
        on = [i for i, page in enumerate(pages) if f"Question {question['question_number']} " in page]
        assert len(on) == 1, f"question {question['question_number']} starts on one page"
        for criterion in question["criteria"]:
            assert criterion["criterion"] in pages[on[0]], "a question's criteria stay on its page"
            assert normalise(criterion["description"]) in everything
    assert all("DRAFT" in page for page in pages), "DRAFT on every page"
    assert "advance at 75 or more, reject below 50" in everything


def test_a_published_kit_pdf_has_no_draft_mark(client, admin, interview):
    client.patch(f"/api/interview/{interview['id']}", json={"status": "published"}, headers=admin)

    _, pages = pdf_pages(client.get(f"/api/interview/{interview['id']}/kit.pdf", headers=admin).data)

    assert not any("DRAFT" in page for page in pages)


def test_the_pdf_is_the_same_bytes_for_the_same_kit(client, admin, interview):
    path = f"/api/interview/{interview['id']}/kit.pdf"
    assert client.get(path, headers=admin).data == client.get(path, headers=admin).data


def test_pdf_rendering_unavailable_answers_503_in_the_envelope(client, admin, interview, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as on a host without WeasyPrint: import fails

    body = assert_error(client.get(f"/api/interview/{interview['id']}/kit.pdf", headers=admin), 503)

    assert "text/html" in body["error"]
    assert client.get(f"/api/interview/{interview['id']}/kit.html", headers=admin).status_code == 200  # HTML still served


# --- Negotiation, URL forms, errors, roles, rate limit ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        (None, "text/html"),
        ("*/*", "text/html"),
        ("text/html", "text/html"),
        ("text/*", "text/html"),
        ("text/html, application/xhtml+xml, application/xml;q=0.9, */*;q=0.8", "text/html"),  # a browser's
        ("application/pdf", "application/pdf"),
        ("application/pdf;q=1, text/html;q=0.5", "application/pdf"),
        ("application/json;q=1, */*;q=0.1", "text/html"),
    ],
)
def test_accept_picks_html_or_pdf(client, admin, interview, accept, mimetype):
    headers = {**admin, **({"Accept": accept} if accept else {})}

    response = client.get(f"/api/interview/{interview['id']}/kit", headers=headers)

    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.headers["Vary"] == "Accept"
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert response.data.startswith(b"%PDF-" if mimetype == "application/pdf" else b"<!DOCTYPE html>")


@pytest.mark.parametrize("accept", ["application/json", "image/png", "text/html;q=0, application/pdf;q=0"])
def test_an_accept_that_admits_neither_answers_406_naming_both(client, admin, interview, accept):
    body = assert_error(client.get(f"/api/interview/{interview['id']}/kit", headers={**admin, "Accept": accept}), 406)

    assert "text/html" in body["error"] and "application/pdf" in body["error"]


def test_the_html_and_pdf_urls_name_the_format_whatever_accept_says(client, admin, interview):
    path = f"/api/interview/{interview['id']}/kit"
    html = client.get(f"{path}.html", headers={**admin, "Accept": "application/pdf"})
    pdf = client.get(f"{path}.pdf", headers={**admin, "Accept": "application/json"})

    assert (html.status_code, html.mimetype) == (200, "text/html")
    assert (pdf.status_code, pdf.mimetype) == (200, "application/pdf")
    assert "Vary" not in html.headers
    assert html.get_data(as_text=True) == client.get(path, headers=admin).get_data(as_text=True)
    assert client.get(f"{path}.docx", headers=admin).status_code == 404


def test_errors_stay_json_whatever_was_asked_for(client, admin, interview):
    path = f"/api/interview/{interview['id']}/kit"
    for url in (path, f"{path}.html", f"{path}.pdf"):
        assert_error(client.get(url, headers={"Accept": "text/html"}), 401)
        assert_error(client.get(url, headers={"Authorization": "Bearer not-a-key", "Accept": "application/pdf"}), 401)
    missing = assert_error(client.get("/api/interview/999999/kit", headers={**admin, "Accept": "text/html"}), 404)
    assert "999999" in missing["error"]
    assert_error(client.get("/api/interview/999999/kit.pdf", headers=admin), 404)
    assert_error(client.get(f"/api/interview/{2**31}/kit", headers=admin), 404)


@pytest.mark.parametrize("role", ["admin", "recruiter", "viewer", "auditor"])
def test_any_read_role_may_print_a_kit_and_a_scorecard(client, make_key, admin, interview, role):
    evaluation = manual_evaluation(client, admin, interview)
    headers = make_key(role)

    assert client.get(f"/api/interview/{interview['id']}/kit", headers=headers).status_code == 200
    assert client.get(f"/api/evaluations/{evaluation['id']}/scorecard", headers=headers).status_code == 200


def test_kits_count_against_the_read_rate_limit(app_factory, make_key, claude):
    app = app_factory(RATE_LIMIT_READ="2/hour")
    client = app.test_client()
    headers = make_key("admin")
    interview = make_interview(client, headers, claude, "REQ-KIT-RL")

    assert client.get(f"/api/interview/{interview['id']}", headers=headers).status_code == 200
    assert client.get(f"/api/interview/{interview['id']}/kit", headers=headers).status_code == 200
    limited = assert_error(client.get(f"/api/interview/{interview['id']}/kit.pdf", headers=headers), 429)
    assert "Rate limit exceeded" in limited["error"]


# --- Scorecards ---------------------------------------------------------------------------------------------------


def criteria_names(question):
    return [c["criterion"] for c in question["criteria"]]


def manual_evaluation(client, headers, interview, candidate_id="CAND-K1"):
    scores = [{"question_number": q["question_number"], "checked_criteria": criteria_names(q)[:n], "notes": f"Notes on {n}"}
              for n, q in enumerate(interview["questions"], start=2)]
    response = client.post(f"/api/interview/{interview['id']}/evaluations", headers=headers,
                           json={"candidate_id": candidate_id, "candidate_name": "Ada <Example>", "evaluator": "j.doe",
                                 "mode": "manual", "scores": scores})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["evaluation"]


ANSWER = "First I would reproduce the failure in staging, then compare the <deploy> diff & the metrics. Secret: zebra-striped."


@pytest.fixture
def ai_evaluation(client, admin, claude, interview):
    """An AI evaluation: question 1 answered (2 criteria met with verbatim evidence), the rest not."""
    names = criteria_names(interview["questions"][0])
    rows = [(name, False, "") for name in names]
    rows[0] = (names[0], True, "reproduce the failure in staging")
    rows[1] = (names[1], True, "compare the <deploy> diff & the metrics")
    claude.reply_json(assessment({1: rows}, feedback='Clear about "diffs" <and> metrics.'))
    response = client.post(f"/api/interview/{interview['id']}/evaluations", headers=admin,
                           json={"candidate_id": "CAND-K2", "mode": "ai", "answers": [{"question_number": 1, "answer_text": ANSWER}]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["evaluation"]


def test_the_scorecard_shows_criteria_met_scores_notes_and_the_recommendation(client, admin, interview):
    evaluation = manual_evaluation(client, admin, interview)

    response = client.get(f"/api/evaluations/{evaluation['id']}/scorecard", headers=admin)

    assert response.status_code == 200 and response.mimetype == "text/html"
    assert response.headers["Cache-Control"] == "private, no-store"  # candidate data
    page = response.get_data(as_text=True)
    tree = parse_html5(page)
    head = tree.find(".//header")
    header = text_of(head)
    assert text_of(head.find("h1")) == "Ada <Example>" and "&lt;Example&gt;" in page
    facts = facts_of(head)
    assert (facts["Candidate"], facts["Evaluator"], facts["Status"]) == ("CAND-K1", "j.doe", "Draft")
    assert f"Overall score {evaluation['overall_score']} / 100" in header
    assert f"Recommendation {evaluation['recommendation']}" in header
    assert "advance at 75 or more, reject below 50" in header
    assert "DRAFT" not in page  # the interview's status is shown (Draft); the scorecard itself is no draft
    blocks = sections(tree)
    assert len(blocks) == 5
    for block, result, question in zip(blocks, evaluation["questions"], interview["questions"], strict=True):
        text = text_of(block)
        met = sum(c["met"] for c in result["criteria"])
        assert facts_of(block)["Score"] == f"{result['score']:.1f} / 10 ({met} of {len(result['criteria'])} criteria met)"
        assert question["question_text"] in text and f"Notes on {met}" in text
        items = block.findall(".//li[@class='criterion']")
        assert [text_of(i.find(".//span[@class='criterion-name']")) for i in items] == criteria_names(question)
        assert ["Met" if c["met"] else "Not met" for c in result["criteria"]] == [
            text_of(i.find(".//span[@class='criterion-body']/span[2]")) for i in items]
        assert [c["description"] for c in question["criteria"]] == [
            text_of(i.find(".//span[@class='criterion-description']")) for i in items]


def test_the_scorecard_quotes_the_evidence_escaped_and_never_the_answer(client, admin, ai_evaluation, caplog):
    with caplog.at_level(logging.DEBUG):
        page = client.get(f"/api/evaluations/{ai_evaluation['id']}/scorecard.html", headers=admin).get_data(as_text=True)
        pdf = client.get(f"/api/evaluations/{ai_evaluation['id']}/scorecard.pdf", headers=admin)

    first = sections(parse_html5(page))[0]
    quotes = [text_of(q) for q in first.findall(".//q[@class='evidence']")]
    assert quotes == ["reproduce the failure in staging", "compare the <deploy> diff & the metrics"]
    assert "compare the &lt;deploy&gt; diff &amp; the metrics" in page and "<deploy>" not in page
    assert 'Clear about "diffs" <and> metrics.' in text_of(first)
    assert "zebra-striped" not in page  # the answer itself is not on the scorecard (nor in the JSON read)
    _, pages = pdf_pages(pdf.data)
    assert "zebra-striped" not in " ".join(pages) and "compare the <deploy> diff & the metrics" in " ".join(pages)
    assert_not_logged(caplog, "zebra-striped", "reproduce the failure in staging")


def test_the_scorecard_pdf_holds_every_question_criterion_and_the_result(client, admin, interview):
    evaluation = manual_evaluation(client, admin, interview)

    response = client.get(f"/api/evaluations/{evaluation['id']}/scorecard", headers={**admin, "Accept": "application/pdf"})

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f'inline; filename="evaluation-{evaluation["id"]}-scorecard.pdf"'
    _, pages = pdf_pages(response.data)
    everything = " ".join(pages)
    for question in interview["questions"]:
        assert normalise(question["question_text"]) in everything
        for criterion in question["criteria"]:
            assert criterion["criterion"] in everything
    assert f"Overall score {evaluation['overall_score']} / 100" in everything
    assert evaluation["recommendation"].upper() in everything
    assert not any("DRAFT" in page for page in pages)


def test_scorecard_errors_are_json(client, admin, interview):
    evaluation = manual_evaluation(client, admin, interview)
    path = f"/api/evaluations/{evaluation['id']}/scorecard"

    assert_error(client.get(path, headers={"Accept": "text/html"}), 401)
    assert_error(client.get(path, headers={**admin, "Accept": "application/json"}), 406)
    assert_error(client.get("/api/evaluations/999999/scorecard.pdf", headers=admin), 404)
    assert_error(client.get(f"{path}?paper=legal", headers=admin), 400, "paper")
    assert client.delete(f"/api/evaluations/{evaluation['id']}", headers=admin).status_code == 200
    assert_error(client.get(path, headers=admin), 404)  # an erased scorecard prints no more


# --- The view model's pieces ------------------------------------------------------------------------------------


def test_the_summary_is_the_enhanced_jd_s_summary_section():
    assert jd_summary(enhanced_jd()["enhanced_description"]) == "Own the payments API end to end."
    sandbox = "(Generated by the sandbox.)\nSummary\nAs Engineer you will own outcomes\nin payments.\nKey Deliverables\n- Ship"
    assert jd_summary(sandbox) == "As Engineer you will own outcomes in payments."
    assert jd_summary("## Summary:\n\nBuild things.\n\n## Responsibilities\n- Run them") == "Build things."
    assert jd_summary("We build payments.\nWith care.\n\nMore later.") == "We build payments. With care."  # no heading
    long = jd_summary("Summary\n" + "word " * 400)
    assert len(long) <= SUMMARY_MAX_CHARS + 1 and long.endswith("\u2026")
    assert jd_summary(None) is None and jd_summary("  \n") is None


def test_the_summary_knows_the_headings_the_enhancement_prompt_asks_for():
    assert all(heading in ENHANCE_SYSTEM_PROMPT for heading in JD_HEADINGS)


def test_coverage_rows_name_each_work_item_and_the_questions_that_test_it():
    from services.coverage import coverage_map

    items = [{"item": "Python", "kind": "knowledge"}, {"item": "Kubernetes", "kind": "knowledge"},
             {"item": "mentoring", "kind": "competency"}]
    questions = [{"question_number": 1, "covers": ["Python"]}, {"question_number": 3, "covers": ["Python", "mentoring"]}]
    assert coverage_rows(None) is None and coverage_rows([]) is None
    assert coverage_rows(coverage_map(items, questions)) == [
        {"label": "Kubernetes (knowledge)", "value": "not covered"},  # uncovered first, as GET .../coverage
        {"label": "Python (knowledge)", "value": "questions 1, 3"},
        {"label": "mentoring (competency)", "value": "question 3"},
    ]


def test_the_kit_shows_work_coverage_only_when_the_interview_has_it(app, client, admin, interview):
    from services.coverage import coverage_map
    from services.kits import interview_kit_view, render

    with app.test_request_context():
        view = interview_kit_view(interview["id"], thresholds=app.extensions["evaluation_thresholds"])
        from models import Interview, db

        items = db.session.get(Interview, interview["id"]).work_items
        assert (view["coverage"] is not None) == bool(items)  # the interview's own map, when it has items
        real = render("print/interview_kit.html", view, "html").decode()
        view["coverage"] = coverage_rows([])  # a kit without WORK items
        without = render("print/interview_kit.html", view, "html").decode()
        view["coverage"] = coverage_rows(coverage_map([{"item": "<b>SQL</b>", "kind": "knowledge"}],
                                                      [{"question_number": 2, "covers": ["<b>SQL</b>"]}]))
        with_coverage = render("print/interview_kit.html", view, "html").decode()

    assert "WORK coverage" not in without
    assert ("WORK coverage" in real) == bool(items)
    parse_html5(with_coverage)
    assert "WORK coverage" in with_coverage and "&lt;b&gt;SQL&lt;/b&gt; (knowledge)" in with_coverage
    assert "question 2" in with_coverage


def test_numbers_print_without_a_needless_decimal():
    from decimal import Decimal

    assert [format_number(Decimal(v)) for v in ("75.0", "62.5", "0.0")] == ["75", "62.5", "0"]
    assert format_number(Decimal("7"), places=1) == "7.0"
