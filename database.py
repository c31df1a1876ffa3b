"""Database connections: engine options per backend, SQLite pragmas and MySQL/MariaDB TLS.

``engine_options(app)`` builds SQLALCHEMY_ENGINE_OPTIONS before Flask-SQLAlchemy creates the
engine; ``install_connection_hooks(engine)`` is called on the engine it created.

MySQL/MariaDB TLS follows ``DB_SSL_MODE``, named after the MySQL client's ``--ssl-mode``:

- ``preferred`` (default, PyMySQL's own default since 1.2): TLS when the server offers it,
  without verifying the server's certificate; plain connection otherwise.
- ``disabled``: never TLS (loopback, a Unix socket, a private network you trust).
- ``required``: TLS or no connection; the certificate is not verified.
- ``verify_ca``: TLS, certificate signed by ``DB_SSL_CA`` (a PEM file; default: the system CAs).
- ``verify_identity``: as verify_ca, and the certificate must name the host of DATABASE_URL.

Every mode that may use TLS has one ``ssl.SSLContext`` per process, built on first use. PyMySQL 1.2 builds a new
context for every connection in preferred mode, loading the system CA store each time: 26 to 44 ms
of CPU per connection on the benchmark machine, against 0.2 ms with a shared context, paid by the
request that opens the connection (bench/bench_db_connect.py; bench/README.md, "Slow-Claude
benchmark").
"""

import os
import sqlite3
import ssl
import threading
from functools import cache

import pymysql
from sqlalchemy import event
from sqlalchemy.engine import Engine

from config import ConfigError

SSL_MODES = ("preferred", "disabled", "required", "verify_ca", "verify_identity")


def engine_options(app):
    """Return SQLALCHEMY_ENGINE_OPTIONS for the app's database URL (pool sizes, timeouts, TLS).

    Options already set in SQLALCHEMY_ENGINE_OPTIONS win. Raises ConfigError for an unknown
    DB_SSL_MODE or a DB_SSL_CA file that does not exist.
    """
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        os.makedirs(app.instance_path, exist_ok=True)
        options.pop("pool_recycle", None)
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        return options
    options.setdefault("pool_size", app.config["DB_POOL_SIZE"])
    options.setdefault("max_overflow", app.config["DB_MAX_OVERFLOW"])
    options.setdefault("pool_timeout", app.config["DB_CONNECT_TIMEOUT_SECONDS"])
    if uri.startswith("mysql"):
        timeout = app.config["DB_CONNECT_TIMEOUT_SECONDS"]
        connect_args = {"charset": "utf8mb4", "connect_timeout": timeout, "read_timeout": 30, "write_timeout": 30}
        connect_args.update(mysql_tls_connect_args(app.config.get("DB_SSL_MODE"), app.config.get("DB_SSL_CA")))
        options.setdefault("connect_args", connect_args)
    return options


def mysql_tls_connect_args(mode, ca_file=None):
    """Return PyMySQL connect() arguments for a DB_SSL_MODE (see the module docstring).

    preferred -> {} (PyMySQL's default; its context is shared by install_connection_hooks),
    disabled -> {"ssl_disabled": True}, the others -> {"ssl": <this process's SSLContext>}.
    Raises ConfigError for an unknown mode, a missing CA file, or a CA file with a mode that
    does not verify (it would be silently ignored).
    """
    mode = (mode or "preferred").strip().lower()
    if mode not in SSL_MODES:
        raise ConfigError(f"DB_SSL_MODE must be one of {', '.join(SSL_MODES)}, not {mode!r}")
    if ca_file and mode not in ("verify_ca", "verify_identity"):
        raise ConfigError(f"DB_SSL_CA is used only with DB_SSL_MODE verify_ca or verify_identity, not {mode!r}")
    if ca_file and not os.path.isfile(ca_file):
        raise ConfigError(f"DB_SSL_CA names no file: {ca_file!r}")
    if mode == "preferred":
        return {}
    if mode == "disabled":
        return {"ssl_disabled": True}
    return {"ssl": _tls_context(mode, ca_file or None)}


@cache
def _tls_context(mode, ca_file):
    if mode == "required":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = mode == "verify_identity"
    # MySQL's auto-generated server certificates fail Python 3.13's strict X.509 checks
    # (PyMySQL relaxes the same flag for its own contexts).
    context.verify_flags &= ~getattr(ssl, "VERIFY_X509_STRICT", 0)
    return context


def install_connection_hooks(engine):
    """Open the engine's PyMySQL connections as PyMySQLConnection (one preferred-mode TLS context).

    Other modes pass their context explicitly (mysql_tls_connect_args); SQLite needs nothing.
    """
    if engine.dialect.name != "mysql" or engine.dialect.driver != "pymysql":
        return

    @event.listens_for(engine, "do_connect")
    def _connect(dialect, connection_record, cargs, cparams):
        return PyMySQLConnection(*cargs, **cparams)


class PyMySQLConnection(pymysql.connections.Connection):
    """A PyMySQL connection whose preferred-mode TLS context is built once per process.

    For preferred mode PyMySQL asks ``_create_ssl_ctx({})`` for a context (no CA, no
    verification); the first one built is kept and handed to every later connection. Explicit
    TLS options (an ``ssl`` dict from the URL, or a context) keep PyMySQL's own handling.
    """

    _preferred_context = None
    _lock = threading.Lock()

    def _create_ssl_ctx(self, sslp):
        if sslp:
            return super()._create_ssl_ctx(sslp)
        cls = type(self)
        with cls._lock:
            if cls._preferred_context is None:
                cls._preferred_context = super()._create_ssl_ctx(sslp)
            return cls._preferred_context


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait on locks instead of failing."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
