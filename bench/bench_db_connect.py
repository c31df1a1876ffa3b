"""What opening one MySQL/MariaDB connection costs, per TLS setting (database.py).

    python bench/bench_db_connect.py                   # 50 connections per variant, 127.0.0.1:3306 root
    python bench/bench_db_connect.py --connections 200 --host 127.0.0.1 --port 3306 --user root

For each variant it opens and closes N connections in a row and prints the CPU time (this
thread's) and wall time per connection. No database is created; nothing is written. The
variants: PyMySQL's own default (preferred TLS, a new SSL context per connection), TechScreen's
preferred mode (database.PyMySQLConnection: one context per process), disabled, and required
(one shared context; skipped when the server offers no TLS). Results: bench/README.md.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pymysql

from database import PyMySQLConnection, mysql_tls_connect_args


def measure(connect, count):
    """Return (CPU ms, wall ms) per connection, medians over ``count`` connect+close cycles."""
    cpu, wall = [], []
    for _ in range(count):
        started, started_cpu = time.perf_counter(), time.thread_time()
        connect().close()
        cpu.append((time.thread_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    server = {"host": args.host, "port": args.port, "user": args.user, "password": args.password}

    probe = pymysql.connect(**server, ssl_disabled=True)
    with probe.cursor() as cursor:
        cursor.execute("SHOW VARIABLES LIKE 'have_ssl'")
        have_ssl = cursor.fetchone()[1] == "YES"
        cursor.execute("SELECT VERSION()")
        version = cursor.fetchone()[0]
    probe.close()

    variants = [
        ("PyMySQL default (preferred, new context per connection)", lambda: pymysql.connect(**server)),
        ("DB_SSL_MODE=preferred (database.PyMySQLConnection)", lambda: PyMySQLConnection(**server)),
        ("DB_SSL_MODE=disabled", lambda: pymysql.connect(**server, **mysql_tls_connect_args("disabled"))),
    ]
    if have_ssl:
        variants.append(("DB_SSL_MODE=required (shared context)", lambda: pymysql.connect(**server, **mysql_tls_connect_args("required"))))
    print(f"server {args.host}:{args.port} {version}, TLS offered: {'yes' if have_ssl else 'no'}; "
          f"{args.connections} connections per variant (medians)")
    print(f"{'variant':60} {'CPU ms':>8} {'wall ms':>8}")
    for label, connect in variants:
        cpu, wall = measure(connect, args.connections)
        print(f"{label:60} {cpu:8.2f} {wall:8.2f}")


if __name__ == "__main__":
    main()
