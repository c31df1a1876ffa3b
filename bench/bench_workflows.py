"""Slow-Claude benchmark: N concurrent full workflows against a Messages API stub that answers after 3 s.

What it does (all on loopback, bounded in time, subprocesses always stopped):

1. drops and recreates a MariaDB/MySQL database (its name must contain "bench"), runs the
   migrations and creates an admin API key, through the app's own CLI;
2. starts bench/stub_messages_api.py (answers POST /v1/messages after --delay seconds) and the
   app under the repo's gunicorn config (gunicorn -c gunicorn.conf.py, BIND set to a free port),
   with APP_ENV=production, provider "anthropic", ANTHROPIC_BASE_URL pointing at the stub;
3. runs one workflow to have an interview to read, then fires --workflows concurrent
   POST /api/interview/workflow/full (distinct req_ids, real job descriptions from
   ../shared/data/job_descriptions.jsonl, truncated to 20,000 characters) while one thread
   sends GET /api/interview/<id> every --read-interval seconds until the last workflow ends;
4. prints and writes to bench/results/ (JSON, plus the servers' log) the workflows' outcomes,
   the batch's wall time, per-workflow latencies, the reads' p50/p95/p99/max and the goal
   verdict, with what explains them: when the Claude calls reached the stub, the app's
   connections and open transactions on the database (sampled every 100 ms), and the CPU used
   by the app, the stub, this client, mariadbd and other processes during the batch.

Before the batch it waits (up to --quiet-wait s) for an idle machine; a run during which other
processes used over a quarter of the CPU is flagged, as its read latencies say little.
The exit status is 0 when the goal is met, 1 when not.

    python bench/bench_workflows.py                      # 20 workflows, 3 s stub, local MariaDB
    python bench/bench_workflows.py --workflows 40 --delay 5

Uses only the standard library and the app's requirements (PyMySQL, SQLAlchemy for URL parsing).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time

import pymysql
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import support  # noqa: E402
from bench.support import BENCH_DIR, DEFAULT_JD_FILE, REPO_ROOT, RESULTS_DIR  # noqa: E402

DEFAULT_DATABASE_URL = "mysql+pymysql://root@127.0.0.1:3306/techscreen_bench"
MAX_JD_CHARS = 20_000
READ_P99_GOAL_MS = 250.0


def main(argv=None):
    args = _parse_args(argv)
    support.exit_cleanly_on_signals()
    if args.workflows < 1:
        sys.exit("--workflows must be at least 1")
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = support.utc_stamp()
    log_path = os.path.join(RESULTS_DIR, f"bench-{stamp}.log")
    jds = support.load_job_descriptions(args.jd_file)

    support.recreate_database(args.database_url)
    env = _app_env(args)
    support.run_flask_cli(env, ["db", "upgrade"], "migrations")
    api_key = support.run_flask_cli(env, ["api-keys", "create", "--role", "admin", "--name", "bench", "--quiet"], "api key").strip()

    processes = []
    with open(log_path, "w") as log:
        try:
            stub_port, app_port = support.free_port(), support.free_port()
            stub_url = f"http://127.0.0.1:{stub_port}"
            app_url = f"http://127.0.0.1:{app_port}"
            env["ANTHROPIC_BASE_URL"] = stub_url
            env["BIND"] = f"127.0.0.1:{app_port}"
            processes.append(support.start(
                [sys.executable, os.path.join(BENCH_DIR, "stub_messages_api.py"), "--port", str(stub_port),
                 "--delay", str(args.delay)], env, log))
            processes.append(support.start([sys.executable, "-m", "gunicorn", "-c", args.gunicorn_config], env, log))
            support.wait_ready(f"{stub_url}/health", processes, args.startup_timeout)
            support.wait_ready(f"{app_url}/health/ready", processes, args.startup_timeout)

            client = support.ApiClient(app_url, api_key, args.request_timeout)
            cpu = _CpuSampler(stub=processes[0].pid, gunicorn=processes[1].pid)
            result = _run_benchmark(args, client, jds, stamp, cpu)
            result["stub"] = support.get_json(f"{stub_url}/health")
            arrivals = _arrival_summary(support.get_json(f"{stub_url}/stats"), result["batch_started_unix"])
            result["claude_call_arrivals"] = arrivals
            # Each schema title is one sequential Claude call of a workflow (enhance, generate, ...).
            calls = sum(entry["count"] for entry in arrivals.values())
            result["workflows"]["claude_calls_in_batch"] = calls
            result["workflows"]["sequential_calls_per_workflow"] = len(arrivals)
            result["workflows"]["concurrent_lower_bound_seconds"] = round(len(arrivals) * args.delay, 1)
            result["workflows"]["serial_lower_bound_seconds"] = round(calls * args.delay, 1)
        finally:
            for process in reversed(processes):
                support.stop(process)

    result["database_audit"] = _audit_counts(args.database_url)
    result["setup"] = _setup_description(args, env)
    result["server_log"] = os.path.relpath(log_path, REPO_ROOT)
    result_path = os.path.join(RESULTS_DIR, f"bench-{stamp}.json")
    with open(result_path, "w") as fh:
        json.dump(result, fh, indent=2)
    _print_report(result, os.path.relpath(result_path, REPO_ROOT))
    return 0 if result["verdict"]["goal_met"] else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description="Slow-Claude benchmark of the full workflow under gunicorn.")
    parser.add_argument("--workflows", type=int, default=20, help="concurrent full workflows (default 20)")
    parser.add_argument("--delay", type=float, default=3.0, help="stub answer delay in seconds (default 3.0)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
                        help=f"MySQL/MariaDB URL; the database is DROPPED and recreated (default {DEFAULT_DATABASE_URL})")
    parser.add_argument("--read-interval", type=float, default=0.1, help="seconds between reads (default 0.1)")
    parser.add_argument("--jd-file", default=DEFAULT_JD_FILE, help="job descriptions, JSON lines (default ../shared/data/job_descriptions.jsonl)")
    parser.add_argument("--request-timeout", type=float, default=120.0, help="per-request client timeout, s (default 120)")
    parser.add_argument("--batch-timeout", type=float, default=300.0, help="longest wait for the whole batch, s (default 300)")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="longest wait for the servers to be ready, s")
    parser.add_argument("--warmup", type=int, default=0,
                        help="concurrent warm-up workflows (and reads) before the batch, to warm every gunicorn worker "
                             "(default 0: only the seed workflow, so a worker may meet the batch cold)")
    parser.add_argument("--gunicorn-config", default="gunicorn.conf.py",
                        help="gunicorn config file, relative to the repo (default: the repo's gunicorn.conf.py)")
    parser.add_argument("--quiet-wait", type=float, default=120.0,
                        help="before the batch, wait up to this many s for the machine to be idle (CPU busy < 25%% "
                             "over 1 s), since other load on a small machine distorts the reads (default 120; 0 = no wait)")
    parser.add_argument("--max-wall", type=float, default=None,
                        help="wall-time goal for the batch, s (default: half of workflows x delay, i.e. 30 s for 20 x 3 s)")
    return parser.parse_args(argv)


# --- Setup -----------------------------------------------------------------------------------

def _app_env(args):
    return support.app_env(APP_ENV="production", DATABASE_URL=args.database_url, ANTHROPIC_API_KEY="bench-key")


# --- The benchmark ---------------------------------------------------------------------------

def _workflow_body(jd, req_id):
    return {**support.enhance_body(jd, req_id, MAX_JD_CHARS), "interview_name": f"{jd['title'][:200]} - bench"}


def _workflow_ok(status, payload):
    return (
        status == 200
        and isinstance(payload, dict)
        and isinstance(payload.get("interview_id"), int)
        and len(((payload.get("interview") or {}).get("questions")) or []) == 5
    )


def _run_benchmark(args, client, jds, stamp, cpu):
    run_id = stamp.replace("T", "").replace("Z", "")[-8:]

    # One interview to read while the batch runs.
    status, payload, seed_seconds, _ = client.request("POST", "/api/interview/workflow/full",
                                                   _workflow_body(jds[0], f"BENCH-{run_id}-SEED"))
    if not _workflow_ok(status, payload):
        raise RuntimeError(f"seed workflow failed: HTTP {status}: {json.dumps(payload)[:500]}")
    interview_id = payload["interview_id"]
    status, _, _, _ = client.request("GET", f"/api/interview/{interview_id}")
    if status != 200:
        raise RuntimeError(f"reading the seed interview failed: HTTP {status}")

    warmup = _warm_up(args, client, jds, run_id, interview_id) if args.warmup > 0 else None

    outcomes = [None] * args.workflows
    barrier = threading.Barrier(args.workflows + 1)
    done = threading.Event()

    def fire(index):
        jd = jds[(index + 1) % len(jds)]
        body = _workflow_body(jd, f"BENCH-{run_id}-{index + 1:03d}")
        barrier.wait()
        started = time.perf_counter()
        status, payload, seconds, _ = client.request("POST", "/api/interview/workflow/full", body)
        outcomes[index] = {
            "index": index + 1,
            "req_id": body["req_id"],
            "jd": jd["id"],
            "jd_chars": len(body["basic_description"]),
            "status": status,
            "ok": _workflow_ok(status, payload),
            "seconds": round(seconds, 3),
            "finished_at": round(time.perf_counter() - started, 3),
            "tokens": (payload or {}).get("total_tokens_used") if status == 200 else None,
            "error": None if status == 200 else json.dumps(payload)[:300],
        }

    reads = []

    def read_loop():
        path = f"/api/interview/{interview_id}"
        next_at = time.perf_counter()
        while not done.is_set():
            status, payload, seconds, _ = client.request("GET", path, timeout=10)
            ok = status == 200 and (payload or {}).get("interview", {}).get("id") == interview_id
            reads.append({"at": round(time.perf_counter() - batch_started, 3), "status": status, "ok": ok,
                          "ms": round(seconds * 1000, 2)})
            next_at += args.read_interval
            now = time.perf_counter()
            if next_at > now:
                done.wait(next_at - now)
            else:
                next_at = now  # a slow read: go on at once, without a catch-up burst

    threads = [threading.Thread(target=fire, args=(i,), daemon=True) for i in range(args.workflows)]
    for thread in threads:
        thread.start()
    reader = threading.Thread(target=read_loop, daemon=True)
    quiet = cpu.wait_until_quiet(args.quiet_wait)
    load_before = os.getloadavg()
    cpu.start()
    db_sampler = _DbSampler(args.database_url)
    db_sampler.start()
    barrier.wait()
    batch_started = time.perf_counter()
    batch_unix = time.time()
    reader.start()
    deadline = batch_started + args.batch_timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.perf_counter()))
    wall = time.perf_counter() - batch_started
    cpu_used = cpu.stop(wall)
    db_usage = db_sampler.stop()
    done.set()
    reader.join(15)

    timed_out = [i + 1 for i, outcome in enumerate(outcomes) if outcome is None]
    finished = [o for o in outcomes if o is not None]
    succeeded = [o for o in finished if o["ok"]]
    failed = [o for o in finished if not o["ok"]]
    statuses = {}
    for outcome in finished:
        statuses[str(outcome["status"])] = statuses.get(str(outcome["status"]), 0) + 1
    latencies = sorted(o["seconds"] for o in finished)
    read_ms = sorted(r["ms"] for r in reads)
    read_errors = [r for r in reads if not r["ok"]]

    max_wall = args.max_wall if args.max_wall is not None else args.workflows * args.delay / 2
    read_p99 = support.percentile(read_ms, 99)
    goal = {
        "all_succeeded": len(succeeded) == args.workflows,
        "wall_under_s": max_wall,
        "wall_ok": wall < max_wall,
        "read_p99_under_ms": READ_P99_GOAL_MS,
        "read_p99_ok": read_p99 is not None and read_p99 < READ_P99_GOAL_MS and not read_errors,
    }
    goal["goal_met"] = goal["all_succeeded"] and goal["wall_ok"] and goal["read_p99_ok"]
    if cpu_used:
        # Other processes (mariadbd included: on a shared server its CPU is mostly other clients';
        # this benchmark's own share is about 0.4 s) used more than a quarter of the machine.
        foreign = cpu_used["other_processes"] + cpu_used["mariadbd"]
        goal["disturbed_by_other_load"] = foreign > 0.25 * cpu_used["available"]
    return {
        "started_at": stamp,
        "workflows": {
            "requested": args.workflows,
            "succeeded": len(succeeded),
            "failed": len(failed),
            "timed_out_in_client": len(timed_out),
            "status_codes": statuses,
            "batch_wall_seconds": round(wall, 3),
            "latency_seconds": {
                "min": latencies[0] if latencies else None,
                "p50": support.percentile(latencies, 50),
                "max": latencies[-1] if latencies else None,
            },
            "seed_workflow_seconds": round(seed_seconds, 3),
            "warmup": warmup,
            "failures": [o for o in failed],
            "each": outcomes,
        },
        "reads": {
            "count": len(reads),
            "errors": len(read_errors),
            "interval_s": args.read_interval,
            "ms": {
                "min": read_ms[0] if read_ms else None,
                "p50": support.percentile(read_ms, 50),
                "p95": support.percentile(read_ms, 95),
                "p99": read_p99,
                "max": read_ms[-1] if read_ms else None,
                "mean": round(statistics.fmean(read_ms), 2) if read_ms else None,
            },
            "slowest": sorted(reads, key=lambda r: r["ms"], reverse=True)[:5],
        },
        "cpu_during_batch": cpu_used,
        "db_during_batch": db_usage,
        "loadavg_before_batch": [round(x, 2) for x in load_before],
        "quiet_wait": quiet,
        "verdict": goal,
        "batch_started_unix": round(batch_unix, 4),
    }


def _warm_up(args, client, jds, run_id, interview_id):
    """Run args.warmup concurrent workflows, then 4 x args.warmup concurrent reads, so every worker
    has served both routes (first-request costs: imports, SDK/pydantic schemas, DB pool) before the batch."""
    statuses = []

    def one(index):
        jd = jds[-(index + 1) % len(jds)]
        status, _, _, _ = client.request("POST", "/api/interview/workflow/full",
                                      _workflow_body(jd, f"BENCH-{run_id}-WARM{index + 1:02d}"))
        statuses.append(status)

    def reads():
        for _ in range(4):
            status, _, _, _ = client.request("GET", f"/api/interview/{interview_id}", timeout=10)
            statuses.append(status)

    started = time.perf_counter()
    for target, count in ((one, args.warmup), (reads, args.warmup)):
        threads = [threading.Thread(target=target, args=(i,) if target is one else (), daemon=True) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.request_timeout)
    return {"workflows": args.warmup, "reads": 4 * args.warmup, "non_200": sum(1 for s in statuses if s != 200),
            "seconds": round(time.perf_counter() - started, 3)}


# --- Where the CPU went ------------------------------------------------------------------------

class _CpuSampler:
    """CPU seconds used during the batch by the app, the stub, this client, mariadbd and everything else.

    Read from /proc (Linux); on a small shared machine "other processes" shows how much of the
    measurement was disturbed by load that is not the benchmark's.
    """

    def __init__(self, *, stub, gunicorn):
        self.pids = {"stub": stub, "gunicorn": gunicorn}
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.before = None

    def _snapshot(self):
        if not os.path.exists("/proc/stat"):
            return None
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        busy = (sum(fields[:8]) - fields[3] - fields[4]) / self.tick  # all but idle and iowait
        gunicorn = [self.pids["gunicorn"], *self._children(self.pids["gunicorn"])]
        times = os.times()
        return {
            "system_busy": busy,
            "app_gunicorn": sum(self._cpu(pid) for pid in gunicorn),
            "stub": self._cpu(self.pids["stub"]),
            "bench_client": times.user + times.system,
            "mariadbd": sum(self._cpu(pid) for pid in self._by_name("mariadbd", "mysqld")),
        }

    def start(self):
        self.before = self._snapshot()

    def wait_until_quiet(self, timeout, threshold=0.25):
        """Wait (at most ``timeout`` s) for a 1 s window with the CPU busy less than ``threshold``."""
        started = time.monotonic()
        busy = None
        while self._snapshot() is not None:
            before = self._snapshot()["system_busy"]
            time.sleep(1.0)
            busy = (self._snapshot()["system_busy"] - before) / (os.cpu_count() or 1)
            if busy < threshold or time.monotonic() - started >= timeout:
                break
        return {"waited_s": round(time.monotonic() - started, 1), "last_busy_fraction": busy and round(busy, 2),
                "quiet": busy is not None and busy < threshold}

    def stop(self, wall):
        after = self._snapshot()
        if not self.before or not after:
            return None
        used = {key: round(after[key] - self.before[key], 2) for key in after}
        used["other_processes"] = round(used["system_busy"] - sum(v for k, v in used.items() if k != "system_busy"), 2)
        used["available"] = round((os.cpu_count() or 1) * wall, 2)
        return used

    def _cpu(self, pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / self.tick
        except (OSError, IndexError, ValueError):
            return 0.0

    @staticmethod
    def _stat_fields(pid):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                head, tail = fh.read().rsplit(")", 1)
            return head.split("(", 1)[1], tail.split()
        except (OSError, IndexError):
            return None, None

    def _children(self, parent):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                _, fields = self._stat_fields(entry)
                if fields and fields[1] == str(parent):
                    found.append(int(entry))
        return found

    def _by_name(self, *names):
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                comm, _ = self._stat_fields(entry)
                if comm in names:
                    found.append(int(entry))
        return found


class _DbSampler(threading.Thread):
    """Every 100 ms, count the app's connections to the bench database and its open transactions.

    An open InnoDB transaction means a session holding its connection; none open while the
    workflows wait on Claude means no connection is held across the wait.
    """

    def __init__(self, database_url):
        super().__init__(daemon=True)
        self.url = make_url(database_url)
        self.samples = []
        self.error = None
        self._stop_event = threading.Event()

    def run(self):
        try:
            connection = pymysql.connect(host=self.url.host or "127.0.0.1", port=self.url.port or 3306,
                                         user=self.url.username or "root", password=self.url.password or "",
                                         connect_timeout=5, autocommit=True)
        except pymysql.MySQLError as exc:
            self.error = str(exc)
            return
        try:
            with connection.cursor() as cursor:
                while not self._stop_event.is_set():
                    cursor.execute(
                        "SELECT COUNT(*), SUM(t.trx_id IS NOT NULL) FROM information_schema.processlist p "
                        "LEFT JOIN information_schema.innodb_trx t ON t.trx_mysql_thread_id = p.id "
                        "WHERE p.db = %s AND p.id <> CONNECTION_ID()", (self.url.database,))
                    connections, transactions = cursor.fetchone()
                    self.samples.append((int(connections or 0), int(transactions or 0)))
                    self._stop_event.wait(0.1)
        except pymysql.MySQLError as exc:
            self.error = str(exc)
        finally:
            connection.close()

    def stop(self):
        self._stop_event.set()
        self.join(5)
        if not self.samples:
            return {"error": self.error}
        transactions = sorted(t for _, t in self.samples)
        return {
            "samples": len(self.samples),
            "max_connections": max(c for c, _ in self.samples),
            "max_open_transactions": transactions[-1],
            "median_open_transactions": transactions[len(transactions) // 2],
            "samples_with_open_transactions": sum(1 for t in transactions if t),
            "error": self.error,
        }


def _arrival_summary(stats, batch_unix):
    """When the batch's Claude calls reached the stub, in seconds after the batch was fired."""
    summary = {}
    for when, title in (stats or {}).get("arrivals", []):
        offset = when - batch_unix
        if offset < -0.05:
            continue  # seed and warm-up calls
        entry = summary.setdefault(title or "unknown", {"count": 0, "first_s": offset, "last_s": offset})
        entry["count"] += 1
        entry["first_s"] = min(entry["first_s"], offset)
        entry["last_s"] = max(entry["last_s"], offset)
    for entry in summary.values():
        entry["first_s"], entry["last_s"] = round(entry["first_s"], 3), round(entry["last_s"], 3)
        entry["spread_ms"] = round((entry["last_s"] - entry["first_s"]) * 1000)
    return summary


