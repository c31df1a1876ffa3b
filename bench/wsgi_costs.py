"""CPU time of one request through the app's WSGI callable, without an HTTP server or a profiler.

    PYTHONPATH=. python bench/wsgi_costs.py                      # SQLite file in a temp dir, 3000 requests per target
    PYTHONPATH=. python bench/wsgi_costs.py --requests 5000 --database-url mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_wsgi

Calls ``app(environ, start_response)`` directly with a prepared environ, so what is timed is the
app's own per-request work (Flask, hooks, auth, rate limit, stamp query, cached representation,
conditional GET), not gunicorn's or the kernel's. Targets: bench/hello_app.py's GET /hello (the
baseline), GET /health, GET /api/interview/<id>, the same with If-None-Match (304), and
GET /api/interview/req/<req_id> (3 versions) with its 304. One requisition made through the
services with the sandbox provider; rate limits raised out of the way (counting still runs).
Prints microseconds per request (wall time of a single thread: no other load). A MySQL database
named by --database-url is recreated and dropped.
"""

import argparse
import io
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary directory")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="techscreen-wsgi-")
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", workdir)
    os.environ.update(APP_ENV="development", LLM_PROVIDER="sandbox", RATE_LIMIT_READ="100000000/minute", LOG_LEVEL="WARNING")
    url = args.database_url or f"sqlite:///{workdir}/bench.sqlite3"
    from bench import support

    if url.startswith("mysql"):
        support.recreate_database(url)
    os.environ["DATABASE_URL"] = url + ("?charset=utf8mb4" if url.startswith("mysql") else "")
    try:
        run(args.requests)
    finally:
        if url.startswith("mysql"):
            support.drop_database(url)


def run(requests):
    import flask_migrate

    from app import create_app, warm_up
    from bench import support
    from bench.hello_app import app as hello
    from services.api_keys import create_api_key
    from services.interview_generation import generate_interview
    from services.jd_enhancement import enhance_job_description

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        _, key = create_api_key(name="wsgi-costs", role="viewer")
        with open(support.DEFAULT_JD_FILE) as lines:
            jd = json.loads(lines.readline())
        stored = enhance_job_description(claude=app.extensions["claude"], req_id="WSGI-1", basic_title=jd["title"][:255],
                                         basic_description=jd["description"][:20000], basic_level=jd["level"])
        for _ in range(3):
            result = generate_interview(claude=app.extensions["claude"], question_cache=app.extensions["question_cache"],
                                        req_id="WSGI-1", job_description_id=stored.job_description.id, use_cache=False)
        interview_id = result.interview.id
    warm_up(app)
    auth = [("Authorization", f"Bearer {key}")]
    one, listing = f"/api/interview/{interview_id}", "/api/interview/req/WSGI-1"
    targets = [
        ("bare Flask GET /hello", hello, "/hello", []),
        ("GET /health", app, "/health", []),
        ("GET /api/interview/<id>", app, one, auth),
        ("  same, 304", app, one, auth + [("If-None-Match", _call(app, one, auth)[1]["ETag"])]),
        ("GET /api/interview/req/<req_id>", app, listing, auth),
        ("  same, 304", app, listing, auth + [("If-None-Match", _call(app, listing, auth)[1]["ETag"])]),
    ]
    print(f"{'target':34} {'status':>6} {'bytes':>7} {'us/request':>11}")
    for name, target, path, headers in targets:
        for _ in range(200):
            _call(target, path, headers)
        started = time.perf_counter()
        for _ in range(requests):
            status, _, body = _call(target, path, headers)
        micros = (time.perf_counter() - started) / requests * 1e6
        print(f"{name:34} {status:>6} {len(body):7d} {micros:11.0f}")


def _call(target, path, headers):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
               "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
               "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
               "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0)}
    for name, value in headers:
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"], answer["headers"] = int(status.split()[0]), dict(response_headers)

    body = b"".join(target(environ, start_response))
    return answer["status"], answer["headers"], body


if __name__ == "__main__":
    main()
