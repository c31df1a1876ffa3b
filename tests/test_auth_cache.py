"""API-key authentication is cached per process for AUTH_CACHE_SECONDS; revocation is immediate here."""

from models import ApiKey, db, utcnow
from services.api_keys import create_api_key, revoke_api_key


def _key(app):
    with app.app_context():
        api_key, plaintext = create_api_key(name="cached", role="viewer")
    return api_key.id, {"Authorization": f"Bearer {plaintext}"}


def _revoke_elsewhere(app, key_id):
    """As another process would: straight in the database, this process's cache untouched."""
    with app.app_context():
        db.session.execute(db.update(ApiKey).where(ApiKey.id == key_id).values(revoked_at=utcnow()))
        db.session.commit()


def test_a_key_revoked_through_the_service_stops_working_at_once(app_factory):
    app = app_factory(AUTH_CACHE_SECONDS=300)
    client = app.test_client()
    key_id, headers = _key(app)
    assert client.get("/api/interview/1", headers=headers).status_code == 404  # now cached
    with app.app_context():
        revoke_api_key(key_id)

    assert client.get("/api/interview/1", headers=headers).status_code == 401


def test_a_key_revoked_by_another_process_works_until_the_cache_expires(app_factory):
    app = app_factory(AUTH_CACHE_SECONDS=300)
    client = app.test_client()
    key_id, headers = _key(app)
    assert client.get("/api/interview/1", headers=headers).status_code == 404
    _revoke_elsewhere(app, key_id)

    assert client.get("/api/interview/1", headers=headers).status_code == 404  # within the window


def test_without_the_cache_every_request_checks_the_database(app_factory):
    app = app_factory(AUTH_CACHE_SECONDS=0)
    client = app.test_client()
    key_id, headers = _key(app)
    assert client.get("/api/interview/1", headers=headers).status_code == 404
    _revoke_elsewhere(app, key_id)

    assert client.get("/api/interview/1", headers=headers).status_code == 401
