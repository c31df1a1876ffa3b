"""The usage audit (GET /api/admin/usage, /api/admin/generation-logs[/<id>], `flask usage report`)
through HTTP, with the real SDK against the stub Messages API, on SQLite and (with
TEST_DATABASE_URL) MariaDB.

Traffic with exactly known usage is generated through the real endpoints (prompt-cache tokens, a
429 retried by the SDK, a repaired output, failed operations, two users, two requisitions, two
models, three operation types, question-cache hits); each operation's started_at is then moved
to a chosen UTC instant so days and window boundaries are known. The expected numbers are
computed here from what the stub served, independently of the service.
"""

import base64
import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import GenerationLog, db
from services.usage import TOTAL_FIELDS
from tests.helpers import api_key_id, assert_error, enhance_body
from tests.stub_messages_api import (
    assessment,
    enhanced_jd,
    fill_for_plan,
    fill_slots,
    interview_plan,
)

PRICES = {
    "claude-sonnet-5-5": {"input": 3, "output": 15, "cache_write": 3.75, "cache_read": 0.3},
    "claude-alt-model": {"input": 1, "output": 5, "cache_write": 1.25, "cache_read": 0.1},
}
TOKEN_KINDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
PRICE_KINDS = dict(zip(TOKEN_KINDS, ("input", "output", "cache_write", "cache_read")))
TOPICS = ["Kafka event streaming", "PostgreSQL query tuning", "Incident response", "Code review culture", "Deadline trade-offs"]
GROUP_KEYS = ("day", "operation_type", "user_id", "req_id", "model", "status")
EVERYTHING = {"from": "2026-10-01", "to": "2026-12-31"}
USAGE = "/api/admin/usage"
LOGS = "/api/admin/generation-logs"


def usage(input_tokens=0, output_tokens=0, cache_creation_input_tokens=0, cache_read_input_tokens=0):
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "cache_creation_input_tokens": cache_creation_input_tokens, "cache_read_input_tokens": cache_read_input_tokens}


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- The expected numbers --------------------------------------------------------------------------

@dataclass
class Op:
    """One operation as the test made it: its attempts' usage as the stub served them."""

    log_id: int
    started_at: datetime
    operation_type: str
    user_id: str
    req_id: str
    model: str
    status: str
    calls: list  # [(price model, usage dict)] per HTTP attempt; errors have zero usage
    cache_hits: int = 0
    tokens_avoided: int = 0
    purposes: list = field(default_factory=list)

    def key(self, name):
        return self.started_at.strftime("%Y-%m-%d") if name == "day" else getattr(self, name)

    def totals(self):
        sums = {kind: sum(u[kind] for _, u in self.calls) for kind in TOKEN_KINDS}
        return {
            "operations": 1,
            "calls": len(self.calls),
            "failures": int(self.status == "failed"),
            **sums,
            "tokens_used": sum(sums.values()),
            "cost_usd": sum((call_cost(model, u) for model, u in self.calls), Decimal(0)),
            "cache_hits": self.cache_hits,
            "tokens_avoided": self.tokens_avoided,
        }


def call_cost(model, used):
    """USD of one attempt at PRICES, rounded to 6 places as recorded per call."""
    total = sum(used[kind] * Decimal(str(PRICES[model][PRICE_KINDS[kind]])) for kind in TOKEN_KINDS) / Decimal(1_000_000)
    return total.quantize(Decimal("0.000001"))


def as_json(totals):
    return {name: f"{totals[name]:.6f}" if name == "cost_usd" else totals[name] for name in TOTAL_FIELDS}


def zero():
    return {name: Decimal(0) if name == "cost_usd" else 0 for name in TOTAL_FIELDS}


def add(into, more):
    for name in TOTAL_FIELDS:
        into[name] += more[name]
    return into


