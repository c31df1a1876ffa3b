"""Candidate scoring: an interviewer's ticked criteria ("manual") or Claude's judgement of written
answers ("ai") become one deterministic, explainable scorecard.

Arithmetic (the same for both modes, Decimal, rounded half up to one decimal):
- question score = criteria met / criteria of the question x 10   (0-10)
- overall score  = mean of the 5 question scores (as shown) x 10   (0-100)
- recommendation = "advance" if overall >= advance threshold, "reject" if overall < reject
  threshold, else "hold" (EVALUATION_ADVANCE_THRESHOLD 75 / EVALUATION_REJECT_THRESHOLD 50,
  stored with each evaluation).
AI evidence must be a verbatim span of the answer (whitespace runs and curly quotes are
normalised before comparing, and a quote needs at least 8 characters); otherwise the quote is
dropped and the criterion counts as not met. Nor is a criterion met on evidence that refers to
a protected characteristic (the fair-hiring guard, services/fairness.py, finds something in the
quote): the quote is dropped and the question's feedback says which criterion and category. Blank or missing answers meet nothing and are not
sent to Claude. Evaluations are immutable; erasure deletes answers and results, while the
audit row keeps only token counts (it never holds answer text).
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from models import Evaluation, EvaluationQuestion, GenerationLog, Interview, db, utcnow
from prompts import ASSESSMENT_SCHEMA, PROMPT_VERSION, build_assessment_messages
from services import fairness
from services.audit import audited_operation
from services.progress import report
from services.errors import Conflict, InvalidInput, NotFound
from services.generated_content import assessment_validator
from services.jd_enhancement import job_description_id_for, unknown_requisition

MODES = ("ai", "manual")
MIN_EVIDENCE_CHARS = 8
_ONE_DECIMAL = Decimal("0.1")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


@dataclass(frozen=True)
class Thresholds:
    """Recommendation thresholds on the 0-100 overall score."""

    advance: Decimal
    reject: Decimal

    @classmethod
    def from_config(cls, config):
        return cls(
            advance=Decimal(str(config["EVALUATION_ADVANCE_THRESHOLD"])),
            reject=Decimal(str(config["EVALUATION_REJECT_THRESHOLD"])),
        )


def question_score(met, total):
    """Return met / total x 10 as a Decimal with one decimal (0 when a question has no criteria)."""
    if not total:
        return Decimal("0.0")
    return (Decimal(met) * 10 / Decimal(total)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def overall_score(question_scores):
    """Return the mean of the question scores x 10 (0-100) with one decimal."""
    scores = list(question_scores)
    return (sum(scores, Decimal(0)) * 10 / len(scores)).quantize(_ONE_DECIMAL, rounding=ROUND_HALF_UP)


def recommend(score, thresholds):
    """Return "advance", "hold" or "reject" for an overall score."""
    if score >= thresholds.advance:
        return "advance"
    if score < thresholds.reject:
        return "reject"
    return "hold"


def verify_evidence(evidence, answer):
    """Return the evidence if it is a verbatim span of the answer (normalised), else None."""
    quote = _normalise(evidence)
    if len(quote) < MIN_EVIDENCE_CHARS:
        return None
    return evidence.strip() if quote in _normalise(answer) else None


def _normalise(text):
    return re.sub(r"\s+", " ", (text or "").translate(_QUOTES)).strip()


@dataclass
class EvaluationResult:
    evaluation: Evaluation
    tokens_used: int  # all tokens billed for the assessment (0 in manual mode)


def create_evaluation(
    *,
    claude,
    thresholds,
    interview_id,
    candidate_id,
    mode,
    candidate_name=None,
    evaluator=None,
    answers=None,
    scores=None,
    user_id=None,
):
    """Score a candidate against an interview's criteria and store the scorecard.

    mode "ai": answers [{question_number, answer_text}] judged by Claude (one call for all
    non-blank answers; audited as operation "candidate_scoring"). mode "manual": scores
    [{question_number, checked_criteria: [criterion names], notes}] from an interviewer.

    Returns EvaluationResult. Raises NotFound (404) for an unknown interview, Conflict (409)
    for an archived one, InvalidInput (400) naming a question_number or criterion not in the
    interview (or a question listed twice), and in AI mode the Claude errors of
    ClaudeClient.generate_json (502/503/504).
    """
    interview, questions = _scorable(interview_id)
    req_id = interview.req_id

    base = {
        "interview_id": interview_id,
        "req_id": req_id,
        "candidate_id": candidate_id,
        "candidate_name": candidate_name,
        "evaluator": evaluator,
        "mode": mode,
        "advance_threshold": thresholds.advance,
        "reject_threshold": thresholds.reject,
        "created_by_user_id": user_id,
    }
    if mode == "manual":
        results = _manual_results(questions, scores or [], req_id)
        evaluation = _store(base, results, thresholds, tokens_used=0)
        return EvaluationResult(evaluation, 0)

    answered = _answers_by_number(questions, answers or [], req_id)
    with audited_operation(
        "candidate_scoring", claude=claude, req_id=req_id, user_id=user_id, prompt_version=PROMPT_VERSION
    ) as operation:
        operation.interview_id = interview_id
        report("scoring")
        judgements = {}
        if answered:
            system, messages = build_assessment_messages(
                questions=[
                    {"question_number": n, "question_text": questions[n]["question_text"], "criteria": questions[n]["full"], "answer_text": text}
                    for n, text in sorted(answered.items())
                ]
            )
            judgements = claude.generate_json(
                purpose="candidate_scoring",
                system=system,
                messages=messages,
                schema=ASSESSMENT_SCHEMA,
                validate=assessment_validator({n: questions[n]["criteria"] for n in answered}),
                recorder=operation,
            )
        results = _ai_results(questions, answered, judgements, on_findings=operation.note_findings)
        evaluation = _store(
            {**base, "provider": claude.provider, "model": claude.model_for("candidate_scoring"), "prompt_version": PROMPT_VERSION},
            results,
            thresholds,
            tokens_used=operation.tokens_used,
            operation=operation,
        )
    return EvaluationResult(evaluation, operation.tokens_used)


def check_can_evaluate(interview_id, *, mode, answers=None, scores=None):
    """Check, without calling Claude, what create_evaluation would refuse before it calls Claude.

    Raises NotFound (404) for an unknown interview, Conflict (409) for an archived one and
    InvalidInput (400) for a question_number (or, in manual mode, a criterion) not in the interview.
    """
    interview, questions = _scorable(interview_id)
    if mode == "manual":
        _manual_results(questions, scores or [], interview.req_id)
    else:
        _answers_by_number(questions, answers or [], interview.req_id)


def _scorable(interview_id):
    interview = db.session.get(Interview, interview_id)
    if interview is None:
        raise NotFound(f"Interview {interview_id} not found")
    if interview.status == "archived":
        raise Conflict(f"Interview {interview_id} is archived; candidates cannot be scored against it", req_id=interview.req_id)
    questions = {
        q.question_number: {"question_text": q.question_text, "criteria": [c["criterion"] for c in q.criteria], "full": q.criteria}
        for q in interview.questions
    }
    return interview, questions


def _answers_by_number(questions, answers, req_id):
    answered, seen = {}, set()
    for index, answer in enumerate(answers):
        number = answer["question_number"]
        if number not in questions:
            raise InvalidInput(f"answers.{index}.question_number", f"question {number} is not in this interview", req_id=req_id)
        if number in seen:
            raise InvalidInput(f"answers.{index}.question_number", f"question {number} is answered twice", req_id=req_id)
        seen.add(number)
        if (answer.get("answer_text") or "").strip():
            answered[number] = answer["answer_text"]
    return answered


def _ai_results(questions, answered, judgements, on_findings=None):
    results = {}
    for number, question in questions.items():
        answer = answered.get(number)
        judgement = judgements.get(number)
        criteria, not_counted = [], []
        for name in question["criteria"]:
            met, evidence = judgement["criteria"][name] if judgement else (False, "")
            evidence = verify_evidence(evidence, answer) if met and answer else None
            categories = evidence_findings(evidence)
            if categories:
                if on_findings is not None:
                    on_findings(categories, source="evidence")
                not_counted.append(f"{name!r} ({', '.join(sorted(set(categories)))})")
                evidence = None
            criteria.append({"criterion": name, "met": evidence is not None, "evidence": evidence})
        feedback = judgement["feedback"] if judgement else "No answer was given."
        if not_counted:
            feedback = (f"{feedback} Not counted as met, as the evidence quoted refers to a protected characteristic: "
                        f"{'; '.join(not_counted)}.").strip()
        results[number] = {"criteria": criteria, "feedback": feedback, "notes": None, "answer_text": answer}
    return results


def evidence_findings(evidence):
    """Return the categories of the fair-hiring findings in a verified evidence quote ([] for None)."""
    return [finding.category for finding in fairness.scan(evidence)] if evidence else []


def _manual_results(questions, scores, req_id):
    by_number = {}
    for index, score in enumerate(scores):
        number = score["question_number"]
        if number not in questions:
            raise InvalidInput(f"scores.{index}.question_number", f"question {number} is not in this interview", req_id=req_id)
        if number in by_number:
            raise InvalidInput(f"scores.{index}.question_number", f"question {number} is scored twice", req_id=req_id)
        unknown = [name for name in score.get("checked_criteria") or [] if name not in questions[number]["criteria"]]
        if unknown:
            raise InvalidInput(
                f"scores.{index}.checked_criteria",
                f"not criteria of question {number}: {', '.join(repr(u) for u in unknown)}",
                req_id=req_id,
            )
        by_number[number] = score
    results = {}
    for number, question in questions.items():
        score = by_number.get(number, {})
        checked = set(score.get("checked_criteria") or [])
        results[number] = {
            "criteria": [{"criterion": name, "met": name in checked, "evidence": None} for name in question["criteria"]],
            "feedback": None,
            "notes": score.get("notes"),
            "answer_text": None,
        }
    return results


def _store(base, results, thresholds, *, tokens_used, operation=None):
    question_rows = []
    for number in sorted(results):
        result = results[number]
        met = sum(1 for c in result["criteria"] if c["met"])
        question_rows.append(
            EvaluationQuestion(
                question_number=number,
                score=question_score(met, len(result["criteria"])),
                feedback=result["feedback"],
                notes=result["notes"],
                answer_text=result["answer_text"],
                criteria=result["criteria"],
            )
        )
    overall = overall_score(q.score for q in question_rows)
    evaluation = Evaluation(
        **base,
        overall_score=overall,
        recommendation=recommend(overall, thresholds),
        tokens_used=tokens_used,
        created_at=utcnow(),
        questions=question_rows,
    )
    db.session.add(evaluation)
    if operation is not None:
        db.session.flush()
        operation.store(db.session, evaluation_id=evaluation.id)
    else:
        db.session.commit()
    return evaluation


def get_evaluation(evaluation_id):
    """Return an Evaluation with its questions. Raises NotFound (404)."""
    evaluation = db.session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(f"Evaluation {evaluation_id} not found")
    return evaluation


def list_evaluations_for_interview(interview_id):
    """Return an interview's evaluations, newest first. Raises NotFound for an unknown interview."""
    if db.session.scalar(db.select(Interview.id).where(Interview.id == interview_id)) is None:
        raise NotFound(f"Interview {interview_id} not found")
    return db.session.scalars(
        db.select(Evaluation).where(Evaluation.interview_id == interview_id).order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
    ).all()


