"""Interview-kit speed and cost benchmark: "interview kits in half the time at no extra cost".

Measures POST /api/interview/workflow/full and POST /api/interview/generate against
bench/stub_messages_api.py in model-speed mode (latency = ttft + output tokens / tokens per
second, thinking tokens per effort billed as output, prompt-caching usage), each in four cases:

    (a)  use_cache false (the one-call kit), base JD;
    (a') use_cache false, the similar JD: the baseline of (c), so every ratio is to (a) "on the same
         JD in the same run";
    (b)  cache on, from an EMPTY question cache (purged through POST /api/admin/cache/purge); vs (a);
    (c)  cache on, the similar JD, whose plan finds 3 or 4 of its 5 questions in the cache; vs (a').

The base JD is one real posting of ../shared/data/job_descriptions.jsonl (read in place; default
gitlab-site-reliability-engineer-senior: its plan, as sandbox_provider._plan_topics makes it from
keyword counts, is Kubernetes / Terraform / CI/CD plus two competencies, all "senior"). The
similar JD is the same posting for another team: SIMILAR_TITLE_SUFFIX and SIMILAR_TEAM_PARAGRAPH
add "PostgreSQL" three times, which moves the problem_solving slot from CI/CD to PostgreSQL and
leaves the other 4 slots (topic, level and type) as they were, whether the plan reads the basic or
the enhanced text. Every run checks its hit count (response `cached_questions`, else the
questions' `source`): a (c) run under 3 or at 5 hits, or a (b) run with any hit, makes the
measurement invalid and is reported as FAIL.

Prompt-cache state (--prompt-cache warm|cold|both, default both): every case is measured in each
state asked for, and the goals are evaluated, PASS/FAIL, per state, with ratios within the state.

    warm  steady traffic: before the warm phases, untimed, a warm-up sends every kind of call once
          (a workflow and a generate, each with the cache off and on, on requisitions of their own),
          so each purpose's prefix (system prompt + output format) is in the stub's prompt cache
          (5-minute TTL, refreshed by every read; the phases reuse each purpose well within it).
          Checked: no timed call of a warm run writes the prompt cache.
    cold  as after >= 5 minutes without traffic: the stub's prompt cache is emptied just before
          every cold phase (before every kit with --one-at-a-time), through the stub's POST /reset
          when it has one, else by restarting the stub process on the same port (the cache lives in
          its memory; about a second, untimed), and the service is restarted (untimed), so it too
          forgets which prefixes it saw cached and staggers a kit's first fill as after an idle
          period (services/interview_generation.py). Cache writes are then paid by the case that
          makes them. Checked: no run's first call of a purpose reads the prompt cache (the concurrent
          runs of a case could only read each other's writes if they drifted apart by > ttft).

Before the timed phases, untimed: the generate runs' JDs (base and similar) are enhanced, each on
the run's own requisition, beside the warm-up.

Every run uses a fresh requisition id. For each case: the median of --runs runs of the client's
wall time, USD and tokens per kit (the response's `cost_usd` and `usage` when present, else the
sums of the run's generation_logs rows; the two are compared when both exist), and the time per
step from the audit (GET /api/admin/generation-logs?req_id=..., then each row's calls: purpose,
started_at, latency_ms) as start offset and duration after the request started, with the steps
that overlapped, plus an "app" step: the wall time after the end of the last Claude call (DB,
storing the kit and the answer; the question-cache look-up between plan and fills is not in it).
Calls the SDK retried or that failed are counted and shown (they would distort a run's figures).

Load parity and the question cache: every case has a phase of its own, in which its --runs runs
are fired together on different requisitions and nothing else runs (the stub serves every request
on its own thread and its latency depends only on the request, gunicorn has 2 x 32 threads, and
the app's CPU per kit is milliseconds against seconds of waiting). The question cache, which all
runs share, is kept exact by the order of the phases, per state and endpoint (PHASE_ORDER):

    (a)   any question-cache state: it never reads or writes the cache
    (b)   cache purged first
    (c)   the cache as (b) left it: the (b) runs stored the base JD's 5 questions (the cache skips
          duplicates); they are the seed
    (a')  any question-cache state, like (a)

The runs of one (b) or (c) case look up at the same moment (same JD, same latencies), before any
of them stores its new questions, so each sees the seed alone; the hit checks above would show it
if not. --one-at-a-time runs every kit alone instead, restoring the cache state before each (a
purge for (b); for (c), deleting the entries added since the phase began; a prompt-cache reset in
the cold state), to check that firing a case's runs together changes nothing (about 3x as long).

Runtime at the defaults (ttft 1.5 s, 80 tokens/s, both states): about 14 minutes (measured 842 s
on 2 vCPUs): a 1.5-minute untimed warm-up and enhancement, then 16 phases of one case each, 6 minutes
per state, most of it the one-call (a)/(a') kits (1 to 1.5 minutes each); --prompt-cache warm or
cold alone about 7.5 minutes. --ttft 0.2 --tokens-per-second 800: about 2 minutes.

The time gain depends on the stub's thinking table (--thinking, tokens per effort; default
low=0,medium=400,high=1200,xhigh=2400,max=4800), since thinking tokens are output tokens the
client waits for: low=0 means that a call at effort low (e.g. a fill or plan sent at low) thinks 0
tokens and takes ttft + its answer's tokens / tokens-per-second, whereas the one-call kit at its
effort pays the whole table entry. Quote the table with the figures; a different table (a model
that thinks at low, say low=200) changes the ratios. --default-effort: the effort of a request that
names none.

Loopback only; the scratch database (MariaDB if reachable, else SQLite; --db) is dropped at the
end and the stub and gunicorn are always stopped. Exit status 0 when every goal is met in every
state measured, 1 when one is not (0 with --no-fail), 2 when the benchmark could not run.

    python bench/bench_kits.py                                      # defaults: ~14 min
    python bench/bench_kits.py --ttft 0.2 --tokens-per-second 800   # a quick run, ~2 min
    python bench/bench_kits.py --prompt-cache cold --runs 5 --json /tmp/kits.json
"""

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import support
from bench.support import BENCH_DIR, DEFAULT_JD_FILE, REPO_ROOT, RESULTS_DIR