def expected_report(ops, keys):
    """(totals, groups) as the endpoint should answer them, computed from the ops."""
    groups = {}
    for op in ops:
        add(groups.setdefault(tuple(op.key(k) for k in keys), zero()), op.totals())
    ordered = sorted(groups.items(), key=lambda item: tuple((v is not None, v or "") for v in item[0]))
    totals = zero()
    for _, sums in ordered:
        add(totals, sums)
    return as_json(totals), [{**dict(zip(keys, values)), **as_json(sums)} for values, sums in ordered]


# --- Traffic -------------------------------------------------------------------------------------

@pytest.fixture
def usage_app(app_factory):
    return app_factory(CLAUDE_PRICES_JSON=PRICES, ENABLE_QUESTION_CACHE=True)


@pytest.fixture
def usage_client(usage_app):
    return usage_app.test_client()


@pytest.fixture
def auditor(make_key):
    return make_key("auditor")


def stamp_last_operation(app, when):
    """Move the newest generation_logs row to ``when`` (UTC); return its id."""
    with app.app_context():
        log_id = db.session.scalar(db.select(db.func.max(GenerationLog.id)))
        db.session.execute(db.update(GenerationLog).where(GenerationLog.id == log_id).values(started_at=when))
        db.session.commit()
        return log_id


@dataclass
class Traffic:
    ops: list
    users: dict  # "A" / "B" -> user_id


