"""Liveness and readiness probes (no credentials needed)."""

from models import utcnow
from routes import Blueprint
from routes.schemas import HealthSchema
from services.health import database_is_reachable

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness")


@blp.route("")
@blp.response(200, HealthSchema)
def get_health():
    """Liveness: the process answers. Never touches the database."""
    return {"status": "healthy", "timestamp": utcnow()}


@blp.route("/ready")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="The database is unreachable")
def get_readiness():
    """Readiness: the database answers a trivial query (within DB_CONNECT_TIMEOUT_SECONDS)."""
    if database_is_reachable():
        return {"status": "healthy", "timestamp": utcnow(), "database": "ok"}
    return {"status": "unavailable", "timestamp": utcnow(), "database": "unreachable"}, 503
