"""Question-cache savings benchmark: every job description of the corpus through interview generation,
cache off, cache on from empty, and cache on but cold for every JD, in one run.

What it does (loopback only, bounded in time, the stub stopped and the database dropped at the end):

1. drops and recreates a MariaDB database (name must contain "bench"), builds the app in-process
   with ProductionConfig, provider "anthropic", ANTHROPIC_BASE_URL = bench/stub_messages_api.py
   started as a subprocess with --delay 0 (so every call goes through the real anthropic SDK over
   HTTP; the stub answers with sandbox_provider.respond), and runs the migrations;
2. enhances every job description of ../shared/data/job_descriptions.jsonl (description truncated
   to MAX_JD_CHARS, as the API would refuse longer ones) with services.jd_enhancement;
3. Pass A: generates each JD's interview with use_cache=False (one call per interview);
   Pass B: purges the cache, then generates each JD with use_cache=True in corpus order
   (plan -> look up -> fill, the cache filling up as it goes);
   Pass C: for each JD, purges the cache, then generates with use_cache=True (all misses: the
   plan -> fill overhead on a cold cache);
4. sums each pass from the audit tables (generation_calls: Claude calls and input/output tokens;
   generation_logs: cache hits and misses), checks every stored interview has exactly 5 questions
   with 8-10 criteria each, breaks pass B's hits down by question type and skill level, prints a
   table and writes JSON to bench/results/cache-savings-<UTC stamp>.json.

    python bench/bench_cache_savings.py
    python bench/bench_cache_savings.py --limit 10          # first 10 JDs only (a quick check)

Token counts are whatever the stub reports: sandbox_provider estimates usage as characters / 4
(system prompt included), and its planner names topics by keyword prominence. The figures measure
the mechanism on that planner, not real Claude traffic.
"""

import argparse
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql
from sqlalchemy import case, func

from bench import support
from bench.support import BENCH_DIR, DEFAULT_JD_FILE, REPO_ROOT, RESULTS_DIR

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_cachesavings"
# The goals compare what is billed: USD at list prices (services/pricing.py), since prompt caching
# (issue 10) a cache-read token costs a twentieth of an input token on Sonnet 5.5 (and thinking is
# output), so an equal-weight token total no longer measures spend. Token totals are still reported.
WARM_TOKENS_GOAL = 0.60  # cache on (from empty, corpus order) / cache off, in USD
COLD_TOKENS_GOAL = 1.15  # cache on, all misses / cache off, in USD
PASSES = {
    "A": "cache off (use_cache=False, one call per interview)",
    "B": "cache on, from empty, corpus order",
    "C": "cache on, purged before every JD (cold: all misses)",
}
SHORT = {"A": "cache off", "B": "cache on, from empty", "C": "cache on, cold every JD"}


