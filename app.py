"""Application factory: ``flask --app app ...`` and ``gunicorn 'app:create_app()'``."""

import logging
import os
import time

from flask import Flask, g, request
from flask_migrate import Migrate

from claude_client import build_claude_client, deprecation_warnings
from cli import register_cli
from config import ConfigError, config_from_env, resolve_provider
from database import engine_options, install_connection_hooks
from models import db
from observability import configure_logging, register_request_ids
from routes import rate_limits, register_blueprints
from routes.auth import SECURITY_SCHEMES
from routes.errors import Api, error_response, register_error_handlers
from routes.metrics import register_request_metrics
from routes.representations import cache as representations
from services.budgets import BudgetPolicy
from services.evaluations import Thresholds
from services.question_cache import QuestionCache
from services.representation_stamps import RepresentationStamps

migrate = Migrate()
log = logging.getLogger(__name__)
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def create_app(config_class=None, **overrides):
    """Create the Flask app from a config class (default: APP_ENV) plus keyword overrides."""
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance"))
    app.config.from_object(config_class or config_from_env())
    app.config.update(overrides)
    app.json.sort_keys = False  # keep the contract's field order
    provider = resolve_provider(app.config)
    _check_job_settings(app.config)
    configure_logging(app.config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app)

    db.init_app(app)
    with app.app_context():
        install_connection_hooks(db.engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.abspath(__file__)), "migrations"))
    claude = app.extensions["claude"] = build_claude_client(app.config, provider)
    for warning in deprecation_warnings({s.model: s.model_setting for s in claude.purposes.values() if s.model}):
        log.warning(warning)
    app.extensions["question_cache"] = QuestionCache.from_config(app.config)
    app.extensions["budgets"] = BudgetPolicy.from_config(app.config)
    app.extensions["evaluation_thresholds"] = Thresholds.from_config(app.config)
    app.extensions["representation_stamps"] = RepresentationStamps.from_config(app.config)

    app.after_request(_tidy_retry_after)  # registered first, so it runs after the rate limits' hook
    rate_limits.init_app(app)
    representations.init_app(app)
    api = Api(app)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    register_blueprints(api)
    register_error_handlers(app)
    register_request_ids(app)
    register_request_metrics(app)
    app.before_request(_require_json_body)
    register_cli(app)
    from routes.async_jobs import build_performers
    from services.job_queue import JobQueue

    app.extensions["job_queue"] = JobQueue.from_app(app, build_performers(app))
    log.info("TechScreen started: provider=%s model=%s", provider, app.extensions["claude"].model)
    return app


def _check_job_settings(config):
    """Refuse at startup job and webhook settings that cannot work (rather than a 500, or jobs redone
    while their workers live): a bad WEBHOOK_ALLOWED_HOSTS entry or WEBHOOK_ENCRYPTION_KEY, and a
    JOB_STALE_SECONDS under 3 heartbeats. Raises ConfigError naming the setting."""
    from services.errors import ServiceError
    from services.webhooks import encrypt_secret, parse_allowed_hosts

    if config["JOB_STALE_SECONDS"] < 3 * config["JOB_HEARTBEAT_SECONDS"]:
        raise ConfigError(
            f"JOB_STALE_SECONDS ({config['JOB_STALE_SECONDS']:g}) must be at least 3 x JOB_HEARTBEAT_SECONDS "
            f"({config['JOB_HEARTBEAT_SECONDS']:g}): a live worker's job would be taken from it"
        )

    try:
        parse_allowed_hosts(config.get("WEBHOOK_ALLOWED_HOSTS") or "")
    except ValueError as exc:
        raise ConfigError(f"WEBHOOK_ALLOWED_HOSTS: {exc}") from None
    if config.get("WEBHOOK_ENCRYPTION_KEY"):
        try:
            encrypt_secret("whsec_check", config["WEBHOOK_ENCRYPTION_KEY"])
        except ServiceError as exc:
            raise ConfigError(f"WEBHOOK_ENCRYPTION_KEY: {exc.message}") from None


def _tidy_retry_after(response):
    """Retry-After belongs on refusals only: our own value wins where we set one (503, 409, budget
    429); the rate limit's stays on its 429; every other answer loses it."""
    if "own_retry_after" in g:
        response.headers["Retry-After"] = g.own_retry_after
    elif response.status_code not in (429, 503):
        response.headers.pop("Retry-After", None)
    return response


def _require_json_body():
    """Answer 415 to a /api request whose body is not application/json (a POST with no body, such
    as POST /api/jobs/<id>/cancel, has nothing to refuse).

    Only for requests that matched a route: an unknown path or method answers 404/405 (the
    routing error), not a misleading 415."""
    if request.method not in _BODY_METHODS or request.routing_exception is not None:
        return None
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if request.path.startswith("/api/") and has_body and not request.is_json:
        return error_response(415, "Content-Type must be application/json")
    return None


def warm_up(app):
    """Do once, before a worker takes traffic, the work a first request would otherwise pay for.

    Configures the ORM mappers, compiles the interview read queries and their stamps (opening a
    pooled connection), serialises an interview through the contract schema, sends one request
    through the whole stack and, with a broker, opens its connection (the first job submission
    would otherwise import and connect under the others' feet). A failure (e.g. the database not up yet) is logged, never fatal.
    Called by gunicorn's post_worker_init hook (gunicorn.conf.py); bench/README.md shows why.
    """
    from sqlalchemy.orm import configure_mappers

    from models import Interview, InterviewQuestion
    from routes.schemas import InterviewListResponseSchema, InterviewResponseSchema
    from services.errors import NotFound
    from services.interviews import get_interview, interview_stamp, list_interviews_for_requisition, requisition_stamp

    started = time.perf_counter()
    try:
        configure_mappers()
        with app.app_context():
            for read, argument in ((get_interview, 0), (list_interviews_for_requisition, "warm-up"),
                                   (interview_stamp, 0), (requisition_stamp, "warm-up")):
                try:
                    read(argument)
                except NotFound:
                    pass
            db.session.remove()
        sample = Interview(id=0, job_description_id=0, req_id="warm-up", interview_name="warm-up", status="draft", version=1,
                           questions=[InterviewQuestion(question_number=1, question_text="q", question_type="technical",
                                                        criteria=[{"criterion": "c", "description": "d", "is_checked": False}])])
        InterviewResponseSchema().dump({"interview": sample})
        InterviewListResponseSchema().dump({"req_id": "warm-up", "interviews": [sample]})
        app.test_client().get("/health", headers={"X-Request-ID": "warm-up"})
        app.extensions["job_queue"].warm_up()
        log.info("Worker warmed up in %.0f ms", (time.perf_counter() - started) * 1000)
    except Exception:  # never keep a worker from starting
        log.warning("Worker warm-up failed; the first requests will be slower", exc_info=True)
