"""WORK coverage benchmark: what share of a requisition's WORK knowledge and competency items its
interview kit covers, over the job description corpus.

The corpus (../shared/data/job_descriptions.jsonl, read in place) has no WORK inputs, so they are
derived once per JD, deterministically, and stored as bench data in bench/data/work_inputs.json
(`--derive` rewrites it): knowledge = the terms of KNOWLEDGE_TERMS the description mentions (a
longer term hides the terms inside it, so "Ruby on Rails" is not also "Ruby"; capitalised terms
such as "Go" or "Rails" match case for case), at most 6, most mentioned first (ties: first
mentioned first); competencies = the COMPETENCIES whose stem it mentions, at most 4, in the same
order. Each JD's items are written with one separator style
(", ", "; ", "- " bullets, "• " bullets, newlines, numbered lines), rotating over the corpus, so the
splitter is exercised as a manager's input would.

Then, in-process (app factory, a temporary SQLite database, the SANDBOX provider through the real
SDK), every JD is enhanced with its WORK inputs (services.jd_enhancement) and its kit generated
(services.interview_generation) twice:

    planned   plan -> look up -> fill, question cache on, from empty, corpus order (later kits reuse
              cached questions, whose coverage is computed for their own requisition's items);
    one-call  use_cache false: coverage by the support check alone.

Reported per pass: the share of items covered per kit (mean, median, min, and how many kits cover
all their items), the share of covered items that came from a cached question, and, for the
planned pass, the plan's claims by outcome from the service's own counter
(techscreen_work_coverage_claims_total): accepted, rejected by the support check, and naming no
item. Results as JSON in bench/results/coverage-<UTC stamp>.json (git-ignored).

    python bench/bench_coverage.py                 # about a minute on 2 vCPUs
    python bench/bench_coverage.py --derive        # rewrite bench/data/work_inputs.json first

The sandbox provider is not Claude: its plan names topics by keyword counts and claims an item when
it shares a word with the slot's topic. The figures measure the pipeline (splitting, claims, the
support check, cached questions), not how well Claude plans for coverage.
"""

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import support
from bench.support import BENCH_DIR, DEFAULT_JD_FILE, REPO_ROOT, RESULTS_DIR

WORK_INPUTS_FILE = os.path.join(BENCH_DIR, "data", "work_inputs.json")
MAX_KNOWLEDGE, MAX_COMPETENCIES = 6, 4
KNOWLEDGE_TERMS = (
    "Ruby on Rails", "Ruby", "Rails", "Go", "Golang", "Python", "Java", "JavaScript", "TypeScript", "Vue.js", "React",
    "Node.js", "HTML", "CSS", "SQL", "PostgreSQL", "MySQL", "Redis", "Elasticsearch", "Kafka", "Kubernetes", "Docker",
    "Terraform", "Ansible", "Chef", "AWS", "GCP", "Google Cloud", "Azure", "Linux", "Git", "CI/CD", "GraphQL",
    "REST APIs", "microservices", "Prometheus", "Grafana", "observability", "monitoring", "incident management",
    "incident response", "on-call", "security", "threat modeling", "penetration testing", "vulnerability management",
    "OWASP", "FedRAMP", "NIST", "compliance", "accessibility", "WCAG", "test automation", "automated testing",
    "testing", "performance", "scalability", "distributed systems", "system design", "data modeling",
    "data pipelines", "ETL", "dbt", "Snowflake", "machine learning", "deep learning", "statistics", "pandas",
    "TensorFlow", "PyTorch", "NLP", "iOS", "Android", "Swift", "Kotlin", "documentation", "technical writing",
    "docs-as-code", "user research", "product management", "roadmap", "analytics", "Tableau", "Excel", "GAAP",
    "accounting", "reconciliation", "audit", "recruiting", "sourcing", "infrastructure as code", "networking", "DNS",
    "authentication", "UX", "design systems", "cloud",
)
COMPETENCIES = (  # (stem looked for, lowercased; the item as a manager would write it)
    ("communicat", "communication"), ("collaborat", "collaboration"), ("stakeholder", "stakeholder management"),
    ("customer", "customer focus"), ("prioriti", "prioritisation"), ("transparen", "transparency"),
    ("leadership", "leadership"), ("mentor", "mentoring"), ("initiative", "initiative"),
    ("self-motivat", "self-motivation"), ("influenc", "influencing without authority"), ("feedback", "giving feedback"),
    ("accountab", "accountability"), ("coach", "coaching"), ("ownership", "ownership"),
    ("problem-solving", "problem solving"), ("problem solving", "problem solving"), ("facilitat", "facilitation"),
    ("empathy", "empathy"), ("attention to detail", "attention to detail"),
)
STYLES = ("comma", "semicolon", "dash", "bullet", "newline", "numbered")
PASSES = {"planned": "plan -> look up -> fill, question cache on from empty, corpus order",
          "one_call": "one call per kit (use_cache false), coverage by support alone"}