@pytest.fixture
def traffic(usage_app, usage_client, claude, make_key):
    """Seven operations with known usage (see the module docstring)."""
    user_a, user_b = make_key("admin"), make_key("recruiter")
    ids = {"A": f"apikey:{api_key_id(usage_app, user_a)}", "B": f"apikey:{api_key_id(usage_app, user_b)}"}
    test, alt = "claude-sonnet-5-5", "claude-alt-model"
    ops = []
    client = usage_client

    def done(response, http_status, when, **op):
        assert response.status_code == http_status, response.get_data(as_text=True)[:500]
        ops.append(Op(log_id=stamp_last_operation(usage_app, at(when)), started_at=at(when), **op))
        return response.get_json()

    # 1. A enhances REQ-U1: a 429 retried by the SDK after 10 ms, then success with both cache kinds.
    u1 = usage(1000, 500, 200, 3000)
    claude.reply_status(429, error_type="rate_limit_error", headers={"retry-after-ms": "10"})
    claude.reply_json(enhanced_jd(), usage=u1)
    jd_1 = done(client.post("/api/interview/jd/enhance", json=enhance_body("REQ-U1"), headers=user_a), 200,
                "2026-11-01T00:00:00", operation_type="jd_enhancement", user_id=ids["A"], req_id="REQ-U1", model=test,
                status="success", calls=[(test, usage()), (test, u1)], purposes=["jd_enhancement"] * 2)["job_description_id"]

    # 2. A generates REQ-U1's interview: a plan that is not JSON, its repair, then 5 fill calls, one per slot.
    plan = interview_plan(TOPICS)
    u2 = [usage(900, 40, 0, 1000), usage(950, 150, 0, 1000)] + [usage(60, 500, 24, 0)] * 5
    claude.reply_json("this is not JSON", usage=u2[0]).reply_json(plan, usage=u2[1])
    claude.reply_for_schema("InterviewQuestions", lambda body: fill_for_plan(plan, {fill_slots(body)[0][0]}), usage=u2[2])
    interview = done(
        client.post("/api/interview/generate", json={"req_id": "REQ-U1", "job_description_id": jd_1}, headers=user_a), 200,
        "2026-11-01T23:59:59.999999", operation_type="interview_generation", user_id=ids["A"], req_id="REQ-U1", model=test,
        status="success", calls=[(test, u) for u in u2],
        purposes=["interview_plan", "interview_plan.repair"] + ["interview_fill"] * 5,
    )["interview"]
    per_question = sum(u2[2].values())  # each cached question cost its own fill call

    # 3. B enhances REQ-U2: Claude answers 400 (not retried) -> 502, a failed operation.
    claude.reply_status(400, error_type="invalid_request_error")
    done(client.post("/api/interview/jd/enhance", json=enhance_body("REQ-U2"), headers=user_b), 502,
         "2026-11-02T08:00:00", operation_type="jd_enhancement", user_id=ids["B"], req_id="REQ-U2", model=test,
         status="failed", calls=[(test, usage())], purposes=["jd_enhancement"])

    # 4. B enhances REQ-U2 again; this time the answer comes from another model.
    u4 = usage(1100, 600, 0, 0)
    claude.reply_json(enhanced_jd(), usage=u4, model=alt)
    jd_2 = done(client.post("/api/interview/jd/enhance", json=enhance_body("REQ-U2"), headers=user_b), 200,
                "2026-11-15T12:00:00", operation_type="jd_enhancement", user_id=ids["B"], req_id="REQ-U2", model=alt,
                status="success", calls=[(alt, u4)], purposes=["jd_enhancement"])["job_description_id"]

    # 5. B generates REQ-U2's interview: the same 5 topics are all served by the question cache.
    u5 = usage(800, 100, 0, 500)
    claude.reply_json(plan, usage=u5)
    generated = done(
        client.post("/api/interview/generate", json={"req_id": "REQ-U2", "job_description_id": jd_2}, headers=user_b), 200,
        "2026-11-30T23:59:59.999999", operation_type="interview_generation", user_id=ids["B"], req_id="REQ-U2", model=test,
        status="success", calls=[(test, u5)], cache_hits=5, tokens_avoided=5 * per_question, purposes=["interview_plan"],
    )
    assert generated["cached_questions"] == 5

    # 6. A scores a candidate on REQ-U1's interview (AI mode), in December.
    first = interview["questions"][0]
    u6 = usage(3000, 700, 50, 0)
    claude.reply_json(assessment({1: [(c["criterion"], False, "") for c in first["criteria"]]}), usage=u6)
    body = {"candidate_id": "CAND-1", "mode": "ai", "answers": [{"question_number": 1, "answer_text": "I would check the lag first."}]}
    done(client.post(f"/api/interview/{interview['id']}/evaluations", json=body, headers=user_a), 201,
         "2026-12-01T00:00:00", operation_type="candidate_scoring", user_id=ids["A"], req_id="REQ-U1", model=test,
         status="success", calls=[(test, u6)], purposes=["candidate_scoring"])

    # 7. B scores a candidate: unusable output twice -> 502, a failed operation that still cost tokens.
    #    Same started_at as operation 4: pages must order the tie by id.
    u7 = [usage(500, 50, 0, 0), usage(600, 60, 0, 0)]
    claude.reply_json("nope", usage=u7[0]).reply_json("still nope", usage=u7[1])
    body = {**body, "candidate_id": "CAND-2"}
    done(client.post(f"/api/interview/{interview['id']}/evaluations", json=body, headers=user_b), 502,
         "2026-11-15T12:00:00", operation_type="candidate_scoring", user_id=ids["B"], req_id="REQ-U1", model=test,
         status="failed", calls=[(test, u) for u in u7], purposes=["candidate_scoring", "candidate_scoring.repair"])

    assert claude.calls == sum(len(op.calls) for op in ops) == 15
    return Traffic(ops=ops, users=ids)


