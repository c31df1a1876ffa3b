"""What the benchmark scripts share: paths, scratch MySQL/MariaDB databases, subprocesses, loopback
HTTP and percentiles. Standard library plus the app's own requirements (PyMySQL, SQLAlchemy).

A script run as ``python bench/<name>.py`` imports it after putting the repo root on sys.path:

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from bench import support
"""

import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

import pymysql
from sqlalchemy.engine import make_url

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
DEFAULT_JD_FILE = os.path.join(REPO_ROOT, "..", "shared", "data", "job_descriptions.jsonl")
# Loopback only: never send benchmark traffic through an HTTP proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def utc_stamp():
    """The current UTC time as used in result file names, e.g. 20261121T224236Z."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


# --- Scratch databases -------------------------------------------------------------------------

def server_connection(url, database=None, **connect_args):
    """Return a PyMySQL connection to the server of a SQLAlchemy URL (its database is not opened
    unless ``database`` is given). Exits when the URL is not MySQL/MariaDB."""
    url = make_url(url)
    if not url.drivername.startswith(("mysql", "mariadb")):
        sys.exit(f"the database URL must be MySQL/MariaDB, not {url.drivername}")
    return pymysql.connect(host=url.host or "127.0.0.1", port=url.port or 3306, user=url.username or "root",
                           password=url.password or "", database=database, connect_timeout=5, **connect_args)


def database_url(server_url, database):
    """``server_url`` with its database set to ``database`` (password kept, for create_app)."""
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def recreate_database(url):
    """Drop and create (utf8mb4) the database named in ``url``; its name must contain "bench"."""
    _run_on_server(url, "DROP DATABASE IF EXISTS `{name}`",
                   "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")


def drop_database(url):
    """Drop the database named in ``url`` if it exists; its name must contain "bench"."""
    _run_on_server(url, "DROP DATABASE IF EXISTS `{name}`")


def _run_on_server(url, *statements):
    name = make_url(url).database
    if not name or "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    connection = server_connection(url)
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement.format(name=name))
    finally:
        connection.close()


# --- Subprocesses and loopback HTTP -----------------------------------------------------------

def free_port():
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command, env, log):
    """Start ``command`` in the repo root, output to ``log``, in its own process group (so a stuck
    server and its workers are stopped together by ``stop``)."""
    return subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(process, timeout=15):
    """SIGTERM the process group of a ``start``ed process; SIGKILL it after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def wait_ready(url, processes=(), timeout=60):
    """Poll ``url`` until it answers 200. Raises RuntimeError when one of ``processes`` exits
    first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args[:3]} exited with {process.returncode}; see the bench log")
        try:
            with OPENER.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready within {timeout:g} s")


def get_json(url):
    """GET ``url`` and parse its JSON; {"error": ...} instead of raising."""
    try:
        with OPENER.open(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return {"error": str(exc)}


# --- Data and statistics -----------------------------------------------------------------------

def load_job_descriptions(path):
    """The job descriptions of a JSON Lines file (one object per line); exits when there are none."""
    with open(path, encoding="utf-8") as fh:
        jds = [json.loads(line) for line in fh if line.strip()]
    if not jds:
        sys.exit(f"no job descriptions in {path}")
    return jds


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an ascending list, None when empty (with n < 100, p99 is the maximum)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


class BenchError(RuntimeError):
    """The benchmark cannot go on (a service did not start, an answer was not 200, ...)."""


class ApiClient:
    """JSON over loopback HTTP to the service, with an API key and a timeout (seconds)."""

    def __init__(self, base_url, api_key, timeout):
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method, path, body=None, timeout=None):
        """Return (status, parsed JSON or None, seconds, unix time sent). status 0 = no HTTP answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.api_key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        sent_unix = time.time()
        started = time.perf_counter()
        try:
            with OPENER.open(request, timeout=timeout or self.timeout) as response:
                raw, status = response.read(), response.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        except (urllib.error.URLError, OSError) as exc:
            return 0, {"error": f"{type(exc).__name__}: {exc}"}, time.perf_counter() - started, sent_unix
        elapsed = time.perf_counter() - started
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = {"error": raw[:300].decode(errors="replace")}
        return status, payload, elapsed, sent_unix

    def ok(self, method, path, body=None, timeout=30):
        """The JSON of a 200 answer; raises BenchError otherwise."""
        status, payload, _, _ = self.request(method, path, body, timeout=timeout)
        if status != 200:
            raise BenchError(f"{method} {path}: HTTP {status} {json.dumps(payload)[:300]}")
        return payload


def _exit_on_signal(signum, frame):
    print(f"interrupted by signal {signum}; stopping the servers", file=sys.stderr)
    raise SystemExit(128 + signum)  # unwinds through the finally that stops the servers


def exit_cleanly_on_signals():
    """Turn SIGTERM and SIGHUP into SystemExit, so a benchmark's finally blocks stop its servers."""
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _exit_on_signal)


def app_env(**settings):
    """The service's environment for a benchmark: this one without proxies or auth overrides, the
    anthropic provider (every call goes through the SDK to a local stub), loopback without
    proxies, rate limits raised out of the way (the limiter still runs), plus ``settings``."""
    env = dict(os.environ)
    for name in ("CLAUDE_API_KEY", "AUTH_MODE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "http_proxy", "https_proxy", "all_proxy"):
        env.pop(name, None)
    env.update({
        "LLM_PROVIDER": "anthropic",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "RATE_LIMIT_CLAUDE": "100000/minute",
        "RATE_LIMIT_WRITE": "100000/minute",
        "RATE_LIMIT_READ": "100000/minute",
        **settings,
    })
    return env


def run_flask_cli(env, command, what):
    """Run ``flask --app app <command>`` in the repository; return its stdout. Raises BenchError."""
    completed = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *command], cwd=REPO_ROOT, env=env,
                               capture_output=True, text=True, timeout=120, check=False)
    if completed.returncode != 0:
        raise BenchError(f"{what} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    return completed.stdout


def git_state():
    """The commit measured, and whether the working tree had uncommitted changes (None without git)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, timeout=10, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def enhance_body(jd, req_id, max_description_chars=20_000):
    """The enhance request for one corpus job description (fields cut to the API's limits)."""
    return {
        "req_id": req_id,
        "basic_title": jd["title"][:255],
        "basic_description": jd["description"][:max_description_chars],
        "basic_department": (jd.get("department") or None) and jd["department"][:255],
        "basic_level": (jd.get("level") or None) and jd["level"][:100],
    }

