"""Read-speed benchmark: GET /api/interview/<id> and GET /api/interview/req/<req_id> under the repo's
gunicorn config on MariaDB, beside a bare Flask "hello" under the same config, measured with wrk
in one run. Goals (issue 12): GET /api/interview/<id> at least 0.5 of the bare Flask requests/s with
p99 < 20 ms, GET /api/interview/req/<req_id> at least 0.3, GET /health at least 0.8. Also measured:
the same two reads revalidated with If-None-Match (304, no body).

    python bench/bench_reads.py                    # fresh DB techscreen_bench_reads; 3 rounds x 4 s per target, each after bare Flask
    python bench/bench_reads.py --duration 8 --rounds 5 --connections 32

Data: --requisitions requisitions (default 200), each with a job description and --versions
interview versions (default 3) of 5 questions x 8-10 criteria, made through the app's services
with the sandbox provider. The read target is a requisition with all its versions. The app runs
with APP_ENV=development, the sandbox provider (reads never call Claude), rate limits raised out
of the way (their counting still runs), the cached bodies' stamps in Redis (--stamp-url, as
REPRESENTATION_STAMP_URL) and logs to a file. Every target runs right after a run of bare Flask,
and its ratio is the median over rounds of those paired ratios. A third server, the same app with
database stamps (REPRESENTATION_STAMP_URL unset), serves the two reads once more: the same-run
comparison. Results: bench/results/reads-<stamp>.json.
Loopback only; subprocesses and the database are always cleaned up.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import support  # noqa: E402
from bench.support import REPO_ROOT, RESULTS_DIR  # noqa: E402

# target name -> (least ratio to bare Flask req/s, p99 ms under or None)
GOALS = {
    "GET /api/interview/<id>": (0.5, 20.0),
    "GET /api/interview/req/<req_id>": (0.3, None),
    "GET /health (no DB, no auth)": (0.8, None),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", default="mysql+pymysql://root@127.0.0.1:3306/techscreen_bench_reads")
    parser.add_argument("--requisitions", type=int, default=200)
    parser.add_argument("--versions", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4, help="seconds of wrk per target and round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each running every target once, each after bare Flask")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--stamp-url", default="redis://127.0.0.1:6379/14",
                        help="REPRESENTATION_STAMP_URL of the app (Redis tokens); '' for database stamps")
    args = parser.parse_args()
    from sqlalchemy.engine import make_url

    support.recreate_database(args.server_url)
    database_url = make_url(args.server_url).set(query={"charset": "utf8mb4"}).render_as_string(hide_password=False)
    env = {
        **os.environ,
        "APP_ENV": "development",
        "LLM_PROVIDER": "sandbox",
        "DATABASE_URL": database_url,
        "RATE_LIMIT_READ": "100000000/minute",
        "REPRESENTATION_STAMP_URL": args.stamp_url,
        "PYTHONPATH": REPO_ROOT,
    }
    processes = []
    try:
        key, read_id, req_id = _prepare(env, args)
        app_port, hello_port, db_stamp_port = support.free_port(), support.free_port(), support.free_port()
        log_path = os.path.join(RESULTS_DIR, f"reads-{support.utc_stamp()}.log")
        os.makedirs(RESULTS_DIR, exist_ok=True)
        log = open(log_path, "w")
        gunicorn = [sys.executable, "-m", "gunicorn", "-c", os.path.join(REPO_ROOT, "gunicorn.conf.py")]
        processes.append(support.start(gunicorn, {**env, "BIND": f"127.0.0.1:{app_port}"}, log))
        processes.append(support.start([*gunicorn, "bench.hello_app:app"], {**env, "BIND": f"127.0.0.1:{hello_port}"}, log))
        processes.append(support.start(gunicorn, {**env, "BIND": f"127.0.0.1:{db_stamp_port}", "REPRESENTATION_STAMP_URL": ""}, log))
        support.wait_ready(f"http://127.0.0.1:{app_port}/health/ready", processes)
        support.wait_ready(f"http://127.0.0.1:{db_stamp_port}/health/ready", processes)
        support.wait_ready(f"http://127.0.0.1:{hello_port}/hello", processes)
        headers = ["-H", f"Authorization: Bearer {key}"]
        targets = [
            ("bare Flask GET /hello", f"http://127.0.0.1:{hello_port}/hello", []),
            ("GET /api/interview/<id>", f"http://127.0.0.1:{app_port}/api/interview/{read_id}", headers),
            ("GET /api/interview/req/<req_id>", f"http://127.0.0.1:{app_port}/api/interview/req/{req_id}", headers),
            ("GET /health (no DB, no auth)", f"http://127.0.0.1:{app_port}/health", []),
            ("GET /api/interview/<id>, database stamps", f"http://127.0.0.1:{db_stamp_port}/api/interview/{read_id}", headers),
            ("GET /api/interview/req/<req_id>, database stamps", f"http://127.0.0.1:{db_stamp_port}/api/interview/req/{req_id}", headers),
        ]
        # each read's revalidation (If-None-Match with its current ETag: 304, no body) right after it
        for position, (name, url, extra) in ((3, targets[2]), (2, targets[1])):
            etag = _etag(url, key)
            targets.insert(position, (f"{name} -> 304 (If-None-Match)", url, [*extra, "-H", f"If-None-Match: {etag}"]))
        for name, target, extra in targets:
            _wrk(target, extra, args, warmup=True)
        # Paired rounds: each target right after a run of bare Flask, so both meet the same machine
        # (a shared 2-vCPU box whose speed drifts by 30 % within minutes). A target's ratio is the
        # median over rounds of its req/s over its own pair's bare Flask req/s; its req/s and
        # latencies are medians over rounds too.
        hello_name, hello_url, hello_extra = targets[0]
        rounds = {name: [] for name, _, _ in targets}
        ratios = {name: [] for name, _, _ in targets[1:]}
        for _ in range(args.rounds):
            for name, target, extra in targets[1:]:
                baseline = _wrk(hello_url, hello_extra, args)
                measured = _wrk(target, extra, args)
                rounds[hello_name].append(baseline)
                rounds[name].append(measured)
                ratios[name].append(measured["requests_per_second"] / baseline["requests_per_second"])
        results = [{"target": name, "url": target, **_median(rounds[name])} for name, target, _ in targets]
        results[0]["ratio_to_bare_flask"] = 1.0
        for result in results[1:]:
            paired = ratios[result["target"]]
            result["ratio_to_bare_flask"] = round(statistics.median(paired), 3)
            result["ratios_by_round"] = [round(ratio, 3) for ratio in paired]
        _report(results, args, log_path)
    finally:
        for process in processes:
            support.stop(process, timeout=20)
        if not args.keep:
            support.drop_database(args.server_url)


def _prepare(env, args):
    """Migrate, create a key and the interviews through the app's own code (in a subprocess)."""
    script = f"""
import json, os
import flask_migrate
from app import create_app
from services.api_keys import create_api_key
from services.jd_enhancement import enhance_job_description
from services.interview_generation import generate_interview
app = create_app()
with app.app_context():
    flask_migrate.upgrade()
    _, key = create_api_key(name="bench-reads", role="viewer")
    claude, cache = app.extensions["claude"], app.extensions["question_cache"]
    lines = [json.loads(l) for l in open(os.path.join("..", "shared", "data", "job_descriptions.jsonl"))]
    read_id = req = None
    for n in range({args.requisitions}):
        jd = lines[n % len(lines)]
        req = f"BENCH-{{n:04d}}"
        stored = enhance_job_description(claude=claude, req_id=req, basic_title=jd["title"][:255],
            basic_description=jd["description"][:20000], basic_level=jd["level"])
        for _ in range({args.versions}):
            result = generate_interview(claude=claude, question_cache=cache, req_id=req,
                job_description_id=stored.job_description.id, use_cache=False)
        read_id = result.interview.id
    print(json.dumps({{"key": key, "read_id": read_id, "req_id": req}}))
"""
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        sys.exit(f"preparing the data failed:\n{out.stderr[-3000:]}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"prepared {args.requisitions} requisitions x {args.versions} interview versions in {time.monotonic() - started:.0f} s")
    return data["key"], data["read_id"], data["req_id"]


def _wrk(url, extra, args, warmup=False):
    duration = 2 if warmup else args.duration
    command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{duration}s", "--latency", *extra, url]
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout
    if warmup:
        return {}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: _ms(re.search(rf"^\s+{p}%\s+(\S+)", out, re.M).group(1)) for p in ("50", "99")}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_second": rps,
        "latency_p50_ms": latency["50"],
        "latency_p99_ms": latency["99"],
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "wrk_output": out,
    }


