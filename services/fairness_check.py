"""Check text against the fair-hiring guard: arbitrary text for HR tools' own editors, and the
hiring manager's own inputs of a requisition (reported, never refused). No Claude."""

from dataclasses import asdict

from services import fairness
from services.metrics import record_fairness_findings


def check_fairness(text, *, source="check"):
    """Scan ``text`` (services/fairness.py) and count its findings by category under ``source``.

    Returns {"findings": [fairness.Finding, ...], "gender_coding": {"masculine": [...],
    "feminine": [...], "balance": ...}}; offsets are characters of ``text``, end exclusive. The
    metric holds counts only, never the text. Calls no model and raises nothing for any str.
    """
    findings = fairness.scan(text)
    record_fairness_findings((f.category for f in findings), source)
    return {"findings": findings, "gender_coding": fairness.gender_coding(text)}


def language_findings(texts):
    """Return the findings and gender coding of several named texts, e.g. a requisition's inputs.

    texts: {field name: str or None}, in the order to report (None and blank are skipped).
    Returns {"findings": [{"field", "category", "text", "start", "end", "reason", "suggestion"}],
    "gender_coding": {"masculine", "feminine", "balance"}}: findings in field order, then by
    start; ``start``/``end`` are character offsets into that field's text (end exclusive); the
    gender coding counts the words of all the texts together. Pure: counts nothing (the caller
    counts once per operation, not per read); raises nothing.
    """
    findings, given = [], []
    for name, text in texts.items():
        if not text or not text.strip():
            continue
        given.append(text)
        findings.extend({"field": name, **asdict(finding)} for finding in fairness.scan(text))
    return {"findings": findings, "gender_coding": fairness.gender_coding("\n\n".join(given))}
