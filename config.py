"""Configuration classes read from the environment.

Pick one with ``APP_ENV`` (development, testing, production; default development) or pass a
class to ``create_app``. Every setting has a default that lets a newcomer run the service
with nothing installed: SQLite under ``instance/`` and the sandbox provider when no
Anthropic key is set (development only).
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _env_float(name, default):
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_bool(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _purpose_overrides():
    """Return {purpose: {"model"?: str, "effort"?: str}} from CLAUDE_MODEL_<PURPOSE> / CLAUDE_EFFORT_<PURPOSE>."""
    overrides = {}
    for name, value in os.environ.items():
        for prefix, key in (("CLAUDE_MODEL_", "model"), ("CLAUDE_EFFORT_", "effort")):
            if name.startswith(prefix) and value:
                overrides.setdefault(name[len(prefix):].lower(), {})[key] = value.strip()
    return overrides


def _anthropic_api_key():
    # CLAUDE_API_KEY is the original design's name; ANTHROPIC_API_KEY is the SDK's and wins.
    return os.environ.get("ANTHROPIC_API_KEY") or os.environ.get("CLAUDE_API_KEY") or None


def _default_sqlite_url():
    instance = BASE_DIR / "instance"
    return f"sqlite:///{instance / 'techscreen.sqlite3'}"


class Config:
    """Settings shared by every environment; each reads its environment variable."""

    ENV_NAME = "base"

    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_sqlite_url()
    SQLALCHEMY_ENGINE_OPTIONS = {
        # Check connections before use and recycle them before MySQL's wait_timeout closes them.
        "pool_pre_ping": True,
        "pool_recycle": _env_int("DB_POOL_RECYCLE_SECONDS", 280),
        # Never put statement parameters (JD text, candidate answers) into exception messages or logs.
        "hide_parameters": True,
    }
    DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 10)
    DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 10)
    DB_CONNECT_TIMEOUT_SECONDS = _env_int("DB_CONNECT_TIMEOUT_SECONDS", 5)
    # MySQL/MariaDB TLS, as the MySQL client's --ssl-mode: preferred, disabled, required, verify_ca,
    # verify_identity (database.py). DB_SSL_CA: PEM file of CAs for the verify modes (default: system).
    DB_SSL_MODE = os.environ.get("DB_SSL_MODE") or "preferred"
    DB_SSL_CA = os.environ.get("DB_SSL_CA") or None

    # Request bodies above this many bytes get 413 before they are parsed.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 256 * 1024)
    # Longest basic_description accepted, in characters; longer ones get 400 before Claude is called.
    MAX_JD_CHARS = _env_int("MAX_JD_CHARS", 20_000)
    # Longest WORK input (work_output, work_role, ...), in characters.
    MAX_WORK_INPUT_CHARS = _env_int("MAX_WORK_INPUT_CHARS", 4_000)

    # Claude, reached only through the anthropic SDK (claude_client.py).
    LLM_PROVIDER = os.environ.get("LLM_PROVIDER") or None  # "anthropic" or "sandbox"; None = decide
    ANTHROPIC_API_KEY = _anthropic_api_key()
    ANTHROPIC_BASE_URL = os.environ.get("ANTHROPIC_BASE_URL") or None
    # Default model and effort of every Claude call; CLAUDE_MODEL_<PURPOSE> / CLAUDE_EFFORT_<PURPOSE>
    # (e.g. CLAUDE_EFFORT_INTERVIEW_FILL=medium) or CLAUDE_PURPOSES_JSON override one purpose. The
    # built-in per-purpose choices and their reasons are in claude_client.PURPOSE_DEFAULTS.
    CLAUDE_MODEL = os.environ.get("CLAUDE_MODEL") or "claude-sonnet-5-5"
    CLAUDE_EFFORT = os.environ.get("CLAUDE_EFFORT") or None  # None: each purpose's built-in effort
    CLAUDE_PURPOSES_JSON = os.environ.get("CLAUDE_PURPOSES_JSON") or None
    CLAUDE_PURPOSE_OVERRIDES = _purpose_overrides()
    # max_tokens of each call: room for adaptive thinking (billed as output tokens) plus the answer.
    # Above the SDK's non-streaming limit (claude_client.needs_streaming) calls are streamed.
    CLAUDE_MAX_TOKENS = _env_int("CLAUDE_MAX_TOKENS", 16_000)
    # Claude calls in flight at once in this process (every request and worker thread together), and
    # the concurrent fill calls of one interview kit (one call per missing question).
    CLAUDE_MAX_CONCURRENT_CALLS = _env_int("CLAUDE_MAX_CONCURRENT_CALLS", 64)
    CLAUDE_FILL_CONCURRENCY = _env_int("CLAUDE_FILL_CONCURRENCY", 5)
    # Mark each purpose's stable prefix (its system prompt) with cache_control (Anthropic prompt caching).
    CLAUDE_PROMPT_CACHING = _env_bool("CLAUDE_PROMPT_CACHING", True)
    # Per HTTP attempt, in seconds. The SDK's own default is 600 s, far too long for an API.
    CLAUDE_TIMEOUT_SECONDS = _env_float("CLAUDE_TIMEOUT_SECONDS", 90.0)
    # The SDK's retries (408/409/429/5xx/529 with backoff and retry-after); no loop of ours on top.
    CLAUDE_MAX_RETRIES = _env_int("CLAUDE_MAX_RETRIES", 2)

    # Prices in USD per million tokens by model, on top of services/pricing.py's defaults (JSON object).
    CLAUDE_PRICES_JSON = os.environ.get("CLAUDE_PRICES_JSON") or None

    # Token budgets (services/budgets.py): unset = unlimited. Global, and the default for each API key
    # (a key's own budget, set with `flask api-keys set-budget`, wins). Days and months are UTC.
    TOKEN_BUDGET_DAILY = _env_int("TOKEN_BUDGET_DAILY", None)
    TOKEN_BUDGET_MONTHLY = _env_int("TOKEN_BUDGET_MONTHLY", None)
    API_KEY_TOKEN_BUDGET_DAILY = _env_int("API_KEY_TOKEN_BUDGET_DAILY", None)
    API_KEY_TOKEN_BUDGET_MONTHLY = _env_int("API_KEY_TOKEN_BUDGET_MONTHLY", None)
    # Tokens reserved for an operation when checking a budget: a request is refused when
    # spent + reserve > budget. Defaults are typical totals per operation.
    # Thinking is billed as output tokens, so these include a typical amount of it.
    BUDGET_RESERVE_TOKENS = {"jd_enhancement": 6_000, "interview_generation": 16_000, "candidate_scoring": 12_000}

    # "api-key" (default): Authorization: Bearer / X-API-Key checked against hashed keys.
    # "trusted-headers": accept X-User-ID / X-User-Role from an authenticating gateway. Only
    # behind such a gateway: anyone who can reach the service can claim any identity.
    AUTH_MODE = os.environ.get("AUTH_MODE", "api-key")
    # A valid API key is remembered per process this long (no database query per request); a key
    # revoked elsewhere stops working within this many seconds. 0 checks the database every time.
    AUTH_CACHE_SECONDS = _env_int("AUTH_CACHE_SECONDS", 30)

    # Idempotency-Key: responses are replayed for this long; an in-progress claim older than
    # ABANDONED seconds (its worker died) may be taken over.
    IDEMPOTENCY_TTL_HOURS = _env_int("IDEMPOTENCY_TTL_HOURS", 24)
    IDEMPOTENCY_ABANDONED_SECONDS = _env_int("IDEMPOTENCY_ABANDONED_SECONDS", 900)

    # Rate limits per caller (routes/rate_limits.py), "limits" notation ("30/minute;500/hour").
    RATE_LIMIT_CLAUDE = os.environ.get("RATE_LIMIT_CLAUDE", "30/minute")
    RATE_LIMIT_WRITE = os.environ.get("RATE_LIMIT_WRITE", "120/minute")
    RATE_LIMIT_READ = os.environ.get("RATE_LIMIT_READ", "1200/minute")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    # Shared counts for several workers/hosts, e.g. redis://127.0.0.1:6379 (default: per-process memory).
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # If the shared storage (Redis) is down, count in memory instead of failing requests.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # While the shared storage is down, one request tries it again this often (seconds).
    RATELIMIT_STORAGE_RETRY_SECONDS = _env_float("RATELIMIT_STORAGE_RETRY_SECONDS", 5.0)
    RATELIMIT_KEY_PREFIX = "techscreen"

    # Interview reads' representation cache (routes/representations.py, Flask-Caching): a body made
    # once per change of the interview's row, kept per worker. NullCache turns it off.
    CACHE_TYPE = os.environ.get("CACHE_TYPE", "SimpleCache")
    CACHE_THRESHOLD = _env_int("CACHE_THRESHOLD", 1000)  # entries per worker (a kit ~6 KB, a list ~18 KB)
    CACHE_DEFAULT_TIMEOUT = _env_int("CACHE_DEFAULT_TIMEOUT", 300)  # seconds
    CACHE_KEY_PREFIX = "techscreen:"
    # Where the cached bodies' stamps come from (services/representation_stamps.py): unset, a query
    # of the interview rows on every read; a Redis URL (e.g. redis://127.0.0.1:6379/0), a token per
    # interview and requisition renewed after every commit that changes one, each worker keeping
    # its copies until Redis reports a change (CLIENT TRACKING): a read of an unchanged kit then
    # makes no round trip. While Redis is unreachable, reads use the query, and retry this often (s).
    REPRESENTATION_STAMP_URL = os.environ.get("REPRESENTATION_STAMP_URL") or None
    REPRESENTATION_STAMP_RETRY_SECONDS = _env_float("REPRESENTATION_STAMP_RETRY_SECONDS", 5.0)

    # Logs: "text" (default) or "json" (one object per line, for log shippers); level name.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()

    # Question cache (services/question_cache.py): reuse questions for similar topics.
    ENABLE_QUESTION_CACHE = _env_bool("ENABLE_QUESTION_CACHE", True)
    # rapidfuzz ratio of normalised topics / 100 that a cached question needs to be reused (0-1).
    CACHE_SIMILARITY_THRESHOLD = _env_float("CACHE_SIMILARITY_THRESHOLD", 0.85)
    # Bounds: at most this many entries (least recently used evicted first) ...
    CACHE_MAX_ENTRIES = _env_int("CACHE_MAX_ENTRIES", 50_000)
    # ... and entries unused for this many days expire.
    CACHE_TTL_DAYS = _env_int("CACHE_TTL_DAYS", 180)
    # Each process reloads its in-memory topic index this often (seconds) to forget evicted entries.
    CACHE_INDEX_RESYNC_SECONDS = _env_float("CACHE_INDEX_RESYNC_SECONDS", 300.0)

    # Candidate scoring (services/evaluations.py): overall score (0-100) at or above ADVANCE is
    # "advance", below REJECT is "reject", between is "hold".
    EVALUATION_ADVANCE_THRESHOLD = _env_float("EVALUATION_ADVANCE_THRESHOLD", 75.0)
    EVALUATION_REJECT_THRESHOLD = _env_float("EVALUATION_REJECT_THRESHOLD", 50.0)
    # Longest candidate answer accepted per question, in characters.
    MAX_ANSWER_CHARS = _env_int("MAX_ANSWER_CHARS", 20_000)

    # Asynchronous jobs (`Prefer: respond-async`; services/jobs.py). With CELERY_BROKER_URL (e.g.
    # redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//) jobs go to Celery workers
    # (`celery -A worker worker`); without it they run on a pool of JOB_EMBEDDED_THREADS threads in
    # the web process, and a job in flight dies with that process (redone after JOB_STALE_SECONDS by
    # the next sweep of any process).
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or None
    CELERY_QUEUE = os.environ.get("CELERY_QUEUE") or "techscreen"
    # Webhook deliveries have a queue of their own, so a slow receiver never delays jobs.
    # Default: "<CELERY_QUEUE>.webhooks". A worker started with -Q must name both queues.
    CELERY_WEBHOOK_QUEUE = os.environ.get("CELERY_WEBHOOK_QUEUE") or None
    JOB_EMBEDDED_THREADS = _env_int("JOB_EMBEDDED_THREADS", 4)
    # A running job's worker touches heartbeat_at this often (s); a job whose heartbeat is older than
    # JOB_STALE_SECONDS (its worker died) is queued again, up to JOB_MAX_ATTEMPTS attempts, then failed.
    JOB_HEARTBEAT_SECONDS = _env_float("JOB_HEARTBEAT_SECONDS", 5.0)
    JOB_STALE_SECONDS = _env_float("JOB_STALE_SECONDS", 60.0)
    JOB_MAX_ATTEMPTS = _env_int("JOB_MAX_ATTEMPTS", 3)
    # A job running (or queued) longer than this since its latest start (or submission) is failed
    # (504 envelope), whatever its heartbeat says.
    JOB_TIMEOUT_SECONDS = _env_float("JOB_TIMEOUT_SECONDS", 1800.0)
    # How often each worker (and the web process in embedded mode) sweeps for stale jobs and due
    # webhook deliveries (s).
    JOB_SWEEP_SECONDS = _env_float("JOB_SWEEP_SECONDS", 15.0)
    # A Celery worker serves its own metrics here (worker.py); unset: not served.
    WORKER_METRICS_PORT = _env_int("WORKER_METRICS_PORT", None)
    WORKER_METRICS_HOST = os.environ.get("WORKER_METRICS_HOST") or "127.0.0.1"

    # Webhooks (services/webhooks.py), signed per the Standard Webhooks specification.
    # Fernet key (cryptography) that encrypts each API key's signing secret at rest; make one with
    # `python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.
    WEBHOOK_ENCRYPTION_KEY = os.environ.get("WEBHOOK_ENCRYPTION_KEY") or None
    # Hosts a callback may reach although they resolve to private, loopback or link-local addresses
    # (and that may use plain http): comma-separated host names, addresses or CIDRs.
    WEBHOOK_ALLOWED_HOSTS = os.environ.get("WEBHOOK_ALLOWED_HOSTS", "")
    WEBHOOK_TIMEOUT_SECONDS = _env_float("WEBHOOK_TIMEOUT_SECONDS", 5.0)
    WEBHOOK_MAX_RESPONSE_BYTES = _env_int("WEBHOOK_MAX_RESPONSE_BYTES", 64 * 1024)
    # Retries: exponential backoff with full jitter from BASE up to MAX_DELAY, for RETRY_HOURS.
    WEBHOOK_RETRY_BASE_SECONDS = _env_float("WEBHOOK_RETRY_BASE_SECONDS", 10.0)
    WEBHOOK_RETRY_MAX_DELAY_SECONDS = _env_float("WEBHOOK_RETRY_MAX_DELAY_SECONDS", 3600.0)
    WEBHOOK_RETRY_HOURS = _env_float("WEBHOOK_RETRY_HOURS", 24.0)

    API_TITLE = "TechScreen API"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "/docs"
    OPENAPI_SWAGGER_UI_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"



class DevelopmentConfig(Config):
    """Local development: sandbox provider when no Anthropic key is set."""

    ENV_NAME = "development"


class TestingConfig(Config):
    """The test suite: its own database (TEST_DATABASE_URL or a temporary SQLite file)."""

    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    LLM_PROVIDER = "anthropic"
    ANTHROPIC_API_KEY = "test-key-not-secret"
    # The defaults (claude-sonnet-5-5, per-purpose efforts) against the stub, so every call is priced.
    CLAUDE_PURPOSE_OVERRIDES = {}
    CLAUDE_TIMEOUT_SECONDS = 5.0
    CLAUDE_MAX_RETRIES = 2
    # Most tests pin the one-call generation path; tests/test_question_cache.py turns the cache on.
    ENABLE_QUESTION_CACHE = False
    # Generous limits, so only tests/test_rate_limits.py (which sets its own) meets them.
    RATE_LIMIT_CLAUDE = RATE_LIMIT_WRITE = RATE_LIMIT_READ = "100000/minute"
    # Jobs: the embedded pool unless a test names a broker; quick sweeps and retries.
    CELERY_BROKER_URL = None
    JOB_SWEEP_SECONDS = 0.5
    JOB_HEARTBEAT_SECONDS = 0.5
    WEBHOOK_ENCRYPTION_KEY = "mQjF3Kq0r0p4c3O5m8oQz3qg0bS2dHgZ0YcV1q9p6wU="  # a test key, not a secret
    WEBHOOK_RETRY_BASE_SECONDS = 0.2
    WEBHOOK_RETRY_MAX_DELAY_SECONDS = 1.0


class ProductionConfig(Config):
    """Production: a real database and a real Anthropic key are required; no sandbox."""

    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env():
    """Return the config class named by APP_ENV (default development)."""
    name = os.environ.get("APP_ENV", "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None


class ConfigError(RuntimeError):
    """Raised at startup when the configuration cannot run safely."""


def resolve_provider(config):
    """Return "anthropic" or "sandbox" for this config, refusing unsafe combinations.

    Raises ConfigError when production asks for the sandbox or has no API key, or when
    LLM_PROVIDER names something unknown.
    """
    provider = config.get("LLM_PROVIDER")
    env_name = config.get("ENV_NAME")
    if provider is None:
        provider = "anthropic" if config.get("ANTHROPIC_API_KEY") or env_name != "development" else "sandbox"
    if provider not in ("anthropic", "sandbox"):
        raise ConfigError(f"LLM_PROVIDER must be 'anthropic' or 'sandbox', not {provider!r}")
    if env_name == "production":
        if provider == "sandbox":
            raise ConfigError("LLM_PROVIDER=sandbox is refused in production: it serves canned content")
        if not config.get("ANTHROPIC_API_KEY"):
            raise ConfigError("ANTHROPIC_API_KEY (or CLAUDE_API_KEY) is required in production")
        if config.get("SQLALCHEMY_DATABASE_URI", "").startswith("sqlite"):
            raise ConfigError("DATABASE_URL must point at MySQL/MariaDB in production")
    threshold = config.get("CACHE_SIMILARITY_THRESHOLD", 0.85)
    if not 0 < threshold <= 1:
        raise ConfigError(f"CACHE_SIMILARITY_THRESHOLD is a fraction in (0, 1], not {threshold!r} (0.85 means a score of 85)")
    advance, reject = config.get("EVALUATION_ADVANCE_THRESHOLD", 75), config.get("EVALUATION_REJECT_THRESHOLD", 50)
    if not 0 <= reject <= advance <= 100:
        raise ConfigError(
            f"Evaluation thresholds need 0 <= EVALUATION_REJECT_THRESHOLD ({reject}) <= EVALUATION_ADVANCE_THRESHOLD ({advance}) <= 100"
        )
    if config.get("AUTH_MODE") not in ("api-key", "trusted-headers"):
        raise ConfigError(f"AUTH_MODE must be 'api-key' or 'trusted-headers', not {config.get('AUTH_MODE')!r}")
    return provider
