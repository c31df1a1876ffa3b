"""The similarity-keyed question cache: reuse questions for similar topics at the same skill level
and question type instead of paying Claude again.

Matching: a topic is normalised (lowercase, punctuation and stopwords dropped, a plural "s"
trimmed, tokens de-duplicated and sorted) and compared with rapidfuzz ``fuzz.ratio`` on the
normalised strings (in effect a token-sort ratio). A cached question matches a slot when skill
level and question type are equal and score / 100 >= CACHE_SIMILARITY_THRESHOLD (default 0.85).
Why this scorer: word order and filler words do not matter ("Kafka event streaming" = "event
streaming with Kafka": 100), while a topic that merely contains another does not match
("Python" vs "Python security": 57), unlike token_set_ratio/WRatio which score such subsets
90-100. Documented examples are checked by tests/test_question_cache.py.

Lookup speed: each process keeps an in-memory index of (id, normalised topic) per
(skill_level, question_type) bucket, brought up to date before each lookup with one indexed
query for rows newer than the last id seen, plus the ids skipped below it in the last
GAP_SECONDS (on MySQL a lower id can commit after a higher one), so entries cached by other
workers and hosts are found; it is fully reloaded every CACHE_INDEX_RESYNC_SECONDS (to forget
evicted rows). A
candidate is confirmed by loading its row by primary key; a row gone or expired is dropped.
No request reads the whole table.
"""

import re
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz, process
from sqlalchemy import func, or_
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from models import GenerationLog, QuestionCacheEntry, db, utcnow
from services.errors import NotFound

GAP_SECONDS = 60.0  # how long a skipped id is asked for again (a transaction still committing)
_MAX_GAPS = 1000

_STOPWORDS = frozenset(
    "a an and the of for with in on to using via at by from into vs versus about as or its their your our".split()
)
_TOKEN = re.compile(r"[a-z0-9+#]+")


def normalize_topic(topic):
    """Return the comparable form of a topic: sorted distinct lowercase tokens without stopwords."""
    tokens = []
    for token in _TOKEN.findall((topic or "").lower()):
        if token in _STOPWORDS:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]
        tokens.append(token)
    return " ".join(sorted(set(tokens)))[:255]


def topic_similarity(a, b):
    """Return the similarity of two topics, 0.0-1.0 (rapidfuzz ratio of the normalised forms / 100)."""
    return fuzz.ratio(normalize_topic(a), normalize_topic(b)) / 100.0


@dataclass(frozen=True)
class CacheSettings:
    """enabled: ENABLE_QUESTION_CACHE; threshold: 0-1; max_entries and ttl_days bound the cache."""

    enabled: bool = True
    threshold: float = 0.85
    max_entries: int = 50_000
    ttl_days: int = 180
    resync_seconds: float = 300.0
    fill_concurrency: int = 5  # CLAUDE_FILL_CONCURRENCY: fill calls of one kit in flight at once

    @classmethod
    def from_config(cls, config):
        return cls(
            fill_concurrency=config.get("CLAUDE_FILL_CONCURRENCY", 5),
            enabled=config["ENABLE_QUESTION_CACHE"],
            threshold=config["CACHE_SIMILARITY_THRESHOLD"],
            max_entries=config["CACHE_MAX_ENTRIES"],
            ttl_days=config["CACHE_TTL_DAYS"],
            resync_seconds=config["CACHE_INDEX_RESYNC_SECONDS"],
        )


