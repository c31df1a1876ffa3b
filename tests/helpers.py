"""Request bodies and database look-ups shared by the tests."""

from models import db


def enhance_body(req_id="REQ-100", **overrides):
    body = {
        "req_id": req_id,
        "basic_title": "Backend Engineer",
        "basic_description": "Build and run our payments APIs in Python and PostgreSQL.",
        "basic_department": "Engineering",
        "basic_level": "Senior",
        "work_output": "Idempotent refunds shipped within 90 days",
        "work_role": "Payments team, reports to the engineering manager",
        "work_knowledge": "Python, PostgreSQL, Kafka",
        "work_competencies": "Ownership, clear writing",
    }
    body.update(overrides)
    return body


def workflow_body(req_id="REQ-100", **overrides):
    return enhance_body(req_id, interview_name="Payments onsite", **overrides)


def count_rows(app, model, **filters):
    """Number of rows of ``model`` matching equality ``filters``."""
    with app.app_context():
        query = db.select(db.func.count()).select_from(model)
        for name, value in filters.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query)


def all_rows(app, model):
    with app.app_context():
        return db.session.scalars(db.select(model).order_by(model.id)).all()
