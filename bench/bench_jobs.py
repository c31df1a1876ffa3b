"""Asynchronous-jobs benchmark (issue 11): async full workflows on Celery workers, then a worker killed.

What it does, in one run, on this machine (all traffic on loopback, subprocesses always stopped):

1. a fresh MariaDB/MySQL database ``techscreen_bench_jobs_<epoch>`` (migrated with
   ``flask --app app db upgrade``, an admin key made with ``flask --app app api-keys create``,
   dropped at the end unless --keep), Redis as the Celery broker on a dedicated database number
   (default redis://127.0.0.1:6379/14, which must be empty; emptied again at the end) with a
   queue of the run's own (``techscreen-bench-jobs-<epoch>``); redis-server is started when it is
   down (and shut down at the end if this run started it);
2. bench/stub_messages_api.py answering every call after --delay s (3), the app under the repo's
   gunicorn.conf.py (GUNICORN_WORKERS=2, gthread) with CELERY_BROKER_URL set, and --celery-workers
   (2) ``celery -A worker worker -P threads -c --concurrency (16) -Q <queue>,<queue>.webhooks``
   processes, each its own process group; the question cache is off (ENABLE_QUESTION_CACHE=false),
   so a workflow is 2 Claude calls in sequence (enhancement, one-call generation); JOB_STALE_SECONDS=10, JOB_HEARTBEAT_SECONDS=2,
   JOB_SWEEP_SECONDS=2, so a killed worker's jobs are redone within the run; gunicorn and the
   workers share one PROMETHEUS_MULTIPROC_DIR, so /metrics shows the workers' job metrics too;
3. untimed: one async seed workflow (the interview the reads fetch), 8 submissions at once (the
   first a fresh gunicorn worker serves, reported as the cold burst), then the idle baselines:
   --baseline-submissions sequential async submissions (and their jobs, which also warm both
   workers), and --baseline-reads GET /api/interview/<id> every --read-interval s;
4. phase A: --jobs (200) async POST /api/interview/workflow/full (``Prefer: respond-async``,
   distinct req_ids, real job descriptions from ../shared/data/job_descriptions.jsonl) submitted
   as an open loop: arrivals as a seeded Poisson process at --rate (50) a second, whatever the
   answers' latency (with --clients N instead, a closed loop: N threads submitting as fast as the
   server answers, a saturation test); one thread polls GET /api/jobs/<id> of
   the unfinished jobs (at most --poll-rate a second) until all have ended, and one reads the seed
   interview every --read-interval s meanwhile;
5. phase B: the same with new req_ids, and the Celery worker holding the most running jobs killed
   with SIGKILL (its whole process group) once --kill-at (a third) of the jobs have ended, then
   restarted at once (as a supervisor would; --no-restart leaves it dead); --kill-when-step storing
   kills instead the worker of the first job seen storing its interview (the Claude answer paid);
6. after each phase, checks in the database: one job description and one interview per req_id,
   each job's interview stored once, attempts, every job's result ``total_tokens_used`` equal to
   its ``usage.tokens_used`` and to the sum of its audited calls; and counts the stub's calls
   (a call in flight in a killed worker is answered by the stub but never recorded by the app).

Goals (issue 11): submission p99 < 50 ms; all jobs succeed; reads p99 < 100 ms during the run;
with a worker killed: nothing lost (all succeed), nothing duplicated. Also reported: the wall
time from the first submission to the last job's end, and jobs/minute against the ideal
(worker processes x concurrency / (2 calls x delay) jobs per second). PASS/FAIL per goal; the
exit status is 1 when one fails. Results: bench/results/jobs-<UTC>.json and the servers' logs.

    python bench/bench_jobs.py                  # ~4 min
    python bench/bench_jobs.py --phases A --jobs 100

Absolute times on a small shared machine are noisy; each phase waits (up to --quiet-wait s) for
an idle machine first and reports the CPU used by every process.
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pymysql
import redis
from sqlalchemy.engine import make_url

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import support  # noqa: E402
from bench.support import (  # noqa: E402
    BENCH_DIR,
    DEFAULT_JD_FILE,
    REPO_ROOT,
    RESULTS_DIR,
    BenchError,
    percentile,
)

DEFAULT_SERVER_URL = "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
MAX_JD_CHARS = 20_000
SUBMIT_P99_GOAL_MS = 50.0
READ_P99_GOAL_MS = 100.0
CLAUDE_CALLS_PER_JOB = 2  # enhancement + one-call generation (question cache off)
TERMINAL = ("succeeded", "failed", "canceled")
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
WORKFLOW_PATH = "/api/interview/workflow/full"
OPEN_LOOP_THREADS = 64  # --rate: concurrent submissions the client can have open
# The open loop's default rate: the 200 workflows of a phase arrive in about 4 s, nearly 10 times
# what the 2 x 16 worker threads finish (320 a minute, 5.3 a second, with the stub's 3 s per call),
# so the queue holds most of them while submissions go on; and a third of the 150 a second at which
# submitting as fast as answered (--clients 8) keeps both of this machine's cores busy.
DEFAULT_RATE = 50.0


def main(argv=None):
    args = _parse_args(argv)
    support.exit_cleanly_on_signals()
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C even when started with SIGINT ignored (a `cmd &`)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    stamp = support.utc_stamp()
    epoch = int(time.time())
    jds = support.load_job_descriptions(args.jd_file)
    database_url = support.database_url(args.server_url, f"techscreen_bench_jobs_{epoch}")
    queue = f"techscreen-bench-jobs-{epoch}"
    log_prefix = os.path.join(RESULTS_DIR, f"jobs-{stamp}")

    broker = _Broker(args.redis_url)
    metrics_dir = tempfile.mkdtemp(prefix="techscreen-bench-jobs-metrics-")
    services = None
    result = {"started_at": stamp}
    try:
        broker.prepare()
        support.recreate_database(database_url)
        env = _app_env(args, database_url, queue, metrics_dir)
        support.run_flask_cli(env, ["db", "upgrade"], "migrations")
        api_key = support.run_flask_cli(
            env, ["api-keys", "create", "--role", "admin", "--name", "bench", "--quiet"], "api key").strip()
        services = _Services(args, env, log_prefix, queue)
        services.start()
        client = _Client(services.app_url, api_key, args.request_timeout)
        run = _Run(args, client, services, broker, database_url, jds, epoch)
        result.update(run.execute())
        result["metrics"] = _job_metrics(services.app_url)
    finally:
        if services is not None:
            services.stop()
        broker.clean()
        shutil.rmtree(metrics_dir, ignore_errors=True)
        if args.keep:
            print(f"kept database {make_url(database_url).database}", file=sys.stderr)
        else:
            support.drop_database(database_url)

    result["setup"] = _setup_description(args, env, database_url, queue, broker)
    result["logs"] = [os.path.relpath(path, REPO_ROOT) for path in services.log_paths]
    result["verdict"] = _verdict(result, args)
    result_path = f"{log_prefix}.json"
    with open(result_path, "w") as fh:
        json.dump(result, fh, indent=2, default=str)
    _print_report(result, os.path.relpath(result_path, REPO_ROOT))
    return 0 if result["verdict"]["all_passed"] else 1


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="async workflows per phase (default 200)")
    parser.add_argument("--phases", default="A,B", help="phases to run: A (no fault), B (a worker killed); default A,B")
    parser.add_argument("--delay", type=float, default=3.0, help="stub seconds per Messages API answer (default 3)")
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop (the default): submissions arrive at this many a second on average (Poisson), "
                             f"whatever the answers' latency (default {DEFAULT_RATE:g})")
    parser.add_argument("--clients", type=int, default=None,
                        help="closed loop instead of --rate: this many client threads submitting as fast as the server "
                             "answers (a saturation test: 8 keep both cores busy)")
    parser.add_argument("--celery-workers", type=int, default=2, help="Celery worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per Celery worker, -P threads -c N (default 16)")
    parser.add_argument("--worker-nice", type=int, default=0,
                        help="start the Celery workers under nice -n N (a diagnostic: web and workers share 2 cores; default 0)")
    parser.add_argument("--worker-idle", action="store_true",
                        help="run the Celery workers under SCHED_IDLE (chrt --idle 0): they get a core only when gunicorn, "
                             "MariaDB and Redis leave it free (a co-located deployment's choice; separate hosts need none)")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="GUNICORN_WORKERS (default 2)")
    parser.add_argument("--gunicorn-config", default="gunicorn.conf.py",
                        help="gunicorn config file, relative to the repo (default: the repo's gunicorn.conf.py)")
    parser.add_argument("--stale-seconds", type=float, default=10.0, help="JOB_STALE_SECONDS (default 10)")
    parser.add_argument("--heartbeat-seconds", type=float, default=2.0, help="JOB_HEARTBEAT_SECONDS (default 2)")
    parser.add_argument("--sweep-seconds", type=float, default=2.0, help="JOB_SWEEP_SECONDS (default 2)")
    parser.add_argument("--kill-at", type=float, default=1 / 3,
                        help="phase B: kill a worker once this fraction of the jobs has ended (default 1/3)")
    parser.add_argument("--kill-delay", type=float, default=0.0,
                        help="phase B: seconds to wait after --kill-at is reached before the kill (default 0)")
    parser.add_argument("--kill-when-step", default=None,
                        help="phase B: after --kill-at, kill the worker of the first job seen at this step (e.g. storing: "
                             "the Claude answer received, the interview not yet stored); default: the worker running the most jobs")
    parser.add_argument("--no-restart", action="store_true", help="phase B: leave the killed worker dead")
    parser.add_argument("--read-interval", type=float, default=0.1, help="seconds between reads (default 0.1)")
    parser.add_argument("--baseline-reads", type=int, default=150, help="idle reads before phase A (default 150)")
    parser.add_argument("--baseline-submissions", type=int, default=10,
                        help="sequential async submissions on the idle service before phase A (default 10)")
    parser.add_argument("--poll-rate", type=float, default=20.0, help="GET /api/jobs/<id> per second at most (default 20)")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER_URL),
                        help=f"MySQL/MariaDB server (the run's database is created there; default {DEFAULT_SERVER_URL})")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL,
                        help=f"broker: a Redis database this run may empty; it must be empty at the start (default {DEFAULT_REDIS_URL})")
    parser.add_argument("--jd-file", default=DEFAULT_JD_FILE, help="job descriptions, JSON lines")
    parser.add_argument("--request-timeout", type=float, default=30.0, help="per-request client timeout, s (default 30)")
    parser.add_argument("--phase-timeout", type=float, default=600.0, help="longest wait for a phase's jobs, s (default 600)")
    parser.add_argument("--startup-timeout", type=float, default=90.0, help="longest wait for a server or worker, s")
    parser.add_argument("--quiet-wait", type=float, default=180.0,
                        help="before each timed part, wait up to this many s for an idle machine (CPU busy < 25%% over 1 s)")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args(argv)
    args.phases = [p.strip().upper() for p in args.phases.split(",") if p.strip()]
    if not args.phases or any(p not in ("A", "B") for p in args.phases):
        parser.error("--phases takes A, B or A,B")
    if args.clients is not None and args.rate is not None:
        parser.error("--rate (open loop) and --clients (closed loop) exclude each other")
    if args.clients is None and args.rate is None:
        args.rate = DEFAULT_RATE
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be a positive number of submissions a second")
    if args.jobs < 3 or (args.clients is not None and args.clients < 1) or args.celery_workers < 1 or args.concurrency < 1:
        parser.error("--jobs >= 3, --clients, --celery-workers and --concurrency >= 1")
    if "B" in args.phases and args.celery_workers < 2 and args.no_restart:
        parser.error("phase B with one worker and --no-restart would leave no worker")
    return args


# --- Setup -----------------------------------------------------------------------------------

def _app_env(args, database_url, queue, metrics_dir):
    return support.app_env(
        APP_ENV="production", DATABASE_URL=database_url, ANTHROPIC_API_KEY="bench-key",
        ENABLE_QUESTION_CACHE="false",
        CELERY_BROKER_URL=args.redis_url, CELERY_QUEUE=queue,
        JOB_STALE_SECONDS=str(args.stale_seconds), JOB_HEARTBEAT_SECONDS=str(args.heartbeat_seconds),
        JOB_SWEEP_SECONDS=str(args.sweep_seconds),
        GUNICORN_WORKERS=str(args.gunicorn_workers),
        PROMETHEUS_MULTIPROC_DIR=metrics_dir,
    )


class _Broker:
    """The Redis database the run uses as its broker: started if down, checked empty, emptied at the end."""

    def __init__(self, url):
        self.url = url
        self.client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5)
        self.started_server = False
        self.prepared = False
        self.version = None

    def prepare(self):
        try:
            self.client.ping()
        except redis.exceptions.ConnectionError:
            url = urllib.parse.urlsplit(self.url)
            if url.hostname not in ("127.0.0.1", "localhost"):
                raise BenchError(f"Redis at {self.url} is down") from None
            print("Redis is down; starting redis-server", file=sys.stderr)
            subprocess.run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", str(url.port or 6379),
                            "--save", "", "--appendonly", "no"], check=True, capture_output=True, timeout=30)
            self.started_server = True
            deadline = time.monotonic() + 10
            while True:
                try:
                    self.client.ping()
                    break
                except redis.exceptions.ConnectionError:
                    if time.monotonic() > deadline:
                        raise BenchError("redis-server did not answer within 10 s") from None
                    time.sleep(0.2)
        self.version = self.client.info("server").get("redis_version")
        keys = self.client.dbsize()
        if keys:
            raise BenchError(f"the Redis database {self.url} holds {keys} keys; this run empties its database at the end, "
                             f"so it needs an empty one: pass --redis-url with another database number "
                             f"(or empty it: redis-cli -n {self.url.rsplit('/', 1)[-1]} flushdb)")
        self.prepared = True

    def queue_length(self, queue):
        try:
            return self.client.llen(queue)
        except redis.exceptions.RedisError:
            return None

    def unacked(self):
        try:
            return self.client.hlen("unacked")
        except redis.exceptions.RedisError:
            return None

    def clean(self):
        """Empty the run's Redis database (checked empty at the start); shut down a server this run started."""
        if not self.prepared:
            return
        try:
            self.client.flushdb()
            if self.started_server:
                self.client.shutdown(nosave=True)
        except redis.exceptions.RedisError:
            pass  # shutdown closes the connection: that is its answer


