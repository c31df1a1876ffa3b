"""Validation of what Claude returns, with marshmallow. Structured outputs guarantee the JSON
shape but not counts above 1, so every rule that matters is checked here.

Each ``validate_*`` takes the parsed JSON and returns clean data, or raises
claude_client.InvalidOutput listing the problems in words the repair prompt can use.

Fair hiring: every candidate-facing string of generated content (SCANNED_KEYS: the enhanced
JD's title and description, a question's topic, text and expected answer, each criterion's name
and description, a plan slot's topic and what it tests) passes the fair-hiring guard
(services/fairness.py); each finding is one more problem, so it gets the one repair call and,
if it is still there, the 502. Cached questions pass the same scan (content_findings) before
they are reused. ``on_findings`` (callable(list of categories)) hears the findings of every
answer refused for them, for the audit row and /metrics.
"""

import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates, validates_schema

from claude_client import InvalidOutput
from prompts import MAX_CRITERIA, MIN_CRITERIA, QUESTION_TYPES, QUESTIONS_PER_INTERVIEW, SKILL_LEVELS
from services import fairness

# JSON keys of generated content whose strings a candidate or an interviewer reads, or that steer
# what is written (a plan slot's "tests" goes into the fill prompt): scanned wherever they appear.
SCANNED_KEYS = frozenset({
    "enhanced_title", "enhanced_description", "topic", "question_text", "expected_answer", "criterion", "description",
    "tests",
})

MIN_ENHANCED_DESCRIPTION_CHARS = 200
_REFUSAL = re.compile(r"^\W*(i'?m sorry|i am sorry|sorry,|i cannot|i can'?t|i am unable|i'?m unable|as an ai)", re.I)


