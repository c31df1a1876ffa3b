"""The WORK coverage map: which of a requisition's knowledge and competency items each question
tests. Pure: no I/O, no database.

Items. ``work_items`` splits the WORK knowledge and competencies inputs into items, kept as the
manager wrote them. Separators: commas, semicolons, newlines and bullets ("-", "*", "•", "1." or
"1)" at the start of a line; "•" anywhere). A separator inside parentheses or brackets does not
split ("SQL (PostgreSQL, MySQL)" is one item). A leading "and " / "or " (an Oxford comma) and a
final full stop are dropped, then empty items and case-insensitive duplicates (the first is kept,
knowledge before competencies). Order is kept.

Support. ``supported(item, question)`` says whether the question itself shows the item: its topic,
question text, expected answer and criteria (names and descriptions). Both are reduced to word
stems: lowercase words, filler words ("experience", "strong", "with", ...) and numbers dropped, a
plural "s" and then one of "ation", "ment", "ing", "ate", "ed" trimmed when 4 letters remain, so
"mentoring" / "mentors" and "communication" / "communicates" share a stem. A stem of the item is
found in the question when the question has the same stem or, for stems of 5 letters or more, one
with a rapidfuzz ``fuzz.ratio`` of at least STEM_MATCH_THRESHOLD (85): spelling variants match
("optimisation" / "optimization" 86, "behaviour" / "behavior" 94, a typo "kubernets" 94), a
neighbouring word does not ("scala" / "scale" 80), and shorter stems must be equal ("rust" is not
"trust", "go" not "good"). The item is supported when at least SUPPORT_SHARE (two thirds) of its
stems are found: all of a one- or two-word item, 2 of 3, 3 of 4. Parenthesised alternatives count
on their own: "SQL (PostgreSQL, MySQL)" is supported by a question about PostgreSQL, as by one
about SQL. The check is directional on purpose, the item must be found in the question: rapidfuzz's
token_set_ratio would score "Python security" 100 against a question that only says "Python".
Documented examples are checked by tests/test_coverage.py.

Coverage. A question covers an item when:

- the interview was planned (plan -> look up -> fill): its plan slot claimed the item AND the
  question supports it. This holds alike for a question written for the slot and for one the
  question cache supplied: the fill call never sees the items, so both are answers to the slot,
  and the claim is this requisition's own plan; a cached question is checked against the new
  requisition's items (the cache keeps nothing about coverage). A claim the question does not
  support is not counted (a "rejected" claim);
- nothing was claimed (the one-call kit, ``claimed=None``): the question supports the item. That
  is more generous than a claim plus support: a question whose criterion merely says "Considers
  security" covers a "security" item.
"""

import re

from rapidfuzz import fuzz, process

STEM_MATCH_THRESHOLD = 85  # rapidfuzz ratio (0-100) at which a question's stem counts as one of the item's
SUPPORT_SHARE = 2 / 3  # share of an item's stems the question must have for it to support the item
CLAIM_MATCH_THRESHOLD = 90  # rapidfuzz ratio (0-100) for a plan's claimed string to name an item
_MIN_FUZZY_STEM = 5  # stems shorter than this must match exactly
KINDS = ("knowledge", "competency")