# --- Report ----------------------------------------------------------------------------------

def _audit_counts(database_url):
    """Count generation_logs and generation_calls by outcome: the app's own record of the run."""
    url = make_url(database_url)
    try:
        connection = pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                                     password=url.password or "", database=url.database, connect_timeout=5)
    except pymysql.MySQLError as exc:
        return {"error": str(exc)}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT operation_type, status, COUNT(*) FROM generation_logs GROUP BY 1, 2 ORDER BY 1, 2")
            logs = {f"{op}/{status}": count for op, status, count in cursor.fetchall()}
            cursor.execute("SELECT outcome, COUNT(*), MAX(attempt) FROM generation_calls GROUP BY 1 ORDER BY 1")
            calls = {outcome: {"count": count, "max_attempt": attempt} for outcome, count, attempt in cursor.fetchall()}
        return {"generation_logs": logs, "generation_calls": calls}
    finally:
        connection.close()


def _setup_description(args, env):
    url = make_url(args.database_url)
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "database": f"{url.drivername}://{url.host}:{url.port or 3306}/{url.database}",
        "server_version": _server_version(url),
        "gunicorn": {
            "config": args.gunicorn_config,
            "GUNICORN_CMD_ARGS": env.get("GUNICORN_CMD_ARGS"),
            "workers": env.get("GUNICORN_WORKERS", "2 (default)"),
            "threads": env.get("GUNICORN_THREADS", "32 (default)"),
        },
        "rate_limits": "raised to 100000/minute (limiter running)",
        "db_pool": {
            "DB_POOL_SIZE": env.get("DB_POOL_SIZE", "10 (default)"),
            "DB_MAX_OVERFLOW": env.get("DB_MAX_OVERFLOW", "10 (default)"),
        },
        "git": support.git_state(),
        "stub_delay_s": args.delay,
        "read_interval_s": args.read_interval,
        "jd_file": os.path.relpath(os.path.abspath(args.jd_file), REPO_ROOT),
    }


