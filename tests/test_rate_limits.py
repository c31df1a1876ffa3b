"""Rate limits per API key and route class (routes/rate_limits.py): 429 with Retry-After and limit headers."""

import os
import time
import uuid

import pytest
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from config import ConfigError

from tests.helpers import enhance_body
from tests.stub_messages_api import enhanced_jd


@pytest.fixture
def limited(app_factory):
    return app_factory(RATE_LIMIT_CLAUDE="2/minute", RATE_LIMIT_READ="3/minute", RATE_LIMIT_WRITE="50/minute")


def test_claude_posts_are_limited_per_key_with_retry_after_and_limit_headers(limited, make_key, claude):
    client = limited.test_client()
    key = make_key("recruiter")
    claude.reply_json(enhanced_jd()).reply_json(enhanced_jd())
    statuses = [client.post("/api/interview/jd/enhance", json=enhance_body(f"REQ-R{i}"), headers=key).status_code for i in (1, 2)]

    refused = client.post("/api/interview/jd/enhance", json=enhance_body("REQ-R3"), headers=key)

    assert statuses == [200, 200]
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["success"] is False and "limit" in body["error"].lower()
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.headers["X-RateLimit-Limit"] == "2"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert claude.calls == 2  # the refused request never reached Claude


def test_one_noisy_key_does_not_starve_another(limited, make_key, claude):
    client = limited.test_client()
    noisy, quiet = make_key("recruiter"), make_key("recruiter")
    for i in range(3):
        client.get("/api/interview/jd/NOPE", headers=noisy)
    assert client.get("/api/interview/jd/NOPE", headers=noisy).status_code == 429

    assert client.get("/api/interview/jd/NOPE", headers=quiet).status_code == 404


def test_reads_and_claude_posts_count_in_separate_classes(limited, make_key, claude):
    client = limited.test_client()
    key = make_key("recruiter")
    for _ in range(3):
        client.get("/api/interview/1", headers=key)
    assert client.get("/api/interview/1", headers=key).status_code == 429
    claude.reply_json(enhanced_jd())

    assert client.post("/api/interview/jd/enhance", json=enhance_body("REQ-R4"), headers=key).status_code == 200


def test_health_and_metrics_are_not_limited(limited):
    client = limited.test_client()

    assert {client.get("/health").status_code for _ in range(10)} == {200}


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="TEST_REDIS_URL not set (.ci/run sets it)")
def test_workers_sharing_redis_share_one_count(app_factory, make_key):
    storage = os.environ["TEST_REDIS_URL"]
    prefix = f"techscreen-test-{uuid.uuid4().hex[:8]}"
    settings = {"RATE_LIMIT_READ": "3/minute", "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_KEY_PREFIX": prefix}
    worker_a, worker_b = app_factory(**settings).test_client(), app_factory(**settings).test_client()
    key = make_key("viewer")

    statuses = [c.get("/api/interview/1", headers=key).status_code for c in (worker_a, worker_b, worker_a, worker_b)]

    assert statuses == [404, 404, 404, 429]
    import redis

    stored = [k.decode() for k in redis.Redis.from_url(storage).scan_iter(f"*{prefix}*")]
    assert len(stored) == 1 and f"{prefix}/caller:" in stored[0] and stored[0].split("/")[3] == "read"


def test_retry_after_is_sent_on_refusals_only(limited, make_key):
    client = limited.test_client()
    response = client.get("/api/interview/jd/NOPE", headers=make_key("viewer"))

    assert response.status_code == 404
    assert "Retry-After" not in response.headers
    assert "X-RateLimit-Limit" in response.headers