def get_report(client, headers, **query):
    response = client.get(USAGE, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


# --- What was recorded ---------------------------------------------------------------------------

def test_each_operation_records_the_stubs_usage_and_cost_exactly(usage_client, auditor, traffic):
    for op in traffic.ops:
        response = usage_client.get(f"{LOGS}/{op.log_id}", headers=auditor)
        assert response.status_code == 200, response.get_json()
        log = response.get_json()["generation_log"]
        expected = as_json(op.totals())
        assert {name: log[name] for name in TOKEN_KINDS} == {name: expected[name] for name in TOKEN_KINDS}, op
        assert (log["tokens_used"], log["cost_usd"], log["claude_calls"]) == (expected["tokens_used"], expected["cost_usd"], len(op.calls))
        assert (log["operation_type"], log["user_id"], log["req_id"], log["model"], log["status"]) == (
            op.operation_type, op.user_id, op.req_id, op.model, op.status)
        assert (log["cache_hits"], log["tokens_avoided"], log["unpriced_calls"]) == (op.cache_hits, op.tokens_avoided, 0)
        assert at(log["started_at"][:26].replace("+00:00", "")) == op.started_at
        calls = log["calls"]
        assert [c["purpose"] for c in calls] == op.purposes
        assert [{k: c[k] for k in TOKEN_KINDS} for c in calls] == [u for _, u in op.calls]
        assert [c["cost_usd"] for c in calls] == [f"{call_cost(m, u):.6f}" for m, u in op.calls]


def test_the_retried_429_and_its_success_are_two_attempts_of_one_call(usage_client, auditor, traffic):
    log = usage_client.get(f"{LOGS}/{traffic.ops[0].log_id}", headers=auditor).get_json()["generation_log"]

    first, second = log["calls"]
    assert (first["attempt"], first["outcome"], first["status_code"], first["model"]) == (0, "http_429", 429, None)
    assert (second["attempt"], second["outcome"], second["status_code"], second["model"]) == (1, "ok", 200, "claude-sonnet-5-5")
    assert first["anthropic_request_id"].startswith("req_stub_") and second["anthropic_request_id"].startswith("req_stub_")
    assert first["anthropic_request_id"] != second["anthropic_request_id"]
    assert all(isinstance(c["latency_ms"], int) and c["started_at"] for c in log["calls"])
    assert set(first) == {"id", "purpose", "attempt", "outcome", "status_code", "anthropic_request_id", "model", "effort", *TOKEN_KINDS,
                          "cost_usd", "latency_ms", "started_at"}


def test_a_failed_operation_shows_its_error(usage_client, auditor, traffic):
    log = usage_client.get(f"{LOGS}/{traffic.ops[2].log_id}", headers=auditor).get_json()["generation_log"]

    assert (log["status"], log["error_kind"], log["tokens_used"], log["cost_usd"]) == ("failed", "claude_rejected", 0, "0.000000")
    assert [(c["outcome"], c["status_code"]) for c in log["calls"]] == [("http_400", 400)]


# --- The report ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "group_by",
    [(key,) for key in GROUP_KEYS]
    + [("day", "model"), ("user_id", "operation_type"), ("req_id", "status"), ("status", "day"), ("model", "user_id"),
       ("operation_type", "req_id")],
    ids=lambda keys: ",".join(keys),
)
def test_report_sums_equal_the_stubs_usage_for_every_grouping(usage_client, auditor, traffic, group_by):
    report = get_report(usage_client, auditor, group_by=",".join(group_by), **EVERYTHING)

    totals, groups = expected_report(traffic.ops, group_by)
    assert report["success"] is True
    assert report["group_by"] == list(group_by)
    assert report["groups"] == groups
    assert report["totals"] == totals
    for name in TOTAL_FIELDS:  # totals are the groups summed
        values = [g[name] for g in report["groups"]]
        assert report["totals"][name] == (f"{sum(map(Decimal, values)):.6f}" if name == "cost_usd" else sum(values))
    assert [list(g)[: len(group_by)] for g in report["groups"]] == [sorted(group_by, key=GROUP_KEYS.index)] * len(groups)