def _server_version(url):
    try:
        connection = pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                                     password=url.password or "", connect_timeout=5)
    except pymysql.MySQLError:
        return None
    try:
        return connection.get_server_info()
    finally:
        connection.close()


def _print_report(result, result_path):
    wf, reads, verdict, setup = result["workflows"], result["reads"], result["verdict"], result["setup"]
    lat, ms = wf["latency_seconds"], reads["ms"]
    print(f"TechScreen slow-Claude benchmark  {result['started_at']}")
    print(f"  machine: {setup['machine']['cpus']} CPUs, {setup['machine']['platform']}, Python {setup['machine']['python']}")
    print(f"  database: {setup['database']} (server {setup['server_version']})")
    print(f"  gunicorn -c gunicorn.conf.py: workers {setup['gunicorn']['workers']}, threads {setup['gunicorn']['threads']}, "
          f"gthread; DB pool {setup['db_pool']['DB_POOL_SIZE']} + overflow {setup['db_pool']['DB_MAX_OVERFLOW']} per worker")
    print(f"  stub Messages API: {setup['stub_delay_s']:g} s per answer; {wf.get('claude_calls_in_batch')} Claude calls "
          f"in the batch, {wf.get('sequential_calls_per_workflow')} in sequence per workflow")
    print(f"  code: {setup['git']}")
    warm = wf["warmup"]
    print(f"  before the batch: 1 seed workflow ({wf['seed_workflow_seconds']:.2f} s)"
          + (f", warm-up of {warm['workflows']} concurrent workflows + {warm['reads']} reads ({warm['non_200']} non-200)" if warm else ", no warm-up"))
    print(f"workflows: {wf['succeeded']}/{wf['requested']} succeeded, {wf['failed']} failed, "
          f"{wf['timed_out_in_client']} unfinished; status codes {wf['status_codes']}")
    print(f"  batch wall time {wf['batch_wall_seconds']:.2f} s (fully concurrent floor {wf.get('concurrent_lower_bound_seconds')} s, "
          f"serial {wf.get('serial_lower_bound_seconds')} s)")
    print(f"  per workflow: min {lat['min']} s, p50 {lat['p50']} s, max {lat['max']} s")
    for failure in wf["failures"]:
        print(f"  FAILED {failure['req_id']}: HTTP {failure['status']} {failure['error']}")
    print(f"reads: {reads['count']} GET /api/interview/<id> every {reads['interval_s'] * 1000:g} ms, {reads['errors']} errors")
    print(f"  ms: p50 {ms['p50']}, p95 {ms['p95']}, p99 {ms['p99']}, max {ms['max']}, mean {ms['mean']}")
    arrivals = result.get("claude_call_arrivals") or {}
    for title, entry in arrivals.items():
        print(f"  {title} calls reached the stub at +{entry['first_s']:.3f} .. +{entry['last_s']:.3f} s "
              f"({entry['count']} calls, spread {entry['spread_ms']} ms)")
    cpu = result.get("cpu_during_batch")
    if cpu:
        print(f"  CPU s during the batch ({cpu['available']:g} available): app {cpu['app_gunicorn']}, stub {cpu['stub']}, "
              f"client {cpu['bench_client']}, mariadbd {cpu['mariadbd']}, other processes {cpu['other_processes']}; "
              f"load average before {result['loadavg_before_batch'][0]}; waited {result['quiet_wait']['waited_s']:g} s "
              f"for a quiet machine ({'found' if result['quiet_wait']['quiet'] else 'NOT found'})")
        if result["verdict"].get("disturbed_by_other_load"):
            print("  WARNING: other processes (mariadbd included) used over a quarter of the CPU during the batch; "
                  "rerun on a quiet machine")
    dbu = result.get("db_during_batch") or {}
    if "max_connections" in dbu:
        print(f"  database during the batch: at most {dbu['max_connections']} connections to {setup['database'].rsplit('/', 1)[1]}, "
              f"at most {dbu['max_open_transactions']} open transactions (median {dbu['median_open_transactions']}; "
              f"{dbu['samples_with_open_transactions']} of {dbu['samples']} samples had one)")
    print(f"stub: {result['stub']}")
    print(f"audit: {result['database_audit']}")
    print(f"goal: all succeed {'OK' if verdict['all_succeeded'] else 'NO'}; "
          f"wall < {verdict['wall_under_s']:g} s {'OK' if verdict['wall_ok'] else 'NO'}; "
          f"read p99 < {verdict['read_p99_under_ms']:g} ms {'OK' if verdict['read_p99_ok'] else 'NO'}"
          f"  =>  {'GOAL MET' if verdict['goal_met'] else 'GOAL NOT MET'}")
    print(f"result: {result_path}; server log: {result['server_log']}")


if __name__ == "__main__":
    sys.exit(main())
