"""Health checks."""

import logging

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from models import db

log = logging.getLogger(__name__)


def database_is_reachable():
    """Return True when the database answers SELECT 1; False (logged) otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as exc:
        log.warning("Readiness check failed: %s", type(exc).__name__)
        return False
    finally:
        try:
            db.session.close()
        except SQLAlchemyError:
            pass
