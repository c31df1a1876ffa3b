"""X-Request-ID: accepted or made, returned on every response, on log lines and in generation_logs;
LOG_FORMAT=json writes one JSON object per line."""

import json
import logging

from models import GenerationLog
from observability import JsonFormatter, RequestIdFilter
from tests.helpers import all_rows, enhance_body
from tests.stub_messages_api import enhanced_jd


def test_a_sane_request_id_is_returned_as_sent(client):
    response = client.get("/health", headers={"X-Request-ID": "hr-tool.req:42"})

    assert response.headers["X-Request-ID"] == "hr-tool.req:42"


def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client):
    made = client.get("/health").headers["X-Request-ID"]
    replaced = client.get("/health", headers={"X-Request-ID": "bad id; with spaces!"}).headers["X-Request-ID"]

    assert len(made) == 32 and made != replaced and " " not in replaced


def test_errors_carry_the_request_id_too(client):
    response = client.get("/api/interview/1", headers={"X-Request-ID": "trace-401"})

    assert response.status_code == 401
    assert response.headers["X-Request-ID"] == "trace-401"


def test_the_request_id_is_on_log_lines_and_the_audit_row(client, admin, claude, app, caplog):
    claude.reply_json(enhanced_jd())
    with caplog.at_level(logging.INFO):
        client.post("/api/interview/jd/enhance", json=enhance_body("REQ-X1"), headers={**admin, "X-Request-ID": "trace-xyz"})

    tagged = [r for r in caplog.records if getattr(r, "request_id", None) == "trace-xyz"]
    assert any(r.name == "techscreen.request" and r.status == 200 and r.route == "/api/interview/jd/enhance" for r in tagged)
    assert any(r.name == "techscreen.claude" and r.anthropic_request_id for r in tagged)
    assert all_rows(app, GenerationLog)[-1].request_id == "trace-xyz"


def test_json_log_lines_hold_the_documented_fields_and_no_secrets(client, admin, claude, caplog):
    claude.reply_json(enhanced_jd())
    with caplog.at_level(logging.INFO):
        client.post("/api/interview/jd/enhance", json=enhance_body("REQ-X2", basic_description="Secret JD text zebra"), headers=admin)
    formatter, request_filter = JsonFormatter(), RequestIdFilter()

    lines = []
    for record in caplog.records:
        request_filter.filter(record)
        lines.append(json.loads(formatter.format(record)))

    request_line = next(line for line in lines if line["logger"] == "techscreen.request")
    assert {"time", "level", "message", "request_id", "method", "route", "status", "latency_ms", "user"} <= set(request_line)
    assert request_line["user"].startswith("apikey:")
    text = json.dumps(lines)
    assert "zebra" not in text and admin["Authorization"].split()[1] not in text


def test_log_line_times_are_those_datetime_would_write():
    """The text format's time (made once per second, then the microseconds added) is exactly
    datetime's UTC ISO 8601 with microseconds and Z, rounding included."""
    import random
    from datetime import datetime, timezone

    from observability import _utc_stamp

    rng = random.Random(12)
    moments = [1_796_700_000.0, 1_796_700_000.9999996, 1_796_700_000.0000005, 1_796_700_059.9999999, 0.5e-6]
    moments += [rng.uniform(0, 4e9) for _ in range(20_000)] + [round(rng.uniform(0, 4e9), 6) for _ in range(5_000)]
    for moment in moments:
        assert _utc_stamp(moment) == datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), moment
