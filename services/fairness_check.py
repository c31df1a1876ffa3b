"""Check arbitrary text against the fair-hiring guard, for HR tools' own editors (no Claude)."""

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
