"""services/representation_stamps.py against a real Redis started for the test: a token that could
not be renewed after a commit (Redis down) is renewed as soon as Redis answers, before any token
is handed out."""

import shutil
import subprocess
import time

import pytest
import redis

from bench.support import free_port
from services.representation_stamps import RepresentationStamps

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


@pytest.fixture
def redis_later():
    """A port where nothing listens yet, and a function that starts a Redis there."""
    port, started = free_port(), []

    def start():
        started.append(subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL))
        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    yield port, start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def test_a_token_not_renewed_while_redis_was_down_is_renewed_before_any_token_is_used(redis_later, caplog):
    port, start = redis_later
    stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", ttl_seconds=60, retry_seconds=0, prefix="t:")

    stamps.renew([("interview", 7), ("req", "REQ-7")])  # the commit happened; Redis is down
    assert stamps.token("interview", 7) is None  # the caller uses the database stamp meanwhile
    assert "Redis renew failed" in caplog.text and "2 token(s) to renew" in caplog.text

    client = start()
    client.set("t:interview:7", "old-token")  # what other workers would still see
    token = stamps.token("interview", 8)
    assert token is not None and client.get("t:interview:8").decode() == token
    assert client.get("t:interview:7").decode() != "old-token"  # renewed first
    assert client.get("t:req:REQ-7") is not None
    assert stamps.token("interview", 7) == client.get("t:interview:7").decode()
    assert 0 < client.ttl("t:interview:7") <= 60


def test_tokens_are_random_so_a_redis_restarted_empty_never_repeats_one(redis_later):
    port, start = redis_later
    client = start()
    stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", ttl_seconds=0, prefix="t:")
    first = stamps.token("interview", 1)
    client.flushall()  # Redis lost everything (it keeps nothing on disk here)
    again = stamps.token("interview", 1)
    assert first and again and again != first and client.ttl("t:interview:1") == -1  # ttl 0: no expiry
    stamps.renew([("interview", 1)])
    assert stamps.token("interview", 1) not in (first, again)