def main(argv=None):
    args = _parse_args(argv)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = support.utc_stamp()
    log_path = os.path.join(RESULTS_DIR, f"cache-savings-{stamp}.log")
    jds = support.load_job_descriptions(args.jd_file)[: args.limit or None]
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    started = time.perf_counter()
    support.recreate_database(args.database_url)
    stub = None
    try:
        with open(log_path, "w") as log:
            port = support.free_port()
            stub_url = f"http://127.0.0.1:{port}"
            stub = support.start(
                [sys.executable, os.path.join(BENCH_DIR, "stub_messages_api.py"), "--port", str(port), "--delay", "0"],
                os.environ, log,
            )
            support.wait_ready(f"{stub_url}/health", [stub], 30)
            result = _run(args, jds, stub_url)
            result["stub"] = support.get_json(f"{stub_url}/health")
    finally:
        if stub is not None:
            support.stop(stub)
        if not args.keep_database:
            support.drop_database(args.database_url)

    result["started_at"] = stamp
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    result["setup"] = _setup_description(args, len(jds))
    result["verdict"] = _verdict(result)
    path = os.path.join(RESULTS_DIR, f"cache-savings-{stamp}.json")
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
    _print_report(result, os.path.relpath(path, REPO_ROOT))
    return 0 if result["verdict"]["goal_met"] else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Question-cache token savings over the JD corpus.")
    parser.add_argument("--jd-file", default=DEFAULT_JD_FILE, help="job descriptions, JSON lines (default ../shared/data/job_descriptions.jsonl)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N JDs (default: all)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_CACHE_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help=f"MariaDB/MySQL URL; the database is DROPPED and recreated (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    return parser.parse_args(argv)


# --- Setup -----------------------------------------------------------------------------------

# --- The benchmark ---------------------------------------------------------------------------

def _run(args, jds, stub_url):
    import logging

    import flask_migrate

    from app import create_app
    from config import Config, ProductionConfig
    from models import db

    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI=args.database_url,
        LLM_PROVIDER="anthropic",
        ANTHROPIC_API_KEY="bench-key",
        ANTHROPIC_BASE_URL=stub_url,
        ENABLE_QUESTION_CACHE=True,
    )
    with app.app_context():
        flask_migrate.upgrade()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    max_chars = app.config.get("MAX_JD_CHARS", Config.MAX_JD_CHARS)

    try:
        t0 = time.perf_counter()
        enhanced = _enhance_all(app, jds, max_chars)
        enhance_seconds = round(time.perf_counter() - t0, 1)
        print(f"enhanced {sum(1 for e in enhanced if e['job_description_id'])}/{len(jds)} JDs in {enhance_seconds} s",
              flush=True)
        passes = {}
        for name, description in PASSES.items():
            t0 = time.perf_counter()
            outcomes, first_log, last_log = _run_pass(app, name, enhanced)
            with app.app_context():
                passes[name] = _summarise_pass(name, outcomes, first_log, last_log)
            passes[name]["seconds"] = round(time.perf_counter() - t0, 1)
            s = passes[name]
            print(f"pass {name} ({description}): {s['claude_calls']} calls, {s['tokens']:,} tokens, "
                  f"hit rate {s['hit_rate']}, invalid interviews {s['invalid_interviews']}, {s['seconds']} s", flush=True)
        with app.app_context():
            breakdown = _hit_breakdown(passes["B"].pop("_interview_ids"))
            per_jd = _per_jd_tokens(passes, enhanced)
            for summary in passes.values():
                summary.pop("_interview_ids", None)
    finally:
        with app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()
    return {
        "job_descriptions": len(jds),
        "enhancement": {"seconds": enhance_seconds,
                        "failed": [e["jd"] for e in enhanced if not e["job_description_id"]]},
        "passes": passes,
        "ratios": {
            "tokens_B_over_A": _ratio(passes["B"]["tokens"], passes["A"]["tokens"]),
            "tokens_C_over_A": _ratio(passes["C"]["tokens"], passes["A"]["tokens"]),
            "usd_B_over_A": _ratio(passes["B"]["cost_usd"], passes["A"]["cost_usd"]),
            "usd_C_over_A": _ratio(passes["C"]["cost_usd"], passes["A"]["cost_usd"]),
            "calls_B_over_A": _ratio(passes["B"]["claude_calls"], passes["A"]["claude_calls"]),
        },
        "pass_B_hits_by_slot": breakdown,
        "per_jd": per_jd,
    }


def _enhance_all(app, jds, max_chars):
    from services.jd_enhancement import enhance_job_description

    enhanced = []
    for i, jd in enumerate(jds, start=1):
        req_id = f"CACHE-SAVINGS-{i:03d}"
        entry = {"jd": jd["id"], "req_id": req_id, "level": jd.get("level"), "job_description_id": None, "error": None}
        with app.app_context():
            try:
                result = enhance_job_description(
                    claude=app.extensions["claude"],
                    req_id=req_id,
                    basic_title=jd["title"][:255],
                    basic_description=jd["description"][:max_chars],
                    basic_department=(jd.get("department") or None) and jd["department"][:255],
                    basic_level=(jd.get("level") or None) and jd["level"][:100],
                )
                entry["job_description_id"] = result.job_description.id
            except Exception as exc:  # noqa: BLE001 - any failure is reported; the JD is left out of every pass
                entry["error"] = f"{type(exc).__name__}: {exc}"[:300]
        enhanced.append(entry)
    return enhanced


def _max_log_id():
    from models import GenerationLog, db

    return db.session.scalar(db.select(func.coalesce(func.max(GenerationLog.id), 0)))


def _run_pass(app, name, enhanced):
    """Generate one interview per enhanced JD; return (outcomes, first log id, last log id)."""
    from services.interview_generation import generate_interview
    from services.question_cache import purge

    with app.app_context():
        first_log = _max_log_id() + 1
        if name == "B":
            purge()
    outcomes = []
    for entry in enhanced:
        if not entry["job_description_id"]:
            continue
        with app.app_context():  # one app context per generation, as one request each
            if name == "C":
                purge()
            outcome = {"jd": entry["jd"], "req_id": entry["req_id"], "interview_id": None, "error": None}
            try:
                result = generate_interview(
                    claude=app.extensions["claude"],
                    question_cache=app.extensions["question_cache"],
                    req_id=entry["req_id"],
                    job_description_id=entry["job_description_id"],
                    use_cache=name != "A",
                )
                outcome["interview_id"] = result.interview.id
                outcome["cached_questions"] = result.cached_questions
            except Exception as exc:  # noqa: BLE001 - any failure counts as an invalid interview
                outcome["error"] = f"{type(exc).__name__}: {exc}"[:300]
            outcomes.append(outcome)
    with app.app_context():
        last_log = _max_log_id()
    return outcomes, first_log, last_log


def _summarise_pass(name, outcomes, first_log, last_log):
    from models import GenerationCall, GenerationLog, Interview, db

    in_pass = (GenerationLog.id >= first_log) & (GenerationLog.id <= last_log) & (
        GenerationLog.operation_type == "interview_generation")
    logs = db.session.execute(db.select(
        func.count(), func.sum(GenerationLog.claude_calls), func.sum(GenerationLog.input_tokens),
        func.sum(GenerationLog.output_tokens), func.sum(GenerationLog.tokens_used),
        func.sum(GenerationLog.cache_hits), func.sum(GenerationLog.cache_misses),
        func.sum(GenerationLog.tokens_avoided),
        func.sum(case((GenerationLog.status != "success", 1), else_=0)),
    ).where(in_pass)).one()
    n_logs, log_calls, log_in, log_out, log_tokens, hits, misses, avoided, failed_logs = [int(v or 0) for v in logs]
    by_purpose = {}
    for purpose, outcome, calls, tokens_in, tokens_out, cache_write, cache_read, cost in db.session.execute(
        db.select(GenerationCall.purpose, GenerationCall.outcome, func.count(),
                  func.sum(GenerationCall.input_tokens), func.sum(GenerationCall.output_tokens),
                  func.sum(GenerationCall.cache_creation_input_tokens),
                  func.sum(GenerationCall.cache_read_input_tokens), func.sum(GenerationCall.cost_usd))
        .join(GenerationLog, GenerationCall.generation_log_id == GenerationLog.id)
        .where(in_pass).group_by(GenerationCall.purpose, GenerationCall.outcome)
    ):
        key = purpose if outcome == "ok" else f"{purpose} ({outcome})"
        by_purpose[key] = {"calls": calls, "input_tokens": int(tokens_in or 0), "output_tokens": int(tokens_out or 0),
                           "cache_tokens": int((cache_write or 0) + (cache_read or 0)), "cost_usd": float(cost or 0)}
    calls = sum(v["calls"] for v in by_purpose.values())
    tokens_in = sum(v["input_tokens"] for v in by_purpose.values())
    tokens_out = sum(v["output_tokens"] for v in by_purpose.values())
    tokens = tokens_in + tokens_out + sum(v["cache_tokens"] for v in by_purpose.values())
    cost_usd = round(sum(v["cost_usd"] for v in by_purpose.values()), 6)

    interview_ids = [o["interview_id"] for o in outcomes if o["interview_id"]]
    problems = [{"jd": o["jd"], "problem": o["error"]} for o in outcomes if o["error"]]
    interviews = {
        i.id: i for i in db.session.scalars(db.select(Interview).where(Interview.id.in_(interview_ids)))
    } if interview_ids else {}
    for outcome in outcomes:
        if not outcome["interview_id"]:
            continue
        interview = interviews.get(outcome["interview_id"])
        issue = _interview_problem(interview)
        if issue:
            problems.append({"jd": outcome["jd"], "problem": issue})
    looked_up = hits + misses
    return {
        "description": PASSES[name],
        "generations": len(outcomes),
        "interviews_stored": len(interview_ids),
        "invalid_interviews": len(problems),
        "problems": problems[:20],
        "claude_calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "tokens": tokens,
        "cost_usd": cost_usd,
        "tokens_per_interview": round(tokens / len(outcomes), 1) if outcomes else None,
        "cache_hits": hits,
        "cache_misses": misses,
        "hit_rate": round(hits / looked_up, 4) if looked_up else None,
        "tokens_avoided_estimate": avoided,
        "by_purpose": by_purpose,
        "audit_cross_check": {
            "generation_logs": n_logs, "failed_logs": failed_logs,
            "logs_agree_with_calls": (log_calls, log_in, log_out, log_tokens) == (calls, tokens_in, tokens_out, tokens),
        },
        "_interview_ids": interview_ids,
    }


def _interview_problem(interview):
    """None when the interview has exactly 5 questions numbered 1-5, each with 8-10 criteria."""
    if interview is None:
        return "interview not found"
    questions = interview.questions
    if len(questions) != 5:
        return f"{len(questions)} questions"
    if sorted(q.question_number for q in questions) != [1, 2, 3, 4, 5]:
        return "question numbers are not 1-5"
    for q in questions:
        if not (8 <= len(q.criteria or []) <= 10):
            return f"question {q.question_number} has {len(q.criteria or [])} criteria"
        if not (q.question_text or "").strip():
            return f"question {q.question_number} has no text"
    return None


def _hit_breakdown(interview_ids):
    """Pass B: share of questions served from the cache, by question type, by skill level, by both."""
    from models import InterviewQuestion, db

    rows = db.session.execute(
        db.select(InterviewQuestion.question_type, InterviewQuestion.skill_level, InterviewQuestion.source)
        .where(InterviewQuestion.interview_id.in_(interview_ids))
    ).all() if interview_ids else []

    def share(key):
        table = {}
        for qtype, level, source in rows:
            cell = table.setdefault(key(qtype, level), [0, 0])
            cell[0] += source == "cache"
            cell[1] += 1
        return {k: {"hits": h, "slots": n, "hit_rate": round(h / n, 3)} for k, (h, n) in sorted(table.items())}

    return {
        "by_question_type": share(lambda t, lv: t),
        "by_skill_level": share(lambda t, lv: lv),
        "by_level_and_type": share(lambda t, lv: f"{lv}/{t}"),
        "why_generated": _miss_causes(interview_ids),
        "by_corpus_half": _by_half(interview_ids),
    }


def _ordered_questions(interview_ids):
    from models import InterviewQuestion, db

    return db.session.execute(
        db.select(InterviewQuestion.interview_id, InterviewQuestion.question_type, InterviewQuestion.skill_level,
                  InterviewQuestion.topic, InterviewQuestion.source)
        .where(InterviewQuestion.interview_id.in_(interview_ids))
        .order_by(InterviewQuestion.interview_id, InterviewQuestion.question_number)
    ).all() if interview_ids else []


def _miss_causes(interview_ids):
    """Classify pass B's generated questions by what the cache held when they were generated:
    the same normalised topic at the same level under another question type, under the same type
    at another level, only elsewhere, or nowhere (the topic's first appearance in the pass)."""
    from services.question_cache import normalize_topic

    seen_keys, seen_level, seen_type, seen_topic = set(), set(), set(), set()
    causes = {}
    for interview_id, qtype, level, topic, source in _ordered_questions(interview_ids):
        norm = normalize_topic(topic)
        if source != "cache":
            if (level, norm) in seen_level:
                cause = "topic cached at this level under another question type"
            elif (qtype, norm) in seen_type:
                cause = "topic cached with this question type at another level"
            elif norm in seen_topic:
                cause = "topic cached only at another level and type"
            else:
                cause = "topic not seen before in the pass"
            causes[cause] = causes.get(cause, 0) + 1
        seen_keys.add((level, qtype, norm))
        seen_level.add((level, norm))
        seen_type.add((qtype, norm))
        seen_topic.add(norm)
    return causes


def _by_half(interview_ids):
    """Hit rate of the first and the second half of the corpus (the cache fills up as the pass goes)."""
    ordered = sorted(interview_ids)
    half = len(ordered) // 2
    first = set(ordered[:half])
    counts = {"first half": [0, 0], "second half": [0, 0]}
    for interview_id, _, _, _, source in _ordered_questions(interview_ids):
        cell = counts["first half" if interview_id in first else "second half"]
        cell[0] += source == "cache"
        cell[1] += 1
    return {k: {"hits": h, "slots": n, "hit_rate": round(h / n, 3) if n else None} for k, (h, n) in counts.items()}


def _per_jd_tokens(passes, enhanced):
    """Tokens of each JD's interview in each pass (from generation_logs)."""
    from models import GenerationLog, db

    rows = db.session.execute(
        db.select(GenerationLog.id, GenerationLog.req_id, GenerationLog.tokens_used, GenerationLog.cache_hits)
        .where(GenerationLog.operation_type == "interview_generation").order_by(GenerationLog.id)
    ).all()
    table = {e["req_id"]: {"jd": e["jd"], "level": e["level"]} for e in enhanced}
    order = list(PASSES)
    seen = {}
    for _, req_id, tokens, hits in rows:
        k = seen.get(req_id, 0)
        if req_id in table and k < len(order):
            table[req_id][order[k]] = tokens
            if order[k] == "B":
                table[req_id]["B_hits"] = hits
        seen[req_id] = k + 1
    return list(table.values())


def _ratio(a, b):
    return round(a / b, 4) if b else None


# --- Report -----------------------------------------------------------------------------------

def _setup_description(args, n_jds):
    try:
        connection = support.server_connection(args.database_url)
        with connection.cursor() as cursor:
            cursor.execute("SELECT VERSION()")
            version = cursor.fetchone()[0]
        connection.close()
    except pymysql.MySQLError:
        version = None
    return {
        "jd_file": os.path.relpath(os.path.abspath(args.jd_file), REPO_ROOT),
        "job_descriptions": n_jds,
        "database_server": version,
        "claude": "anthropic SDK over HTTP to bench/stub_messages_api.py --delay 0 (sandbox_provider.respond); "
                  "usage = characters / 4 incl. system prompt",
        "config": "ProductionConfig, LLM_PROVIDER=anthropic, cache defaults from config.py (threshold 0.85)",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def _verdict(result):
    passes, ratios = result["passes"], result["ratios"]
    all_valid = all(p["invalid_interviews"] == 0 and p["generations"] == result["job_descriptions"] for p in passes.values())
    warm_ok = ratios["usd_B_over_A"] is not None and ratios["usd_B_over_A"] <= WARM_TOKENS_GOAL
    cold_ok = ratios["usd_C_over_A"] is not None and ratios["usd_C_over_A"] <= COLD_TOKENS_GOAL
    return {
        "warm_tokens_ratio_goal": WARM_TOKENS_GOAL, "warm_ok": warm_ok,
        "cold_tokens_ratio_goal": COLD_TOKENS_GOAL, "cold_ok": cold_ok,
        "every_interview_valid": all_valid,
        "goal_met": warm_ok and cold_ok and all_valid,
    }


def _print_report(result, path):
    passes = result["passes"]
    print()
    print(f"Interview generation over {result['job_descriptions']} job descriptions (tokens as the sandbox estimates them)")
    header = f"{'pass':<25} | {'calls':>5} | {'input tok':>9} | {'output tok':>10} | {'total tok':>9} | " \
             f"{'vs A':>5} | {'USD':>8} | {'vs A':>5} | {'hit rate':>8} | {'invalid':>7}"
    print(header)
    print("-" * len(header))
    for name, p in passes.items():
        ratio = p["tokens"] / passes["A"]["tokens"] if passes["A"]["tokens"] else 0
        hit_rate = "-" if p["hit_rate"] is None else f"{p['hit_rate']:.3f}"
        usd_ratio = p["cost_usd"] / passes["A"]["cost_usd"] if passes["A"]["cost_usd"] else 0
        print(f"{name} {SHORT[name]:<23} | {p['claude_calls']:>5} | {p['input_tokens']:>9,} | "
              f"{p['output_tokens']:>10,} | {p['tokens']:>9,} | {ratio:>5.3f} | {p['cost_usd']:>8.4f} | {usd_ratio:>5.3f} | "
              f"{hit_rate:>8} | {p['invalid_interviews']:>7}")
    print()
    for name, p in passes.items():
        parts = ", ".join(f"{k} {v['calls']} calls {v['input_tokens']:,} in / {v['output_tokens']:,} out"
                          for k, v in p["by_purpose"].items())
        print(f"  {name}: {parts}")
    print()
    b = result["pass_B_hits_by_slot"]
    print("Pass B hit rate by question type: " + ", ".join(
        f"{k} {v['hit_rate']:.2f} ({v['hits']}/{v['slots']})" for k, v in b["by_question_type"].items()))
    print("Pass B hit rate by skill level:   " + ", ".join(
        f"{k} {v['hit_rate']:.2f} ({v['hits']}/{v['slots']})" for k, v in b["by_skill_level"].items()))
    print("Pass B hit rate by corpus half:   " + ", ".join(
        f"{k} {v['hit_rate']:.2f} ({v['hits']}/{v['slots']})" for k, v in b["by_corpus_half"].items()))
    print("Pass B generated questions, why:  " + "; ".join(f"{k}: {n}" for k, n in b["why_generated"].items()))
    v = result["verdict"]
    r = result["ratios"]
    print()
    print(f"Goal cache on <= {v['warm_tokens_ratio_goal']:.0%} of cache-off USD: B/A = {r['usd_B_over_A']:.3f} "
          f"(tokens {r['tokens_B_over_A']:.3f}) -> {'MET' if v['warm_ok'] else 'MISSED'}")
    print(f"Goal cold plan->fill <= {v['cold_tokens_ratio_goal'] - 1:.0%} more USD than one call: C/A = {r['usd_C_over_A']:.3f} "
          f"(tokens {r['tokens_C_over_A']:.3f}) -> {'MET' if v['cold_ok'] else 'MISSED'}")
    print(f"Every interview 5 questions x 8-10 criteria: {'yes' if v['every_interview_valid'] else 'NO'}")
    print(f"Total {result['total_seconds']} s. Results: {path}")


if __name__ == "__main__":
    sys.exit(main())