DEFAULT_MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_kits"
DEFAULT_JD_ID = "gitlab-site-reliability-engineer-senior"
DEFAULT_THINKING = "low=0,medium=400,high=1200,xhigh=2400,max=4800"
MAX_JD_CHARS = 20_000
SIMILAR_TITLE_SUFFIX = ", Database Reliability"
SIMILAR_TEAM_PARAGRAPH = (
    "\n\nThis opening is on the Database Reliability team. You will keep PostgreSQL available for GitLab.com, "
    "plan PostgreSQL upgrades and failovers, and tune PostgreSQL replication and backups."
)
ENDPOINTS = {"workflow": "workflow/full", "generate": "generate"}
# Per case: description, JD, use_cache, the case its ratios are to (same JD, same run and state),
# the question-cache state it needs at its phase's start (see the docstring), and its req_id tag.
CASES = {
    "a": {"description": "use_cache false", "similar": False, "use_cache": False, "baseline": "a",
          "question_cache": "any", "tag": "a"},
    "a'": {"description": "use_cache false, similar JD", "similar": True, "use_cache": False, "baseline": "a'",
           "question_cache": "any", "tag": "s"},
    "b": {"description": "cache on, empty cache", "similar": False, "use_cache": True, "baseline": "a",
          "question_cache": "purge", "tag": "b"},
    "c": {"description": "cache on, similar JD", "similar": True, "use_cache": True, "baseline": "a'",
          "question_cache": "keep", "tag": "c"},
}
# The phases of one state and endpoint: (c) right after (b); (a) and (a') around them, so that no
# purpose goes unused for long in the warm state (its prompt-cache entry's TTL is refreshed by reads).
PHASE_ORDER = ("a", "b", "c", "a'")
PROMPT_CACHE_STATES = {
    "warm": "warm (steady traffic: every prefix cached by the warm-up)",
    "cold": "cold (as after >= 5 min without traffic: stub's prompt cache emptied before each phase)",
}
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
# (endpoint, case, measure, at most this multiple of the case's baseline (CASES[case]["baseline"]))
GOALS = (
    ("workflow", "b", "time", 0.5),
    ("workflow", "b", "cost", 1.15),
    ("workflow", "c", "time", 0.4),
    ("workflow", "c", "cost", 0.6),
    ("generate", "b", "time", 0.45),
    ("generate", "c", "time", 0.3),
)
APP_STEP = "app"  # the time per step's row for the wall time after the last Claude call
SHORT_PURPOSE = {
    "jd_enhancement": "enhance",
    "interview_plan": "plan",
    "interview_fill": "fill",
    "interview_generation": "one-call kit",
    APP_STEP: "app (after the last call)",
}


BenchError = support.BenchError