def test_report_totals_match_every_token_the_stub_served(usage_client, auditor, traffic):
    report = get_report(usage_client, auditor, group_by="operation_type")

    served = {kind: sum(u[kind] for op in traffic.ops for _, u in op.calls) for kind in TOKEN_KINDS}
    assert {kind: report["totals"][kind] for kind in TOKEN_KINDS} == served
    assert report["totals"]["tokens_used"] == sum(served.values()) == 19_720
    assert report["totals"]["calls"] == 15 and report["totals"]["operations"] == 7 and report["totals"]["failures"] == 2
    assert report["totals"]["cache_hits"] == 5 and report["totals"]["tokens_avoided"] == 2920
    # 3/15/3.75/0.3 USD per million for claude-sonnet-5-5, 1/5/1.25/0.1 for claude-alt-model, per call.
    assert report["totals"]["cost_usd"] == "0.092788"  # 0.0196875 of operation 6 was recorded as 0.019688


def test_repeated_group_by_equals_comma_separated(usage_client, auditor, traffic):
    repeated = usage_client.get(f"{USAGE}?group_by=user_id&group_by=day", headers=auditor).get_json()
    comma = usage_client.get(f"{USAGE}?group_by=user_id,day", headers=auditor).get_json()

    assert repeated == comma
    assert repeated["group_by"] == ["user_id", "day"]


def test_default_grouping_is_by_day_over_everything(usage_client, auditor, traffic):
    report = get_report(usage_client, auditor)

    totals, groups = expected_report(traffic.ops, ("day",))
    assert (report["group_by"], report["groups"], report["totals"]) == (["day"], groups, totals)
    assert report["filters"] == dict.fromkeys(("from", "to", "user_id", "req_id", "operation_type", "model", "status"))
    assert [g["day"] for g in groups] == ["2026-11-01", "2026-11-02", "2026-11-15", "2026-11-30", "2026-12-01"]


FILTER_CASES = {
    "november": ({"from": "2026-11-01", "to": "2026-11-30"}, lambda op: op.started_at < at("2026-12-01T00:00:00")),
    "from_excludes_the_day_before": ({"from": "2026-11-02"}, lambda op: op.started_at >= at("2026-11-02T00:00:00")),
    "to_includes_its_last_microsecond": ({"to": "2026-11-01"}, lambda op: op.started_at < at("2026-11-02T00:00:00")),
    "one_day": ({"from": "2026-11-30", "to": "2026-11-30"}, lambda op: op.key("day") == "2026-11-30"),
    "december_first": ({"from": "2026-12-01", "to": "2026-12-01"}, lambda op: op.key("day") == "2026-12-01"),
    "user_a": ({"user_id": "A"}, lambda op, users=None: op.user_id == users["A"]),
    "user_b_successes_from_mid_month": (
        {"user_id": "B", "status": "success", "from": "2026-11-15"},
        lambda op, users=None: op.user_id == users["B"] and op.status == "success" and op.key("day") >= "2026-11-15",
    ),
    "req_id": ({"req_id": "REQ-U2"}, lambda op: op.req_id == "REQ-U2"),
    "operation_type": ({"operation_type": "candidate_scoring"}, lambda op: op.operation_type == "candidate_scoring"),
    "model": ({"model": "claude-alt-model"}, lambda op: op.model == "claude-alt-model"),
    "status_failed": ({"status": "failed"}, lambda op: op.status == "failed"),
    "nothing_refused": ({"status": "refused"}, lambda op: False),
    "unknown_user": ({"user_id": "apikey:0"}, lambda op: False),
}


def _resolve(case, traffic):
    query, keep = FILTER_CASES[case]
    query = {k: traffic.users.get(v, v) if k == "user_id" else v for k, v in query.items()}
    uses_users = "users" in keep.__code__.co_varnames
    selected = [op for op in traffic.ops if (keep(op, users=traffic.users) if uses_users else keep(op))]
    return query, selected


