"""MySQL/MariaDB TLS (DB_SSL_MODE, DB_SSL_CA; database.py): the connect arguments of each mode,
startup errors for bad settings, and, on a real server, one TLS context shared by every connection.

The server tests need TEST_DATABASE_URL on MySQL/MariaDB (.ci/run sets it).
"""

import os
import ssl

import pytest
from sqlalchemy import text

from app import create_app
from config import ConfigError, TestingConfig
from database import PyMySQLConnection, mysql_tls_connect_args
from models import db

SERVER_URL = os.environ.get("TEST_DATABASE_URL", "")
needs_server = pytest.mark.skipif(not SERVER_URL.startswith("mysql"), reason="needs TEST_DATABASE_URL on MySQL/MariaDB")
SOME_MYSQL_URL = "mysql+pymysql://nobody@127.0.0.1:9/none"  # never connected to by these tests


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory):
    """A PEM file holding one CA certificate (the first of the system bundle, or Python's default paths)."""
    bundle = ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile
    with open(bundle) as source:
        pem = source.read()
    first = pem[pem.index("-----BEGIN CERTIFICATE-----") : pem.index("-----END CERTIFICATE-----") + 25] + "\n"
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_text(first)
    return str(path)


def test_preferred_is_the_default_and_leaves_tls_to_pymysql():
    assert TestingConfig.DB_SSL_MODE == "preferred"
    assert mysql_tls_connect_args(None) == {}
    assert mysql_tls_connect_args("PREFERRED") == {}


def test_disabled_turns_tls_off():
    assert mysql_tls_connect_args("disabled") == {"ssl_disabled": True}


def test_required_encrypts_without_verifying_and_builds_its_context_once():
    first = mysql_tls_connect_args("required")["ssl"]
    second = mysql_tls_connect_args("Required")["ssl"]

    assert isinstance(first, ssl.SSLContext)
    assert first is second
    assert first.verify_mode == ssl.CERT_NONE
    assert first.check_hostname is False


def test_verify_ca_checks_the_certificate_but_not_the_host_name(ca_file):
    context = mysql_tls_connect_args("verify_ca", ca_file)["ssl"]

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is False
    assert context.cert_store_stats()["x509_ca"] == 1  # only the configured CA


def test_verify_identity_also_checks_the_host_name(ca_file):
    context = mysql_tls_connect_args("verify_identity", ca_file)["ssl"]

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context is not mysql_tls_connect_args("verify_ca", ca_file)["ssl"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DB_SSL_MODE": "on"}, "DB_SSL_MODE must be one of preferred, disabled, required, verify_ca, verify_identity"),
        ({"DB_SSL_MODE": "verify_ca", "DB_SSL_CA": "/nonexistent/ca.pem"}, "DB_SSL_CA names no file"),
        ({"DB_SSL_CA": "/etc/hostname"}, "DB_SSL_CA is used only with DB_SSL_MODE verify_ca or verify_identity"),
    ],
)
def test_bad_tls_settings_stop_the_app_at_startup_naming_the_setting(overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=SOME_MYSQL_URL, **overrides)


def test_tls_settings_are_ignored_for_sqlite():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", DB_SSL_MODE="required")

    assert "ssl" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]


def _server_has_tls():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=SERVER_URL, DB_SSL_MODE="disabled")
    with app.app_context():
        have_ssl = db.session.execute(text("SHOW VARIABLES LIKE 'have_ssl'")).one()[1]
        db.engine.dispose()
    return have_ssl == "YES"


def _raw_connections(app, count):
    """Open ``count`` pooled connections at once; return their PyMySQL connections."""
    with app.app_context():
        proxies = [db.engine.raw_connection() for _ in range(count)]
        raws = [proxy.dbapi_connection for proxy in proxies]
        for proxy in proxies:
            proxy.close()
        db.engine.dispose()
    return raws


@needs_server
def test_preferred_connections_share_one_tls_context_and_work_with_or_without_server_tls():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=SERVER_URL)
    raws = _raw_connections(app, 3)

    assert all(isinstance(raw, PyMySQLConnection) for raw in raws)
    assert len({id(raw.ctx) for raw in raws}) == 1
    with app.app_context():
        cipher = db.session.execute(text("SHOW SESSION STATUS LIKE 'Ssl_cipher'")).one()[1]
        db.engine.dispose()
    assert bool(cipher) == _server_has_tls()  # encrypted exactly when the server offers TLS


@needs_server
def test_disabled_connects_in_plain_text():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=SERVER_URL, DB_SSL_MODE="disabled")

    with app.app_context():
        cipher = db.session.execute(text("SHOW SESSION STATUS LIKE 'Ssl_cipher'")).one()[1]
        db.engine.dispose()
    assert cipher == ""


@needs_server
def test_required_refuses_a_server_without_tls_and_encrypts_otherwise():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=SERVER_URL, DB_SSL_MODE="required")
    client = app.test_client()

    response = client.get("/health/ready")

    if _server_has_tls():
        assert response.status_code == 200
    else:
        assert response.status_code == 503
        assert response.get_json()["database"] == "unreachable"
    with app.app_context():
        db.engine.dispose()
