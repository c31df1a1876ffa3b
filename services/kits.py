"""Printable interviewer kits and scorecards: a view model read from the database, HTML from the
Jinja templates in templates/print/ (autoescaped), PDF from that same HTML with WeasyPrint.

One renderer, two outputs: the PDF is the HTML as WeasyPrint lays it out with the template's print
stylesheet, so what a browser prints and what the PDF shows are the same document. Nothing is
fetched while rendering: the stylesheet is inline, the fonts are the system's, the HTML names no
URL, and WeasyPrint is given a URL fetcher that refuses every URL (a kit holds text that Claude
wrote and that candidates' evidence quotes; neither may make the server fetch anything).

The view models are plain dicts and lists (the templates hold loops and conditionals only):

- kit: the requisition and interview (name, version, status, ``draft``), the job description's
  enhanced title and summary, the 5 questions (number, type, level, topic, text, what a strong
  answer covers, criteria with descriptions), the scoring rule with the thresholds in force and,
  when the interview has WORK items, its coverage map (each item and the questions that test it).
- scorecard: the same header, the candidate reference, evaluator and mode, per question its
  criteria met / not met with their evidence quotes, feedback, notes and score, then the overall
  score and recommendation with the thresholds stored with the evaluation. Only what the JSON
  ``GET /api/evaluations/<id>`` returns: never the candidate's answers.
"""

import functools
import logging
import os
import re
from datetime import UTC
from decimal import Decimal

from flask import render_template

from models import Evaluation, Interview, JobDescription, db
from services import coverage
from services.errors import NotFound, ServiceError

log = logging.getLogger(__name__)
# Without HarfBuzz's subsetter (libharfbuzz-subset0), WeasyPrint subsets fonts with fontTools, which
# stamps each embedded font with the time of writing unless SOURCE_DATE_EPOCH is set
# (fontTools.misc.timeTools.timestampNow; https://reproducible-builds.org/specs/source-date-epoch/):
# the same kit would be other bytes a second later. Set once, at import (setenv is not thread-safe);
# an operator's own value is kept.
os.environ.setdefault("SOURCE_DATE_EPOCH", "0")
# WeasyPrint logs every rendering step at INFO ("Step 5 - Creating layout - Page 3"): a dozen lines
# per PDF in the service's log. Its warnings (an unusable CSS rule, a refused URL) still come through.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

FORMATS = {"html": "text/html", "pdf": "application/pdf"}
PAPERS = ("a4", "letter")
# The headings the enhancement prompt asks for (prompts.ENHANCE_SYSTEM_PROMPT), in its order.
JD_HEADINGS = ("Summary", "Key Deliverables", "Responsibilities", "Required Knowledge", "Competencies", "Qualifications")
SUMMARY_MAX_CHARS = 700
_TYPE_LABELS = {"system_design": "System design", "problem_solving": "Problem solving"}
_HEADING = re.compile(r"^\s*#*\s*(?P<name>[A-Za-z ]+?)\s*:?\s*$")


class RendererUnavailable(ServiceError):
    """WeasyPrint or its system libraries (Pango) are missing, so no PDF can be made (503)."""

    http_status = 503
    kind = "renderer_unavailable"


def interview_kit_view(interview_id, *, thresholds, paper="a4"):
    """Return the view model of an interview's printable kit (see the module docstring).

    thresholds: services.evaluations.Thresholds in force (0-100 overall score). paper: "a4" or
    "letter". Raises NotFound (404) for an unknown interview.
    """
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        raise NotFound(f"Interview {interview_id} not found")
    job_description = db.session.get(JobDescription, interview.job_description_id)
    questions = [
        {
            **_question_fields(question),
            "expected_answer": question.expected_answer,
            "criteria": [{"name": c["criterion"], "description": c.get("description")} for c in question.criteria],
        }
        for question in interview.questions
    ]
    return {
        **_interview_header(interview, job_description, paper),
        "draft_watermark": interview.status == "draft",
        "summary": jd_summary(job_description.enhanced_description if job_description else None),
        "questions": questions,
        "thresholds": {"advance": format_number(thresholds.advance), "reject": format_number(thresholds.reject)},
        "coverage": coverage_rows(coverage.coverage_map(
            interview.work_items or [], [{"question_number": q.question_number, "covers": q.covers} for q in interview.questions])),
    }


def scorecard_view(evaluation_id, *, paper="a4"):
    """Return the view model of an evaluation's printable scorecard (see the module docstring).

    Scores as stored: question 0-10, overall 0-100, one decimal; thresholds those stored with the
    evaluation. Raises NotFound (404) for an unknown evaluation.
    """
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(f"Evaluation {evaluation_id} not found")
    interview = db.session.get(Interview, evaluation.interview_id)
    job_description = db.session.get(JobDescription, interview.job_description_id)
    # An evaluation's questions are the interview's (stored questions never change).
    asked = {question.question_number: question for question in interview.questions}
    questions = []
    for result in evaluation.questions:
        question = asked[result.question_number]
        descriptions = {c["criterion"]: c.get("description") for c in question.criteria}
        criteria = [
            {"name": c["criterion"], "description": descriptions.get(c["criterion"]), "met": bool(c["met"]),
             "evidence": c.get("evidence")}
            for c in result.criteria
        ]
        questions.append({
            **_question_fields(question),
            "criteria": criteria,
            "met": sum(1 for c in criteria if c["met"]),
            "score": format_number(result.score, places=1),
            "feedback": result.feedback,
            "notes": result.notes,
        })
    return {
        **_interview_header(interview, job_description, paper),
        "draft_watermark": False,  # the scorecard is final, whatever the interview's status (shown in its header)
        "evaluation_id": evaluation.id,
        "candidate_id": evaluation.candidate_id,
        "candidate_name": evaluation.candidate_name,
        "evaluator": evaluation.evaluator,
        "mode": evaluation.mode,
        "evaluated_at": format_moment(evaluation.created_at),
        "questions": questions,
        "overall_score": format_number(evaluation.overall_score, places=1),
        "recommendation": evaluation.recommendation,
        "thresholds": {"advance": format_number(evaluation.advance_threshold), "reject": format_number(evaluation.reject_threshold)},
    }


