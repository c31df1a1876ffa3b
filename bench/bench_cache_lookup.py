"""Question-cache lookup benchmark: one slot lookup at 1k, 10k and 100k cached questions in MariaDB.

For each size, in one run (loopback only, every database dropped at the end):

1. drops and recreates a MariaDB database (utf8mb4) whose name contains "bench", builds the app
   (DevelopmentConfig, LLM_PROVIDER=sandbox: no Claude call is made) and runs the migrations;
2. bulk-inserts N synthetic cache entries (multi-row INSERTs of 1,000 rows), spread evenly over
   the 5 skill levels x 5 question types, with distinct, realistic topics combined from
   vocabularies ("Kafka consumer lag tuning", "mentoring others during a platform migration
   under a hard deadline"), question text and 8-10 criteria of realistic size;
3. loads the per-process topic index once (the cold load, timed on its own), then times
   ``services.question_cache.find_cached_questions([one slot], index=..., settings=...)`` for
   --lookups probes: half reworded existing topics (word order, stopwords, plurals, case, one
   typo) that should hit, half topics from a vocabulary absent from the cache that should miss;
   each lookup runs in a fresh session, as a request does, and counts its SQL statements and
   the rows they returned (SQLAlchemy before/after_cursor_execute events);
4. times, in the same run, a naive baseline: SELECT id, normalized_topic, skill_level,
   question_type of every row, score every row with rapidfuzz fuzz.ratio, keep the best row of
   the slot's level and type above the threshold and load it by primary key;
5. EXPLAINs the statements a warmed lookup sends, to show they are primary-key range/const reads.

    python bench/bench_cache_lookup.py                          # 1k, 10k, 100k
    python bench/bench_cache_lookup.py --sizes 1000,10000 --lookups 500

Prints a table and writes JSON to bench/results/cache-lookup-<UTC stamp>.json.
"""

import argparse
import json
import os
import platform
import random
import re
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql
from rapidfuzz import fuzz, process
from sqlalchemy import event

from bench import support
from bench.support import REPO_ROOT, RESULTS_DIR

DEFAULT_SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306"
DB_PREFIX = "techscreen_bench_cachelookup"
P99_GOAL_MS = 10.0
INSERT_CHUNK = 1000

# --- Synthetic topics ------------------------------------------------------------------------
# Technical slots (technical, system_design, problem_solving): "<skill> <aspect> <activity>".
SKILLS = [
    "Kafka", "PostgreSQL", "MySQL", "Redis", "Kubernetes", "Docker", "Terraform", "AWS", "GCP", "Azure",
    "Python", "Go", "Java", "Rust", "TypeScript", "React", "Vue", "Node.js", "GraphQL", "gRPC",
    "Elasticsearch", "RabbitMQ", "Cassandra", "MongoDB", "Snowflake", "dbt", "Airflow", "Spark", "Flink",
    "Prometheus", "Grafana", "OpenTelemetry", "Nginx", "Envoy", "Istio", "Helm", "Ansible", "Jenkins",
    "GitHub Actions", "Django", "Flask", "Spring Boot", "Ruby on Rails", "iOS", "Android", "Swift",
    "Kotlin", "ClickHouse", "BigQuery", "DynamoDB", "S3", "Lambda", "CDN", "OAuth", "Vault", "Linux",
]
ASPECTS = [
    "consumer lag", "query performance", "schema migration", "connection pooling", "access control",
    "cost", "failover", "caching", "capacity", "memory usage", "replication", "partitioning",
    "rate limiting", "deployment pipeline", "secret management", "cold start", "index design",
    "backpressure", "retry policy", "release versioning", "state management", "rendering performance",
    "test coverage", "dependency upgrades", "log volume", "alert fatigue", "data retention",
    "multi-region traffic", "batch window", "API pagination",
]
ACTIVITIES = [
    "tuning", "debugging", "design", "monitoring", "rollout", "incident triage", "optimisation",
    "hardening", "migration", "troubleshooting", "capacity planning", "review", "automation",
    "benchmarking", "root cause analysis", "cost reduction", "refactoring", "observability",
    "load testing", "governance",
]
# Behavioural slots (behavioral, situational): "<competency> <context> <pressure>".
COMPETENCIES = [
    "cross-team collaboration", "clear written communication", "mentoring others", "ownership and accountability",
    "prioritising competing work", "stakeholder management", "customer focus", "working through ambiguity",
    "giving and receiving feedback", "delivering under deadlines", "conflict resolution", "decision making",
    "influencing without authority", "managing up", "coaching new hires", "saying no to scope creep",
    "running a retrospective", "escalating risks", "negotiating trade-offs", "building trust",
]
CONTEXTS = [
    "during a platform migration", "in a remote team", "with a new manager", "after a failed launch",
    "across time zones", "with an external vendor", "in a reorganisation", "during an outage",
    "with a senior stakeholder", "on a legacy codebase", "with a struggling teammate", "in a hiring push",
    "during budget cuts", "with product and design", "on a compliance project", "in an acquisition",
    "during on-call rotation", "with a skeptical customer", "on a greenfield project", "with unclear requirements",
    "during a cloud cost review", "with an open-source community", "in a regulated industry", "during peak season",
    "with a distributed data team", "in a startup pivot",
]
PRESSURES = [
    "under a hard deadline", "with conflicting priorities", "with limited data", "with no precedent",
    "while short-staffed", "under executive scrutiny", "with shifting scope", "after a missed estimate",
    "with a tight budget", "with a quality risk", "before a public launch", "during a freeze",
    "with a remote contractor team", "after a security incident", "",
]
# Vocabulary absent from the cache: probes built from it should miss.
MISS_TECH = [
    ("quantum error correction", "FPGA timing closure", "COBOL batch modernisation", "SAP payroll interfaces",
     "mainframe CICS transactions", "Verilog testbench", "LabVIEW instrument control", "Fortran numerical kernels"),
    ("firmware", "pipetting robot", "ladder logic", "orbital mechanics", "seismic imaging", "tax ledger"),
    ("calibration", "certification", "validation", "commissioning", "auditing"),
]
MISS_BEHAVIOURAL = [
    ("bereavement leave planning", "union negotiation", "volunteer coordination", "fundraising outreach",
     "warehouse shift handover", "clinical trial consent", "ship crew rostering"),
    ("at a food bank", "on an oil rig", "in a hospital ward", "at a music festival", "in a school district"),
]
TECH_TYPES = ("technical", "system_design", "problem_solving")
STOPWORD_FILLERS = ["for", "with", "of the", "in", "using", "and the", "on"]