class QuestionCacheIndex:
    """Per-process index of cached topics by (skill_level, question_type). Thread-safe."""

    def __init__(self, resync_seconds=300.0):
        self._lock = threading.Lock()
        self._buckets = {}  # (skill_level, question_type) -> {entry_id: normalized_topic}
        self._last_id = 0
        self._gaps = {}  # id skipped below _last_id -> monotonic time first seen missing
        self._reload_lock = threading.Lock()
        self.full_reloads = 0  # how many full reloads this process did
        self._loaded_at = None
        self._resync_seconds = resync_seconds

    def refresh(self):
        """Bring the index up to date: new rows since the last id, or a full reload when due.

        One thread at a time does a full reload; meanwhile the others go on with the index as it is
        (only the very first load is waited for, as there is nothing to use before it).
        """
        if self._full_reload_due():
            if self._reload_lock.acquire(blocking=self._loaded_at is None):
                try:
                    if self._full_reload_due():
                        self._refresh(full=True)
                        self.full_reloads += 1
                        return
                finally:
                    self._reload_lock.release()
        self._refresh(full=False)

    def _full_reload_due(self):
        return self._loaded_at is None or time.monotonic() - self._loaded_at > self._resync_seconds

    def _refresh(self, *, full):
        now = time.monotonic()
        query = db.select(
            QuestionCacheEntry.id, QuestionCacheEntry.skill_level, QuestionCacheEntry.question_type,
            QuestionCacheEntry.normalized_topic,
        )
        with self._lock:
            self._gaps = {i: seen for i, seen in self._gaps.items() if now - seen < GAP_SECONDS}
            last_id, gaps = self._last_id, list(self._gaps)
        if not full:
            newer = QuestionCacheEntry.id > last_id
            query = query.where(or_(newer, QuestionCacheEntry.id.in_(gaps)) if gaps else newer)
        rows = db.session.execute(query.order_by(QuestionCacheEntry.id)).all()
        with self._lock:
            if full:
                self._buckets, self._gaps, self._last_id = {}, {}, 0
                self._loaded_at = now
            previous = self._last_id
            for entry_id, level, qtype, normalized in rows:
                self._buckets.setdefault((level, qtype), {})[entry_id] = normalized
                self._gaps.pop(entry_id, None)
            new_ids = sorted(entry_id for entry_id, *_ in rows if entry_id > previous)
            if new_ids and not full:
                seen = set(new_ids)
                for missing in range(previous + 1, new_ids[-1]):
                    if missing not in seen and len(self._gaps) < _MAX_GAPS:
                        self._gaps[missing] = now
            if new_ids:
                self._last_id = new_ids[-1]

    def candidates(self, skill_level, question_type, normalized_topic, *, threshold, limit=5):
        """Return [(entry_id, score 0-1)] best first, only scores >= threshold."""
        with self._lock:
            bucket = dict(self._buckets.get((skill_level, question_type), {}))
        if not bucket or not normalized_topic:
            return []
        matches = process.extract(
            normalized_topic, bucket, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=limit
        )
        return [(entry_id, score / 100.0) for _, score, entry_id in matches]

    def discard(self, entry_id):
        """Forget an entry that no longer exists (evicted or purged elsewhere)."""
        with self._lock:
            for bucket in self._buckets.values():
                bucket.pop(entry_id, None)

    def __len__(self):
        with self._lock:
            return sum(len(bucket) for bucket in self._buckets.values())


def find_cached_questions(slots, *, index, settings, screen=None):
    """Look each plan slot up in the cache; return {slot number: QuestionCacheEntry} for the hits.

    slots: [{number, topic, skill_level, question_type}]. One cache entry serves at most one
    slot, and two hits never carry near-duplicate topics (similarity >= threshold). screen:
    callable(entry) -> bool, asked once per entry found; an entry it refuses serves no slot (the
    next candidate is tried). Read-only: usage counters are updated by ``record_hits`` when the
    interview is stored.
    """
    index.refresh()
    cutoff = utcnow() - timedelta(days=settings.ttl_days)
    hits, used_topics, screened = {}, [], {}
    for slot in slots:
        normalized = normalize_topic(slot["topic"])
        for entry_id, _score in index.candidates(
            slot["skill_level"], slot["question_type"], normalized, threshold=settings.threshold
        ):
            if any(e.id == entry_id for e in hits.values()) or screened.get(entry_id) is False:
                continue
            entry = db.session.get(QuestionCacheEntry, entry_id)
            if entry is None:
                index.discard(entry_id)
                continue
            if (entry.last_used_at or entry.created_at) < cutoff:
                continue
            if screen is not None and entry_id not in screened:
                screened[entry_id] = bool(screen(entry))
            if screened.get(entry_id) is False:
                continue
            if any(fuzz.ratio(entry.normalized_topic, other) >= settings.threshold * 100 for other in used_topics):
                continue
            hits[slot["number"]] = entry
            used_topics.append(entry.normalized_topic)
            break
    return hits


def record_hits(entry_ids):
    """Count a use of each entry (usage_count + 1, last_used_at = now). Part of the caller's transaction."""
    if entry_ids:
        db.session.execute(
            db.update(QuestionCacheEntry)
            .where(QuestionCacheEntry.id.in_(list(entry_ids)))
            .values(usage_count=QuestionCacheEntry.usage_count + 1, last_used_at=utcnow())
        )


def remove_entries(entry_ids):
    """Delete the cache entries ``entry_ids`` (interview questions that came from them keep their
    text). Returns the number deleted. Part of the caller's transaction."""
    return db.session.execute(db.delete(QuestionCacheEntry).where(QuestionCacheEntry.id.in_(list(entry_ids)))).rowcount


def store_questions(questions, *, prompt_version, tokens_per_question=0):
    """Insert generated questions into the cache, ignoring keys already present (race-safe).

    questions: [{topic, skill_level, question_type, question_text, expected_answer, criteria,
    tokens_cost?}]; tokens_cost (tokens its generation cost) defaults to ``tokens_per_question``.
    Part of the caller's transaction; never raises IntegrityError for a duplicate key.
    """
    if not questions:
        return
    now = utcnow()
    rows = []
    for q in questions:
        rows.append(
            {
                "topic": q["topic"][:255],
                "normalized_topic": normalize_topic(q["topic"]),
                "skill_level": q["skill_level"],
                "question_type": q["question_type"],
                "question_text": q["question_text"],
                "expected_answer": q.get("expected_answer"),
                "criteria": [{"criterion": c["criterion"], "description": c["description"]} for c in q["criteria"]],
                "usage_count": 0,
                "tokens_cost": q.get("tokens_cost", tokens_per_question),
                "prompt_version": prompt_version,
                "created_at": now,
                "last_used_at": now,
            }
        )
    db.session.execute(_insert_ignoring_duplicates(rows))


