"""Fair-hiring guard: find references to protected characteristics and their proxies in text,
and report its gender-coded wording. Pure: no I/O, no Flask, no Claude.

The lexicon (rules, reasons, suggestions, sources) lives in services/fairness_terms.py.
Limits: English only; a lexicon of patterns, so it finds the phrasings it knows and misses
paraphrases it does not; a finding is a prompt for a human reviewer, not a legal finding, and
none of this is legal advice.
"""

import functools
import re
from dataclasses import dataclass

from services import fairness_terms

CATEGORIES = tuple(fairness_terms.CATEGORIES)  # the fixed vocabulary of Finding.category
BALANCES = ("masculine-coded", "feminine-coded", "neutral")

_FLAGS = re.IGNORECASE
_EXEMPT = re.compile(fairness_terms.EXEMPT, _FLAGS)
# A sentence ends at . ! ? (then closing quotes or brackets) before whitespace, or at a line break.
_BOUNDARY = re.compile(r"[.!?]+[\"'’”)\]]*(?=\s)|\n")
# Words ending in "." that do not end a sentence: U.S., e.g., i.e., Mr., etc.
_ABBREVIATION = re.compile(r"(?:^|\W)(?:(?:[a-z]\.)+[a-z]?|mr|mrs|ms|dr|vs|etc|inc|ltd|approx)$", _FLAGS)
_WORD = re.compile(r"[A-Za-z]+(?:[-'’][A-Za-z]+)*")
_LETTER = re.compile(r"[A-Za-z]")


@dataclass(frozen=True)
class Finding:
    """One reference to a protected characteristic: ``text`` is ``input[start:end]`` (end exclusive)."""

    category: str
    text: str
    start: int
    end: int
    reason: str
    suggestion: str


@dataclass(frozen=True)
class _Rule:
    category: str
    pattern: re.Pattern
    reason: str
    suggestion: str
    unless: re.Pattern | None
    requires: re.Pattern | None


def _compile_rules():
    rules = []
    for category, entry in fairness_terms.CATEGORIES.items():
        for rule in entry["rules"]:
            rules.append(_Rule(
                category=category,
                pattern=re.compile(rule["pattern"], _FLAGS),
                reason=rule["reason"],
                suggestion=rule["suggestion"],
                unless=re.compile(rule["unless"], _FLAGS) if rule.get("unless") else None,
                requires=re.compile(rule["requires"], _FLAGS) if rule.get("requires") else None,
            ))
    return tuple(rules)


_RULES = _compile_rules()
_TECHNICAL = tuple(re.compile(p, _FLAGS) for p in fairness_terms.GENDER_CODED["technical_senses"])


def _stems(words):
    """Split coded words into (exact words, stems) from the trailing-* notation."""
    exact = frozenset(w for w in words if not w.endswith("*"))
    stems = tuple(w[:-1] for w in words if w.endswith("*"))
    return exact, stems


_MASCULINE = _stems(fairness_terms.GENDER_CODED["masculine"])
_FEMININE = _stems(fairness_terms.GENDER_CODED["feminine"])


def sentences(text):
    """Yield (start, end) character offsets of the sentences of ``text``, surrounding whitespace trimmed."""
    start = 0
    for boundary in _BOUNDARY.finditer(text):
        end = boundary.end()
        if boundary.group() == "." and _ABBREVIATION.search(text[start:boundary.start()]):
            continue  # "U.S. citizens", "e.g. Kafka": not the end of a sentence
        yield from _trimmed(text, start, end)
        start = end
    yield from _trimmed(text, start, len(text))


def _trimmed(text, start, end):
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield start, end


def scan(text):
    """Return the Findings in ``text``, in order of their start offset.

    Each names a category of CATEGORIES, the exact span (``text[start:end]``, character offsets,
    end exclusive), a short reason and a neutral rewrite. Sentences that state the hiring policy
    itself (equal-opportunity statements, "we do not ask ...") are skipped; where two findings
    overlap, the longer one is kept. Raises nothing for any str.
    """
    return list(_scan_short(text) if len(text) <= _SHORT else _scan_long(text))


# Results kept for texts seen again (a cached question reused, a JD read again, a stub's answer in
# the tests): a scan depends on the text alone and Findings are immutable. A short text costs about
# 1 ms and a 5,000-character JD about 50 ms. Bounded memory: 8,192 texts of at most 2,000
# characters (16 MB at most) and 256 longer ones (at most 20,000 characters each, 5 MB).
_SHORT = 2000


@functools.lru_cache(maxsize=8192)
def _scan_short(text):
    return _scan(text)


@functools.lru_cache(maxsize=256)
def _scan_long(text):
    return _scan(text)


def _scan(text):
    found = []
    for start, end in sentences(text):
        sentence = text[start:end]
        if not _LETTER.search(sentence) or _EXEMPT.search(sentence):
            continue
        for rule in _RULES:
            if rule.unless and rule.unless.search(sentence):
                continue
            if rule.requires and not rule.requires.search(sentence):
                continue
            group = "hit" if "hit" in rule.pattern.groupindex else 0
            for match in rule.pattern.finditer(sentence):
                hit_start, hit_end = match.span(group)
                if hit_end > hit_start:
                    found.append(Finding(rule.category, sentence[hit_start:hit_end], start + hit_start,
                                         start + hit_end, rule.reason, rule.suggestion))
    return tuple(_without_overlaps(found))


def _without_overlaps(findings):
    kept = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            if finding.end - finding.start > kept[-1].end - kept[-1].start:
                kept[-1] = finding
            continue
        kept.append(finding)
    return kept


def gender_coding(text):
    """Return the gender-coded words of ``text`` (Gaucher, Friesen & Kay, 2011) and their balance.

    Shape: {"masculine": [word, ...], "feminine": [word, ...], "balance": one of BALANCES}; every
    occurrence is listed, lower-cased, in text order. Balance by count: more masculine- than
    feminine-coded occurrences is "masculine-coded", fewer is "feminine-coded", equal (none
    included) is "neutral". Words in software senses ("child process", "dependency", "git commit")
    are not counted. A balance to weigh, not an error.
    """
    technical = [m.span() for pattern in _TECHNICAL for m in pattern.finditer(text)]
    masculine, feminine = [], []
    for match in _WORD.finditer(text):
        if any(s <= match.start() < e for s, e in technical):
            continue
        word = match.group().lower().replace("’", "'")
        if _coded(word, _MASCULINE):
            masculine.append(word)
        elif _coded(word, _FEMININE):
            feminine.append(word)
    if len(masculine) > len(feminine):
        balance = "masculine-coded"
    elif len(masculine) < len(feminine):
        balance = "feminine-coded"
    else:
        balance = "neutral"
    return {"masculine": masculine, "feminine": feminine, "balance": balance}


def _coded(word, lexicon):
    exact, stems = lexicon
    candidates = [word] + (word.split("-") if "-" in word else [])
    return any(w in exact or w.startswith(stems) for w in candidates if w)


def problems(text, where):
    """Return one line per Finding of ``text`` for a validation-problems list, e.g.
    "question 3: age: 'digital native' ('digital native' is a proxy for age ...)"."""
    return [f"{where}: {f.category}: {f.text!r} ({f.reason})" for f in scan(text)]