def main(argv=None):
    args = _parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < 25:
        sys.exit("--sizes needs sizes of at least 25 (one row per skill level x question type)")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = support.utc_stamp()
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")

    from config import DevelopmentConfig, resolve_provider  # noqa: F401  (resolve_provider checked in create_app)
    from prompts import QUESTION_TYPES, SKILL_LEVELS

    result = {
        "started_at": stamp,
        "setup": _setup_description(args),
        "goal": {"p99_ms_at_largest_size_under": P99_GOAL_MS, "no_full_table_read_per_request": True},
        "sizes": [],
    }
    created = []
    started = time.perf_counter()
    try:
        for size in sizes:
            database = f"{DB_PREFIX}_{size}"
            support.recreate_database(support.database_url(args.server_url, database))
            created.append(database)
            print(f"== {size:,} cached questions (database {database})", flush=True)
            result["sizes"].append(
                _bench_one_size(args, size, database, DevelopmentConfig, SKILL_LEVELS, QUESTION_TYPES)
            )
            support.drop_database(support.database_url(args.server_url, database))
            created.remove(database)
    finally:
        for database in created:
            try:
                support.drop_database(support.database_url(args.server_url, database))
            except pymysql.MySQLError as exc:  # keep cleaning up the others
                print(f"warning: could not drop {database}: {exc}", file=sys.stderr)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["verdict"] = _verdict(result)

    path = os.path.join(RESULTS_DIR, f"cache-lookup-{stamp}.json")
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
    _print_report(result, os.path.relpath(path, REPO_ROOT))
    return 0 if result["verdict"]["goal_met"] else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Question-cache lookup benchmark (MariaDB).")
    parser.add_argument("--sizes", default="1000,10000,100000", help="cached questions per run (default 1000,10000,100000)")
    parser.add_argument("--lookups", type=int, default=1000, help="timed lookups per size (default 1000)")
    parser.add_argument("--baseline-lookups", type=int, default=None,
                        help="naive-baseline lookups per size (default: min(lookups, max(30, 1,000,000 / size)))")
    parser.add_argument("--hit-share", type=float, default=0.5, help="share of probes that reword a cached topic (default 0.5)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER_URL),
                        help=f"MariaDB/MySQL server URL without database (default {DEFAULT_SERVER_URL}); "
                             f"databases {DB_PREFIX}_<size> are DROPPED and recreated")
    parser.add_argument("--resync-threads", type=int, default=8,
                        help="concurrent lookups started when the index's full resync falls due (default 8)")
    parser.add_argument("--quiet-wait", type=float, default=30.0,
                        help="before each timed loop, wait up to this many s for the machine to be idle (CPU busy "
                             "< 25%% over 1 s), since other load on a small machine distorts p99 (default 30; 0 = no wait)")
    parser.add_argument("--seed", type=int, default=20261121, help="random seed (default 20261121)")
    return parser.parse_args(argv)


