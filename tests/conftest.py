"""Fixtures: a migrated database (SQLite file, or TEST_DATABASE_URL for MySQL/MariaDB), a stub
Messages API on loopback that the real anthropic SDK talks to, the app, a client and API keys.

The schema comes from the Alembic migrations (upgrade once per session); every table is
emptied after each test.
"""

import os

import flask_migrate
import pytest
from pytest_httpserver import HTTPServer

from app import create_app
from config import TestingConfig
from models import db
from services.api_keys import create_api_key
from tests.stub_messages_api import StubMessagesAPI


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: schemathesis runs against /openapi.json (deselect with -m 'not fuzz')")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The test database, migrated to head once: TEST_DATABASE_URL or a temporary SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        flask_migrate.upgrade()
        _empty_tables()
        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def stub_server():
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def claude(stub_server):
    """The stub Messages API for this test (empty queue)."""
    stub_server.clear()
    yield StubMessagesAPI(stub_server)
    stub_server.clear()


@pytest.fixture
def app_factory(database_url, claude):
    """Build apps against the test database and the stub; config overrides as keyword arguments."""
    apps = []

    def make(**overrides):
        settings = {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "ANTHROPIC_BASE_URL": claude.base_url,
            "CLAUDE_TIMEOUT_SECONDS": 5.0,
            "CLAUDE_MAX_RETRIES": 2,
            **overrides,
        }
        built = create_app(TestingConfig, **settings)
        apps.append(built)
        return built

    yield make
    for built in apps:
        built.extensions["job_queue"].stop()  # the embedded job pool and sweep thread, if started
        with built.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps:  # through the real database URL (a test may have pointed its app elsewhere)
        cleaner = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_url)
        with cleaner.app_context():
            _empty_tables()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    return app_factory()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_key(app):
    """Return a function role -> auth headers for a fresh API key of that role."""

    def make(role="admin"):
        with app.app_context():
            _, plaintext = create_api_key(name=f"test-{role}", role=role)
        return {"Authorization": f"Bearer {plaintext}"}

    return make


@pytest.fixture
def admin(make_key):
    return make_key("admin")


@pytest.fixture
def recruiter(make_key):
    return make_key("recruiter")


def _empty_tables():
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