@pytest.mark.parametrize("case", FILTER_CASES)
def test_filters_select_exactly_the_matching_operations(usage_client, auditor, traffic, case):
    query, selected = _resolve(case, traffic)

    report = get_report(usage_client, auditor, group_by="day,operation_type", **query)
    totals, groups = expected_report(selected, ("day", "operation_type"))
    assert (report["groups"], report["totals"]) == (groups, totals)
    assert {k: v for k, v in report["filters"].items() if v is not None} == query

    listed = usage_client.get(LOGS, query_string={**query, "limit": 200}, headers=auditor).get_json()
    assert [row["id"] for row in listed["generation_logs"]] == [
        op.log_id for op in sorted(selected, key=lambda op: (op.started_at, op.log_id), reverse=True)
    ]
    assert listed["next_cursor"] is None


def test_an_empty_selection_reports_zero_totals(usage_client, auditor, traffic):
    report = get_report(usage_client, auditor, **{"from": "2025-01-01", "to": "2025-01-31"})

    assert report["groups"] == []
    assert report["totals"] == as_json(zero()) and report["totals"]["cost_usd"] == "0.000000"


def test_operations_without_user_or_requisition_form_a_null_group_listed_first(usage_app, usage_client, auditor, traffic):
    with usage_app.app_context():
        db.session.add(GenerationLog(operation_type="jd_enhancement", status="failed", user_id=None, req_id=None,
                                     claude_calls=1, input_tokens=7, tokens_used=7, cost_usd=Decimal("0.000021"),
                                     started_at=at("2026-11-20T10:00:00")))
        db.session.commit()

    report = get_report(usage_client, auditor, group_by="user_id,req_id")
    text = usage_client.get(USAGE, query_string={"group_by": "user_id,req_id", "format": "csv"}, headers=auditor).get_data(as_text=True)

    first = report["groups"][0]
    assert (first["user_id"], first["req_id"], first["operations"], first["failures"], first["input_tokens"], first["cost_usd"]) == (
        None, None, 1, 1, 7, "0.000021")
    assert report["totals"]["operations"] == len(traffic.ops) + 1
    assert list(csv.reader(io.StringIO(text)))[1][:3] == ["", "", "1"]


# --- CSV -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("group_by", ["day", "user_id,model", "status,req_id"])
@pytest.mark.parametrize("how", ["format", "accept"])
def test_csv_has_the_same_numbers_as_json(usage_client, auditor, traffic, group_by, how):
    query = {"group_by": group_by, "from": "2026-11-01", "to": "2026-11-30"}
    json_report = get_report(usage_client, auditor, **query)
    if how == "format":
        response = usage_client.get(USAGE, query_string={**query, "format": "csv"}, headers=auditor)
    else:
        response = usage_client.get(USAGE, query_string=query, headers={**auditor, "Accept": "text/csv"})

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    keys = group_by.split(",")
    assert rows[0] == keys + list(TOTAL_FIELDS)
    assert rows[1:] == [[str(g[name]) for name in (*keys, *TOTAL_FIELDS)] for g in json_report["groups"]]


def test_format_json_wins_over_accept_csv_and_accept_any_gets_json(usage_client, auditor, traffic):
    explicit = usage_client.get(USAGE, query_string={"format": "json"}, headers={**auditor, "Accept": "text/csv"})
    browser = usage_client.get(USAGE, headers={**auditor, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})

    assert explicit.is_json and browser.is_json


def test_csv_neutralises_cells_a_spreadsheet_would_run(app_factory, claude):
    gateway = app_factory(AUTH_MODE="trusted-headers", CLAUDE_PRICES_JSON=PRICES).test_client()
    claude.reply_json(enhanced_jd(), usage=usage(10, 10))
    created = gateway.post("/api/interview/jd/enhance", json=enhance_body("REQ-U3"),
                           headers={"X-User-ID": "=HYPERLINK(1)", "X-User-Role": "user"})
    assert created.status_code == 200, created.get_json()
    headers = {"X-User-ID": "ops", "X-User-Role": "admin"}

    text = gateway.get(USAGE, query_string={"group_by": "user_id", "format": "csv"}, headers=headers).get_data(as_text=True)
    report = gateway.get(USAGE, query_string={"group_by": "user_id"}, headers=headers).get_json()

    assert "=HYPERLINK(1)" in [g["user_id"] for g in report["groups"]]  # JSON keeps the value as stored
    assert "'=HYPERLINK(1)" in [row[0] for row in csv.reader(io.StringIO(text))]