class NonBlankString(fields.String):
    """A string that is stripped and must not be blank (also used by the HTTP request schemas)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ValidationError("must not be blank")
        return text


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


class EnhancedJobDescriptionOutput(_Base):
    enhanced_title = NonBlankString(required=True, validate=validate.Length(max=255))
    enhanced_description = NonBlankString(required=True, validate=validate.Length(min=MIN_ENHANCED_DESCRIPTION_CHARS))

    @validates("enhanced_description")
    def _not_a_refusal(self, value, **kwargs):
        if _REFUSAL.match(value):
            raise ValidationError("is a refusal or apology, not a job description")


class _CriterionOutput(_Base):
    criterion = NonBlankString(required=True, validate=validate.Length(max=200))
    description = NonBlankString(required=True, validate=validate.Length(max=1000))


class _QuestionOutput(_Base):
    question_number = fields.Integer(required=True, strict=True, validate=validate.Range(1, QUESTIONS_PER_INTERVIEW))
    question_type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    skill_level = fields.String(required=True, validate=validate.OneOf(SKILL_LEVELS))
    topic = NonBlankString(required=True, validate=validate.Length(max=255))
    question_text = NonBlankString(required=True, validate=validate.Length(max=5000))
    expected_answer = NonBlankString(load_default=None, validate=validate.Length(max=5000))
    criteria = fields.List(
        fields.Nested(_CriterionOutput),
        required=True,
        validate=validate.Length(MIN_CRITERIA, MAX_CRITERIA, error=f"must hold {MIN_CRITERIA} to {MAX_CRITERIA} criteria"),
    )

    @validates("criteria")
    def _distinct_criteria(self, value, **kwargs):
        names = [c["criterion"].casefold() for c in value]
        if len(set(names)) != len(names):
            raise ValidationError("criterion names must be distinct within a question")


class InterviewKitOutput(_Base):
    questions = fields.List(
        fields.Nested(_QuestionOutput),
        required=True,
        validate=validate.Length(equal=QUESTIONS_PER_INTERVIEW, error=f"must hold exactly {QUESTIONS_PER_INTERVIEW} questions"),
    )

    @validates_schema
    def _numbered_once_each(self, data, **kwargs):
        numbers = sorted(q["question_number"] for q in data.get("questions", []))
        if numbers != list(range(1, QUESTIONS_PER_INTERVIEW + 1)):
            raise ValidationError(f"question numbers must be 1 to {QUESTIONS_PER_INTERVIEW}, each once; got {numbers}", "questions")


def validate_enhanced_jd(data, *, on_findings=None):
    """Return {enhanced_title, enhanced_description} or raise InvalidOutput (a fair-hiring
    finding in either is a problem)."""
    return _load_fair(EnhancedJobDescriptionOutput(), data, on_findings)


def validate_interview_kit(data, *, on_findings=None):
    """Return the 5 questions sorted by question_number, each with 8-10 criteria and no
    fair-hiring finding, or raise InvalidOutput."""
    kit = _load_fair(InterviewKitOutput(), data, on_findings)
    return sorted(kit["questions"], key=lambda q: q["question_number"])


def content_findings(data, path="", *, keys=SCANNED_KEYS):
    """Return [(path, fairness.Finding)] for the strings under ``keys`` in parsed JSON ``data``.

    Any depth; path is marshmallow's ("questions.1.criteria.0.description", list indexes from
    0); offsets are into that one string. A cached question as a dict (topic, question_text,
    expected_answer, criteria) is scanned the same way. Pure; raises nothing for any JSON value.
    """
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if key in keys and isinstance(value, str):
                found.extend((where, finding) for finding in fairness.scan(value))
            else:
                found.extend(content_findings(value, where, keys=keys))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            found.extend(content_findings(item, f"{path}.{index}" if path else str(index), keys=keys))
    return found


def finding_problem(where, finding):
    """One problem line for a finding: "questions.1.question_text: age: 'How old are you' (reason). Suggestion: ..."."""
    return f"{where}: {finding.category}: {finding.text!r} ({finding.reason}). Suggestion: {finding.suggestion}"


def _refuse_findings(data, on_findings, problems=(), keys=SCANNED_KEYS):
    """Raise InvalidOutput with ``problems`` and one line per fair-hiring finding of ``data``, if any."""
    found = content_findings(data, keys=keys)
    if found and on_findings is not None:
        on_findings([finding.category for _, finding in found])
    problems = [*problems, *(finding_problem(where, finding) for where, finding in found)]
    if problems:
        raise InvalidOutput(problems)


def _load_fair(schema, data, on_findings):
    """_load, then the fair-hiring scan of what was loaded; an answer of the wrong shape is
    scanned as it came, so that one repair can fix both."""
    try:
        loaded = _load(schema, data)
    except InvalidOutput as exc:
        _refuse_findings(data, on_findings, exc.problems)
        raise
    _refuse_findings(loaded, on_findings)
    return loaded


def _load(schema, data):
    if not isinstance(data, dict):
        raise InvalidOutput([f"the answer must be a JSON object, not {type(data).__name__}"])
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidOutput(_flatten(exc.messages)) from None


def _flatten(messages, path=""):
    """Turn marshmallow's nested error dict into 'questions.2.criteria: message' lines."""
    if isinstance(messages, dict):
        lines = []
        for key, value in messages.items():
            sub = f"{path}.{key}" if path else str(key)
            lines.extend(_flatten(value, "" if key == "_schema" and not path else sub))
        return lines
    if isinstance(messages, list):
        lines = []
        for item in messages:
            lines.extend(_flatten(item, path) if isinstance(item, (dict, list)) else [f"{path or 'answer'}: {item}"])
        return lines
    return [f"{path or 'answer'}: {messages}"]


class _SlotOutput(_Base):
    slot_number = fields.Integer(required=True, strict=True, validate=validate.Range(1, QUESTIONS_PER_INTERVIEW))
    topic = NonBlankString(required=True, validate=validate.Length(max=255))
    skill_level = fields.String(required=True, validate=validate.OneOf(SKILL_LEVELS))
    question_type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    tests = NonBlankString(required=True, validate=validate.Length(max=1000))
    # The WORK items the slot's question will test, as Claude wrote them; matched to the
    # requisition's items by validate_plan (a plan without it claims nothing).
    covers = fields.List(fields.String(), load_default=list)


class InterviewPlanOutput(_Base):
    slots = fields.List(
        fields.Nested(_SlotOutput),
        required=True,
        validate=validate.Length(equal=QUESTIONS_PER_INTERVIEW, error=f"must hold exactly {QUESTIONS_PER_INTERVIEW} slots"),
    )

    @validates_schema
    def _numbered_once_each(self, data, **kwargs):
        numbers = sorted(s["slot_number"] for s in data.get("slots", []))
        if numbers != list(range(1, QUESTIONS_PER_INTERVIEW + 1)):
            raise ValidationError(f"slot numbers must be 1 to {QUESTIONS_PER_INTERVIEW}, each once; got {numbers}", "slots")