_BULLET = re.compile(r"^\s*(?:[-*•‣◦·]|\d{1,3}[.)])\s+")
_OPENERS, _CLOSERS = "([{", ")]}"
_LEADING_CONJUNCTION = re.compile(r"^(?:and|or)\s+", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+[+#]*")
_SUFFIXES = ("ation", "ment", "ing", "ate", "ed")
_FILLER = frozenset(
    """a an and the of for with in on to using via at by from into vs versus about as or its their your our
    is are be being able ability abilities strong solid good great excellent deep proven demonstrated
    experience experienced knowledge knowledgeable understanding proficiency proficient familiarity
    familiar skill skills skilled expertise working work hands e g eg ie etc including such like other
    plus related relevant year years without within across through""".split()
)


def work_items(knowledge, competencies):
    """Return the WORK items of the two inputs: [{"item": str, "kind": "knowledge" | "competency"}].

    knowledge, competencies: the job description's work_knowledge and work_competencies (str or
    None). Split, trimmed and de-duplicated as the module docstring says; [] when both are empty.
    """
    items, seen = [], set()
    for kind, text in (("knowledge", knowledge), ("competency", competencies)):
        for item in _split(text or ""):
            key = " ".join(item.casefold().split())
            if key not in seen:
                seen.add(key)
                items.append({"item": item, "kind": kind})
    return items


def _split(text):
    """The items of one input, in order."""
    pieces = []
    for line in text.replace("\r", "\n").split("\n"):
        line = _BULLET.sub("", line)
        depth, current = 0, []
        for char in line:
            if char in _OPENERS:
                depth += 1
            elif char in _CLOSERS:
                depth = max(0, depth - 1)
            if depth == 0 and char in ",;•":
                pieces.append("".join(current))
                current = []
            else:
                current.append(char)
        pieces.append("".join(current))
    items = []
    for piece in pieces:
        piece = _LEADING_CONJUNCTION.sub("", _BULLET.sub("", piece.strip())).strip()
        if piece.endswith(".") and not piece.endswith(".."):
            piece = piece[:-1].rstrip()
        if piece:
            items.append(piece)
    return items


def _stem(word):
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def stems(text):
    """Return the content word stems of ``text`` in order (lowercased, filler words dropped)."""
    return [_stem(word) for word in _WORD.findall((text or "").lower()) if word not in _FILLER and not word.isdigit()]


def _variants(item):
    """The item's stem lists that may each be supported: the whole item, the item without its
    parenthesised parts, and each alternative inside them (those with a word of 2+ letters)."""
    inner = re.findall(r"[(\[{]([^()\[\]{}]*)[)\]}]", item)
    head = re.sub(r"[(\[{][^()\[\]{}]*[)\]}]", " ", item)
    variants = [stems(item), stems(head)]
    for group in inner:
        for alternative in re.split(r",|;|/|\bor\b|\band\b", group):
            if re.search(r"[A-Za-z]{2}", alternative):
                variants.append(stems(alternative))
    return [v for v in variants if v]


def question_text(question):
    """The text of a question the support check reads: topic, question text, expected answer, criteria."""
    parts = [question.get("topic"), question.get("question_text"), question.get("expected_answer")]
    for criterion in question.get("criteria") or []:
        parts += [criterion.get("criterion"), criterion.get("description")]
    return "\n".join(p for p in parts if p)


class _Stems:
    """A question's stems, computed once for every item checked against it."""

    def __init__(self, question):
        self.found = set(stems(question_text(question)))
        self.candidates = sorted(stem for stem in self.found if len(stem) >= _MIN_FUZZY_STEM)

    def has(self, stem):
        if stem in self.found:
            return True
        if len(stem) < _MIN_FUZZY_STEM:
            return False
        return process.extractOne(stem, self.candidates, scorer=fuzz.ratio, score_cutoff=STEM_MATCH_THRESHOLD) is not None

    def support(self, item):
        return max((sum(map(self.has, variant)) / len(variant) for variant in _variants(item)), default=0.0)


def support_score(item, question):
    """Return the share (0-1) of ``item``'s stems that ``question`` (a dict as stored: topic,
    question_text, expected_answer, criteria) has, for the best of the item's variants."""
    return _Stems(question).support(item)


def supported(item, question):
    """Return whether ``question`` shows ``item`` (support_score >= SUPPORT_SHARE)."""
    return support_score(item, question) >= SUPPORT_SHARE


def _comparable(text):
    return " ".join(re.sub(r"^\s*\d{1,3}[.)]\s*", "", text or "").strip(" \"'`").casefold().split())


def match_claims(claims, items):
    """Return (matched, unknown): the items (their exact wording, in the order of ``items``) that
    the claimed strings name, and the claimed strings that name none.

    items: the item strings. A claim names the item with the highest rapidfuzz ratio of the
    casefolded, whitespace-collapsed strings (a leading "3." number and quotes ignored) when that
    is at least CLAIM_MATCH_THRESHOLD, so a case change or a small slip still names its item.
    """
    comparable = {index: _comparable(item) for index, item in enumerate(items)}
    matched, unknown = set(), []
    for claim in claims or []:
        best = process.extractOne(_comparable(claim), comparable, scorer=fuzz.ratio, score_cutoff=CLAIM_MATCH_THRESHOLD)
        if best is None:
            unknown.append(claim)
        else:
            matched.add(best[2])
    return [items[index] for index in sorted(matched)], unknown


def question_covers(items, question, claimed=None):
    """Return the items (strings, in the order of ``items``) that ``question`` covers.

    claimed: the items its plan slot claimed (exact item strings, as match_claims returns), or
    None when nothing was claimed (the one-call kit): then support alone decides.
    """
    wanted = set(items) if claimed is None else set(claimed)
    question_stems = _Stems(question)
    return [item for item in items if item in wanted and question_stems.support(item) >= SUPPORT_SHARE]


def coverage_map(items, questions):
    """Return the coverage map: [{"item", "kind", "covered", "questions": [question_number, ...]}].

    items: work_items(...) as stored on the interview; questions: [{"question_number", "covers"}]
    (covers: item strings, or None). Uncovered items come first, then the covered ones, each group
    in input order.
    """
    numbers = {entry["item"]: [] for entry in items or []}
    for question in sorted(questions, key=lambda q: q["question_number"]):
        for item in question.get("covers") or []:
            if item in numbers and question["question_number"] not in numbers[item]:
                numbers[item].append(question["question_number"])
    rows = [
        {"item": entry["item"], "kind": entry["kind"], "covered": bool(numbers[entry["item"]]), "questions": numbers[entry["item"]]}
        for entry in items or []
    ]
    return [row for row in rows if not row["covered"]] + [row for row in rows if row["covered"]]


def coverage_summary(items, questions):
    """Return {"covered": int, "total": int} for coverage_map(items, questions), or None when there are no items."""
    if not items:
        return None
    rows = coverage_map(items, questions)
    return {"covered": sum(1 for row in rows if row["covered"]), "total": len(rows)}
