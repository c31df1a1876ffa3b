"""The schema comes only from Alembic migrations: one head, upgrade and downgrade work, and the
models never drift from what the migrations build (on SQLite, and on MySQL/MariaDB when
TEST_DATABASE_URL points there: a scratch database beside it is used)."""

import os
import uuid

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url, text

from app import create_app
from config import TestingConfig
from models import db

EXPECTED_TABLES = {
    "api_keys",
    "job_descriptions",
    "interviews",
    "interview_questions",
    "question_cache",
    "generation_logs",
    "generation_calls",
    "evaluations",
    "evaluation_questions",
    "idempotency_keys",
    "jobs",
    "webhook_deliveries",
    "webhook_attempts",
}


@pytest.fixture
def scratch_database_url(tmp_path):
    """An empty database of the same kind as the suite's (dropped afterwards)."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = make_url(base)
    name = f"{url.database}_mig_{uuid.uuid4().hex[:8]}"
    server = create_engine(url.set(database=""))
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


@pytest.fixture
def scratch_app(scratch_database_url):
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=scratch_database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


def _tables(app):
    with app.app_context():
        return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_have_a_single_head(scratch_app):
    with scratch_app.app_context():
        config = scratch_app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"multiple Alembic heads: {heads}"


def test_upgrade_downgrade_and_upgrade_again_build_and_remove_every_table(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade()
    assert _tables(scratch_app) == EXPECTED_TABLES

    with scratch_app.app_context():
        flask_migrate.downgrade(revision="base")
    assert _tables(scratch_app) == set()

    with scratch_app.app_context():
        flask_migrate.upgrade()
    assert _tables(scratch_app) == EXPECTED_TABLES


def test_models_match_the_migrated_schema(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], f"models and migrations drift apart: {differences}"