# --- Raw rows ------------------------------------------------------------------------------------

@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_generation_logs_pages_newest_first_without_gaps_or_repeats(usage_client, auditor, traffic, limit):
    expected = [op.log_id for op in sorted(traffic.ops, key=lambda op: (op.started_at, op.log_id), reverse=True)]

    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = usage_client.get(LOGS, query_string=query, headers=auditor)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["generation_logs"]) <= limit
        seen += [row["id"] for row in body["generation_logs"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 20

    assert seen == expected
    assert pages == -(-len(expected) // limit)


def test_rows_added_while_paging_do_not_shift_the_pages(usage_client, usage_app, auditor, traffic):
    first = usage_client.get(LOGS, query_string={"limit": 3}, headers=auditor).get_json()
    with usage_app.app_context():
        db.session.add(GenerationLog(operation_type="jd_enhancement", status="success", started_at=at("2027-01-01T00:00:00")))
        db.session.add(GenerationLog(operation_type="jd_enhancement", status="success", started_at=at("2026-11-15T12:00:00")))
        db.session.commit()
        late_tie = db.session.scalar(db.select(db.func.max(GenerationLog.id)))

    rest, cursor = [], first["next_cursor"]
    while cursor:
        page = usage_client.get(LOGS, query_string={"limit": 3, "cursor": cursor}, headers=auditor).get_json()
        rest += [row["id"] for row in page["generation_logs"]]
        cursor = page["next_cursor"]

    ids = [row["id"] for row in first["generation_logs"]] + rest
    assert len(ids) == len(set(ids))
    assert set(ids) >= {op.log_id for op in traffic.ops}
    # The tie at 2026-11-15 12:00 inserted late has the largest id: it sorts first within its instant,
    # which page 1 had already passed, so it is not shown; the newer row is not shown either.
    assert late_tie not in ids


def test_generation_log_rows_have_every_documented_field(usage_client, auditor, traffic):
    row = usage_client.get(LOGS, query_string={"limit": 1}, headers=auditor).get_json()["generation_logs"][0]

    assert set(row) == {
        "id", "operation_type", "req_id", "user_id", "status", "error_kind", "error_message", "provider", "model",
        "effort", "prompt_version", "claude_calls", *TOKEN_KINDS, "tokens_used", "cost_usd", "unpriced_calls", "latency_ms",
        "cache_hits", "cache_misses", "tokens_avoided", "job_description_id", "interview_id", "evaluation_id", "job_id", "request_id", "started_at",
        "completed_at", "fairness_findings",
    }
    assert row["id"] == traffic.ops[5].log_id  # December: the newest


@pytest.mark.parametrize("log_id", [999_999, 2**31, 2**70])
def test_unknown_generation_log_is_404(usage_client, auditor, log_id):
    assert_error(usage_client.get(f"{LOGS}/{log_id}", headers=auditor), 404)


# --- Roles and validation ------------------------------------------------------------------------

@pytest.mark.parametrize("path", [USAGE, LOGS, f"{LOGS}/1"])
def test_only_auditors_and_admins_may_read_usage(usage_client, make_key, path):
    assert_error(usage_client.get(path), 401)
    for role in ("recruiter", "viewer"):
        assert_error(usage_client.get(path, headers=make_key(role)), 403)
    for role in ("auditor", "admin"):
        status = usage_client.get(path, headers=make_key(role)).status_code
        assert status == (404 if path.endswith("/1") else 200)


def _cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        (USAGE, "from=2026-02-30", "from"),
        (USAGE, "from=yesterday", "from"),
        (USAGE, "from=2026-11-01T00:00:00", "from"),
        (USAGE, "to=2026-13-01", "to"),
        (USAGE, "from=2026-11-05&to=2026-11-04", "to"),
        (USAGE, "to=0999-12-31", "to"),
        (USAGE, "group_by=week", "group_by"),
        (USAGE, "group_by=", "group_by"),
        (USAGE, "group_by=day,model,status", "group_by"),
        (USAGE, "group_by=day&group_by=model&group_by=status", "group_by"),
        (USAGE, "group_by=day,day", "group_by"),
        (USAGE, "status=done", "status"),
        (USAGE, "format=xml", "format"),
        (USAGE, "user_id=" + "x" * 65, "user_id"),
        (USAGE, "req_id=", "req_id"),
        (USAGE, "user=apikey:1", "user"),
        (USAGE, "limit=5", "limit"),
        (LOGS, "limit=0", "limit"),
        (LOGS, "limit=201", "limit"),
        (LOGS, "limit=ten", "limit"),
        (LOGS, "cursor=not-a-cursor", "cursor"),
        (LOGS, "cursor=" + _cursor("2026-11-01T00:00:00.000000|x"), "cursor"),
        (LOGS, "cursor=" + _cursor("2026-11-01|5"), "cursor"),
        (LOGS, "cursor=" + _cursor("2026-11-01T00:00:00.000000|0"), "cursor"),
        (LOGS, "group_by=day", "group_by"),
        (LOGS, "from=2026-11-05&to=2026-11-04", "to"),
        (LOGS, "status=ok", "status"),
    ],
)
def test_bad_arguments_are_400_naming_the_field(usage_client, auditor, path, query, field):
    assert_error(usage_client.get(f"{path}?{query}", headers=auditor), 400, field)


def test_the_widest_window_is_accepted(usage_client, auditor, traffic):
    report = get_report(usage_client, auditor, **{"from": "1000-01-01", "to": "9999-12-31"})

    assert report["totals"]["operations"] == len(traffic.ops)


# --- CLI -----------------------------------------------------------------------------------------

def test_cli_report_prints_the_same_table_as_the_endpoint(usage_app, usage_client, auditor, traffic):
    runner = usage_app.test_cli_runner()
    result = runner.invoke(args=["usage", "report", "--from", "2026-11-01", "--to", "2026-11-30", "--group-by", "day,model"])

    assert result.exit_code == 0, result.output
    report = get_report(usage_client, auditor, group_by="day,model", **{"from": "2026-11-01", "to": "2026-11-30"})
    lines = result.output.splitlines()
    assert lines[0].startswith("Usage 2026-11-01 .. 2026-11-30")
    rows = [line.split() for line in lines[3:-2]]
    assert rows == [[g["day"], g["model"], *(str(g[name]) for name in TOTAL_FIELDS)] for g in report["groups"]]
    assert lines[-1].split() == ["TOTAL", *(str(report["totals"][name]) for name in TOTAL_FIELDS)]
    assert len({len(line) for line in lines[1:]}) <= 2  # aligned: rules, header and rows share one width (rstripped)


def test_cli_csv_equals_the_endpoints_csv(usage_app, usage_client, auditor, traffic):
    result = usage_app.test_cli_runner().invoke(args=["usage", "report", "--group-by", "user_id", "--group-by", "status", "--csv"])
    response = usage_client.get(USAGE, query_string={"group_by": "user_id,status", "format": "csv"}, headers=auditor)

    assert result.exit_code == 0, result.output
    cli_rows = list(csv.reader(io.StringIO(result.output)))  # CliRunner reports \r\n as \n
    assert cli_rows == list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert len(cli_rows) == 1 + 3  # header; A success, B failed, B success


def test_cli_rejects_a_bad_group_by(usage_app):
    result = usage_app.test_cli_runner().invoke(args=["usage", "report", "--group-by", "day,week"])

    assert result.exit_code != 0
    assert "group_by" in result.output and "week" in result.output