def main(argv=None):
    args = _parse_args(argv)
    jds = support.load_job_descriptions(args.jd_file)[: args.limit or None]
    if args.derive or not os.path.exists(WORK_INPUTS_FILE):
        _write_work_inputs(support.load_job_descriptions(args.jd_file), args.jd_file)
    with open(WORK_INPUTS_FILE, encoding="utf-8") as fh:
        inputs = json.load(fh)["work_inputs"]
    missing = [jd["id"] for jd in jds if jd["id"] not in inputs]
    if missing:
        sys.exit(f"{WORK_INPUTS_FILE} has no WORK inputs for {missing[:5]}...: run with --derive")

    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = support.utc_stamp()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-coverage-") as scratch:
        result = _run(jds, inputs, f"sqlite:///{os.path.join(scratch, 'coverage.sqlite3')}")
    result.update(
        started_at=stamp, total_seconds=round(time.perf_counter() - started, 1), job_descriptions=len(jds),
        setup={"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "work_inputs": os.path.relpath(WORK_INPUTS_FILE, REPO_ROOT), "provider": "sandbox", "database": "SQLite"},
    )
    path = os.path.join(RESULTS_DIR, f"coverage-{stamp}.json")
    with open(path, "w") as fh:
        json.dump(result, fh, indent=2)
    _print_report(result, os.path.relpath(path, REPO_ROOT))
    return 0


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Share of WORK items covered per interview kit, over the JD corpus.")
    parser.add_argument("--jd-file", default=DEFAULT_JD_FILE, help="job descriptions, JSON lines (default ../shared/data/job_descriptions.jsonl)")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N JDs (default: all)")
    parser.add_argument("--derive", action="store_true", help=f"derive the WORK inputs again and rewrite {os.path.relpath(WORK_INPUTS_FILE, REPO_ROOT)}")
    return parser.parse_args(argv)


# --- Deriving the WORK inputs ------------------------------------------------------------------

def derive_items(description):
    """Return (knowledge items, competency items) a description mentions, most mentioned first (then
    in order of first mention)."""
    found, taken = [], []
    for term in sorted(KNOWLEDGE_TERMS, key=len, reverse=True):  # a longer term hides those inside it
        flags = 0 if any(ch.isupper() for ch in term) else re.IGNORECASE
        spans = [m.span() for m in re.finditer(r"(?<![A-Za-z0-9])" + re.escape(term) + r"(?![A-Za-z0-9])", description, flags)
                 if not any(start <= m.start() < end for start, end in taken)]
        if spans:
            taken.extend(spans)
            found.append((-len(spans), spans[0][0], term))
    knowledge = [term for _, _, term in sorted(found)][:MAX_KNOWLEDGE]
    lowered = description.lower()
    mentions = {}
    for stem, item in COMPETENCIES:
        starts = [m.start() for m in re.finditer(re.escape(stem), lowered)]
        if starts:
            count, first = mentions.get(item, (0, len(lowered)))
            mentions[item] = (count + len(starts), min(first, starts[0]))
    competencies = sorted(mentions, key=lambda item: (-mentions[item][0], mentions[item][1]))[:MAX_COMPETENCIES]
    return knowledge, competencies


def _written(items, style):
    """The items as one WORK input text in a separator style."""
    if not items:
        return None
    if style == "comma":
        return ", ".join(items)
    if style == "semicolon":
        return "; ".join(items)
    if style == "dash":
        return "\n".join(f"- {item}" for item in items)
    if style == "bullet":
        return " • ".join(items)
    if style == "newline":
        return "\n".join(items)
    return "\n".join(f"{number}. {item}" for number, item in enumerate(items, start=1))


def _write_work_inputs(jds, jd_file):
    records = {}
    for index, jd in enumerate(jds):
        knowledge, competencies = derive_items(jd["description"])
        records[jd["id"]] = {
            "work_knowledge": _written(knowledge, STYLES[index % len(STYLES)]),
            "work_competencies": _written(competencies, STYLES[(index + 3) % len(STYLES)]),
        }
    os.makedirs(os.path.dirname(WORK_INPUTS_FILE), exist_ok=True)
    with open(WORK_INPUTS_FILE, "w", encoding="utf-8") as fh:
        json.dump(
            {
                "about": "WORK knowledge and competencies inputs derived from each job description of "
                "../shared/data/job_descriptions.jsonl by bench/bench_coverage.py --derive (terms and competency stems "
                "the description mentions; see that script). Bench data: only these derived inputs, no corpus text.",
                "source": os.path.basename(jd_file),
                "work_inputs": records,
            },
            fh, indent=1, ensure_ascii=False,
        )
        fh.write("\n")
    print(f"wrote {os.path.relpath(WORK_INPUTS_FILE, REPO_ROOT)} ({len(records)} JDs)", flush=True)


# --- The benchmark -----------------------------------------------------------------------------

def _run(jds, inputs, database_url):
    import flask_migrate
    from prometheus_client import REGISTRY

    from app import create_app
    from config import DevelopmentConfig
    from models import Interview, db
    from services.coverage import coverage_map
    from services.interview_generation import generate_interview
    from services.jd_enhancement import enhance_job_description

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=database_url, LLM_PROVIDER="sandbox",
                     ENABLE_QUESTION_CACHE=True, CELERY_BROKER_URL=None)
    with app.app_context():
        flask_migrate.upgrade()
    claude, question_cache = app.extensions["claude"], app.extensions["question_cache"]
    max_chars = app.config["MAX_JD_CHARS"]

    def claims():
        return {outcome: REGISTRY.get_sample_value("techscreen_work_coverage_claims_total", {"outcome": outcome}) or 0.0
                for outcome in ("accepted", "rejected", "unknown")}

    kits = {name: [] for name in PASSES}
    claims_by_pass = {}
    try:
        job_descriptions = []
        for index, jd in enumerate(jds, start=1):
            with app.app_context():
                enhanced = enhance_job_description(
                    claude=claude, req_id=f"COVERAGE-{index:03d}", basic_title=jd["title"][:255],
                    basic_description=jd["description"][:max_chars], basic_level=(jd.get("level") or None),
                    basic_department=(jd.get("department") or None) and jd["department"][:255],
                    work_inputs=inputs[jd["id"]],
                )
                job_descriptions.append((jd["id"], enhanced.job_description.req_id, enhanced.job_description.id))
        for name in PASSES:
            before = claims()
            for jd_id, req_id, job_description_id in job_descriptions:
                with app.app_context():
                    result = generate_interview(claude=claude, question_cache=question_cache, req_id=req_id,
                                                job_description_id=job_description_id, use_cache=name == "planned")
                    interview = db.session.get(Interview, result.interview.id)
                    rows = coverage_map(interview.work_items, [{"question_number": q.question_number, "covers": q.covers}
                                                               for q in interview.questions])
                    from_cache = {item for q in interview.questions if q.source == "cache" for item in q.covers}
                    kits[name].append({
                        "jd": jd_id, "items": len(rows), "covered": sum(r["covered"] for r in rows),
                        "covered_by_cached_question": sum(1 for r in rows if r["covered"] and r["item"] in from_cache),
                        "cached_questions": sum(1 for q in interview.questions if q.source == "cache"),
                        "uncovered": [r["item"] for r in rows if not r["covered"]],
                    })
            after = claims()
            claims_by_pass[name] = {outcome: int(after[outcome] - before[outcome]) for outcome in after}
    finally:
        app.extensions["job_queue"].stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return {"passes": {name: _summarise(kits[name], claims_by_pass[name]) for name in PASSES}, "kits": kits}


