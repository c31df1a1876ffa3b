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


def _gets(client):
    return client.info("commandstats").get("cmdstat_get", {}).get("calls", 0)


def test_a_process_answers_from_its_copy_until_redis_invalidates_it(redis_later):
    """Two processes (two instances, each with its own tracking connection) on one Redis: repeated
    reads cost no GET; another process's renewal is seen by the very next read."""
    port, start = redis_later
    client = start()
    url = f"redis://127.0.0.1:{port}/0"
    reader, writer = RepresentationStamps(url, prefix="t:"), RepresentationStamps(url, prefix="t:")
    first = reader.token("interview", 1)
    assert reader.token("interview", 1) == first  # held from now on
    before = _gets(client)
    assert all(reader.token("interview", 1) == first for _ in range(200))
    assert _gets(client) == before  # no round trip per read

    writer.renew([("interview", 1)])
    renewed = reader.token("interview", 1)
    assert renewed != first and renewed == client.get("t:interview:1").decode() == writer.token("interview", 1)

    client.set("t:interview:1", "set-by-hand")  # any change of the key, by anyone
    client.ping()  # answered once Redis has written the invalidation (renew() does the same)
    assert reader.token("interview", 1) == "set-by-hand"
    client.flushall()  # Redis forgot everything: every copy goes
    client.ping()
    assert reader.token("interview", 1) not in ("set-by-hand", None)


def test_the_writer_process_sees_its_own_renewal_at_once(redis_later):
    port, start = redis_later
    client = start()
    stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", prefix="t:")
    first = stamps.token("req", "REQ-1")
    stamps.renew([("req", "REQ-1")])
    assert stamps.token("req", "REQ-1") == client.get("t:req:REQ-1").decode() != first


def test_a_lost_tracking_connection_drops_every_copy(redis_later):
    """Invalidations sent while the connection was gone are lost: nothing held before is trusted."""
    port, start = redis_later
    client = start()
    stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", prefix="t:", retry_seconds=0)
    first = stamps.token("interview", 2)
    client.client_kill_filter(_type="normal", skipme=True)  # every other connection, the tracking one too
    client.set("t:interview:2", "changed-while-cut-off")
    assert stamps.token("interview", 2) in (None, "changed-while-cut-off")  # None: database stamps this once
    assert stamps.token("interview", 2) == "changed-while-cut-off" != first


def test_a_silent_redis_is_noticed_by_the_heartbeat(redis_later):
    """A tracking connection that hears nothing for heartbeat_seconds PINGs before trusting a copy."""
    port, start = redis_later
    client = start()
    stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", prefix="t:", heartbeat_seconds=0.05)
    stamps.token("interview", 3)
    pings = client.info("commandstats").get("cmdstat_ping", {}).get("calls", 0)
    time.sleep(0.1)
    stamps.token("interview", 3)
    assert client.info("commandstats")["cmdstat_ping"]["calls"] == pings + 1


def test_a_renewal_is_seen_by_another_process_every_time(redis_later):
    """renew() returns only once Redis has written the invalidations: the very next read elsewhere
    never gets the old token (without renew's PING, about 1 read in 4,000 did here)."""
    port, start = redis_later
    start()
    url = f"redis://127.0.0.1:{port}/0"
    reader, writer = RepresentationStamps(url, prefix="t:"), RepresentationStamps(url, prefix="t:")
    for _ in range(8000):  # about 3 s; without the PING this fails about 9 times in 10
        held = reader.token("interview", 5)
        writer.renew([("interview", 5)])
        assert reader.token("interview", 5) != held


def test_the_url_cannot_turn_the_tracking_connection_into_resp2(redis_later):
    """?protocol=2 or ?decode_responses=true in REPRESENTATION_STAMP_URL: invalidations still arrive."""
    port, start = redis_later
    client = start()
    url = f"redis://127.0.0.1:{port}/0?protocol=2&decode_responses=true"
    reader = RepresentationStamps(url, prefix="t:")
    first = reader.token("interview", 6)
    client.set("t:interview:6", "changed")
    client.ping()
    assert first not in (None, "changed") and reader.token("interview", 6) == "changed"


def test_reads_work_with_file_descriptors_above_1024(redis_later):
    """poll(2), not select(2), checks the tracking socket: a busy worker has many descriptors open."""
    import os

    port, start = redis_later
    client = start()
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        stamps = RepresentationStamps(f"redis://127.0.0.1:{port}/0", prefix="t:")
        first = stamps.token("interview", 7)
        client.set("t:interview:7", "changed")
        client.ping()
        assert first is not None and stamps.token("interview", 7) == "changed"
    finally:
        for descriptor in spare:
            os.close(descriptor)