def test_an_unreachable_shared_storage_falls_back_to_counting_in_memory(app_factory, make_key):
    client = app_factory(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0", RATE_LIMIT_READ="2/minute").test_client()
    key = make_key("viewer")

    statuses = [client.get("/api/interview/1", headers=key).status_code for _ in range(3)]

    assert statuses == [404, 404, 429]  # counted in this process's memory meanwhile


def test_one_key_spelled_several_ways_shares_one_bucket(limited, make_key):
    client = limited.test_client()
    token = make_key("viewer")["Authorization"].split(" ", 1)[1]
    spellings = [{"Authorization": f"Bearer {token}"}, {"Authorization": f"bearer  {token} "}, {"X-API-Key": token}]

    statuses = [client.get("/api/interview/jd/NOPE", headers=headers).status_code for headers in spellings]

    assert statuses == [404, 404, 404]
    assert client.get("/api/interview/jd/NOPE", headers={"Authorization": f"BEARER {token}"}).status_code == 429


def test_trusted_header_ids_spelled_with_spaces_share_one_bucket(app_factory, app):
    client = app_factory(AUTH_MODE="trusted-headers", RATE_LIMIT_READ="2/minute").test_client()
    statuses = [
        client.get("/api/interview/jd/NOPE", headers={"X-User-ID": user_id, "X-User-Role": "user"}).status_code
        for user_id in ("u1", "u1 ", " u1", "u1  ")
    ]

    assert statuses == [404, 404, 429, 429]


def test_made_up_keys_share_the_client_address_bucket(limited):
    client = limited.test_client()

    statuses = [client.get("/api/interview/1", headers={"X-API-Key": f"made-up-{n}"}).status_code for n in range(5)]

    assert statuses == [401, 401, 401, 429, 429]


def test_health_and_metrics_carry_no_limit_headers(limited):
    client = limited.test_client()

    for response in (client.get("/health"), client.get("/metrics")):
        assert response.status_code == 200
        assert not [name for name in response.headers.keys() if name.startswith("X-RateLimit")]


def test_a_malformed_limit_stops_the_app_at_startup(app_factory):
    with pytest.raises(ConfigError, match="RATE_LIMIT_READ"):
        app_factory(RATE_LIMIT_READ="lots per minute")


class _FlakyStorage(MemoryStorage):
    """A shared storage that can be made to fail, as a Redis that went away and came back."""

    def __init__(self):
        super().__init__()
        self.down, self.calls = False, 0

    def incr(self, key, expiry, amount=1):
        self.calls += 1
        if self.down:
            raise ConnectionError("storage down")
        return super().incr(key, expiry, amount)


def _flaky(app, *, fallback=True):
    """Give the app's counter a shared storage that can fail (the rest of the counter as configured)."""
    counter = app.extensions["rate_limits"]
    storage = _FlakyStorage()
    counter.limiter, counter.shared = FixedWindowRateLimiter(storage), True
    counter.fallback = FixedWindowRateLimiter(MemoryStorage()) if fallback else None
    return storage


def test_a_failed_storage_is_tried_again_by_one_request_and_used_once_it_answers(app_factory, make_key):
    app = app_factory(RATE_LIMIT_READ="100/minute", RATELIMIT_STORAGE_RETRY_SECONDS=1.0)  # > the 5 requests' time
    storage, client, key = _flaky(app), app.test_client(), make_key("viewer")
    storage.down = True

    during = [client.get("/api/interview/jd/NOPE", headers=key) for _ in range(5)]
    tries_while_down = storage.calls
    time.sleep(1.1)
    storage.down = False
    after = [client.get("/api/interview/jd/NOPE", headers=key) for _ in range(3)]

    assert [r.status_code for r in during + after] == [404] * 8
    assert tries_while_down == 1  # the first request found it down; the next four counted in memory
    assert [r.headers["X-RateLimit-Remaining"] for r in during] == ["99", "98", "97", "96", "95"]
    assert storage.calls == tries_while_down + 3  # back in the shared storage, which counts from its own state
    assert after[-1].headers["X-RateLimit-Remaining"] == "97"


def test_without_a_fallback_a_failed_storage_counts_nothing_and_refuses_nothing(app_factory, make_key):
    app = app_factory(RATE_LIMIT_READ="1/minute")
    _flaky(app, fallback=False).down = True
    client, key = app.test_client(), make_key("viewer")

    answers = [client.get("/api/interview/jd/NOPE", headers=key) for _ in range(3)]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert "X-RateLimit-Limit" not in answers[0].headers


def test_with_errors_not_swallowed_a_failed_storage_answers_503(app_factory, make_key):
    app = app_factory(RATELIMIT_SWALLOW_ERRORS=False)
    _flaky(app).down = True

    response = app.test_client().get("/api/interview/jd/NOPE", headers=make_key("viewer"))

    assert response.status_code == 503
    assert response.get_json()["success"] is False and "rate-limit" in response.get_json()["error"]
    assert response.headers["Retry-After"] == "5"


def test_several_limits_count_together_and_the_headers_name_the_tightest(app_factory, make_key):
    client = app_factory(RATE_LIMIT_READ="5/minute;3/hour").test_client()
    key = make_key("viewer")
    before = time.time()

    answers = [client.get("/api/interview/jd/NOPE", headers=key) for _ in range(4)]

    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"3"}
    reset = int(answers[-1].headers["X-RateLimit-Reset"])
    assert before < reset <= before + 3600 + 1
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 3600
    assert "3 per 1 hour" in answers[-1].get_json()["error"]


def test_rate_limits_can_be_turned_off(app_factory, make_key):
    client = app_factory(RATE_LIMIT_READ="1/minute", RATELIMIT_ENABLED=False).test_client()
    key = make_key("viewer")

    answers = [client.get("/api/interview/jd/NOPE", headers=key) for _ in range(3)]

    assert [a.status_code for a in answers] == [404, 404, 404]
    assert "X-RateLimit-Limit" not in answers[0].headers