def _summarise(kits, claims):
    with_items = [k for k in kits if k["items"]]
    shares = sorted(k["covered"] / k["items"] for k in with_items)
    covered = sum(k["covered"] for k in with_items)
    judged = claims["accepted"] + claims["rejected"]
    return {
        "kits": len(kits),
        "kits_with_items": len(with_items),
        "items": sum(k["items"] for k in with_items),
        "items_per_kit": round(statistics.fmean(k["items"] for k in with_items), 2) if with_items else None,
        "covered_share_mean": round(statistics.fmean(shares), 3) if shares else None,
        "covered_share_median": round(statistics.median(shares), 3) if shares else None,
        "covered_share_min": round(shares[0], 3) if shares else None,
        "kits_fully_covered": sum(1 for share in shares if share == 1),
        "covered_items_from_cached_questions": round(sum(k["covered_by_cached_question"] for k in with_items) / covered, 3) if covered else None,
        "cached_questions": sum(k["cached_questions"] for k in kits),
        "claims": claims,
        "claims_rejected_share": round(claims["rejected"] / judged, 3) if judged else None,
    }


def _print_report(result, path):
    print(f"\n{result['job_descriptions']} job descriptions, sandbox provider, {result['total_seconds']} s")
    for name, description in PASSES.items():
        s = result["passes"][name]
        print(f"\n{name}: {description}")
        print(f"  kits with items {s['kits_with_items']}/{s['kits']}, {s['items']} items ({s['items_per_kit']} per kit)")
        print(f"  share of items covered per kit: mean {s['covered_share_mean']}, median {s['covered_share_median']}, "
              f"min {s['covered_share_min']}; all items covered in {s['kits_fully_covered']} kits")
        print(f"  cached questions {s['cached_questions']}; covered items from cached questions {s['covered_items_from_cached_questions']}")
        if any(s["claims"].values()):
            print(f"  plan claims: {s['claims']}; rejected by the support check {s['claims_rejected_share']}")
    print(f"\n-> {path}")


if __name__ == "__main__":
    sys.exit(main())