def render_interview_kit(interview_id, *, thresholds, format="html", paper="a4"):
    """Return the interview's kit as UTF-8 HTML or PDF bytes (format "html" or "pdf").

    Raises NotFound (404) for an unknown interview and RendererUnavailable (503) for a PDF when
    WeasyPrint cannot be loaded.
    """
    view = interview_kit_view(interview_id, thresholds=thresholds, paper=paper)
    db.session.close()  # end the read: no pooled connection held while a PDF is laid out (about a second)
    return render("print/interview_kit.html", view, format)


def render_scorecard(evaluation_id, *, format="html", paper="a4"):
    """Return the evaluation's scorecard as UTF-8 HTML or PDF bytes (format "html" or "pdf").

    Raises NotFound (404) for an unknown evaluation and RendererUnavailable (503) for a PDF when
    WeasyPrint cannot be loaded.
    """
    view = scorecard_view(evaluation_id, paper=paper)
    db.session.close()  # end the read before rendering, as render_interview_kit
    return render("print/scorecard.html", view, format)


def render(template, view, format):
    """Render a template with a view model to HTML bytes, or to PDF bytes from that HTML."""
    html = render_template(template, **view)
    if format == "pdf":
        return html_to_pdf(html)
    return html.encode("utf-8")


def html_to_pdf(html):
    """Return the PDF bytes of an HTML string, laid out by WeasyPrint with no URL fetched.

    Tagged PDF (pdf_tags), so screen readers and text extraction follow the reading order. Raises
    RendererUnavailable (503) when WeasyPrint or Pango cannot be loaded.
    """
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango's shared libraries are missing
        log.error("PDF rendering unavailable: %s", exc)
        raise RendererUnavailable("PDF rendering is unavailable on this server; ask for text/html instead") from None
    return HTML(string=html, base_url=None, url_fetcher=_refusing_fetcher()).write_pdf(pdf_tags=True)


@functools.cache
def _refusing_fetcher():
    """A WeasyPrint URL fetcher that refuses every URL (file:, http:, data: alike); WeasyPrint logs
    the refusal as a warning and renders without the resource."""
    from weasyprint.urls import URLFetcher

    class RefusingFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"printable documents load nothing (refused {url[:80]})")

    return RefusingFetcher()


def jd_summary(description):
    """Return the Summary section of an enhanced job description as one paragraph, or None.

    The enhancement writes plain text under the headings in JD_HEADINGS; the summary is the text
    between "Summary" and the next heading. Without that heading it is the first paragraph (up to a
    blank line or a heading). Cut at SUMMARY_MAX_CHARS on a word boundary, with an ellipsis.
    """
    if not description or not description.strip():
        return None
    lines = description.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if _heading(line) == "summary"), None)
    picked = []
    for line in lines[start or 0:]:
        if _heading(line) in _HEADING_NAMES:
            if picked or start is not None:
                break
            continue
        if not line.strip():
            if picked:
                break
            continue
        picked.append(line.strip().removeprefix("- "))
    text = " ".join(picked)
    if len(text) > SUMMARY_MAX_CHARS:
        text = text[:SUMMARY_MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:. ") + "\u2026"
    return text or None


_HEADING_NAMES = {name.lower() for name in JD_HEADINGS}


def _heading(line):
    match = _HEADING.match(line)
    return match["name"].lower() if match else None


def coverage_rows(items):
    """Return [{"label", "value"}] for an interview's WORK coverage map (services/coverage.coverage_map:
    uncovered items first), or None when the kit has no WORK items. The label is the item as the
    hiring manager wrote it, with its kind; the value names the questions that test it."""
    if not items:
        return None
    return [
        {"label": f"{row['item']} ({row['kind']})",
         "value": ("question " if len(row["questions"]) == 1 else "questions ") + ", ".join(map(str, row["questions"]))
         if row["covered"] else "not covered"}
        for row in items
    ]


def question_type_label(question_type):
    """Return "System design" for "system_design" (the question types of prompts.QUESTION_TYPES)."""
    if not question_type:
        return None
    return _TYPE_LABELS.get(question_type, question_type.replace("_", " ").capitalize())


def format_number(value, places=None):
    """Return a Decimal or number as text: "75" for 75.0, "62.5"; with ``places``, that many decimals."""
    number = Decimal(str(value))
    if places is not None:
        return f"{number:.{places}f}"
    return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"


def format_moment(moment):
    """Return a UTC datetime as "2026-11-21 14:03 UTC" (naive means UTC), or None."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _question_fields(question):
    """The fields of a question both documents show."""
    return {
        "number": question.question_number,
        "type": question_type_label(question.question_type),
        "level": (question.skill_level or "").capitalize() or None,
        "topic": question.topic,
        "text": question.question_text,
    }


def _interview_header(interview, job_description, paper):
    """The header fields both documents share."""
    title = None
    if job_description is not None:
        title = job_description.enhanced_title or job_description.basic_title
    return {
        "paper": paper if paper in PAPERS else "a4",
        "req_id": interview.req_id,
        "interview_id": interview.id,
        "interview_name": interview.interview_name,
        "version": interview.version,
        "status": interview.status,
        "draft": interview.status == "draft",
        "job_title": title,
        "created_at": format_moment(interview.created_at),
    }
