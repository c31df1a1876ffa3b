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