class _Services:
    """The stub, gunicorn and the Celery workers: started, checked ready, killed, restarted, stopped."""

    def __init__(self, args, env, log_prefix, queue):
        self.args, self.env, self.log_prefix, self.queue = args, dict(env), log_prefix, queue
        self.stub = self.gunicorn = None
        self.workers = {}  # name -> Popen (the live process of that name)
        self.all_processes = []
        self.log_paths = []
        self._logs = []
        self.stub_url = self.app_url = None

    def start(self):
        stub_port, app_port = support.free_port(), support.free_port()
        self.stub_url = f"http://127.0.0.1:{stub_port}"
        self.app_url = f"http://127.0.0.1:{app_port}"
        self.env["ANTHROPIC_BASE_URL"] = self.stub_url
        self.env["BIND"] = f"127.0.0.1:{app_port}"
        log = self._log("servers")
        self.stub = self._start([sys.executable, os.path.join(BENCH_DIR, "stub_messages_api.py"), "--port", str(stub_port),
                                 "--delay", str(self.args.delay)], log)
        # gunicorn first: its on_starting empties the shared PROMETHEUS_MULTIPROC_DIR.
        self.gunicorn = self._start([sys.executable, "-m", "gunicorn", "-c", self.args.gunicorn_config], log)
        support.wait_ready(f"{self.stub_url}/health", [self.stub, self.gunicorn], self.args.startup_timeout)
        support.wait_ready(f"{self.app_url}/health/ready", [self.stub, self.gunicorn], self.args.startup_timeout)
        for index in range(1, self.args.celery_workers + 1):
            self.start_worker(f"bench{index}")
        for name in list(self.workers):
            self.wait_worker_ready(name)

    def start_worker(self, name):
        log = self._log(f"celery-{name}")
        nice = ["nice", "-n", str(self.args.worker_nice)] if self.args.worker_nice else []
        if self.args.worker_idle:
            nice = ["chrt", "--idle", "0", *nice]
        process = self._start(
            [*nice, sys.executable, "-m", "celery", "-A", "worker", "worker", "-P", "threads", "-c", str(self.args.concurrency),
             "-Q", f"{self.queue},{self.queue}.webhooks", "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"], log)
        process.bench_log = log.name
        process.bench_name = name
        self.workers[name] = process
        return process

    def wait_worker_ready(self, name):
        """Wait for the worker's "<name>@host ready." log line; raise BenchError if it exits first."""
        process = self.workers[name]
        deadline = time.monotonic() + self.args.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise BenchError(f"Celery worker {name} exited with {process.returncode}; see {process.bench_log}")
            with open(process.bench_log, errors="replace") as fh:
                if any(f"{name}@" in line and line.rstrip().endswith(" ready.") for line in fh):
                    return
            time.sleep(0.2)
        raise BenchError(f"Celery worker {name} not ready within {self.args.startup_timeout:g} s; see {process.bench_log}")

    def task_messages(self):
        """run_job messages the workers have received so far (their "Task ... received" log lines)."""
        total = 0
        for process in self.all_processes:
            if getattr(process, "bench_log", None):
                with open(process.bench_log, errors="replace") as fh:
                    total += sum(1 for line in fh if "techscreen.run_job[" in line and line.rstrip().endswith("] received"))
        return total

    def worker_by_pid(self, pid):
        for name, process in self.workers.items():
            if process.pid == pid and process.poll() is None:
                return name
        return None

    def kill_worker(self, name):
        """SIGKILL the worker's whole process group; return when it is reaped."""
        process = self.workers[name]
        if os.getpgid(process.pid) != process.pid:
            raise BenchError(f"worker {name} is not the leader of its process group")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        del self.workers[name]

    def stop(self):
        for process in [*self.workers.values(), self.gunicorn, self.stub]:
            if process is not None:
                support.stop(process, timeout=20)
        for process in self.all_processes:  # anything else this run started (a killed worker is already reaped)
            support.stop(process, timeout=5)
        for log in self._logs:
            log.close()

    def _start(self, command, log):
        process = support.start(command, self.env, log)
        self.all_processes.append(process)
        return process

    def _log(self, what):
        path = f"{self.log_prefix}-{what}.log"
        log = open(path, "w")  # noqa: SIM115 (open while its process runs; closed by stop)
        self._logs.append(log)
        self.log_paths.append(path)
        return log


