"""The sandbox provider end to end through HTTP, and config.resolve_provider's safety rules."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from config import ConfigError, resolve_provider
from models import GenerationCall, GenerationLog, Interview, JobDescription
from prompts import MAX_CRITERIA, MIN_CRITERIA
from sandbox_provider import SANDBOX_MODEL, SANDBOX_NOTICE
from tests.helpers import all_rows, enhance_body, workflow_body

FULL = "/api/interview/workflow/full"
QUESTION_FIELDS = ("question_number", "question_text", "question_type", "topic", "skill_level", "expected_answer", "criteria")


@pytest.fixture
def sandbox_client(app_factory):
    return app_factory(LLM_PROVIDER="sandbox").test_client()


def questions_of(body):
    return [{field: q[field] for field in QUESTION_FIELDS} for q in body["interview"]["questions"]]


# --- sandbox ---------------------------------------------------------------------------------

def test_sandbox_runs_the_full_workflow_without_any_stub_request(sandbox_client, admin, claude, app):
    response = sandbox_client.post(FULL, json=workflow_body("REQ-SBX"), headers=admin)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["success"] is True
    assert body["provider"] == "sandbox" and body["model"] == SANDBOX_MODEL == "techscreen-sandbox"
    questions = body["interview"]["questions"]
    assert [q["question_number"] for q in questions] == [1, 2, 3, 4, 5]
    assert all(MIN_CRITERIA <= len(q["criteria"]) <= MAX_CRITERIA for q in questions)
    assert all(8 <= len(q["criteria"]) <= 10 for q in questions)
    assert all(c["is_checked"] is False and c["criterion"] and c["description"] for q in questions for c in q["criteria"])
    assert len({q["question_type"] for q in questions}) == 5
    assert body["enhanced_jd"]["description"].startswith(SANDBOX_NOTICE)  # never mistaken for Claude's work
    assert body["total_tokens_used"] > 0
    assert body["interview"]["provider"] == "sandbox" and body["interview"]["model"] == SANDBOX_MODEL
    assert claude.calls == 0


def test_sandbox_generation_logs_name_the_sandbox(sandbox_client, admin, claude, app):
    body = sandbox_client.post(FULL, json=workflow_body("REQ-SBX-LOG"), headers=admin).get_json()

    logs = all_rows(app, GenerationLog)
    assert [(log.operation_type, log.status) for log in logs] == [("jd_enhancement", "success"), ("interview_generation", "success")]
    assert all(log.provider == "sandbox" and log.model == SANDBOX_MODEL and log.tokens_used > 0 for log in logs)
    assert sum(log.tokens_used for log in logs) == body["total_tokens_used"]
    calls = all_rows(app, GenerationCall)
    assert [c.outcome for c in calls] == ["ok", "ok"] and all(c.model == SANDBOX_MODEL for c in calls)
    jd = all_rows(app, JobDescription)[0]
    assert (jd.provider, jd.model) == ("sandbox", SANDBOX_MODEL)
    assert [(i.provider, i.model) for i in all_rows(app, Interview)] == [("sandbox", SANDBOX_MODEL)]
    assert claude.calls == 0


def test_sandbox_serves_enhance_then_generate(sandbox_client, admin, claude):
    enhanced = sandbox_client.post("/api/interview/jd/enhance", json=enhance_body("REQ-SBX-2"), headers=admin)
    assert enhanced.status_code == 200, enhanced.get_json()
    assert enhanced.get_json()["provider"] == "sandbox"

    generated = sandbox_client.post(
        "/api/interview/generate", json={"req_id": "REQ-SBX-2", "job_description_id": enhanced.get_json()["job_description_id"]}, headers=admin
    )

    assert generated.status_code == 200, generated.get_json()
    assert generated.get_json()["model"] == SANDBOX_MODEL
    assert len(generated.get_json()["interview"]["questions"]) == 5
    assert claude.calls == 0


def test_sandbox_is_deterministic(app_factory, admin, claude):
    first_client = app_factory(LLM_PROVIDER="sandbox").test_client()
    first = first_client.post(FULL, json=workflow_body("REQ-DET-1"), headers=admin).get_json()
    second = first_client.post(FULL, json=workflow_body("REQ-DET-2"), headers=admin).get_json()
    # A separately built app answers the same too.
    third = app_factory(LLM_PROVIDER="sandbox").test_client().post(FULL, json=workflow_body("REQ-DET-3"), headers=admin).get_json()

    assert questions_of(first) == questions_of(second) == questions_of(third)
    assert first["enhanced_jd"] == second["enhanced_jd"] == third["enhanced_jd"]
    assert first["total_tokens_used"] == second["total_tokens_used"]
    assert claude.calls == 0


def test_sandbox_content_follows_the_input(sandbox_client, admin):
    python = sandbox_client.post(FULL, json=workflow_body("REQ-PY", basic_level="Junior"), headers=admin).get_json()
    infra = sandbox_client.post(
        FULL,
        json=workflow_body(
            "REQ-K8S",
            basic_title="Platform Engineer",
            basic_description="Run our Kubernetes clusters with Terraform on AWS.",
            work_knowledge="Kubernetes, Terraform, AWS",
        ),
        headers=admin,
    ).get_json()

    assert questions_of(python) != questions_of(infra)
    assert "Kubernetes" in json.dumps(infra["interview"]) and "Kubernetes" not in json.dumps(python["interview"])
    assert {q["skill_level"] for q in python["interview"]["questions"]} == {"junior"}
    assert {q["skill_level"] for q in infra["interview"]["questions"]} == {"senior"}
    assert infra["enhanced_jd"]["title"] == "Platform Engineer"


def test_development_without_a_key_builds_a_sandbox_app(app_factory, admin, claude):
    app = app_factory(ENV_NAME="development", LLM_PROVIDER=None, ANTHROPIC_API_KEY=None)

    assert app.extensions["claude"].provider == "sandbox"
    response = app.test_client().post(FULL, json=workflow_body("REQ-DEV"), headers=admin)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["provider"] == "sandbox"
    assert claude.calls == 0


def test_development_with_a_key_builds_an_anthropic_app(app_factory):
    app = app_factory(ENV_NAME="development", LLM_PROVIDER=None, ANTHROPIC_API_KEY="sk-ant-dev")

    assert app.extensions["claude"].provider == "anthropic"


def test_production_app_refuses_the_sandbox(app_factory):
    with pytest.raises(ConfigError, match="sandbox"):
        app_factory(ENV_NAME="production", LLM_PROVIDER="sandbox", SQLALCHEMY_DATABASE_URI="mysql+pymysql://u@db.invalid/ts")


# --- resolve_provider with plain dicts --------------------------------------------------------

MYSQL = "mysql+pymysql://techscreen@db.internal:3306/techscreen"


def settings(env, provider=None, key=None, uri=MYSQL, auth="api-key"):
    return {"ENV_NAME": env, "LLM_PROVIDER": provider, "ANTHROPIC_API_KEY": key, "SQLALCHEMY_DATABASE_URI": uri, "AUTH_MODE": auth}


@pytest.mark.parametrize(
    "values, expected",
    [
        (settings("development"), "sandbox"),
        (settings("development", key="sk-ant-x"), "anthropic"),
        (settings("development", provider="sandbox", key="sk-ant-x"), "sandbox"),
        (settings("development", provider="anthropic"), "anthropic"),
        (settings("development", uri="sqlite:///dev.sqlite3"), "sandbox"),
        (settings("testing"), "anthropic"),
        (settings("testing", provider="sandbox"), "sandbox"),
        (settings("production", key="sk-ant-x"), "anthropic"),
        (settings("production", provider="anthropic", key="sk-ant-x"), "anthropic"),
        (settings("production", key="sk-ant-x", auth="trusted-headers"), "anthropic"),
        (settings("production", key="sk-ant-x", uri="mariadb+pymysql://u@h/db"), "anthropic"),
    ],
)
def test_resolve_provider_picks(values, expected):
    assert resolve_provider(values) == expected


@pytest.mark.parametrize(
    "values, message",
    [
        (settings("production", provider="sandbox", key="sk-ant-x"), "sandbox"),
        (settings("production", provider="sandbox"), "sandbox"),
        (settings("production"), "ANTHROPIC_API_KEY"),
        (settings("production", provider="anthropic", key=""), "ANTHROPIC_API_KEY"),
        (settings("production", key="sk-ant-x", uri="sqlite:////srv/techscreen.sqlite3"), "DATABASE_URL"),
        (settings("production", key="sk-ant-x", uri="sqlite://"), "DATABASE_URL"),
        (settings("development", provider="openai"), "LLM_PROVIDER"),
        (settings("development", provider="Sandbox"), "LLM_PROVIDER"),
        (settings("development", auth="none"), "AUTH_MODE"),
        (settings("production", key="sk-ant-x", auth=None), "AUTH_MODE"),
    ],
)
def test_resolve_provider_refuses(values, message):
    with pytest.raises(ConfigError, match=message):
        resolve_provider(values)


def test_resolve_provider_never_picks_sandbox_in_production_whatever_else_is_set():
    for provider in (None, "anthropic", "sandbox"):
        for key in (None, "", "sk-ant-x"):
            for uri in (MYSQL, "sqlite://"):
                try:
                    assert resolve_provider(settings("production", provider, key, uri)) == "anthropic"
                except ConfigError:
                    pass


def test_claude_api_key_is_accepted_and_anthropic_api_key_wins(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("CLAUDE_API_KEY", raising=False)
    assert config._anthropic_api_key() is None

    monkeypatch.setenv("CLAUDE_API_KEY", "sk-claude-name")
    assert config._anthropic_api_key() == "sk-claude-name"

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-anthropic-name")
    assert config._anthropic_api_key() == "sk-anthropic-name"

    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    assert config._anthropic_api_key() == "sk-claude-name"


def _config_from_fresh_process(env):
    """Import config in a clean interpreter with ``env`` and return its resolved settings."""
    script = (
        "import json, config\n"
        "cls = config.config_from_env()\n"
        "values = {k: getattr(cls, k) for k in dir(cls) if k.isupper()}\n"
        "try:\n"
        "    provider = config.resolve_provider(values)\n"
        "except config.ConfigError as exc:\n"
        "    provider = 'refused: ' + str(exc)\n"
        "print(json.dumps({'env': cls.ENV_NAME, 'key': values['ANTHROPIC_API_KEY'], 'provider': provider}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"ANTHROPIC_API_KEY", "CLAUDE_API_KEY", "LLM_PROVIDER", "DATABASE_URL", "APP_ENV", "AUTH_MODE"}}
    result = subprocess.run(
        [sys.executable, "-c", script], env={**clean, **env}, cwd=Path(config.__file__).parent,
        capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_claude_api_key_from_the_environment_configures_anthropic():
    development = _config_from_fresh_process({"APP_ENV": "development", "CLAUDE_API_KEY": "sk-claude-env"})
    production = _config_from_fresh_process({"APP_ENV": "production", "CLAUDE_API_KEY": "sk-claude-env", "DATABASE_URL": MYSQL})
    keyless = _config_from_fresh_process({"APP_ENV": "development"})
    production_sqlite = _config_from_fresh_process({"APP_ENV": "production", "CLAUDE_API_KEY": "sk-claude-env"})

    assert development == {"env": "development", "key": "sk-claude-env", "provider": "anthropic"}
    assert production == {"env": "production", "key": "sk-claude-env", "provider": "anthropic"}
    assert keyless["key"] is None and keyless["provider"] == "sandbox"
    assert production_sqlite["provider"].startswith("refused") and "DATABASE_URL" in production_sqlite["provider"]


def test_unknown_app_env_is_refused(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")

    with pytest.raises(RuntimeError, match="APP_ENV"):
        config.config_from_env()


@pytest.mark.parametrize(
    "overrides",
    [
        {"CACHE_SIMILARITY_THRESHOLD": 85},
        {"CACHE_SIMILARITY_THRESHOLD": 0},
        {"EVALUATION_ADVANCE_THRESHOLD": 40, "EVALUATION_REJECT_THRESHOLD": 60},
        {"EVALUATION_ADVANCE_THRESHOLD": 140},
    ],
)
def test_out_of_range_thresholds_are_refused_at_startup(overrides):
    with pytest.raises(config.ConfigError, match="THRESHOLD"):
        config.resolve_provider({"ENV_NAME": "development", "AUTH_MODE": "api-key", **overrides})


@pytest.mark.parametrize("prices", ['{"claude-x": {"input": 1}}', "not json", '{"claude-x": {"input": "cheap", "output": 1, "cache_write": 1, "cache_read": 1}}'])
def test_a_malformed_price_table_is_a_clear_configuration_error(prices):
    from services.pricing import PriceTable

    with pytest.raises(ConfigError, match="CLAUDE_PRICES_JSON"):
        PriceTable.from_config({"CLAUDE_PRICES_JSON": prices})