def validate_plan(data, *, similarity_threshold, on_findings=None, work_items=()):
    """Return the 5 planned slots sorted by number, or raise InvalidOutput.

    Two slots whose topics are near-duplicates (topic_similarity >= similarity_threshold) are
    rejected, so an interview never asks about the same thing twice; so is a slot whose topic
    (stored with its question) or "tests" (it steers the fill) has a fair-hiring finding.

    work_items: the requisition's item strings. Each slot's ``covers`` becomes the items its
    claimed strings name (services.coverage.match_claims: rapidfuzz, not exact equality, in the
    items' order) and ``unknown_covers`` the claimed strings that name none: those are dropped,
    never a reason to reject the plan.
    """
    from services.coverage import match_claims
    from services.question_cache import topic_similarity

    try:
        plan = _load(InterviewPlanOutput(), data)
    except InvalidOutput as exc:
        _refuse_findings(data, on_findings, exc.problems)
        raise
    slots = sorted(plan["slots"], key=lambda s: s["slot_number"])
    for slot in slots:
        slot["covers"], slot["unknown_covers"] = match_claims(slot["covers"], list(work_items))
    problems = [
        f"slots {a['slot_number']} and {b['slot_number']} have near-duplicate topics ({a['topic']!r}, {b['topic']!r}); make every topic distinct"
        for i, a in enumerate(slots)
        for b in slots[i + 1 :]
        if topic_similarity(a["topic"], b["topic"]) >= similarity_threshold
    ]
    _refuse_findings(plan, on_findings, problems)
    return slots


class _FilledQuestions(_Base):
    questions = fields.List(fields.Nested(_QuestionOutput), required=True)


def filled_questions_validator(slots, *, on_findings=None):
    """Return a validator for the fill answer: exactly one question per slot in ``slots``, with
    no fair-hiring finding in what is stored.

    Each returned question carries its slot's topic, skill_level and question_type (the plan's
    cache key stays authoritative even if the answer reworded them; the plan's topic was
    scanned by validate_plan, so the answer's own topic, never stored, is not).
    """
    by_number = {s["slot_number"]: s for s in slots}
    keys = SCANNED_KEYS - {"topic"}

    def validate_filled(data):
        try:
            questions = _load(_FilledQuestions(), data)["questions"]
        except InvalidOutput as exc:
            _refuse_findings(data, on_findings, exc.problems, keys)
            raise
        for question in questions:
            slot = by_number.get(question["question_number"])
            if slot is not None:
                question.update(topic=slot["topic"], skill_level=slot["skill_level"], question_type=slot["question_type"])
        numbers = sorted(q["question_number"] for q in questions)
        problems = []
        if numbers != sorted(by_number):
            problems.append(f"questions must be numbered exactly {sorted(by_number)}, one each; got {numbers}")
        _refuse_findings({"questions": questions}, on_findings, problems, keys)
        return sorted(questions, key=lambda q: q["question_number"])

    return validate_filled


class _CriterionJudgement(_Base):
    criterion = fields.String(required=True)
    met = fields.Boolean(required=True)
    evidence = fields.String(load_default="")


class _QuestionAssessment(_Base):
    question_number = fields.Integer(required=True, strict=True)
    feedback = fields.String(load_default="")
    criteria = fields.List(fields.Nested(_CriterionJudgement), required=True)


class _Assessment(_Base):
    questions = fields.List(fields.Nested(_QuestionAssessment), required=True)


def assessment_validator(expected):
    """Return a validator for Claude's assessment of the answered questions.

    expected: {question_number: [criterion names in the interview's order]}. The answer must
    judge exactly those questions and, for each, exactly those criteria (each once). Returns
    {question_number: {"feedback": str, "criteria": {name: (met, evidence)}}}.
    """

    def validate_assessment(data):
        questions = _load(_Assessment(), data)["questions"]
        problems = []
        numbers = sorted(q["question_number"] for q in questions)
        if numbers != sorted(expected):
            problems.append(f"assess exactly questions {sorted(expected)}, each once; got {numbers}")
        result = {}
        for q in questions:
            names = expected.get(q["question_number"])
            if names is None:
                continue
            given = [c["criterion"] for c in q["criteria"]]
            if sorted(given) != sorted(names):
                problems.append(
                    f"question {q['question_number']}: judge exactly its {len(names)} criteria by their given names, each once"
                )
                continue
            result[q["question_number"]] = {
                "feedback": q["feedback"].strip(),
                "criteria": {c["criterion"]: (c["met"], c["evidence"]) for c in q["criteria"]},
            }
        if problems:
            raise InvalidOutput(problems)
        return result

    return validate_assessment