def _insert_ignoring_duplicates(rows):
    table = QuestionCacheEntry.__table__
    dialect = db.session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        # "id = id" keeps the existing row untouched (VALUES(id) would move it to a new auto-increment id).
        return mysql_insert(table).values(rows).on_duplicate_key_update(id=table.c.id)
    if dialect == "sqlite":
        return sqlite_insert(table).values(rows).on_conflict_do_nothing()
    raise RuntimeError(f"question cache: unsupported database dialect {dialect}")


def expire(settings):
    """Delete entries unused for ttl_days; run before inserting, so a fresh question can take an
    expired entry's key. Returns the number deleted. Part of the caller's transaction."""
    cutoff = utcnow() - timedelta(days=settings.ttl_days)
    return db.session.execute(db.delete(QuestionCacheEntry).where(QuestionCacheEntry.last_used_at < cutoff)).rowcount


def trim(settings):
    """Delete the least recently used entries above max_entries. Returns the number deleted.
    Part of the caller's transaction."""
    excess = db.session.scalar(db.select(func.count()).select_from(QuestionCacheEntry)) - settings.max_entries
    if excess <= 0:
        return 0
    victims = db.session.scalars(
        db.select(QuestionCacheEntry.id).order_by(QuestionCacheEntry.last_used_at, QuestionCacheEntry.id).limit(excess)
    ).all()
    db.session.execute(db.delete(QuestionCacheEntry).where(QuestionCacheEntry.id.in_(victims)))
    return len(victims)


# --- Administration ---------------------------------------------------------------------

def list_entries(*, page=1, per_page=50, topic=None, skill_level=None, question_type=None):
    """Return (entries, total) for one page, most recently used first; ``topic`` filters by substring."""
    query = db.select(QuestionCacheEntry)
    query = _filtered(query, topic=topic, skill_level=skill_level, question_type=question_type)
    total = db.session.scalar(db.select(func.count()).select_from(query.subquery()))
    entries = db.session.scalars(
        query.order_by(QuestionCacheEntry.last_used_at.desc(), QuestionCacheEntry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return entries, total


def delete_entry(entry_id):
    """Delete one cache entry; interview questions that came from it keep their text. Raises NotFound."""
    entry = db.session.get(QuestionCacheEntry, entry_id)
    if entry is None:
        raise NotFound(f"Cache entry {entry_id} not found")
    db.session.delete(entry)
    db.session.commit()


def purge(*, topic=None, skill_level=None, question_type=None, unused_for_days=None):
    """Delete every entry matching the filters (all entries when none is given). Returns the count."""
    statement = _filtered(db.delete(QuestionCacheEntry), topic=topic, skill_level=skill_level, question_type=question_type)
    if unused_for_days is not None:
        statement = statement.where(QuestionCacheEntry.last_used_at < utcnow() - timedelta(days=unused_for_days))
    deleted = db.session.execute(statement).rowcount
    db.session.commit()
    return deleted


def _filtered(statement, *, topic, skill_level, question_type):
    if topic:
        pattern = f"%{topic.lower()}%"
        statement = statement.where(
            or_(func.lower(QuestionCacheEntry.topic).like(pattern), QuestionCacheEntry.normalized_topic.like(pattern))
        )
    if skill_level:
        statement = statement.where(QuestionCacheEntry.skill_level == skill_level)
    if question_type:
        statement = statement.where(QuestionCacheEntry.question_type == question_type)
    return statement


class QuestionCache:
    """The cache as a dependency of services: settings plus this process's topic index."""

    def __init__(self, settings):
        self.settings = settings
        self.index = QuestionCacheIndex(resync_seconds=settings.resync_seconds)

    @classmethod
    def from_config(cls, config):
        return cls(CacheSettings.from_config(config))


def cache_stats():
    """Return {entries, hits, misses, hit_rate (0-1 or None), tokens_avoided} over all generations.

    hits/misses/tokens_avoided are summed from successful interview_generation audit rows.
    """
    entries = db.session.scalar(db.select(func.count()).select_from(QuestionCacheEntry))
    hits, misses, avoided = db.session.execute(
        db.select(
            func.coalesce(func.sum(GenerationLog.cache_hits), 0),
            func.coalesce(func.sum(GenerationLog.cache_misses), 0),
            func.coalesce(func.sum(GenerationLog.tokens_avoided), 0),
        ).where(GenerationLog.operation_type == "interview_generation", GenerationLog.status == "success")
    ).one()
    looked_up = int(hits) + int(misses)
    return {
        "entries": entries,
        "hits": int(hits),
        "misses": int(misses),
        "hit_rate": round(int(hits) / looked_up, 4) if looked_up else None,
        "tokens_avoided": int(avoided),
    }