def _median(runs):
    """One target's figures: the median of its rounds' req/s and latencies, every round kept."""
    middle = lambda key: statistics.median(run[key] for run in runs)  # noqa: E731
    return {
        "requests_per_second": round(middle("requests_per_second"), 1),
        "latency_p50_ms": middle("latency_p50_ms"),
        "latency_p99_ms": middle("latency_p99_ms"),
        "non_2xx": sum(run["non_2xx"] for run in runs),
        "rounds": runs,
    }


def _etag(url, key):
    """The current ETag of a read, checked to answer 304 when sent back."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with support.OPENER.open(request, timeout=10) as response:
        etag = response.headers["ETag"]
    try:
        support.OPENER.open(urllib.request.Request(url, headers={"Authorization": f"Bearer {key}", "If-None-Match": etag}), timeout=10)
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return etag
        raise
    raise support.BenchError(f"{url}: If-None-Match with its ETag did not answer 304")


def _ms(text):
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)


def _report(results, args, log_path):
    print(f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s x {args.rounds} rounds (each target paired with "
          "a bare Flask run just before it; medians), same gunicorn.conf.py for every app")
    print(f"{'target':50} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} {'non-2xx':>8}")
    for r in results:
        print(f"{r['target']:50} {r['requests_per_second']:9.0f} {r['latency_p50_ms']:8.2f} {r['latency_p99_ms']:8.2f} "
              f"{r['ratio_to_bare_flask']:6.2f} {r['non_2xx']:8d}")
    verdicts = []
    print()
    for r in results:
        if r["target"] not in GOALS:
            continue
        ratio, p99 = GOALS[r["target"]]
        met = r["ratio_to_bare_flask"] >= ratio and (p99 is None or r["latency_p99_ms"] < p99)
        verdicts.append(met)
        print(f"{'PASS' if met else 'FAIL'}  {r['target']}: {r['ratio_to_bare_flask']:.2f} x bare Flask (goal >= {ratio})"
              + (f", p99 {r['latency_p99_ms']:.1f} ms (goal < {p99:g})" if p99 else ""))
    verdict = all(verdicts)
    print(f"goals: {'MET' if verdict else 'NOT MET'}")
    path = os.path.join(RESULTS_DIR, f"reads-{support.utc_stamp()}.json")
    with open(path, "w") as handle:
        json.dump({"when": datetime.now(UTC).isoformat(), "args": vars(args), "results": results, "goal_met": verdict,
                   "server_log": log_path}, handle, indent=2)
    print(f"results: {os.path.relpath(path, REPO_ROOT)}")


if __name__ == "__main__":
    main()