def list_evaluations_for_requisition(req_id):
    """Return every evaluation of a requisition, best overall score first (ties: earliest first).

    Raises NotFound when the requisition has no job description.
    """
    if job_description_id_for(req_id) is None:
        raise unknown_requisition(req_id)
    return db.session.scalars(
        db.select(Evaluation)
        .where(Evaluation.req_id == req_id)
        .order_by(Evaluation.overall_score.desc(), Evaluation.created_at, Evaluation.id)
    ).all()


def delete_evaluation(evaluation_id):
    """Erase one evaluation with its answers and results, and the job that scored it (whose answer
    holds the scorecard). Raises NotFound (404)."""
    from services.jobs import delete_jobs

    evaluation = get_evaluation(evaluation_id)
    job_ids = db.session.scalars(
        db.select(GenerationLog.job_id).where(GenerationLog.evaluation_id == evaluation_id, GenerationLog.job_id.is_not(None))
    ).all()
    db.session.delete(evaluation)
    delete_jobs(db.session, job_ids)
    db.session.commit()


def erase_candidate(candidate_id):
    """Erase every evaluation (answers and results) of a candidate; return how many. Idempotent."""
    from models import Job
    from services.jobs import delete_jobs

    ids = db.session.scalars(db.select(Evaluation.id).where(Evaluation.candidate_id == candidate_id)).all()
    # The candidate's scoring jobs hold their answers (until the job ends) and their scorecards.
    job_ids = db.session.scalars(db.select(Job.id).where(Job.candidate_id == candidate_id)).all()
    if ids:
        db.session.execute(db.delete(EvaluationQuestion).where(EvaluationQuestion.evaluation_id.in_(ids)))
        db.session.execute(db.delete(Evaluation).where(Evaluation.id.in_(ids)))
    delete_jobs(db.session, job_ids)
    db.session.commit()
    return len(ids)