def main(argv=None):
    args = _parse_args(argv)
    support.exit_cleanly_on_signals()
    stamp = support.utc_stamp()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    log_path = os.path.join(RESULTS_DIR, f"kits-{stamp}.log")
    json_path = args.json or os.path.join(RESULTS_DIR, f"kits-{stamp}.json")
    base_jd, similar_jd = _job_descriptions(args)
    started = time.perf_counter()
    try:
        database = _Database(args.db, args.keep_database)
    except BenchError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    app, stub = None, None
    try:
        with open(log_path, "w") as log:
            env = _app_env(args, database.url)
            database.create(env)
            api_key = support.run_flask_cli(env, ["api-keys", "create", "--role", "admin", "--name", "bench-kits", "--quiet"],
                               "api key").strip()
            stub_port, app_port = support.free_port(), support.free_port()
            app_url = f"http://127.0.0.1:{app_port}"
            env["ANTHROPIC_BASE_URL"] = f"http://127.0.0.1:{stub_port}"
            env["BIND"] = f"127.0.0.1:{app_port}"
            stub_command, stub_note = _stub_command(args, stub_port)
            stub = _Stub(stub_command, env, log, f"http://127.0.0.1:{stub_port}", args.startup_timeout)
            app = support.start([sys.executable, "-m", "gunicorn", "-c", args.gunicorn_config], env, log)
            stub.others = [app]
            stub.wait_ready()
            support.wait_ready(f"{app_url}/health/ready", [stub.process, app], args.startup_timeout)

            def restart_app():
                """A new service process: it forgets which prompt-cache prefixes it saw (cold state)."""
                nonlocal app
                support.stop(app)
                app = support.start([sys.executable, "-m", "gunicorn", "-c", args.gunicorn_config], env, log)
                stub.others = [app]
                support.wait_ready(f"{app_url}/health/ready", [stub.process, app], args.startup_timeout)

            stub.restart_app = restart_app
            client = support.ApiClient(app_url, api_key, args.request_timeout)
            result = _run(args, client, stub, base_jd, similar_jd, stamp)
            result["stub"] = {"command": stub_command[1:], "note": stub_note,
                              "health": support.get_json(f"{stub.url}/health"),
                              "prompt_cache_resets": dict(stub.resets)}
            result["stub"]["calls_by_phase"] = _stub_calls_by_phase(stub.calls(), result["phases"])
    except (BenchError, RuntimeError) as exc:
        print(f"ERROR: {exc} (servers' log: {os.path.relpath(log_path, REPO_ROOT)})", file=sys.stderr)
        return 2
    finally:
        if app is not None:
            support.stop(app)
        if stub is not None:
            stub.stop()
        database.drop()

    result["summary"] = _summarise(result["runs"], args)
    result["goals"] = _goals(result["summary"], result["runs"], args)
    result["setup"] = _setup(args, database, env, base_jd, similar_jd, log_path)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    with open(json_path, "w") as fh:
        json.dump(result, fh, indent=2, default=str)
    _print_report(result, json_path)
    failed = [goal for goal in result["goals"] if not goal["ok"]]
    return 0 if not failed or args.no_fail else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Interview-kit wall time and cost: cache off, empty cache, similar JD.")
    parser.add_argument("--runs", type=int, default=3, help="runs per case; the median is reported (default 3)")
    parser.add_argument("--ttft", type=float, default=1.5, help="stub: seconds to the first token (default 1.5)")
    parser.add_argument("--tokens-per-second", type=float, default=80.0, help="stub: output tokens per second (default 80)")
    parser.add_argument("--thinking", default=DEFAULT_THINKING,
                        help=f"stub: thinking tokens per effort, overriding its table (default {DEFAULT_THINKING}); "
                             "the time gain depends on it: low=0 means a call at effort low thinks 0 tokens")
    parser.add_argument("--default-effort", default="high",
                        help="stub: effort of a request that names none (default high)")
    parser.add_argument("--prompt-cache", choices=("warm", "cold", "both"), default="both",
                        help="the stub's prompt-cache state to measure: warm (steady traffic, after a warm-up), cold "
                             "(emptied before each phase, as after 5 minutes without traffic) or both (default)")
    parser.add_argument("--db", default="auto",
                        help="auto (MariaDB at 127.0.0.1:3306 if reachable, else SQLite), mariadb, sqlite, or a "
                             f"MySQL/MariaDB URL whose database name contains 'bench' (DROPPED and recreated; "
                             f"default URL {DEFAULT_MARIADB_URL})")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the scratch database at the end")
    parser.add_argument("--jd-file", default=DEFAULT_JD_FILE, help="job descriptions, JSON lines (default ../shared/data/job_descriptions.jsonl)")
    parser.add_argument("--jd-id", default=DEFAULT_JD_ID, help=f"id of the base JD in --jd-file (default {DEFAULT_JD_ID})")
    parser.add_argument("--endpoints", default="workflow,generate",
                        help="comma-separated: workflow, generate (default both)")
    parser.add_argument("--one-at-a-time", action="store_true",
                        help="run every kit alone, restoring the cache state before each (slow; see the docstring)")
    parser.add_argument("--prices-json", default=None,
                        help="CLAUDE_PRICES_JSON for the app, e.g. for a model services/pricing.py does not price")
    parser.add_argument("--json", default=None, help="write the raw figures here (default bench/results/kits-<UTC>.json)")
    parser.add_argument("--no-fail", action="store_true", help="exit 0 even when a goal fails")
    parser.add_argument("--request-timeout", type=float, default=300.0, help="client timeout per HTTP call, s (default 300)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="longest wait for the servers, s (default 60)")
    parser.add_argument("--gunicorn-config", default="gunicorn.conf.py",
                        help="gunicorn config file, relative to the repo (default: the repo's gunicorn.conf.py)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.ttft < 0 or args.tokens_per_second <= 0:
        parser.error("--ttft must be >= 0 and --tokens-per-second > 0")
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]
    if not args.endpoints or set(args.endpoints) - set(ENDPOINTS):
        parser.error(f"--endpoints takes a comma-separated subset of {', '.join(ENDPOINTS)}")
    # Warm first: the warm-up then runs beside the untimed enhancements, right before the warm phases.
    args.states = ["warm", "cold"] if args.prompt_cache == "both" else [args.prompt_cache]
    return args

# --- Setup -----------------------------------------------------------------------------------

def _job_descriptions(args):
    """The base JD (by id) and the similar JD made from it."""
    jds = {jd["id"]: jd for jd in support.load_job_descriptions(args.jd_file)}
    if args.jd_id not in jds:
        sys.exit(f"no job description with id {args.jd_id!r} in {args.jd_file}")
    base = jds[args.jd_id]
    similar = dict(base, id=f"{base['id']} (similar: +PostgreSQL team paragraph)",
                   title=base["title"] + SIMILAR_TITLE_SUFFIX, description=base["description"] + SIMILAR_TEAM_PARAGRAPH)
    return base, similar


class _Database:
    """The scratch database: MariaDB/MySQL (dropped and recreated) or a temporary SQLite file."""

    def __init__(self, choice, keep):
        self.keep = keep
        self.tmpdir = None
        self.fallback_reason = None
        if choice in ("auto", "mariadb", "mysql"):
            url = DEFAULT_MARIADB_URL
        elif choice == "sqlite":
            url = None
        else:
            url = choice
        if url is not None:
            try:
                support.server_connection(url).close()
            except Exception as exc:  # noqa: BLE001 - any failure to connect: fall back or stop
                if choice != "auto":
                    raise BenchError(f"cannot reach the database server of {url}: {exc}") from None
                self.fallback_reason = f"MariaDB at {DEFAULT_MARIADB_URL} not reachable ({type(exc).__name__})"
                url = None
        if url is None:
            self.tmpdir = tempfile.mkdtemp(prefix="techscreen-bench-kits-")
            url = f"sqlite:///{os.path.join(self.tmpdir, 'kits.sqlite3')}"
        self.url = url
        self.is_sqlite = url.startswith("sqlite")

    def create(self, env):
        """Create the empty database and run the migrations."""
        if not self.is_sqlite:
            support.recreate_database(self.url)
        support.run_flask_cli(env, ["db", "upgrade"], "migrations")

    def drop(self):
        if self.keep:
            return
        if self.is_sqlite:
            for name in os.listdir(self.tmpdir):
                os.remove(os.path.join(self.tmpdir, name))
            os.rmdir(self.tmpdir)
        else:
            try:
                support.drop_database(self.url)
            except Exception as exc:  # noqa: BLE001 - reported, never hides the result
                print(f"warning: could not drop the bench database: {exc}", file=sys.stderr)

    def describe(self):
        if self.is_sqlite:
            return "SQLite (temporary file)" + (f"; {self.fallback_reason}" if self.fallback_reason else "")
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        try:
            connection = support.server_connection(self.url)
            version = connection.get_server_info()
            connection.close()
        except Exception as exc:  # noqa: BLE001 - the version is decoration
            version = f"unknown: {type(exc).__name__}"
        return f"{url.drivername}://{url.host}:{url.port or 3306}/{url.database} (server {version})"


def _app_env(args, database_url):
    env = support.app_env(
        # Production refuses SQLite, so the SQLite fallback runs as development (the provider is
        # still "anthropic": every call goes through the SDK to the stub).
        APP_ENV="development" if database_url.startswith("sqlite") else "production",
        DATABASE_URL=database_url,
        ANTHROPIC_API_KEY="local-key",
        CLAUDE_MODEL="claude-sonnet-5-5",
        ENABLE_QUESTION_CACHE="true",
    )
    if args.prices_json:
        env["CLAUDE_PRICES_JSON"] = args.prices_json
    return env


def _stub_command(args, port):
    """The stub's command line in model-speed mode, and a warning when the stub has no such mode."""
    stub = os.path.join(BENCH_DIR, "stub_messages_api.py")
    command = [sys.executable, stub, "--port", str(port)]
    usage = subprocess.run([sys.executable, stub, "--help"], cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=30, check=False).stdout
    if "--ttft" not in usage:
        return command + ["--delay", str(args.ttft)], (
            f"WARNING: this stub has no model-speed mode (--ttft); it answers every call after a fixed "
            f"{args.ttft:g} s, so the figures say nothing about the goals")
    return command + ["--ttft", str(args.ttft), "--tokens-per-second", str(args.tokens_per_second),
                      "--thinking", args.thinking, "--default-effort", args.default_effort], None



class _Stub:
    """The stub Messages API subprocess, and emptying its prompt cache (POST /reset, else a restart).

    A restart loses the stub's /stats, so they are kept first; ``calls`` returns every process's.
    """

    def __init__(self, command, env, log, url, startup_timeout):
        self.command, self.env, self.log, self.url = command, env, log, url
        self.startup_timeout = startup_timeout
        self.others = []  # processes whose exit wait_ready reports (gunicorn)
        self.has_reset_hook = None  # unknown until the first reset
        self.resets = {"hook": 0, "restart": 0}
        self._earlier_calls = []
        self.process = support.start(command, env, log)

    def wait_ready(self):
        support.wait_ready(f"{self.url}/health", [self.process, *self.others], self.startup_timeout)

    def reset_prompt_cache(self):
        """Empty the stub's prompt cache; return how ("hook" or "restart")."""
        if self.has_reset_hook is not False:
            request = urllib.request.Request(f"{self.url}/reset", data=b"{}", method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with support.OPENER.open(request, timeout=10) as response:
                    self.has_reset_hook = response.status == 200
            except urllib.error.HTTPError as exc:
                if exc.code not in (404, 405, 501):
                    raise BenchError(f"POST {self.url}/reset answered HTTP {exc.code}") from None
                self.has_reset_hook = False
            except (urllib.error.URLError, OSError) as exc:
                raise BenchError(f"the stub did not answer POST /reset: {exc}") from None
            if self.has_reset_hook:
                self.resets["hook"] += 1
                return "hook"
        self._earlier_calls.extend(self._current_calls())
        support.stop(self.process)
        self.process = support.start(self.command, self.env, self.log)  # same port: the app's URL stays
        self.wait_ready()
        self.resets["restart"] += 1
        return "restart"

    def _current_calls(self):
        stats = support.get_json(f"{self.url}/stats")
        rows = stats.get("calls")
        if rows is None:  # a stub without model-speed mode: arrivals only
            rows = [[*arrival, None, None, None, None] for arrival in stats.get("arrivals", [])]
        return rows

    def calls(self):
        """[unix time, schema title, effort, model, usage, latency_s] of every call, across restarts."""
        return self._earlier_calls + self._current_calls()

    def stop(self):
        support.stop(self.process)

# --- Loopback HTTP -----------------------------------------------------------------------------

def _concurrently(functions, timeout):
    """Call every function on its own thread; return their results in order (None if unfinished)."""
    results = [None] * len(functions)

    def call(index):
        try:
            results[index] = functions[index]()
        except Exception as exc:  # noqa: BLE001 - reported as that call's outcome
            results[index] = exc

    threads = [threading.Thread(target=call, args=(i,), daemon=True) for i in range(len(functions))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return results


# --- The question cache through the admin API --------------------------------------------------

def _purge_cache(client):
    client.ok("POST", "/api/admin/cache/purge", {"all": True})
    entries = client.ok("GET", "/api/admin/cache?per_page=1")["stats"]["entries"]
    if entries:
        raise BenchError(f"the question cache still holds {entries} entries after the purge")


def _cache_entry_ids(client):
    ids, page = set(), 1
    while True:
        answer = client.ok("GET", f"/api/admin/cache?per_page=200&page={page}")
        ids.update(entry["id"] for entry in answer["entries"])
        if page * 200 >= answer["pagination"]["total"]:
            return ids
        page += 1


def _restore_cache(client, snapshot):
    """Delete every cache entry not in ``snapshot`` (the ids at the phase's start)."""
    for entry_id in sorted(_cache_entry_ids(client) - snapshot):
        client.ok("DELETE", f"/api/admin/cache/{entry_id}")


# --- The benchmark ---------------------------------------------------------------------------

def _enhance_body(jd, req_id):
    return support.enhance_body(jd, req_id, MAX_JD_CHARS)


def _run(args, client, stub, base_jd, similar_jd, stamp):
    tag = stamp[4:8] + stamp[9:15]  # MMDDHHMMSS: req ids unique across runs on a kept database
    jobs = []
    for state in args.states:
        for endpoint in args.endpoints:
            for case, spec in CASES.items():
                for index in range(1, args.runs + 1):
                    jobs.append({
                        "state": state, "endpoint": endpoint, "case": case, "index": index,
                        "req_id": f"KITS-{tag}-{state[0].upper()}{endpoint[:3].upper()}-{spec['tag']}{index}",
                        "jd": similar_jd if spec["similar"] else base_jd,
                        # Until the kit's answer is read (kept if the client fails or times out):
                        "status": 0, "ok": False, "problems": ["no answer within the client timeout"],
                        "sent_unix": None, "wall_s": None, "cached_questions": None, "response_cost_usd": None,
                        "response_usage": None,
                    })

    # Untimed: the enhanced JDs the generate runs start from, and the warm-up alongside.
    generate_jobs = [job for job in jobs if job["endpoint"] == "generate"]
    prep_started = time.perf_counter()
    warm_up = [lambda: _warm_up(client, base_jd, tag, args.request_timeout)] if "warm" in args.states else []
    answers = _concurrently(
        [lambda job=job: client.request("POST", "/api/interview/jd/enhance", _enhance_body(job["jd"], job["req_id"]))
         for job in generate_jobs] + warm_up, 2 * args.request_timeout + 60)
    for job, answer in zip(generate_jobs, answers):
        if not isinstance(answer, tuple) or answer[0] != 200:
            detail = json.dumps(answer[1])[:300] if isinstance(answer, tuple) else repr(answer)
            raise BenchError(f"enhancing {job['req_id']} failed: {detail}")
        job["job_description_id"] = answer[1]["job_description_id"]
    warm_up_outcome = answers[-1] if warm_up else "none (no warm state measured)"
    print(f"prepared {len(generate_jobs)} enhanced JDs for the generate runs"
          + (f" and warmed up ({warm_up_outcome})" if warm_up else "")
          + f" in {time.perf_counter() - prep_started:.1f} s (untimed)", flush=True)

    phases = []
    for state in args.states:
        for endpoint in args.endpoints:
            for case in PHASE_ORDER:
                phase_jobs = [job for job in jobs if (job["state"], job["endpoint"], job["case"]) == (state, endpoint, case)]
                phases.append(_phase(args, client, stub, state, endpoint, case, CASES[case]["question_cache"], phase_jobs))

    for job in jobs:  # after every phase, so the audit reads never overlap a timed request
        _attach_audit(client, job)
    runs = []
    for job in jobs:
        jd = job.pop("jd")
        runs.append({**job, "jd": jd["id"]})
    return {"started_at": stamp, "warm_up": str(warm_up_outcome), "phases": phases, "runs": runs}


def _phase(args, client, stub, state, endpoint, case, question_cache, phase_jobs):
    """Run one case's kits (together, or one at a time) in its question- and prompt-cache state."""
    if question_cache == "purge":
        _purge_cache(client)
    snapshot = _cache_entry_ids(client)
    prompt_cache = "kept (warm)"
    if state == "cold" and not args.one_at_a_time:
        prompt_cache = f"emptied ({stub.reset_prompt_cache()}), service restarted"
        stub.restart_app()
    started_unix, started = time.time(), time.perf_counter()
    if args.one_at_a_time:
        for job in phase_jobs:
            if question_cache == "purge":
                _purge_cache(client)
            elif question_cache == "keep":
                _restore_cache(client, snapshot)
            if state == "cold":
                prompt_cache = f"emptied before each kit ({stub.reset_prompt_cache()}), service restarted"
                stub.restart_app()
            _run_kit(client, job, args.request_timeout)
    else:
        _concurrently([lambda job=job: _run_kit(client, job, args.request_timeout) for job in phase_jobs],
                      args.request_timeout + 30)
    name = f"{state} {ENDPOINTS[endpoint]} ({case})"
    phase = {"name": name, "state": state, "endpoint": endpoint, "case": case,
             "question_cache": question_cache, "cache_entries_at_start": len(snapshot), "prompt_cache": prompt_cache,
             "started_unix": round(started_unix, 4), "ended_unix": round(time.time(), 4),
             "wall_s": round(time.perf_counter() - started, 2)}
    ok = sum(1 for job in phase_jobs if job.get("ok"))
    print(f"{name}: question cache {question_cache} ({len(snapshot)} entries at start), prompt cache {prompt_cache}: "
          f"{ok}/{len(phase_jobs)} kits OK in {phase['wall_s']:.1f} s", flush=True)
    return phase


def _warm_up(client, jd, tag, timeout):
    """Send every kind of Claude call once (both endpoints, cache off and on), so that each purpose's
    prefix is in the stub's prompt cache before the warm phases; return what answered."""
    def workflow(use_cache):
        body = {**_enhance_body(jd, f"KITS-{tag}-WARM-WF{int(use_cache)}"), "use_cache": use_cache}
        return client.request("POST", "/api/interview/workflow/full", body, timeout=timeout)[0]

    def generate():
        req_id = f"KITS-{tag}-WARM-GEN"
        status, payload, _, _ = client.request("POST", "/api/interview/jd/enhance", _enhance_body(jd, req_id), timeout=timeout)
        if status != 200:
            return [status]
        bodies = [{"req_id": req_id, "job_description_id": payload["job_description_id"], "use_cache": use_cache}
                  for use_cache in (False, True)]
        return _concurrently([lambda body=body: client.request("POST", "/api/interview/generate", body, timeout=timeout)[0]
                              for body in bodies], timeout + 30)

    first, second, generated = _concurrently([lambda: workflow(False), lambda: workflow(True), generate], 2 * timeout + 60)
    statuses = [first, second, *(generated if isinstance(generated, list) else [generated])]
    ok = sum(1 for status in statuses if status == 200)
    return f"{ok}/4 warm-up calls answered 200" + ("" if ok == 4 else f": {statuses}")


def _run_kit(client, job, timeout):
    """POST one kit request and record its outcome into ``job``."""
    use_cache = CASES[job["case"]]["use_cache"]
    name = f"{job['jd']['title'][:180]} - bench {job['state']} {job['case']}{job['index']}"
    if job["endpoint"] == "workflow":
        path = "/api/interview/workflow/full"
        body = {**_enhance_body(job["jd"], job["req_id"]), "interview_name": name, "use_cache": use_cache}
    else:
        path = "/api/interview/generate"
        body = {"req_id": job["req_id"], "job_description_id": job["job_description_id"], "interview_name": name,
                "use_cache": use_cache}
    status, payload, seconds, sent_unix = client.request("POST", path, body, timeout=timeout)
    payload = payload if isinstance(payload, dict) else {}
    questions = (payload.get("interview") or {}).get("questions") or []
    problems = [] if status == 200 else [f"HTTP {status}: {json.dumps(payload)[:300]}"]
    if status == 200:
        problems = _kit_problems(questions)
    job.update({
        "status": status,
        "ok": not problems,
        "problems": problems,
        "sent_unix": round(sent_unix, 4),
        "wall_s": round(seconds, 3),
        "cached_questions": payload.get("cached_questions",
                                        sum(1 for q in questions if q.get("source") == "cache") if questions else None),
        "cached_questions_source": "response" if "cached_questions" in payload else "questions' source",
        "response_cost_usd": payload.get("cost_usd"),
        "response_usage": payload.get("usage"),
        "response_tokens": payload.get("total_tokens_used", payload.get("tokens_used")),
        "question_slots": [(q.get("question_type"), q.get("skill_level"), q.get("topic"), q.get("source"))
                           for q in questions],
    })


def _kit_problems(questions):
    """What is wrong with a kit: it needs 5 questions numbered 1-5 with 8-10 criteria each."""
    problems = []
    if len(questions) != 5:
        problems.append(f"{len(questions)} questions")
    if sorted(q.get("question_number") for q in questions) != list(range(1, len(questions) + 1)):
        problems.append("question numbers are not 1-5")
    for q in questions:
        criteria = q.get("criteria") or []
        if not 8 <= len(criteria) <= 10:
            problems.append(f"question {q.get('question_number')} has {len(criteria)} criteria")
        if not (q.get("question_text") or "").strip():
            problems.append(f"question {q.get('question_number')} has no text")
    return problems


def _attach_audit(client, job):
    """Add the run's audit rows and calls, cost and tokens, and its time per step, to ``job``."""
    if job["sent_unix"] is None:  # the request was never sent
        job.update({"operations": [], "calls": [], "audit_cost_usd": None, "audit_tokens": None, "unpriced_calls": 0,
                    "irregular_calls": 0, "audit_cache_hits": None, "cost_usd": None, "cost_source": "none",
                    "tokens": dict.fromkeys(TOKEN_KINDS, 0), "tokens_source": "none", "steps": {},
                    "audit_matches_response": None})
        return
    rows = client.ok("GET", f"/api/admin/generation-logs?req_id={job['req_id']}&limit=200")["generation_logs"]
    # A generate run's requisition also holds its untimed enhancement: keep what the timed request did.
    rows = [row for row in rows if _unix(row["started_at"]) >= job["sent_unix"] - 0.5]
    operations, calls = [], []
    for row in sorted(rows, key=lambda r: (r["started_at"], r["id"])):
        detail = client.ok("GET", f"/api/admin/generation-logs/{row['id']}")["generation_log"]
        operations.append({key: detail.get(key) for key in (
            "id", "operation_type", "status", "error_kind", "claude_calls", *TOKEN_KINDS, "cost_usd", "unpriced_calls",
            "latency_ms", "cache_hits", "cache_misses", "started_at", "completed_at")})
        for call in detail.get("calls") or []:
            start = _unix(call["started_at"]) - job["sent_unix"]
            calls.append({
                "purpose": call["purpose"], "attempt": call.get("attempt"), "outcome": call.get("outcome"),
                "effort": call.get("effort"), "model": call.get("model"),
                "start_s": round(start, 3), "latency_s": round(call["latency_ms"] / 1000, 3),
                **{kind: call.get(kind) or 0 for kind in TOKEN_KINDS}, "cost_usd": call.get("cost_usd"),
            })
    audit_cost = sum((Decimal(op["cost_usd"] or "0") for op in operations), Decimal(0))
    audit_tokens = {kind: sum(op[kind] or 0 for op in operations) for kind in TOKEN_KINDS}
    unpriced = sum(op["unpriced_calls"] or 0 for op in operations) + sum(1 for c in calls if c["cost_usd"] is None)
    usage = job.get("response_usage")
    job.update({
        "operations": operations,
        "calls": calls,
        "audit_cost_usd": str(audit_cost),
        "audit_tokens": audit_tokens,
        "unpriced_calls": unpriced,
        "audit_cache_hits": sum(op["cache_hits"] or 0 for op in operations),
        "cost_usd": job["response_cost_usd"] if job.get("response_cost_usd") is not None else str(audit_cost),
        "cost_source": "response" if job.get("response_cost_usd") is not None else "audit",
        "tokens": ({kind: int(usage.get(kind) or 0) for kind in TOKEN_KINDS} if isinstance(usage, dict)
                   else audit_tokens),
        "tokens_source": "response" if isinstance(usage, dict) else "audit",
        # Attempts the SDK retried (attempt > 0) or that did not answer ok: they distort the run's time.
        "irregular_calls": sum(1 for c in calls if (c["attempt"] or 0) > 0 or c["outcome"] not in (None, "ok")),
        "steps": _steps(calls, job["wall_s"] if job.get("status") == 200 else None),
    })
    job["audit_matches_response"] = (
        Decimal(job["response_cost_usd"]) == audit_cost and job["tokens"] == audit_tokens
        if job["cost_source"] == "response" and job["tokens_source"] == "response" else None)


def _unix(iso):
    return datetime.fromisoformat(iso).timestamp()


def _steps(calls, wall_s):
    """Per purpose: calls, first start and last end (s after the request was sent), effort(s) sent;
    plus APP_STEP: from the end of the last call to the answer (wall_s), when the run answered."""
    steps = {}
    for call in calls:
        step = steps.setdefault(call["purpose"], {"calls": 0, "start_s": call["start_s"], "end_s": 0.0, "efforts": []})
        step["calls"] += 1
        step["start_s"] = min(step["start_s"], call["start_s"])
        step["end_s"] = max(step["end_s"], round(call["start_s"] + call["latency_s"], 3))
        if call["effort"] and call["effort"] not in step["efforts"]:
            step["efforts"].append(call["effort"])
    for step in steps.values():
        step["duration_s"] = round(step["end_s"] - step["start_s"], 3)
    if calls and wall_s is not None:
        last_end = max(step["end_s"] for step in steps.values())
        steps[APP_STEP] = {"calls": None, "start_s": last_end, "end_s": wall_s,
                           "duration_s": round(wall_s - last_end, 3), "efforts": []}
    return steps


def _stub_calls_by_phase(rows, phases):
    """The stub's calls in each phase, by schema, effort and model: count, median latency and tokens."""
    result = {}
    for phase in phases:
        groups = {}
        for when, title, effort, model, usage, latency in rows:
            if phase["started_unix"] - 0.05 <= when <= phase["ended_unix"]:
                group = groups.setdefault(f"{title} / {effort} / {model}",
                                          {"latency_s": [], "output_tokens": [], "cache_write": 0, "calls": 0})
                group["calls"] += 1
                if latency is not None:
                    group["latency_s"].append(latency)
                if usage:
                    group["output_tokens"].append(usage.get("output_tokens") or 0)
                    group["cache_write"] += 1 if usage.get("cache_creation_input_tokens") else 0
        result[phase["name"]] = {
            key: {"calls": g["calls"], "prompt_cache_writes": g["cache_write"],
                  "median_latency_s": _median(g["latency_s"]), "median_output_tokens": _median(g["output_tokens"])}
            for key, g in groups.items()
        }
    return result


# --- Figures and goals -------------------------------------------------------------------------

def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 6) if values else None


def _summarise(runs, args):
    """Per prompt-cache state, endpoint and case: medians of the runs, ratios to the case's baseline
    (same state, endpoint and JD), steps and overlaps."""
    summary = {}
    for state in args.states:
        for endpoint in args.endpoints:
            for case, spec in CASES.items():
                mine = [r for r in runs if (r["state"], r["endpoint"], r["case"]) == (state, endpoint, case)]
                priced = all(r["unpriced_calls"] == 0 for r in mine)
                steps = {}
                for purpose in sorted({p for r in mine for p in r["steps"]}, key=_purpose_order):
                    present = [r["steps"][purpose] for r in mine if purpose in r["steps"]]
                    steps[purpose] = {
                        "runs": len(present),
                        "calls": _median([s["calls"] for s in present]),
                        "start_s": _median([s["start_s"] for s in present]),
                        "duration_s": _median([s["duration_s"] for s in present]),
                        "end_s": _median([s["end_s"] for s in present]),
                        "efforts": sorted({e for s in present for e in s["efforts"]}),
                    }
                summary[f"{state}/{endpoint}/{case}"] = {
                    "state": state, "endpoint": endpoint, "case": case, "description": spec["description"],
                    "baseline": spec["baseline"], "runs": len(mine),
                    "kits_ok": sum(1 for r in mine if r.get("ok")),
                    "wall_s": _median([r.get("wall_s") for r in mine if r.get("ok")]),
                    "wall_s_each": [r.get("wall_s") for r in mine],
                    "cost_usd": _median([float(r["cost_usd"]) for r in mine if r.get("ok")]) if priced else None,
                    "cost_source": sorted({r["cost_source"] for r in mine}),
                    "tokens": {kind: _median([r["tokens"][kind] for r in mine if r.get("ok")]) for kind in TOKEN_KINDS},
                    "tokens_source": sorted({r["tokens_source"] for r in mine}),
                    "cached_questions": [r.get("cached_questions") for r in mine],
                    "unpriced_calls": sum(r["unpriced_calls"] for r in mine),
                    "irregular_calls": sum(r["irregular_calls"] for r in mine),
                    "steps": steps,
                    "overlaps": _overlaps({p: s for p, s in steps.items() if p != APP_STEP}),
                }
    for entry in summary.values():
        base = summary.get(f"{entry['state']}/{entry['endpoint']}/{entry['baseline']}")
        entry["time_ratio"] = _ratio(entry["wall_s"], base and base["wall_s"])
        entry["cost_ratio"] = _ratio(entry["cost_usd"], base and base["cost_usd"])
    return summary


def _purpose_order(purpose):
    order = [p for p in SHORT_PURPOSE if p != APP_STEP]
    root = purpose.split(".")[0]
    rank = order.index(root) if root in order else len(order) + (1 if purpose == APP_STEP else 0)
    return (rank, purpose)


def _overlaps(steps):
    """Pairs of steps whose median intervals overlap by more than 0.1 s (they ran concurrently)."""
    names = list(steps)
    found = []
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            a, b = steps[first], steps[second]
            if min(a["end_s"], b["end_s"]) - max(a["start_s"], b["start_s"]) > 0.1:
                found.append([first, second])
    return found


def _ratio(value, base):
    return round(value / base, 4) if value is not None and base else None


def _goals(summary, runs, args):
    """Per prompt-cache state, every goal with its verdict: the ratios, every kit valid, and the
    question- and prompt-cache states the cases need."""
    goals = []
    for state in args.states:
        def add(goal, value, ok, note=None, state=state):
            goals.append({"state": state, "goal": goal, "value": value, "ok": ok, "note": note})

        for endpoint, case, measure, limit in GOALS:
            entry = summary.get(f"{state}/{endpoint}/{case}")
            if entry is None:
                continue
            value = entry["time_ratio" if measure == "time" else "cost_ratio"]
            note = None
            if value is None:
                note = ("unpriced calls: pass --prices-json" if measure == "cost" and entry["unpriced_calls"]
                        else "no figure (failed kits?)")
            add(f"{ENDPOINTS[endpoint]} ({case}) {measure} <= {limit:g}x ({entry['baseline']})", value,
                value is not None and value <= limit, note)
        mine = [r for r in runs if r["state"] == state]
        bad = [f"{r['req_id']}: {'; '.join(r['problems']) or 'no answer'}" for r in mine if not r.get("ok")]
        add("every kit: 5 questions with 8-10 criteria", f"{len(mine) - len(bad)}/{len(mine)}", not bad,
            "; ".join(bad)[:500] or None)
        for entry in summary.values():
            if entry["state"] != state:
                continue
            hits = entry["cached_questions"]
            if entry["case"] == "b":
                ok = all(h == 0 for h in hits)
                add(f"valid: {ENDPOINTS[entry['endpoint']]} (b) from an empty cache (0 hits)", hits, ok,
                    None if ok else "a run saw another run's questions")
            elif entry["case"] == "c":
                ok = all(h is not None and 3 <= h <= 4 for h in hits)
                add(f"valid: {ENDPOINTS[entry['endpoint']]} (c) finds 3-4 of 5 questions cached", hits, ok,
                    None if ok else "the similar JD's plan does not meet the seeded cache as intended")
        calls = [(r["req_id"], call) for r in mine for call in r["calls"]]
        if state == "warm":
            writers = sorted({req_id for req_id, call in calls if call["cache_creation_input_tokens"]})
            add("valid: warm, no timed call wrote the prompt cache",
                f"{sum(1 for _, call in calls if call['cache_creation_input_tokens'])}/{len(calls)} calls", not writers,
                f"a prefix was not cached (expired? the warm-up missed a kind of call): {', '.join(writers)[:300]}"
                if writers else None)
        else:
            readers = []
            for run in mine:
                seen = set()
                for call in sorted(run["calls"], key=lambda c: c["start_s"]):
                    root = call["purpose"].split(".")[0]
                    if root not in seen:
                        seen.add(root)
                        if call["cache_read_input_tokens"]:
                            readers.append(f"{run['req_id']} {_step_name(root)}")
            firsts = sum(len({c["purpose"].split(".")[0] for c in r["calls"]}) for r in mine)
            add("valid: cold, no run's first call of a purpose read the prompt cache",
                f"{len(readers)}/{firsts} first calls read", not readers,
                f"read another run's write (runs drifted apart by > ttft?) or the reset failed: "
                f"{', '.join(readers)[:300]}" if readers else None)
    return goals


# --- Report ----------------------------------------------------------------------------------

def _setup(args, database, env, base_jd, similar_jd, log_path):
    return {
        "command": "python bench/bench_kits.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:]),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "database": database.describe(),
        "app_env": env.get("APP_ENV"),
        "model": env.get("CLAUDE_MODEL"),
        "gunicorn": {"config": args.gunicorn_config, "workers": env.get("GUNICORN_WORKERS", "2 (default)"),
                     "threads": env.get("GUNICORN_THREADS", "32 (default)")},
        "stub": {"ttft_s": args.ttft, "tokens_per_second": args.tokens_per_second, "thinking": args.thinking,
                 "default_effort": args.default_effort},
        "prompt_cache_states": args.states,
        "runs_per_case": args.runs,
        "schedule": ("one at a time" if args.one_at_a_time
                     else "one phase per case, its runs together and nothing else (see the docstring)"),
        "base_jd": base_jd["id"],
        "similar_jd": similar_jd["id"],
        "jd_file": os.path.relpath(os.path.abspath(args.jd_file), REPO_ROOT),
        "git": support.git_state(),
        "server_log": os.path.relpath(log_path, REPO_ROOT),
    }


def _fmt(value, spec, none="-"):
    return none if value is None else format(value, spec)


def _step_name(purpose):
    root, _, rest = purpose.partition(".")
    return SHORT_PURPOSE.get(root, root) + (f" {rest}" if rest else "")


def _print_report(result, json_path):
    setup, summary = result["setup"], result["summary"]
    stub = setup["stub"]
    print()
    print(f"### Interview kits: time and cost ({setup['date_utc']})")
    print()
    print(f"`{setup['command']}`")
    print()
    resets = result["stub"].get("prompt_cache_resets") or {}
    print(f"Code {setup['git']}; {setup['machine']['cpus']} CPUs, Python {setup['machine']['python']}; "
          f"{setup['database']}; gunicorn {setup['gunicorn']['config']} ({setup['gunicorn']['workers']} workers x "
          f"{setup['gunicorn']['threads']} threads); model {setup['model']}; stub ttft {stub['ttft_s']:g} s, "
          f"{stub['tokens_per_second']:g} tokens/s, thinking {stub['thinking']}, default effort "
          f"{stub['default_effort']}; base JD `{setup['base_jd']}`; medians of {setup['runs_per_case']} runs per case, "
          f"{setup['schedule']}; prompt cache {' and '.join(PROMPT_CACHE_STATES[s] for s in setup['prompt_cache_states'])}"
          + (f"; stub prompt cache emptied {resets.get('hook', 0)} times by POST /reset, "
             f"{resets.get('restart', 0)} by a restart" if 'cold' in setup['prompt_cache_states'] else "") + ".")
    if result["stub"].get("note"):
        print(f"\n**{result['stub']['note']}**")
    print()
    print("| prompt cache | endpoint | case | wall s | time vs | USD per kit | cost vs | input | output | cache write "
          "| cache read | cached questions | kits OK |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for entry in summary.values():
        tokens = entry["tokens"]
        versus = f" ({entry['baseline']})" if entry["baseline"] != entry["case"] else ""
        print(f"| {entry['state']} | {ENDPOINTS[entry['endpoint']]} | ({entry['case']}) {entry['description']} "
              f"| {_fmt(entry['wall_s'], '.1f')} | {_fmt(entry['time_ratio'], '.2f')}{versus} "
              f"| {_fmt(entry['cost_usd'], '.4f', 'unpriced' if entry['unpriced_calls'] else '-')} "
              f"| {_fmt(entry['cost_ratio'], '.2f')}{versus} | "
              + " | ".join(_fmt(tokens[kind], ",.0f") for kind in TOKEN_KINDS)
              + f" | {', '.join(str(h) for h in entry['cached_questions'])} | {entry['kits_ok']}/{entry['runs']} |")
    sources = sorted({s for e in summary.values() for s in e["cost_source"] + e["tokens_source"]})
    described = {"response": "the responses' `cost_usd` and `usage`", "audit": "the sums of each run's generation_logs rows",
                 "none": "nothing (unanswered runs)"}
    checked = [r for r in result["runs"] if r["audit_matches_response"] is not None]
    print()
    print(f"Ratios are to (a) on the same JD in the same state: (b) to (a), (c) to (a') (the similar JD). Wall time: "
          f"the client's, request sent to answer read. USD and tokens per kit: "
          f"{' or '.join(described[s] for s in sources)}"
          + (f"; they equal the audit's sums in {sum(1 for r in checked if r['audit_matches_response'])} of "
             f"{len(checked)} runs." if checked else "."))
    irregular = {key: e["irregular_calls"] for key, e in summary.items() if e["irregular_calls"]}
    if irregular:
        print(f"\n**Calls retried by the SDK or failed (they distort those figures): "
              f"{', '.join(f'{k}: {v}' for k, v in irregular.items())}.**")
    print()
    print("Time per step (audit calls; median of the runs, s after the request was sent; app: wall time after "
          "the end of the last Claude call):")
    print()
    print("| prompt cache | endpoint | case | step | calls | start s | duration s | end s | effort | concurrent with |")
    print("|---|---|---|---|---:|---:|---:|---:|---|---|")
    for entry in summary.values():
        for purpose, step in entry["steps"].items():
            others = [b if a == purpose else a for a, b in entry["overlaps"] if purpose in (a, b)]
            print(f"| {entry['state']} | {ENDPOINTS[entry['endpoint']]} | ({entry['case']}) | {_step_name(purpose)} "
                  f"| {_fmt(step['calls'], 'g')} | {_fmt(step['start_s'], '.1f')} | {_fmt(step['duration_s'], '.2f')} "
                  f"| {_fmt(step['end_s'], '.1f')} | {', '.join(step['efforts']) or '-'} "
                  f"| {', '.join(_step_name(o) for o in others) or '-'} |")
    print()
    print("Stub calls per phase (schema / effort / model: calls, prompt-cache writes, median latency, median output "
          "tokens incl. thinking):")
    for phase in result["phases"]:
        groups = result["stub"]["calls_by_phase"].get(phase["name"], {})
        parts = [f"{key}: {g['calls']}, {g['prompt_cache_writes']} w, {_fmt(g['median_latency_s'], '.1f')} s, "
                 f"{_fmt(g['median_output_tokens'], ',.0f')}" for key, g in groups.items()]
        print(f"- {phase['name']} ({phase['wall_s']:.1f} s): {'; '.join(parts) or '-'}")
    total_failed = 0
    for state in setup["prompt_cache_states"]:
        goals = [goal for goal in result["goals"] if goal["state"] == state]
        failed = sum(1 for goal in goals if not goal["ok"])
        total_failed += failed
        print()
        print(f"Goals, prompt cache {PROMPT_CACHE_STATES[state]}: {len(goals) - failed} of {len(goals)} met")
        for goal in goals:
            value = goal["value"]
            shown = f"{value:.2f}x" if isinstance(value, float) else str(value)
            print(f"- {'PASS' if goal['ok'] else 'FAIL'} [{state}] {goal['goal']}: {shown}"
                  + (f" ({goal['note']})" if goal["note"] else ""))
    print()
    print(f"{len(result['goals']) - total_failed} of {len(result['goals'])} goals met; total "
          f"{result['total_seconds']:.0f} s. "
          f"Raw figures: {os.path.relpath(json_path, REPO_ROOT) if json_path.startswith(REPO_ROOT) else json_path}; "
          f"servers' log: {setup['server_log']}")


if __name__ == "__main__":
    sys.exit(main())