class _Client(support.ApiClient):
    """support.ApiClient plus request headers and the response's headers."""

    def send(self, method, path, body=None, headers=None, timeout=None):
        """Return (status, parsed JSON or None, response headers, seconds, unix time sent)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        sent_unix = time.time()
        started = time.perf_counter()
        try:
            with support.OPENER.open(request, timeout=timeout or self.timeout) as response:
                raw, status, response_headers = response.read(), response.status, response.headers
        except urllib.error.HTTPError as exc:
            raw, status, response_headers = exc.read(), exc.code, exc.headers
        except (urllib.error.URLError, OSError) as exc:
            return 0, {"error": f"{type(exc).__name__}: {exc}"}, {}, time.perf_counter() - started, sent_unix
        elapsed = time.perf_counter() - started
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = {"error": raw[:300].decode(errors="replace")}
        return status, payload, response_headers, elapsed, sent_unix

    def submit(self, body):
        """POST one async workflow; return a submission record."""
        status, payload, headers, seconds, sent = self.send("POST", WORKFLOW_PATH, body, {"Prefer": "respond-async"})
        job_id = (payload or {}).get("job_id") if status == 202 else None
        ok = (status == 202 and isinstance(job_id, str) and (payload or {}).get("status") == "queued"
              and headers.get("Location") == f"/api/jobs/{job_id}" and headers.get("Preference-Applied") == "respond-async")
        return {"req_id": body["req_id"], "status": status, "ok": ok, "job_id": job_id, "ms": round(seconds * 1000, 2),
                "sent_unix": round(sent, 4), "error": None if ok else json.dumps(payload)[:300]}

    def job(self, job_id):
        status, payload, _, _, _ = self.send("GET", f"/api/jobs/{job_id}", timeout=10)
        return status, (payload or {}).get("job") if status == 200 else payload


def _workflow_body(jd, req_id):
    return {**support.enhance_body(jd, req_id, MAX_JD_CHARS), "interview_name": f"{jd['title'][:200]} - bench jobs"}


# --- The run -----------------------------------------------------------------------------------

class _Run:
    def __init__(self, args, client, services, broker, database_url, jds, epoch):
        self.args, self.client, self.services, self.broker = args, client, services, broker
        self.database_url, self.jds, self.epoch = database_url, jds, epoch
        self.cpu = _CpuSampler(services)

    def execute(self):
        seed_job, seed = self._seed()
        self.interview_id = seed["result"]["interview_id"]
        status, payload, _, _, _ = self.client.send("GET", f"/api/interview/{self.interview_id}")
        if status != 200:
            raise BenchError(f"reading the seed interview failed: HTTP {status} {json.dumps(payload)[:300]}")
        result = {"seed": {"job_id": seed_job, "interview_id": self.interview_id, "attempts": seed["attempts"]}}
        result["baseline"] = self._baselines()
        for phase in self.args.phases:
            result[f"phase_{phase}"] = self._phase(phase)
        result["stub"] = support.get_json(f"{self.services.stub_url}/health")
        return result

    def _seed(self):
        body = _workflow_body(self.jds[0], f"BJ{self.epoch}-SEED")
        submission = self.client.submit(body)
        if not submission["ok"]:
            raise BenchError(f"the seed submission failed: HTTP {submission['status']} {submission['error']}")
        job = self._wait_job(submission["job_id"], self.args.startup_timeout)
        if job.get("status") != "succeeded":
            raise BenchError(f"the seed job ended {job.get('status')}: {json.dumps(job)[:600]}")
        return submission["job_id"], job

    def _wait_job(self, job_id, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, job = self.client.job(job_id)
            if status == 200 and job["status"] in TERMINAL:
                return job
            time.sleep(0.25)
        raise BenchError(f"job {job_id} did not end within {timeout:g} s")

    def _baselines(self):
        """Idle service: sequential submissions (their jobs warm both workers), then reads."""
        warm = [None] * 8  # untimed: a burst, so every gunicorn worker has served a submission
        threads = [threading.Thread(target=lambda i=i: warm.__setitem__(i, self.client.submit(
            _workflow_body(self.jds[(i + 20) % len(self.jds)], f"BJ{self.epoch}-WARMB-{i + 1:03d}")))) for i in range(len(warm))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        bad = [w for w in warm if not (w and w["ok"])]
        if bad:
            raise BenchError(f"a warm-up submission failed: {json.dumps(bad[0])[:400]}")
        submissions = []
        for index in range(self.args.baseline_submissions):
            jd = self.jds[(index + 1) % len(self.jds)]
            submissions.append(self.client.submit(_workflow_body(jd, f"BJ{self.epoch}-WARM-{index + 1:03d}")))
        failed = [s for s in submissions if not s["ok"]]
        if failed:
            raise BenchError(f"baseline submission failed: HTTP {failed[0]['status']} {failed[0]['error']}")
        ends = [self._wait_job(s["job_id"], 120) for s in submissions + warm]
        not_ok = [j for j in ends if j["status"] != "succeeded"]
        if not_ok:
            raise BenchError(f"a warm-up job ended {not_ok[0]['status']}: {json.dumps(not_ok[0])[:600]}")
        quiet = self.cpu.wait_until_quiet(self.args.quiet_wait)
        reads = _Reader(self.client, self.interview_id, self.args.read_interval)
        reads.start()
        while len(reads.samples) < self.args.baseline_reads and reads.is_alive():
            time.sleep(0.05)
        reads.stop()
        read_ms = sorted(r["ms"] for r in reads.samples)
        return {
            # The first submissions a fresh gunicorn worker serves (8 at once): what a deploy's first clients see.
            "cold_burst": {"count": len(warm), "ms": _stats(sorted(w["ms"] for w in warm))},
            "submissions": {"count": len(submissions), "ms": _stats(sorted(s["ms"] for s in submissions)),
                            "each_ms": [s["ms"] for s in submissions]},
            "reads": {"count": len(read_ms), "errors": sum(1 for r in reads.samples if not r["ok"]), "ms": _stats(read_ms)},
            "quiet_wait": quiet,
        }

    def _phase(self, phase):
        args, n = self.args, self.args.jobs
        prefix = f"BJ{self.epoch}-{phase}-"
        offset = 11 if phase == "A" else 37  # different JDs lead each phase; the same set overall
        bodies = [_workflow_body(self.jds[(offset + i) % len(self.jds)], f"{prefix}{i + 1:03d}") for i in range(n)]
        quiet = self.cpu.wait_until_quiet(args.quiet_wait)
        stub_before = support.get_json(f"{self.services.stub_url}/stats").get("calls", [])
        messages_before = self.services.task_messages()
        sampler = _DbSampler(self.database_url, prefix, self.broker, self.services.queue)
        reader = _Reader(self.client, self.interview_id, args.read_interval)
        submissions = [None] * n
        poller = _Poller(self.client, args.poll_rate, n)
        killer = _Killer(self, sampler, prefix, n) if phase == "B" else None
        counter = itertools.count()
        counter_lock = threading.Lock()

        def submit_loop():
            while True:
                with counter_lock:
                    index = next(counter)
                if index >= n:
                    return
                record = self.client.submit(bodies[index])
                record["index"] = index + 1
                submissions[index] = record
                if record["ok"]:
                    poller.add(index, record["job_id"])
                else:
                    poller.add(index, None)

        def submit_open_loop():
            # Arrivals at --rate a second on average (exponential gaps, seeded: the same schedule every
            # run), each sent by its own pool thread, so a slow answer never delays the next arrival
            # (no coordinated omission); "late_ms" records any send behind its schedule.
            gaps = random.Random(f"bench-jobs-{phase}").expovariate
            started = time.perf_counter()
            due = 0.0
            with concurrent.futures.ThreadPoolExecutor(max_workers=OPEN_LOOP_THREADS, thread_name_prefix="arrival") as pool:
                for index in range(n):
                    pause = started + due - time.perf_counter()
                    if pause > 0:
                        time.sleep(pause)
                    pool.submit(send_one, index, started + due)
                    due += gaps(args.rate)

        def send_one(index, due):
            late_ms = round(max(0.0, time.perf_counter() - due) * 1000, 2)
            try:
                record = self.client.submit(bodies[index])
            except Exception as exc:  # noqa: BLE001 - recorded as a failed submission, never lost in the pool
                record = {"req_id": bodies[index]["req_id"], "status": 0, "ok": False, "job_id": None, "ms": 0.0,
                          "sent_unix": round(time.time(), 4), "error": f"{type(exc).__name__}: {exc}"[:300]}
            # latency from the scheduled arrival, not from the send: a send held back by a full pool
            # counts its wait (no coordinated omission); send_ms is the client's own round trip
            record["send_ms"] = record["ms"]
            record["ms"] = round(record["ms"] + late_ms, 2)
            record["index"], record["late_ms"] = index + 1, late_ms
            submissions[index] = record
            poller.add(index, record["job_id"] if record["ok"] else None)

        self.cpu.start()
        sampler.start()
        reader.start()
        time.sleep(max(0.5, 3 * args.read_interval))  # a few reads before the first submission
        phase_started_unix = time.time()
        if args.rate:
            clients = [threading.Thread(target=submit_open_loop, name="arrivals", daemon=True)]
        else:
            clients = [threading.Thread(target=submit_loop, name=f"submit-{i}", daemon=True) for i in range(args.clients)]
        for thread in clients:
            thread.start()
        poller.start()
        if killer is not None:
            killer.start()
        deadline = time.monotonic() + args.phase_timeout
        for thread in clients:
            thread.join(max(0.0, deadline - time.monotonic()))
        submit_done_unix = time.time()
        cpu_submitting = self.cpu.mark()
        poller.join(max(0.0, deadline - time.monotonic()))
        timed_out = poller.is_alive()
        poller.stop()
        if killer is not None:
            killer.join(max(0.0, deadline - time.monotonic()))
        reader.stop()
        sampler.stop()
        cpu = self.cpu.stop()
        phase_ended_unix = time.time()
        stub_calls = [row for row in support.get_json(f"{self.services.stub_url}/stats").get("calls", [])[len(stub_before):]]
        messages = self.services.task_messages() - messages_before
        if timed_out:
            print(f"phase {phase}: not every job ended within --phase-timeout {args.phase_timeout:g} s", file=sys.stderr)
        result = _phase_result(phase, args, submissions, poller, reader, sampler, killer, cpu, quiet, stub_calls, messages,
                               self._database_checks(prefix, n), phase_started_unix, submit_done_unix, phase_ended_unix,
                               timed_out)
        result["submissions"]["cpu_while_submitting"] = cpu_submitting
        result["submissions"]["in_app_ms"] = _in_app_submission_ms(self.services.log_paths[0], phase_started_unix, submit_done_unix)
        return result

    def _database_checks(self, prefix, n):
        return _database_checks(self.database_url, prefix, n)


class _Reader(threading.Thread):
    """GET /api/interview/<id> every ``interval`` s (no catch-up burst after a slow read)."""

    def __init__(self, client, interview_id, interval):
        super().__init__(daemon=True, name="reader")
        self.client, self.interview_id, self.interval = client, interview_id, interval
        self.samples = []
        self._stop_event = threading.Event()

    def run(self):
        path = f"/api/interview/{self.interview_id}"
        next_at = time.perf_counter()
        while not self._stop_event.is_set():
            status, payload, _, seconds, sent = self.client.send("GET", path, timeout=10)
            ok = status == 200 and ((payload or {}).get("interview") or {}).get("id") == self.interview_id
            self.samples.append({"sent_unix": round(sent, 4), "ms": round(seconds * 1000, 2), "status": status, "ok": ok})
            next_at += self.interval
            now = time.perf_counter()
            if next_at > now:
                self._stop_event.wait(next_at - now)
            else:
                next_at = now

    def stop(self):
        self._stop_event.set()
        self.join(15)


class _Poller(threading.Thread):
    """Polls GET /api/jobs/<id> of the unfinished jobs, round robin, at most ``rate`` a second,
    until all ``n`` submissions are known and every accepted job has ended."""

    def __init__(self, client, rate, n):
        super().__init__(daemon=True, name="poller")
        self.client, self.interval, self.n = client, 1.0 / rate, n
        self.pending = {}  # index -> job_id, in submission order
        self.final = {}  # index -> the job resource that ended it
        self.seen_at = {}  # index -> unix time the poller first saw the job ended
        self.known = 0
        self.polls = 0
        self.poll_errors = 0
        self.poll_ms = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()

    def add(self, index, job_id):
        with self._lock:
            self.known += 1
            if job_id is not None:
                self.pending[index] = job_id

    def run(self):
        position = 0
        while not self._stop_event.is_set():
            with self._lock:
                if self.known >= self.n and not self.pending:
                    return
                order = sorted(self.pending)
            if not order:
                self._stop_event.wait(0.05)
                continue
            index = next((i for i in order if i >= position), order[0])
            position = index + 1
            started = time.perf_counter()
            status, job = self.client.job(self.pending[index])
            self.polls += 1
            self.poll_ms.append(round((time.perf_counter() - started) * 1000, 2))
            if status != 200:
                self.poll_errors += 1
            elif job["status"] in TERMINAL:
                with self._lock:
                    del self.pending[index]
                    self.final[index] = job
                    self.seen_at[index] = time.time()
            rest = self.interval - (time.perf_counter() - started)
            if rest > 0:
                self._stop_event.wait(rest)

    def stop(self):
        self._stop_event.set()
        self.join(15)


class _DbSampler(threading.Thread):
    """Every 0.25 s: the phase's jobs by status (and running jobs by worker), the broker's queue
    length and unacknowledged messages. ``ended`` is the latest count of ended jobs."""

    def __init__(self, database_url, prefix, broker, queue):
        super().__init__(daemon=True, name="db-sampler")
        self.url, self.prefix, self.broker, self.queue = make_url(database_url), prefix, broker, queue
        self.samples = []
        self.ended = 0
        self.error = None
        self._stop_event = threading.Event()

    def run(self):
        try:
            connection = _connect(self.url, autocommit=True)
        except pymysql.MySQLError as exc:
            self.error = str(exc)
            return
        try:
            with connection.cursor() as cursor:
                while not self._stop_event.is_set():
                    cursor.execute("SELECT status, COUNT(*) FROM jobs WHERE req_id LIKE %s GROUP BY status",
                                   (self.prefix + "%",))
                    counts = {status: count for status, count in cursor.fetchall()}
                    self.ended = sum(counts.get(s, 0) for s in TERMINAL)
                    self.samples.append({"at_unix": round(time.time(), 3), "jobs": counts,
                                         "broker_queue": self.broker.queue_length(self.queue),
                                         "broker_unacked": self.broker.unacked()})
                    self._stop_event.wait(0.25)
        except pymysql.MySQLError as exc:
            self.error = str(exc)
        finally:
            connection.close()

    def stop(self):
        self._stop_event.set()
        self.join(5)


class _Killer(threading.Thread):
    """Phase B: once ``kill_at`` of the jobs have ended, SIGKILL the worker running the most of
    them (its process group) and, unless --no-restart, start it again."""

    def __init__(self, run, sampler, prefix, n):
        super().__init__(daemon=True, name="killer")
        self.run_, self.sampler, self.prefix = run, sampler, prefix
        self.threshold = max(1, round(run.args.kill_at * n))
        self.record = None
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as exc:  # noqa: BLE001 (reported in the results, and the phase goes on)
            self.error = f"{type(exc).__name__}: {exc}"

    def _run(self):
        services, args = self.run_.services, self.run_.args
        deadline = time.monotonic() + args.phase_timeout
        while self.sampler.ended < self.threshold:
            if time.monotonic() > deadline:
                raise BenchError("the kill threshold was never reached")
            time.sleep(0.05)
        time.sleep(args.kill_delay)
        connection = _connect(make_url(self.run_.database_url), autocommit=True)
        try:
            with connection.cursor() as cursor:
                if args.kill_when_step:  # wait (polling every 5 ms) for a job of ours at that step
                    while True:
                        cursor.execute("SELECT worker, COUNT(*) FROM jobs WHERE status = 'running' AND req_id LIKE %s "
                                       "AND step = %s GROUP BY worker ORDER BY 2 DESC", (self.prefix + "%", args.kill_when_step))
                        at_step = cursor.fetchall()
                        if at_step or time.monotonic() > deadline:
                            break
                        time.sleep(0.005)
                cursor.execute("SELECT worker, COUNT(*) FROM jobs WHERE status = 'running' AND req_id LIKE %s "
                               "GROUP BY worker ORDER BY 2 DESC", (self.prefix + "%",))
                by_worker = cursor.fetchall()
                if args.kill_when_step and at_step:
                    by_worker = at_step + tuple(row for row in by_worker if row[0] not in {w for w, _ in at_step})
                victim = None
                for worker, _ in by_worker:
                    name = services.worker_by_pid(int(worker.rsplit(":", 1)[1]))
                    if name is not None:
                        victim = (worker, name)
                        break
                if victim is None:
                    raise BenchError(f"no running job on a worker of ours: {by_worker}")
                worker_field, name = victim
                killed_unix = time.time()
                services.kill_worker(name)
                ended_at_kill = self.sampler.ended
                # After the kill the rows still name the dead worker: exactly the jobs it orphaned.
                cursor.execute("SELECT id, req_id, step, attempts FROM jobs WHERE status = 'running' AND worker = %s",
                               (worker_field,))
                orphaned = [{"job_id": row[0], "req_id": row[1], "step": row[2], "attempts": row[3]} for row in cursor.fetchall()]
        finally:
            connection.close()
        steps = {}
        for job in orphaned:
            steps[job["step"]] = steps.get(job["step"], 0) + 1
        self.record = {"worker": name, "worker_field": worker_field, "killed_unix": round(killed_unix, 3),
                       "jobs_ended_at_kill": ended_at_kill, "threshold": self.threshold,
                       "running_by_worker_before": [[w, c] for w, c in by_worker],
                       "orphaned_jobs": orphaned, "orphaned_steps": steps, "restarted": not args.no_restart}
        if not args.no_restart:
            restarted = services.start_worker(f"{name}r")
            services.wait_worker_ready(f"{name}r")
            self.record["restart"] = {"name": f"{name}r", "pid": restarted.pid,
                                      "ready_after_kill_s": round(time.time() - killed_unix, 2)}


# --- Database checks ----------------------------------------------------------------------------

def _connect(url, **kwargs):
    return pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", database=url.database, connect_timeout=5, **kwargs)


def _database_checks(database_url, prefix, n):
    """What the database holds for the phase's req_ids: jobs, job descriptions, interviews, audit."""
    connection = _connect(make_url(database_url))
    like = prefix + "%"
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, req_id, status, attempts, result_status, worker FROM jobs WHERE req_id LIKE %s", (like,))
            jobs = {row[0]: {"req_id": row[1], "status": row[2], "attempts": row[3], "http_status": row[4], "worker": row[5]}
                    for row in cursor.fetchall()}
            cursor.execute("SELECT req_id, COUNT(*) FROM job_descriptions WHERE req_id LIKE %s GROUP BY req_id", (like,))
            jd_counts = dict(cursor.fetchall())
            cursor.execute("SELECT req_id, COUNT(*) FROM interviews WHERE req_id LIKE %s GROUP BY req_id", (like,))
            interview_counts = dict(cursor.fetchall())
            cursor.execute(
                "SELECT gl.job_id, gl.operation_type, gl.status, gl.error_kind, COUNT(*), "
                "SUM(gl.job_description_id IS NOT NULL), SUM(gl.interview_id IS NOT NULL), COUNT(DISTINCT gl.interview_id) "
                "FROM generation_logs gl JOIN jobs j ON j.id = gl.job_id WHERE j.req_id LIKE %s "
                "GROUP BY gl.job_id, gl.operation_type, gl.status, gl.error_kind", (like,))
            logs = cursor.fetchall()
            sums = ", ".join(f"SUM(gc.{kind})" for kind in TOKEN_KINDS)
            cursor.execute(
                f"SELECT gl.job_id, COUNT(*), {sums} FROM generation_calls gc "
                "JOIN generation_logs gl ON gl.id = gc.generation_log_id JOIN jobs j ON j.id = gl.job_id "
                "WHERE j.req_id LIKE %s GROUP BY gl.job_id", (like,))
            calls = {row[0]: {"calls": int(row[1]), "tokens": sum(int(v or 0) for v in row[2:])} for row in cursor.fetchall()}
            cursor.execute("SELECT COUNT(*) FROM generation_logs WHERE req_id LIKE %s AND job_id IS NULL", (like,))
            unlinked_logs = cursor.fetchone()[0]
            # From the generation's answer (its call's start + latency) to the interview row's created_at:
            # a worker killed in this window has paid for an answer that is then lost.
            cursor.execute(
                "SELECT gc.started_at, gc.latency_ms, i.created_at FROM generation_calls gc "
                "JOIN generation_logs gl ON gl.id = gc.generation_log_id JOIN interviews i ON i.id = gl.interview_id "
                "JOIN jobs j ON j.id = gl.job_id WHERE j.req_id LIKE %s AND gl.operation_type = 'interview_generation' "
                "AND gc.outcome = 'ok'", (like,))
            answer_to_store_ms = sorted(round(((created - started).total_seconds() * 1000) - latency, 1)
                                        for started, latency, created in cursor.fetchall())
    finally:
        connection.close()

    log_outcomes = {}
    stored_interviews = {}  # job_id -> audit rows naming an interview
    stored_jds = {}
    for job_id, operation, status, error_kind, count, with_jd, with_interview, _ in logs:
        key = f"{operation}/{status}" + (f"/{error_kind}" if error_kind else "")
        log_outcomes[key] = log_outcomes.get(key, 0) + int(count)
        # A generation's audit row names its job description too: count what each operation stored.
        if operation == "jd_enhancement":
            stored_jds[job_id] = stored_jds.get(job_id, 0) + int(with_jd or 0)
        elif operation == "interview_generation":
            stored_interviews[job_id] = stored_interviews.get(job_id, 0) + int(with_interview or 0)
    req_ids = {job["req_id"] for job in jobs.values()}
    attempts = {}
    for job in jobs.values():
        attempts[str(job["attempts"])] = attempts.get(str(job["attempts"]), 0) + 1
    statuses = {}
    for job in jobs.values():
        statuses[job["status"]] = statuses.get(job["status"], 0) + 1
    return {
        "jobs": len(jobs),
        "distinct_req_ids": len(req_ids),
        "status": statuses,
        "attempts": attempts,
        "job_descriptions": {"req_ids": len(jd_counts), "rows": sum(jd_counts.values()),
                             "req_ids_with_more_than_one": sorted(r for r, c in jd_counts.items() if c > 1),
                             "req_ids_without": sorted(req_ids - set(jd_counts))},
        "interviews": {"req_ids": len(interview_counts), "rows": sum(interview_counts.values()),
                       "req_ids_with_more_than_one": sorted(r for r, c in interview_counts.items() if c > 1),
                       "req_ids_without": sorted(req_ids - set(interview_counts))},
        "audit": {
            "generation_logs_by_outcome": log_outcomes,
            "jobs_whose_audit_names_more_than_one_interview": sorted(j for j, c in stored_interviews.items() if c > 1),
            "jobs_whose_audit_names_more_than_one_jd": sorted(j for j, c in stored_jds.items() if c > 1),
            "jobs_whose_audit_names_no_interview": sorted(j for j in jobs if not stored_interviews.get(j)),
            "jobs_whose_audit_names_no_jd": sorted(j for j in jobs if not stored_jds.get(j)),
            "logs_of_the_phase_not_linked_to_a_job": unlinked_logs,
        },
        "answer_to_interview_row_ms": _stats(answer_to_store_ms),
        "one_jd_and_one_interview_per_req_id": (
            len(req_ids) == n and len(jd_counts) == n and len(interview_counts) == n
            and all(c == 1 for c in jd_counts.values()) and all(c == 1 for c in interview_counts.values())
            and all(stored_interviews.get(j) == 1 and stored_jds.get(j) == 1 for j in jobs)
        ),
        "per_job": {job_id: {**job, **calls.get(job_id, {"calls": 0, "tokens": 0})} for job_id, job in jobs.items()},
    }


