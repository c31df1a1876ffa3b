"""Database outages: with MySQL/MariaDB unreachable, readiness and data requests answer 503 within
a few seconds, and the service recovers by itself once the database is back.

The outage is made by a TCP proxy of our own between the app and the database (closing it
drops every connection, as a database restart does). Needs a database server, so it runs
when TEST_DATABASE_URL points at MySQL/MariaDB (.ci/run does).
"""

import os
import socket
import threading
import time

import pytest
from sqlalchemy import make_url

from services.api_keys import create_api_key

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not SERVER_URL.startswith("mysql"), reason="needs TEST_DATABASE_URL on MySQL/MariaDB")
# A hang guard, not a speed target: a down database must never leave a request waiting on it.
PROMPT_ANSWER_SECONDS = 15


class TcpProxy:
    """Forward 127.0.0.1:<port> to the database; stop() drops the listener and every connection."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets, self._listener, self._lock = [], None, threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self):
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in [self._listener, *sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass


@pytest.fixture
def proxy(database_url):
    url = make_url(database_url)
    tcp = TcpProxy(url.host or "127.0.0.1", url.port or 3306)
    tcp.start()
    yield tcp
    tcp.stop()


@pytest.fixture
def proxied_app(app_factory, database_url, proxy):
    url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
    return app_factory(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False), DB_CONNECT_TIMEOUT_SECONDS=2)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_database_outage_answers_503_promptly_and_the_service_recovers_by_itself(proxied_app, proxy):
    client = proxied_app.test_client()
    with proxied_app.app_context():
        _, key = create_api_key(name="faults", role="admin")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/health/ready").status_code == 200
    assert client.get("/api/interview/999999", headers=headers).status_code == 404  # pooled connections exist now

    proxy.stop()  # the database goes away, with every open connection
    ready, ready_seconds = timed(lambda: client.get("/health/ready"))
    data, data_seconds = timed(lambda: client.get("/api/interview/999999", headers=headers))

    assert ready.status_code == 503 and ready.get_json()["database"] == "unreachable"
    assert data.status_code == 503
    assert data.get_json()["success"] is False and "database" in data.get_json()["error"].lower()
    assert ready_seconds < PROMPT_ANSWER_SECONDS and data_seconds < PROMPT_ANSWER_SECONDS

    proxy.start()  # the database is back on the same address; the app is not restarted

    assert client.get("/health/ready").status_code == 200
    assert client.get("/api/interview/999999", headers=headers).status_code == 404
    assert client.get("/api/interview/req/NOPE", headers=headers).status_code == 404