# --- Database ---------------------------------------------------------------------------------

# --- One size ---------------------------------------------------------------------------------

def _bench_one_size(args, size, database, config_class, levels, qtypes):
    import logging

    import flask_migrate

    from app import create_app
    from models import QuestionCacheEntry, db
    from services.question_cache import QuestionCache

    rng = random.Random(args.seed + size)
    app = create_app(config_class, SQLALCHEMY_DATABASE_URI=support.database_url(args.server_url, database), LLM_PROVIDER="sandbox")
    out = {"size": size, "database": database}
    with app.app_context():
        engine = db.engine
        try:
            t0 = time.perf_counter()
            flask_migrate.upgrade()
            logging.getLogger("alembic").setLevel(logging.WARNING)
            out["migrate_seconds"] = round(time.perf_counter() - t0, 2)

            t0 = time.perf_counter()
            keys = _bulk_insert(engine, QuestionCacheEntry.__table__, size, levels, qtypes, rng)
            out["insert_seconds"] = round(time.perf_counter() - t0, 2)
            out["table_mb"] = _table_mb(engine, database)
            print(f"   inserted {size:,} rows in {out['insert_seconds']} s ({out['table_mb']} MB on disk)", flush=True)

            probes = _make_probes(keys, args.lookups, args.hit_share, rng, levels)
            cache = QuestionCache.from_config(app.config)  # a fresh per-process index, as a new worker has
            settings = cache.settings
            out["settings"] = {"threshold": settings.threshold, "ttl_days": settings.ttl_days,
                               "resync_seconds": settings.resync_seconds}

            # Cold load: the first lookup of a process reads (id, level, type, normalized_topic) of every row.
            rss_before = _rss_mb()
            t0 = time.perf_counter()
            cache.index.refresh()
            cold_ms = (time.perf_counter() - t0) * 1000
            db.session.remove()
            out["cold_index_load"] = {"ms": round(cold_ms, 1), "entries": len(cache.index),
                                      "rss_growth_mb": round(_rss_mb() - rss_before, 1)}
            print(f"   cold index load: {cold_ms:.0f} ms for {len(cache.index):,} entries", flush=True)

            out["indexed"] = _measure_indexed(app, cache, probes, settings, args.quiet_wait)
            print(f"   indexed lookup: p50 {out['indexed']['p50_ms']} ms, p99 {out['indexed']['p99_ms']} ms, "
                  f"hit ratio {out['indexed']['hit_ratio']}; CPU during the loop {out['indexed']['cpu_during_timed_lookups']}",
                  flush=True)
            n_base = args.baseline_lookups or min(len(probes), max(30, 1_000_000 // size))
            out["baseline"] = _measure_baseline(app, probes[:n_base], settings)
            print(f"   naive baseline ({n_base} lookups): p50 {out['baseline']['p50_ms']} ms, "
                  f"p99 {out['baseline']['p99_ms']} ms", flush=True)
            index_hits = {p["i"] for p in out["indexed"].pop("_hit_probe_ids")}
            base_hits = {p["i"] for p in out["baseline"].pop("_hit_probe_ids")}
            compared = {p["i"] for p in probes[:n_base]}
            out["baseline"]["agrees_with_index_on_hit_or_miss"] = f"{sum(1 for i in compared if (i in index_hits) == (i in base_hits))}/{len(compared)}"
            out["explain"] = _explain_statements(engine, out["indexed"].pop("_sample_statements"))
            out["resync_lookup"] = _measure_resync(cache, probes[0], settings)
            print(f"   lookup that falls due for the periodic full resync: {out['resync_lookup']['ms']} ms, "
                  f"{out['resync_lookup']['rows_returned']:,} rows read", flush=True)
            out["resync_concurrent"] = _measure_resync_concurrent(app, cache, probes[: args.resync_threads], settings, size)
            rc = out["resync_concurrent"]
            print(f"   {rc['threads']} concurrent lookups when the resync falls due: {rc['full_table_reads']} full-table "
                  f"reads, latency median {rc['median_ms']} ms, max {rc['max_ms']} ms", flush=True)
        finally:
            db.session.remove()
            for bound_engine in db.engines.values():
                bound_engine.dispose()
    return out


def _bulk_insert(engine, table, size, levels, qtypes, rng):
    """Insert ``size`` rows, evenly over the 25 (level, type) buckets; return [(level, type, topic)]."""
    from models import utcnow
    from prompts import PROMPT_VERSION
    from services.question_cache import normalize_topic

    buckets = [(level, qtype) for level in levels for qtype in qtypes]
    seen = set()
    keys = []
    now = utcnow()
    rows = []

    def flush(conn):
        if rows:
            conn.execute(table.insert(), rows)
            rows.clear()

    with engine.begin() as conn:
        for i in range(size):
            level, qtype = buckets[i % len(buckets)]
            for _ in range(1000):
                topic = _random_topic(qtype, rng)
                normalized = normalize_topic(topic)
                if (level, qtype, normalized) not in seen:
                    break
            else:
                raise RuntimeError(f"vocabulary too small for {size} distinct topics in bucket {level}/{qtype}")
            seen.add((level, qtype, normalized))
            keys.append((level, qtype, topic))
            rows.append(_synthetic_row(topic, normalized, level, qtype, rng, now, PROMPT_VERSION))
            if len(rows) >= INSERT_CHUNK:
                flush(conn)
        flush(conn)
    return keys


_FILLER_WORDS = frozenset(
    ["a", "an", "and", "the", "of", "for", "with", "in", "on", "to", "using", "via", "at", "by", "from", "into", "vs", "versus", "about", "as", "or", "its", "their", "your", "our"])


def _random_topic(qtype, rng):
    while True:
        if qtype in TECH_TYPES:
            topic = f"{rng.choice(SKILLS)} {rng.choice(ASPECTS)} {rng.choice(ACTIVITIES)}"
        else:
            topic = f"{rng.choice(COMPETENCIES)} {rng.choice(CONTEXTS)} {rng.choice(PRESSURES)}".strip()
        words = [w for w in re.findall(r"[a-z0-9+#]+", topic.lower()) if w not in _FILLER_WORDS]
        if len(set(words)) == len(words):
            return topic  # no repeated content word ("capacity capacity planning")


_CRITERIA_NAMES = [
    "Clarifies the goal first", "Forms testable hypotheses", "Uses evidence, not hunches", "Knows the failure modes",
    "Limits the blast radius", "Verifies the outcome", "Prevents recurrence", "Communicates status early",
    "Weighs trade-offs explicitly", "Involves the right people",
]


def _synthetic_row(topic, normalized, level, qtype, rng, now, prompt_version):
    count = rng.randint(8, 10)
    criteria = [
        {"criterion": name,
         "description": f"The candidate {name[0].lower() + name[1:]} when discussing {topic}, at {level} depth, "
                        "with a concrete example rather than a generic promise."}
        for name in _CRITERIA_NAMES[:count]
    ]
    return {
        "topic": topic[:255],
        "normalized_topic": normalized,
        "skill_level": level,
        "question_type": qtype,
        "question_text": f"You join a team where {topic} has become a recurring source of trouble: deadlines slip, "
                         "people disagree on the cause, and the last attempt to fix it was rolled back. Walk us "
                         "through what you would do in your first two weeks, what you would measure, and how you "
                         "would decide the change worked.",
        "expected_answer": f"A strong {level} answer structures the problem, is specific about {topic}, names the "
                           "trade-offs and says how success would be checked.",
        "criteria": criteria,
        "usage_count": rng.randint(0, 20),
        "tokens_cost": rng.randint(500, 900),
        "prompt_version": prompt_version,
        "created_at": now,
        "last_used_at": now,
    }


def _table_mb(engine, database):
    from sqlalchemy import text

    with engine.connect() as conn:
        conn.execute(text("ANALYZE TABLE question_cache"))
        size = conn.execute(text(
            "SELECT data_length + index_length FROM information_schema.tables "
            "WHERE table_schema = :db AND table_name = 'question_cache'"), {"db": database}).scalar()
    return round((size or 0) / 1e6, 1)


# --- Probes -----------------------------------------------------------------------------------

def _make_probes(keys, count, hit_share, rng, levels):
    """Return [{i, kind: hit|miss, topic, skill_level, question_type, source_topic}] shuffled."""
    probes = []
    n_hit = round(count * hit_share)
    for i in range(count):
        if i < n_hit:
            level, qtype, topic = rng.choice(keys)
            probes.append({"kind": "hit", "topic": _reword(topic, rng), "skill_level": level,
                           "question_type": qtype, "source_topic": topic})
        else:
            level, qtype, _ = rng.choice(keys)
            if qtype in TECH_TYPES:
                topic = " ".join(rng.choice(words) for words in MISS_TECH)
            else:
                topic = " ".join(rng.choice(words) for words in MISS_BEHAVIOURAL)
            probes.append({"kind": "miss", "topic": topic, "skill_level": level, "question_type": qtype,
                           "source_topic": None})
    rng.shuffle(probes)
    for i, probe in enumerate(probes):
        probe["i"] = i
    return probes


def _reword(topic, rng):
    """Reword a topic the way a planner might: word order, fillers, plural, case, or one typo."""
    words = topic.split()
    style = rng.choice(("reorder", "filler", "plural", "case", "typo"))
    if style == "reorder" and len(words) > 2:
        cut = rng.randint(1, len(words) - 1)
        words = words[cut:] + [rng.choice(STOPWORD_FILLERS)] + words[:cut]
    elif style == "filler":
        words.insert(rng.randint(1, len(words) - 1), rng.choice(STOPWORD_FILLERS))
    elif style == "plural":
        j = rng.randrange(len(words))
        if len(words[j]) > 3 and words[j][-1].isalpha() and not words[j].endswith("s"):
            words[j] += "s"
    elif style == "case":
        words = [w.capitalize() if rng.random() < 0.5 else w.lower() for w in words]
    elif style == "typo":
        long_words = [j for j, w in enumerate(words) if len(w) > 5]
        if long_words:
            j = rng.choice(long_words)
            k = rng.randrange(1, len(words[j]) - 1)
            words[j] = words[j][:k] + words[j][k + 1:]  # drop one letter
    return " ".join(words)


# --- Measurements -----------------------------------------------------------------------------

class _SqlCounter:
    """Counts the statements and returned rows of everything sent through ``engine`` while active."""

    def __init__(self, engine):
        self.engine = engine
        self.active = False
        self.statements = []  # (statement, parameters, rowcount)
        event.listen(engine, "after_cursor_execute", self._after)

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            rowcount = cursor.rowcount if cursor.rowcount is not None and cursor.rowcount >= 0 else 0
            self.statements.append((statement, parameters, rowcount))

    def start(self):
        self.statements = []
        self.active = True

    def stop(self):
        self.active = False
        return self.statements

    def close(self):
        event.remove(self.engine, "after_cursor_execute", self._after)


def _cpu_jiffies():
    """(busy, total) jiffies of the whole machine, from /proc/stat (None where unavailable)."""
    try:
        with open("/proc/stat") as fh:
            values = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def _own_cpu_seconds():
    times = os.times()
    return times.user + times.system


def _database_server_pids():
    """PIDs of local mariadbd/mysqld processes (their CPU serves this benchmark's queries)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() in ("mariadbd", "mysqld"):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def _process_cpu_seconds(pids):
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        except (OSError, ValueError, IndexError):
            continue
    return total


class _CpuMeter:
    """Shares of the machine's CPU over an interval: this process, the database server, everything else."""

    def start(self):
        self.db_pids = _database_server_pids()
        self.jiffies, self.own, self.db = _cpu_jiffies(), _own_cpu_seconds(), _process_cpu_seconds(self.db_pids)
        self.wall = time.monotonic()

    def stop(self):
        end = _cpu_jiffies()
        if not end or not self.jiffies:
            return None
        busy, total = end[0] - self.jiffies[0], end[1] - self.jiffies[1]
        capacity = (time.monotonic() - self.wall) * (os.cpu_count() or 1)
        own = (_own_cpu_seconds() - self.own) / capacity if capacity > 0 else 0.0
        database = (_process_cpu_seconds(self.db_pids) - self.db) / capacity if capacity > 0 else 0.0
        machine = busy / total if total else 0.0
        return {"machine_busy": round(machine, 3), "this_process": round(own, 3), "database_server": round(database, 3),
                "everything_else": round(max(0.0, machine - own - database), 3)}


def _wait_until_quiet(limit_seconds, threshold=0.25):
    """Wait up to limit_seconds for a second in which the machine is less than ``threshold`` busy."""
    deadline = time.monotonic() + limit_seconds
    while True:
        before = _cpu_jiffies()
        time.sleep(1.0)
        after = _cpu_jiffies()
        if not before or not after:
            return None
        busy = (after[0] - before[0]) / max(1, after[1] - before[1])
        if busy < threshold or time.monotonic() >= deadline:
            return round(busy, 3)


def _measure_indexed(app, cache, probes, settings, quiet_wait=0):
    from models import db
    from services.question_cache import (
        find_cached_questions,
        normalize_topic,
        topic_similarity,
    )

    counter = _SqlCounter(db.engine)
    timings, hit_probes = [], []
    per_kind = {"hit": {"n": 0, "hits": 0}, "miss": {"n": 0, "hits": 0}}
    statement_hist, rows_hist, max_rows_one_statement = {}, {}, 0
    samples = {}
    missed_reworded = []
    try:
        for probe in probes[:10]:  # warm the connection pool and code paths; not timed
            find_cached_questions([_slot(probe)], index=cache.index, settings=settings)
            db.session.remove()
        busy_before = _wait_until_quiet(quiet_wait) if quiet_wait > 0 else None
        meter = _CpuMeter()
        meter.start()
        for probe in probes:
            counter.start()
            t0 = time.perf_counter()
            hits = find_cached_questions([_slot(probe)], index=cache.index, settings=settings)
            elapsed = time.perf_counter() - t0
            statements = counter.stop()
            db.session.remove()  # a request's session ends with the request
            timings.append(elapsed * 1000)
            hit = bool(hits)
            per_kind[probe["kind"]]["n"] += 1
            per_kind[probe["kind"]]["hits"] += hit
            if hit:
                hit_probes.append(probe)
            elif probe["kind"] == "hit" and len(missed_reworded) < 10:
                missed_reworded.append({"probe": probe["topic"], "cached": probe["source_topic"],
                                        "similarity": round(topic_similarity(probe["topic"], probe["source_topic"]), 3)})
            outcome = "hit" if hit else "miss"
            n_statements = len(statements)
            n_rows = sum(r for _, _, r in statements)
            statement_hist.setdefault(outcome, {}).setdefault(n_statements, 0)
            statement_hist[outcome][n_statements] += 1
            rows_hist.setdefault(outcome, {}).setdefault(n_rows, 0)
            rows_hist[outcome][n_rows] += 1
            max_rows_one_statement = max([max_rows_one_statement] + [r for _, _, r in statements])
            if outcome not in samples:
                samples[outcome] = statements
    finally:
        counter.close()
    cpu = meter.stop()
    if cpu is not None:
        cpu["busy_just_before"] = busy_before
    timings.sort()
    looked_up = len(probes)
    # The in-memory part alone (bucket copy + rapidfuzz scan), without any SQL.
    scan = []
    for probe in probes:
        normalized = normalize_topic(probe["topic"])
        t0 = time.perf_counter()
        cache.index.candidates(probe["skill_level"], probe["question_type"], normalized, threshold=settings.threshold)
        scan.append((time.perf_counter() - t0) * 1000)
    scan.sort()
    return {
        "lookups": looked_up,
        **_percentiles(timings),
        "hit_ratio": round(len(hit_probes) / looked_up, 3),
        "cpu_during_timed_lookups": cpu,
        "in_memory_scan_only": {"p50_ms": round(support.percentile(scan, 50), 3), "p99_ms": round(support.percentile(scan, 99), 3)},
        "hits_among_reworded_probes": f"{per_kind['hit']['hits']}/{per_kind['hit']['n']}",
        "hits_among_absent_vocabulary_probes": f"{per_kind['miss']['hits']}/{per_kind['miss']['n']}",
        "reworded_probes_that_missed": missed_reworded,
        "sql_statements_per_lookup": {k: {str(n): c for n, c in sorted(v.items())} for k, v in statement_hist.items()},
        "rows_returned_per_lookup": {k: {str(n): c for n, c in sorted(v.items())} for k, v in rows_hist.items()},
        "max_rows_returned_by_one_statement": max_rows_one_statement,
        "index_entries_after": len(cache.index),
        "_hit_probe_ids": hit_probes,
        "_sample_statements": samples,
    }


def _measure_resync(cache, probe, settings):
    """Time one lookup that falls due for the index's periodic full reload (every resync_seconds,
    one lookup per process pays it). Sets the index's private load time back to force it."""
    from models import db
    from services.question_cache import find_cached_questions

    counter = _SqlCounter(db.engine)
    try:
        cache.index._loaded_at = time.monotonic() - settings.resync_seconds - 1
        counter.start()
        t0 = time.perf_counter()
        find_cached_questions([_slot(probe)], index=cache.index, settings=settings)
        elapsed = time.perf_counter() - t0
        statements = counter.stop()
        db.session.remove()
    finally:
        counter.close()
    return {"ms": round(elapsed * 1000, 1), "statements": len(statements),
            "rows_returned": sum(r for _, _, r in statements), "every_seconds": settings.resync_seconds}


def _measure_resync_concurrent(app, cache, probes, settings, size):
    """Start len(probes) lookups at once (threads, as a gthread worker runs requests) at the moment the
    index's full resync falls due (the same path as a cold index), and count the full-table reads."""
    import threading

    from models import db
    from services.question_cache import find_cached_questions

    counter = _SqlCounter(db.engine)
    barrier = threading.Barrier(len(probes))
    timings = []

    def work(probe):
        with app.app_context():
            barrier.wait()
            t0 = time.perf_counter()
            find_cached_questions([_slot(probe)], index=cache.index, settings=settings)
            timings.append((time.perf_counter() - t0) * 1000)
            db.session.remove()

    try:
        cache.index._loaded_at = time.monotonic() - settings.resync_seconds - 1
        counter.start()
        threads = [threading.Thread(target=work, args=(probe,)) for probe in probes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statements = counter.stop()
    finally:
        counter.close()
    timings.sort()
    return {
        "threads": len(probes),
        "full_table_reads": sum(1 for _, _, rows in statements if rows >= size),
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(timings[-1], 1),
    }


def _measure_baseline(app, probes, settings):
    from models import QuestionCacheEntry, db
    from services.question_cache import normalize_topic

    counter = _SqlCounter(db.engine)
    timings, hit_probes, statements_seen, rows_seen = [], [], [], []
    try:
        for probe in probes[:2]:  # warm-up, not timed
            _naive_lookup(db, QuestionCacheEntry, normalize_topic, probe, settings)
            db.session.remove()
        for probe in probes:
            counter.start()
            t0 = time.perf_counter()
            entry = _naive_lookup(db, QuestionCacheEntry, normalize_topic, probe, settings)
            elapsed = time.perf_counter() - t0
            statements = counter.stop()
            db.session.remove()
            timings.append(elapsed * 1000)
            statements_seen.append(len(statements))
            rows_seen.append(sum(r for _, _, r in statements))
            if entry is not None:
                hit_probes.append(probe)
    finally:
        counter.close()
    timings.sort()
    return {
        "lookups": len(probes),
        **_percentiles(timings),
        "hit_ratio": round(len(hit_probes) / len(probes), 3),
        "sql_statements_per_lookup_max": max(statements_seen),
        "rows_returned_per_lookup_median": statistics.median(rows_seen),
        "_hit_probe_ids": hit_probes,
    }


def _naive_lookup(db, model, normalize_topic, probe, settings):
    """Read (id, normalized_topic, level, type) of every row, score them all, load the best match."""
    rows = db.session.execute(
        db.select(model.id, model.normalized_topic, model.skill_level, model.question_type)
    ).all()
    # Every row is scored (limit=None); the cutoff only drops low scores from the answer.
    scored = process.extract(normalize_topic(probe["topic"]), [r[1] for r in rows], scorer=fuzz.ratio,
                             score_cutoff=settings.threshold * 100, limit=None)
    best = next((rows[i][0] for _, _, i in scored
                 if rows[i][2] == probe["skill_level"] and rows[i][3] == probe["question_type"]), None)
    return db.session.get(model, best) if best is not None else None


def _slot(probe):
    return {"number": 1, "topic": probe["topic"], "skill_level": probe["skill_level"],
            "question_type": probe["question_type"]}


def _explain_statements(engine, samples):
    """EXPLAIN each distinct statement a warmed lookup sent (access type, key, estimated rows)."""
    explained = []
    seen = set()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for outcome, statements in samples.items():
            for statement, parameters, rowcount in statements:
                if statement in seen:
                    continue
                seen.add(statement)
                cursor.execute("EXPLAIN " + statement, parameters)
                columns = [c[0] for c in cursor.description]
                plans = [dict(zip(columns, row)) for row in cursor.fetchall()]
                explained.append({
                    "seen_in": outcome,
                    "statement": " ".join(statement.split()),
                    "rows_returned": rowcount,
                    "plan": [{k: plan.get(k) for k in ("type", "key", "rows", "Extra")} for plan in plans],
                })
        cursor.close()
    finally:
        raw.close()
    return explained


def _percentiles(sorted_ms):
    return {
        "p50_ms": round(support.percentile(sorted_ms, 50), 3),
        "p99_ms": round(support.percentile(sorted_ms, 99), 3),
        "max_ms": round(sorted_ms[-1], 3),
        "mean_ms": round(statistics.fmean(sorted_ms), 3),
    }


def _rss_mb():
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0


# --- Report -----------------------------------------------------------------------------------

def _setup_description(args):
    version = None
    try:
        connection = support.server_connection(args.server_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION(), @@innodb_buffer_pool_size")
            version, pool = cursor.fetchone()
        connection.close()
    except pymysql.MySQLError:
        pool = None
    return {
        "sizes": args.sizes,
        "lookups": args.lookups,
        "hit_share": args.hit_share,
        "quiet_wait_seconds": args.quiet_wait,
        "seed": args.seed,
        "database_server": version,
        "innodb_buffer_pool_mb": round(pool / 2**20) if pool else None,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "config": "DevelopmentConfig, LLM_PROVIDER=sandbox (no Claude call is made), cache defaults from config.py",
    }


def _verdict(result):
    largest = max(result["sizes"], key=lambda s: s["size"])
    p99 = largest["indexed"]["p99_ms"]
    no_full_read = all(
        s["indexed"]["max_rows_returned_by_one_statement"] <= 1 for s in result["sizes"]
    )
    cpu = largest["indexed"].get("cpu_during_timed_lookups") or {}
    return {
        # Other processes used more than a quarter of the machine during the timed loop: p99 is not representative.
        "disturbed_by_other_load": (cpu.get("everything_else") or 0) > 0.25,
        "largest_size": largest["size"],
        "p99_ms_at_largest": p99,
        "p99_ok": p99 < P99_GOAL_MS,
        "max_rows_returned_by_any_statement_of_a_warmed_lookup": max(
            s["indexed"]["max_rows_returned_by_one_statement"] for s in result["sizes"]),
        "no_full_table_read_ok": no_full_read,
        "goal_met": p99 < P99_GOAL_MS and no_full_read,
    }


def _print_report(result, path):
    print()
    print("Question-cache lookup, one slot, warmed per-process index (ms)")
    header = f"{'cached':>8} | {'cold load':>9} | {'p50':>6} {'p99':>6} {'max':>6} | {'hit ratio':>9} | " \
             f"{'statements/lookup hit; miss':>27} | {'rows/lookup':>11} || {'naive n':>7} {'p50':>8} {'p99':>8}"
    print(header)
    print("-" * len(header))
    for s in result["sizes"]:
        ix, base = s["indexed"], s["baseline"]
        stmts = "; ".join(", ".join(f"{n} ({c}x)" for n, c in ix["sql_statements_per_lookup"].get(k, {}).items()) or "-"
                          for k in ("hit", "miss"))
        rows = "; ".join("/".join(ix["rows_returned_per_lookup"].get(k, {}).keys()) or "-" for k in ("hit", "miss"))
        print(f"{s['size']:>8,} | {s['cold_index_load']['ms']:>7.0f}ms | {ix['p50_ms']:>6.2f} {ix['p99_ms']:>6.2f} "
              f"{ix['max_ms']:>6.2f} | {ix['hit_ratio']:>9.3f} | {stmts:>27} | {rows:>11} || {base['lookups']:>7} "
              f"{base['p50_ms']:>8.1f} {base['p99_ms']:>8.1f}")
    print()
    for s in result["sizes"]:
        print(f"{s['size']:,}: reworded probes hit {s['indexed']['hits_among_reworded_probes']}, absent-vocabulary "
              f"probes hit {s['indexed']['hits_among_absent_vocabulary_probes']}; baseline agrees on "
              f"{s['baseline']['agrees_with_index_on_hit_or_miss']}; insert {s['insert_seconds']} s, "
              f"table {s['table_mb']} MB; periodic-resync lookup {s['resync_lookup']['ms']} ms "
              f"({s['resync_lookup']['rows_returned']:,} rows, once per process every {s['resync_lookup']['every_seconds']:g} s); "
              f"{s['resync_concurrent']['threads']} concurrent lookups at that moment: "
              f"{s['resync_concurrent']['full_table_reads']} full-table reads, max {s['resync_concurrent']['max_ms']} ms; "
              f"in-memory scan alone p50 {s['indexed']['in_memory_scan_only']['p50_ms']} ms, "
              f"p99 {s['indexed']['in_memory_scan_only']['p99_ms']} ms")
    for s in result["sizes"]:
        cpu = s["indexed"]["cpu_during_timed_lookups"]
        if cpu:
            print(f"{s['size']:,}: CPU during the timed lookups (share of {os.cpu_count()} CPUs): machine "
                  f"{cpu['machine_busy']:.0%} busy, this process {cpu['this_process']:.0%}, MariaDB "
                  f"{cpu['database_server']:.0%} (also serving others), everything else {cpu['everything_else']:.0%}")
    largest = max(result["sizes"], key=lambda s: s["size"])
    for plan in largest["explain"]:
        print(f"  EXPLAIN [{plan['seen_in']}] {plan['statement'][:110]} -> "
              + "; ".join(f"type={p['type']} key={p['key']} rows~{p['rows']}" for p in plan["plan"]))
    v = result["verdict"]
    print()
    print(f"Goal p99 < {P99_GOAL_MS:g} ms at {v['largest_size']:,}: {v['p99_ms_at_largest']} ms -> "
          f"{'MET' if v['p99_ok'] else 'MISSED'}"
          + (" (DISTURBED: other processes used over 25% of the machine during the timed lookups)"
             if v["disturbed_by_other_load"] else ""))
    print(f"Goal no full-table read per request: max rows returned by one statement of a warmed lookup = "
          f"{v['max_rows_returned_by_any_statement_of_a_warmed_lookup']} -> {'MET' if v['no_full_table_read_ok'] else 'MISSED'}")
    print(f"Total {result['total_seconds']} s. Results: {path}")


if __name__ == "__main__":
    sys.exit(main())