# --- Results -----------------------------------------------------------------------------------

def _unix(iso):
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _stats(sorted_values):
    if not sorted_values:
        return {"p50": None, "p95": None, "p99": None, "max": None, "min": None, "mean": None}
    return {"min": sorted_values[0], "p50": percentile(sorted_values, 50), "p95": percentile(sorted_values, 95),
            "p99": percentile(sorted_values, 99), "max": sorted_values[-1],
            "mean": round(sum(sorted_values) / len(sorted_values), 2)}


def _max_overlap(intervals):
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda e: (e[0], e[1]))
    level = peak = 0
    for _, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def _phase_result(phase, args, submissions, poller, reader, sampler, killer, cpu, quiet, stub_calls, messages, db_checks,
                  phase_started_unix, submit_done_unix, phase_ended_unix, timed_out):
    n = args.jobs
    done = [s for s in submissions if s is not None]
    accepted = [s for s in done if s["ok"]]
    submit_ms = sorted(s["ms"] for s in done)
    first_sent = min(s["sent_unix"] for s in done) if done else phase_started_unix
    last_answered = max(s["sent_unix"] + s.get("send_ms", s["ms"]) / 1000 for s in done) if done else first_sent

    jobs = []
    for index, submission in enumerate(submissions):
        job = poller.final.get(index)
        record = {"index": index + 1, "req_id": (submission or {}).get("req_id"), "job_id": (submission or {}).get("job_id"),
                  "submit_ms": (submission or {}).get("ms")}
        if job is not None:
            result = job.get("result") or {}
            db_job = db_checks["per_job"].get(job["job_id"], {})
            record.update({
                "status": job["status"], "http_status": job["http_status"], "attempts": job["attempts"],
                "created_unix": _unix(job["created_at"]), "started_unix": _unix(job["started_at"]),
                "finished_unix": _unix(job["finished_at"]),
                "result_total_tokens_used": result.get("total_tokens_used"),
                "usage_tokens_used": (job.get("usage") or {}).get("tokens_used"),
                "audited_tokens": db_job.get("tokens"), "audited_calls": db_job.get("calls"),
                "questions": len(((result.get("interview") or {}).get("questions")) or []),
                "error": None if job["status"] == "succeeded" else json.dumps(job.get("error"))[:300],
            })
        jobs.append(record)
    ended = [j for j in jobs if j.get("status")]
    succeeded = [j for j in ended if j["status"] == "succeeded" and j["http_status"] == 200 and j["questions"] == 5]
    by_status = {}
    for job in ended:
        by_status[job["status"]] = by_status.get(job["status"], 0) + 1
    last_end = max((j["finished_unix"] for j in ended if j["finished_unix"]), default=None)
    wall = (last_end - first_sent) if last_end else None
    # Two checks: the job's usage is what its audit recorded (accounting), and the answer's tokens are
    # all the job's tokens (nothing paid twice: a redone job did not pay again for what it had received).
    token_mismatches = [
        {k: j[k] for k in ("req_id", "job_id", "attempts", "result_total_tokens_used", "usage_tokens_used", "audited_tokens")}
        for j in succeeded
        if not (j["result_total_tokens_used"] == j["usage_tokens_used"] == j["audited_tokens"])
    ]
    usage_vs_audit = sum(1 for j in succeeded if j["usage_tokens_used"] != j["audited_tokens"])
    workers = args.celery_workers
    ideal_per_minute = workers * args.concurrency / (CLAUDE_CALLS_PER_JOB * args.delay) * 60
    slots = workers * args.concurrency
    batch_floor_s = -(-n // slots) * CLAUDE_CALLS_PER_JOB * args.delay
    waits = sorted(round(j["started_unix"] - j["created_unix"], 3) for j in ended if j.get("started_unix") and j.get("created_unix"))
    runs = sorted(round(j["finished_unix"] - j["started_unix"], 3) for j in ended if j.get("started_unix") and j.get("finished_unix"))

    window_end = last_end or phase_ended_unix
    during = [r for r in reader.samples if first_sent <= r["sent_unix"] <= window_end]
    read_ms = sorted(r["ms"] for r in during)

    # The stub's view: calls answered in the phase and the tokens it billed (what Anthropic would charge).
    stub_tokens = sum(sum(int((row[4] or {}).get(kind) or 0) for kind in TOKEN_KINDS) for row in stub_calls)
    intervals = [(row[0], row[0] + (row[5] or 0)) for row in stub_calls]
    app_tokens = sum(j["audited_tokens"] or 0 for j in ended)

    samples = sampler.samples
    max_running = max((s["jobs"].get("running", 0) for s in samples), default=None)
    max_queue = max((s["broker_queue"] or 0 for s in samples), default=None)
    result = {
        "phase": phase,
        "jobs": n,
        "clients": args.clients,
        "load": _load_label(args),
        "timed_out": timed_out,
        "submissions": {
            "answered": len(done), "accepted_202": len(accepted),
            "status_codes": _count(str(s["status"]) for s in done),
            "ms": _stats(submit_ms),
            "seconds_first_sent_to_last_answered": round(last_answered - first_sent, 3),
            "per_second": round(len(done) / (last_answered - first_sent), 1) if last_answered > first_sent else None,
            "failures": [s for s in done if not s["ok"]][:10],
            "late_ms": _stats(sorted(s["late_ms"] for s in done if "late_ms" in s)) if args.rate else None,
        },
        "outcome": {
            "ended": len(ended), "succeeded": len(succeeded), "by_status": by_status,
            "attempts": _count(str(j.get("attempts")) for j in ended),
            "jobs_with_2_attempts": sum(1 for j in ended if j.get("attempts") == 2),
            "attempts_total": sum(j.get("attempts") or 0 for j in ended),
            # Messages beyond the attempts found their job claimed or ended (the sweep re-sent a waiting job).
            "run_job_messages_received": messages,
            "messages_that_ran_nothing": messages - sum(j.get("attempts") or 0 for j in ended),
            "failures": [j for j in ended if j not in succeeded][:10],
        },
        "throughput": {
            "wall_s_first_submission_to_last_end": round(wall, 3) if wall else None,
            "jobs_per_minute": round(n / wall * 60, 1) if wall else None,
            "ideal_jobs_per_minute": round(ideal_per_minute, 1),
            "ratio_to_ideal": round(n / wall * 60 / ideal_per_minute, 3) if wall else None,
            "batch_floor_s": batch_floor_s,
            "ideal_note": f"{workers} workers x {args.concurrency} threads / ({CLAUDE_CALLS_PER_JOB} calls x {args.delay:g} s); "
                          f"a batch of {n} needs at least ceil({n}/{slots}) x {CLAUDE_CALLS_PER_JOB * args.delay:g} s = {batch_floor_s:g} s",
            "queue_wait_s": _stats(waits),
            "run_s_last_attempt": _stats(runs),
            "max_running_jobs_sampled": max_running,
            "max_broker_queue_sampled": max_queue,
            "stub_max_concurrent_calls": _max_overlap(intervals) if intervals else 0,
            "poller_lag_s": _stats(sorted(round(poller.seen_at[i] - (jobs[i]["finished_unix"] or poller.seen_at[i]), 3)
                                          for i in poller.seen_at)),
        },
        "reads": {
            "count": len(read_ms), "errors": sum(1 for r in during if not r["ok"]), "interval_s": args.read_interval,
            "ms": _stats(read_ms),
            "slowest": sorted(({"at_s": round(r["sent_unix"] - first_sent, 3), "ms": r["ms"], "status": r["status"]}
                               for r in during), key=lambda r: r["ms"], reverse=True)[:8],
        },
        "polls": {"count": poller.polls, "errors": poller.poll_errors, "ms": _stats(sorted(poller.poll_ms))},
        "tokens": {
            "jobs_checked": len(succeeded),
            "mismatches": token_mismatches[:20],
            "mismatch_count": len(token_mismatches),
            "usage_differs_from_audit": usage_vs_audit,
            "paid_twice": sum(1 for m in token_mismatches if m["usage_tokens_used"] != m["result_total_tokens_used"]),
            "tokens_paid_twice": sum(m["usage_tokens_used"] - m["result_total_tokens_used"] for m in token_mismatches
                                     if m["usage_tokens_used"] is not None and m["result_total_tokens_used"] is not None),
            "app_audited_tokens": app_tokens,
            "stub_billed_tokens": stub_tokens,
            "stub_calls": len(stub_calls),
            "stub_calls_by_schema": _count(row[1] or "none" for row in stub_calls),
            "expected_calls": CLAUDE_CALLS_PER_JOB * n,
            "stub_tokens_not_in_the_audit": stub_tokens - app_tokens,
        },
        "database": {k: v for k, v in db_checks.items() if k != "per_job"},
        "cpu": cpu,
        # Other processes used over a quarter of the machine: the latencies say little (rerun when quiet).
        "disturbed_by_other_load": bool(cpu) and cpu["other_processes"] > 0.25 * cpu["available"],
        "quiet_wait": quiet,
        "timeline": _timeline(samples, first_sent),
        "each": [{k: (round(v - first_sent, 3) if k.endswith("_unix") and v else v) for k, v in j.items()} for j in jobs],
    }
    if killer is not None:
        result["kill"] = _kill_summary(killer, jobs, first_sent, last_end)
    return result


def _count(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def _timeline(samples, first_sent):
    """One sample a second: jobs by status and the broker's queue."""
    out, last = [], None
    for sample in samples:
        second = int(sample["at_unix"] - first_sent)
        if second != last:
            out.append({"t_s": second, **sample["jobs"], "broker_queue": sample["broker_queue"],
                        "unacked": sample["broker_unacked"]})
            last = second
    return out


def _kill_summary(killer, jobs, first_sent, last_end):
    if killer.record is None:
        return {"error": killer.error or "the worker was not killed"}
    record = dict(killer.record)
    by_id = {j["job_id"]: j for j in jobs}
    orphans = [by_id.get(o["job_id"], {}) for o in record["orphaned_jobs"]]
    killed = record["killed_unix"]
    record["at_s"] = round(killed - first_sent, 3)
    record["orphaned"] = len(orphans)
    record["orphans_succeeded"] = sum(1 for j in orphans if j.get("status") == "succeeded")
    record["orphans_with_2_attempts"] = sum(1 for j in orphans if j.get("attempts") == 2)
    restarts = sorted(j["started_unix"] - killed for j in orphans if j.get("started_unix"))
    ends = sorted(j["finished_unix"] - killed for j in orphans if j.get("finished_unix"))
    record["orphans_restarted_s_after_kill"] = [round(restarts[0], 2), round(restarts[-1], 2)] if restarts else None
    record["orphans_finished_s_after_kill"] = [round(ends[0], 2), round(ends[-1], 2)] if ends else None
    record["error"] = killer.error
    return record


def _in_app_submission_ms(log_path, since_unix, until_unix):
    """The app's own latency (its request log's latency_ms: from the request's start in the app to the
    response) of the 202 submissions in a time window; the rest of the client's time is queueing in
    gunicorn and the loopback."""
    values = []
    with open(log_path, errors="replace") as fh:
        for line in fh:
            if "techscreen.request: POST /api/interview/workflow/full -> 202" not in line:
                continue
            try:
                at = datetime.fromisoformat(line.split(" ", 1)[0]).timestamp()
                latency = float(line.rsplit("latency_ms=", 1)[1].split()[0].rstrip(")"))
            except (ValueError, IndexError):
                continue
            if since_unix <= at <= until_unix + 1:
                values.append(latency)
    return {"count": len(values), **_stats(sorted(values))}


def _job_metrics(app_url):
    """The jobs' lines of /metrics (gunicorn and the Celery workers share the multiprocess directory)."""
    try:
        with support.OPENER.open(f"{app_url}/metrics", timeout=10) as response:
            text = response.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        return {"error": str(exc)}
    wanted = ("techscreen_jobs_finished_total", "techscreen_job_queue_wait_seconds_count",
              "techscreen_job_queue_wait_seconds_sum", "techscreen_job_run_seconds_count", "techscreen_job_run_seconds_sum")
    return [line for line in text.splitlines() if line.startswith(wanted)]


class _CpuSampler:
    """CPU seconds used by gunicorn, the Celery workers, the stub, this client, mariadbd, redis-server
    and everything else, from /proc (Linux); sampled every 0.5 s so a killed worker's CPU is kept."""

    def __init__(self, services):
        self.services = services
        self.tick = os.sysconf("SC_CLK_TCK")
        self._thread = None
        self._stop_event = threading.Event()

    def _roles(self):
        roles = {}
        groups = {self.services.gunicorn.pid: "gunicorn", self.services.stub.pid: "stub"}
        for process in self.services.all_processes:
            if getattr(process, "bench_name", None):
                groups[process.pid] = "celery_workers"
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    head, tail = fh.read().rsplit(")", 1)
            except OSError:
                continue
            fields = tail.split()
            comm = head.split("(", 1)[1]
            role = groups.get(int(fields[2]))
            if role is None and comm in ("mariadbd", "mysqld"):
                role = "mariadbd"
            if role is None and comm.startswith("redis-server"):
                role = "redis"
            if role is not None:
                roles[int(entry)] = (role, (int(fields[11]) + int(fields[12])) / self.tick)
        return roles

    @staticmethod
    def _busy():
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
        return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")

    def wait_until_quiet(self, timeout, threshold=0.25):
        """Wait (at most ``timeout`` s) for a 1 s window with the CPU busy less than ``threshold``."""
        started = time.monotonic()
        busy = None
        while True:
            before = self._busy()
            time.sleep(1.0)
            busy = (self._busy() - before) / (os.cpu_count() or 1)
            if busy < threshold or time.monotonic() - started >= timeout:
                break
        return {"waited_s": round(time.monotonic() - started, 1), "last_busy_fraction": round(busy, 2), "quiet": busy < threshold}

    def start(self):
        self._first = {pid: cpu for pid, (_, cpu) in self._roles().items()}
        self._last = {}
        self._busy_before = self._busy()
        self._client_before = os.times()
        self._started = time.monotonic()
        self._stop_event.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="cpu-sampler")
        self._thread.start()

    def _sample(self):
        while True:
            for pid, value in self._roles().items():
                self._last[pid] = value
            if self._stop_event.wait(0.5):
                return

    def mark(self):
        """CPU used so far in this window (as ``stop`` reports it), without ending the window."""
        return self._used(self._roles())

    def stop(self):
        self._stop_event.set()
        self._thread.join(5)
        return self._used(self._roles())

    def _used(self, now):
        for pid, value in now.items():
            self._last[pid] = value
        wall = time.monotonic() - self._started
        used = {"gunicorn": 0.0, "celery_workers": 0.0, "stub": 0.0, "mariadbd": 0.0, "redis": 0.0}
        for pid, (role, cpu) in self._last.items():
            used[role] += cpu - self._first.get(pid, 0.0)
        after = os.times()
        used["bench_client"] = (after.user + after.system) - (self._client_before.user + self._client_before.system)
        busy = self._busy() - self._busy_before
        used = {k: round(v, 2) for k, v in used.items()}
        used["other_processes"] = round(busy - sum(used.values()), 2)
        used["all"] = round(busy, 2)
        used["available"] = round((os.cpu_count() or 1) * wall, 2)
        used["wall_s"] = round(wall, 2)
        return used


# --- Verdict and report ------------------------------------------------------------------------

def _verdict(result, args):
    goals = []

    def add(name, ok, value, target):
        goals.append({"goal": name, "passed": bool(ok), "value": value, "target": target})

    a, b = result.get("phase_A"), result.get("phase_B")
    n = args.jobs
    if a:
        p99 = a["submissions"]["ms"]["p99"]
        add("A: submission p99 < 50 ms", p99 is not None and p99 < SUBMIT_P99_GOAL_MS and a["submissions"]["accepted_202"] == n,
            f"{p99} ms ({a['submissions']['accepted_202']}/{n} accepted)", f"< {SUBMIT_P99_GOAL_MS:g} ms")
        add(f"A: all {n} jobs succeed", a["outcome"]["succeeded"] == n, f"{a['outcome']['succeeded']}/{n} {a['outcome']['by_status']}", f"{n}/{n}")
        rp99 = a["reads"]["ms"]["p99"]
        add("A: read p99 < 100 ms during the run", rp99 is not None and rp99 < READ_P99_GOAL_MS and not a["reads"]["errors"],
            f"{rp99} ms ({a['reads']['count']} reads, {a['reads']['errors']} errors)", f"< {READ_P99_GOAL_MS:g} ms")
        add("A: one job description and one interview per req_id", a["database"]["one_jd_and_one_interview_per_req_id"],
            f"JDs {a['database']['job_descriptions']['rows']}, interviews {a['database']['interviews']['rows']} for "
            f"{a['database']['distinct_req_ids']} req_ids", f"{n} and {n}")
        add("A: nothing paid twice (each job's result tokens = its usage = its audited calls)",
            a["tokens"]["mismatch_count"] == 0 and a["tokens"]["jobs_checked"] == n,
            f"{a['tokens']['mismatch_count']} mismatches of {a['tokens']['jobs_checked']}", "0")
    if b:
        add(f"B: nothing lost (all {n} succeed, a worker killed)", b["outcome"]["succeeded"] == n,
            f"{b['outcome']['succeeded']}/{n} {b['outcome']['by_status']}", f"{n}/{n}")
        add("B: nothing duplicated (one JD and one interview per req_id)", b["database"]["one_jd_and_one_interview_per_req_id"],
            f"JDs {b['database']['job_descriptions']['rows']}, interviews {b['database']['interviews']['rows']} for "
            f"{b['database']['distinct_req_ids']} req_ids", f"{n} and {n}")
        kill = b.get("kill") or {}
        steps = {o["job_id"]: o["step"] for o in kill.get("orphaned_jobs", [])}
        twice = [m for m in b["tokens"]["mismatches"] if m["usage_tokens_used"] != m["result_total_tokens_used"]]
        add("B: job usage = its audited calls (exact accounting)", b["tokens"]["usage_differs_from_audit"] == 0 and b["tokens"]["jobs_checked"] == n,
            f"{b['tokens']['usage_differs_from_audit']} differ of {b['tokens']['jobs_checked']}", "0")
        add("B: nothing paid twice (each job's result tokens = its usage)", not twice and b["tokens"]["jobs_checked"] == n,
            f"{len(twice)} jobs paid {b['tokens']['tokens_paid_twice']} tokens again"
            + (f" (killed while {', '.join(sorted({str(steps.get(m['job_id'])) for m in twice}))})" if twice else ""), "0")
        add("B: the kill hit running jobs, all redone (attempts 2)",
            kill.get("orphaned", 0) > 0 and kill.get("orphans_with_2_attempts") == kill.get("orphaned") == kill.get("orphans_succeeded"),
            f"{kill.get('orphaned')} orphaned, {kill.get('orphans_with_2_attempts')} with 2 attempts, {kill.get('orphans_succeeded')} succeeded"
            + (f" ({kill['error']})" if kill.get("error") else ""), "> 0, all")
    return {"goals": goals, "all_passed": all(g["passed"] for g in goals)}


def _setup_description(args, env, database_url, queue, broker):
    url = make_url(database_url)
    try:
        connection = support.server_connection(database_url)
        server_version = connection.get_server_info()
        connection.close()
    except pymysql.MySQLError:
        server_version = None
    import celery
    import gunicorn

    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "database": f"{url.drivername}://{url.host}:{url.port or 3306}/{url.database} (dropped at the end)"
                    if not args.keep else f"{url.database} (kept)",
        "server_version": server_version,
        "redis": {"url": args.redis_url, "version": broker.version, "queue": queue, "started_by_the_run": broker.started_server},
        "celery": {"version": celery.__version__, "workers": args.celery_workers, "pool": "threads",
                   "concurrency": args.concurrency, "prefetch_multiplier": 1, "acks_late": True, "nice": args.worker_nice,
                   "sched_idle": args.worker_idle},
        "gunicorn": {"version": gunicorn.__version__, "config": args.gunicorn_config, "workers": args.gunicorn_workers,
                     "threads": env.get("GUNICORN_THREADS", "32 (default)")},
        "jobs_settings": {"JOB_STALE_SECONDS": args.stale_seconds, "JOB_HEARTBEAT_SECONDS": args.heartbeat_seconds,
                          "JOB_SWEEP_SECONDS": args.sweep_seconds, "JOB_MAX_ATTEMPTS": env.get("JOB_MAX_ATTEMPTS", "3 (default)")},
        "db_pool": {"DB_POOL_SIZE": env.get("DB_POOL_SIZE", "10 (default)"), "DB_MAX_OVERFLOW": env.get("DB_MAX_OVERFLOW", "10 (default)")},
        "stub_delay_s": args.delay,
        "question_cache": "off (ENABLE_QUESTION_CACHE=false: 2 Claude calls per workflow)",
        "clients": args.clients,
        "rate_per_s": args.rate,
        "load": _load_label(args),
        "poll_rate_per_s": args.poll_rate,
        "read_interval_s": args.read_interval,
        "kill_at_fraction": round(args.kill_at, 3),
        "kill_delay_s": args.kill_delay,
        "kill_when_step": args.kill_when_step,
        "restart_killed_worker": not args.no_restart,
        "git": support.git_state(),
        "jd_file": os.path.relpath(os.path.abspath(args.jd_file), REPO_ROOT),
    }


def _load_label(args):
    if args.rate:
        return f"open loop: Poisson arrivals at {args.rate:g}/s"
    return f"closed loop: {args.clients} threads submitting as fast as answered"


def _print_report(result, result_path):
    setup = result["setup"]
    print(f"TechScreen async-jobs benchmark  {result['started_at']}")
    print(f"  machine: {setup['machine']['cpus']} CPUs, {setup['machine']['platform']}, Python {setup['machine']['python']}")
    print(f"  MariaDB {setup['server_version']}, Redis {setup['redis']['version']} ({setup['redis']['url']}, queue {setup['redis']['queue']})")
    print(f"  gunicorn {setup['gunicorn']['version']}: {setup['gunicorn']['workers']} workers x {setup['gunicorn']['threads']} threads; "
          f"Celery {setup['celery']['version']}: {setup['celery']['workers']} workers x -P threads -c {setup['celery']['concurrency']}"
          + (" under SCHED_IDLE" if setup["celery"].get("sched_idle") else "")
          + (f" nice {setup['celery']['nice']}" if setup["celery"].get("nice") else ""))
    print(f"  stub: {setup['stub_delay_s']:g} s per call, {setup['question_cache']}; jobs: stale {setup['jobs_settings']['JOB_STALE_SECONDS']:g} s, "
          f"heartbeat {setup['jobs_settings']['JOB_HEARTBEAT_SECONDS']:g} s, sweep {setup['jobs_settings']['JOB_SWEEP_SECONDS']:g} s")
    print(f"  clients: {setup['load']}, polls <= {setup['poll_rate_per_s']:g}/s, a read every {setup['read_interval_s']:g} s")
    print(f"  code: {setup['git']}")
    base = result.get("baseline") or {}
    if base:
        s, r, cold = base["submissions"]["ms"], base["reads"]["ms"], base["cold_burst"]["ms"]
        print(f"first submissions on fresh workers (untimed warm-up, {base['cold_burst']['count']} at once): ms p50 {cold['p50']} max {cold['max']}")
        print(f"baseline, idle: {base['submissions']['count']} sequential submissions ms p50 {s['p50']} max {s['max']}; "
              f"{base['reads']['count']} reads ms p50 {r['p50']} p95 {r['p95']} p99 {r['p99']} max {r['max']} ({base['reads']['errors']} errors)")
    for phase in ("A", "B"):
        p = result.get(f"phase_{phase}")
        if not p:
            continue
        sub, out, thr, reads, tok, db = p["submissions"], p["outcome"], p["throughput"], p["reads"], p["tokens"], p["database"]
        print(f"phase {phase}: {p['jobs']} async workflows, {p['load']}" + (" (TIMED OUT)" if p["timed_out"] else ""))
        print(f"  submissions: {sub['accepted_202']}/{sub['answered']} accepted (202), codes {sub['status_codes']}; ms p50 {sub['ms']['p50']} "
              f"p95 {sub['ms']['p95']} p99 {sub['ms']['p99']} max {sub['ms']['max']}; {sub['per_second']}/s over "
              f"{sub['seconds_first_sent_to_last_answered']} s")
        if sub.get("late_ms"):
            print(f"    sends behind their arrival time: ms p99 {sub['late_ms']['p99']} max {sub['late_ms']['max']}")
        app_ms, busy = sub.get("in_app_ms") or {}, sub.get("cpu_while_submitting") or {}
        if app_ms.get("count"):
            print(f"    in the app (request log): ms p50 {app_ms['p50']} p95 {app_ms['p95']} p99 {app_ms['p99']} max {app_ms['max']}")
        if busy:
            print(f"    CPU s while submitting ({busy['available']:g} available over {busy['wall_s']:g} s): gunicorn {busy['gunicorn']}, "
                  f"workers {busy['celery_workers']}, mariadbd {busy['mariadbd']}, client {busy['bench_client']}, stub {busy['stub']}, "
                  f"other {busy['other_processes']}")
        for failure in sub["failures"][:3]:
            print(f"    submission {failure['req_id']}: HTTP {failure['status']} {failure['error']}")
        print(f"  jobs: {out['succeeded']}/{p['jobs']} succeeded; by status {out['by_status']}; attempts {out['attempts']}; "
              f"{out['run_job_messages_received']} run_job messages received by the workers ({out['messages_that_ran_nothing']} ran nothing)")
        for failure in out["failures"][:3]:
            print(f"    {failure.get('req_id')}: {failure.get('status')} HTTP {failure.get('http_status')} {failure.get('error')}")
        print(f"  wall {thr['wall_s_first_submission_to_last_end']} s from the first submission to the last end: "
              f"{thr['jobs_per_minute']} jobs/min vs ideal {thr['ideal_jobs_per_minute']} ({thr['ratio_to_ideal']}); "
              f"batch floor {thr['batch_floor_s']:g} s")
        print(f"    queue wait s p50 {thr['queue_wait_s']['p50']} max {thr['queue_wait_s']['max']}; run s p50 {thr['run_s_last_attempt']['p50']} "
              f"max {thr['run_s_last_attempt']['max']}; max running {thr['max_running_jobs_sampled']}, stub max concurrent "
              f"{thr['stub_max_concurrent_calls']}")
        print(f"  reads during the run: {reads['count']}, {reads['errors']} errors; ms p50 {reads['ms']['p50']} p95 {reads['ms']['p95']} "
              f"p99 {reads['ms']['p99']} max {reads['ms']['max']}")
        print(f"  polls: {p['polls']['count']} GET /api/jobs/<id>, ms p50 {p['polls']['ms']['p50']} p99 {p['polls']['ms']['p99']}")
        print(f"  database: JDs {db['job_descriptions']['rows']} / interviews {db['interviews']['rows']} for {db['distinct_req_ids']} req_ids; "
              f"audit {db['audit']['generation_logs_by_outcome']}")
        gap = db.get("answer_to_interview_row_ms") or {}
        if gap.get("p50") is not None:
            print(f"    from the generation's answer to its interview row: ms p50 {gap['p50']} p99 {gap['p99']} max {gap['max']} "
                  f"(a worker killed in between has paid for an answer it loses)")
        print(f"  tokens: {tok['mismatch_count']} mismatches of {tok['jobs_checked']} ({tok['paid_twice']} jobs paid "
              f"{tok['tokens_paid_twice']} audited tokens twice; usage differs from the audit in {tok['usage_differs_from_audit']})")
        print(f"    stub calls {tok['stub_calls']} (expected "
              f"{tok['expected_calls']}) {tok['stub_calls_by_schema']}; billed by the stub {tok['stub_billed_tokens']}, "
              f"audited {tok['app_audited_tokens']} (difference {tok['stub_tokens_not_in_the_audit']})")
        cpu = p["cpu"]
        print(f"  CPU s ({cpu['available']:g} available over {cpu['wall_s']:g} s): gunicorn {cpu['gunicorn']}, workers {cpu['celery_workers']}, "
              f"stub {cpu['stub']}, client {cpu['bench_client']}, mariadbd {cpu['mariadbd']}, redis {cpu['redis']}, "
              f"other {cpu['other_processes']}; quiet machine before: {'yes' if p['quiet_wait']['quiet'] else 'NO'}")
        if p["disturbed_by_other_load"]:
            print("  WARNING: other processes used over a quarter of the CPU during this phase; rerun on a quiet machine")
        kill = p.get("kill")
        if kill:
            if "orphaned" in kill:
                print(f"  kill: {kill['worker']} SIGKILLed at +{kill['at_s']} s ({kill['jobs_ended_at_kill']} jobs ended), holding "
                      f"{kill['orphaned']} running jobs {kill['orphaned_steps']}; restarted: {kill['restarted']}"
                      + (f" (ready {kill['restart']['ready_after_kill_s']} s after)" if kill.get("restart") else ""))
                print(f"    orphans: {kill['orphans_with_2_attempts']} with 2 attempts, {kill['orphans_succeeded']} succeeded; restarted "
                      f"{kill['orphans_restarted_s_after_kill']} s, finished {kill['orphans_finished_s_after_kill']} s after the kill")
            else:
                print(f"  kill: {kill.get('error')}")
    print("goals:")
    for goal in result["verdict"]["goals"]:
        print(f"  {'PASS' if goal['passed'] else 'FAIL'}  {goal['goal']}: {goal['value']} (target {goal['target']})")
    print(f"=> {'ALL GOALS MET' if result['verdict']['all_passed'] else 'GOAL(S) NOT MET'}")
    print("absolute times on this small shared machine are noisy: compare with the idle baseline of the same run")
    print(f"result: {result_path}; logs: {', '.join(result['logs'])}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        sys.exit(f"bench_jobs: {exc}")
    except KeyboardInterrupt:
        sys.exit("bench_jobs: interrupted; the servers, the workers, the database and the broker's keys were cleaned up")
