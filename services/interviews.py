"""Reading and updating stored interviews."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from models import Interview, db, utcnow
from services import coverage
from services.errors import Conflict, InvalidInput, NotFound
from services.jd_enhancement import job_description_id_for, unknown_requisition

STATUSES = ("draft", "published", "archived")
# Allowed status changes; setting the current status again is a no-op.
TRANSITIONS = {"draft": {"published", "archived"}, "published": {"archived"}, "archived": set()}

# The stamps' queries, built once and run on the session's connection as Core statements: a read
# served from its cached representation then costs one compiled-cache lookup, no ORM execution.
# A stamp leaves out work_items, which never changes once stored (like the questions) and would
# only lengthen every cache key. The requisition's list loads its Interview objects from the same
# query with every column.
_INTERVIEWS = Interview.__table__
_STAMPED = [column for column in _INTERVIEWS.columns if column.name != "work_items"]
_INTERVIEW_ROW = select(*_STAMPED).where(_INTERVIEWS.c.id == bindparam("interview_id"))


def _requisition_rows(columns):
    return (
        select(*columns)
        .where(_INTERVIEWS.c.req_id == bindparam("req_id"))
        .order_by(_INTERVIEWS.c.version.desc(), _INTERVIEWS.c.id.desc())
    )


_REQUISITION_ROWS = _requisition_rows(_INTERVIEWS.columns)
_REQUISITION_STAMP_ROWS = _requisition_rows(_STAMPED)


def get_interview(interview_id):
    """Return the Interview with its questions. Raises NotFound (404)."""
    interview = db.session.get(Interview, interview_id, options=[joinedload(Interview.questions)])
    if interview is None:
        raise _interview_not_found(interview_id)
    return interview


def interview_stamp(interview_id):
    """Return a tuple of the interview's own row (every column but work_items): what its
    representation depends on besides its questions and items, which never change once stored.
    One indexed query, no ORM objects.
    Raises NotFound (404) as get_interview. Used to key its cached representation
    (routes/representations.py)."""
    row = db.session.connection().execute(_INTERVIEW_ROW, {"interview_id": interview_id}).first()
    if row is None:
        raise _interview_not_found(interview_id)
    return tuple(row)


def requisition_stamp(req_id):
    """Return the requisition's interview rows (every column but work_items, newest version first) as a
    tuple: what GET /api/interview/req/<req_id> depends on. Raises NotFound as
    list_interviews_for_requisition."""
    rows = _known_requisition(req_id, db.session.connection().execute(_REQUISITION_STAMP_ROWS, {"req_id": req_id}).all())
    return (req_id, *(tuple(row) for row in rows))


def list_interviews_for_requisition(req_id):
    """Return a requisition's interviews, newest version first. Raises NotFound for an unknown req_id."""
    versions = db.select(Interview).from_statement(_REQUISITION_ROWS)
    return _known_requisition(req_id, db.session.scalars(versions, {"req_id": req_id}).all())


def _known_requisition(req_id, versions):
    """Return ``versions``; raise NotFound when there are none and the requisition has no job description either."""
    if not versions and job_description_id_for(req_id) is None:
        raise unknown_requisition(req_id)
    return versions


def coverage_summary(interview):
    """Return the interview's coverage {covered, total} (items covered by at least one question, out
    of all), or None when the kit has no WORK items (none given, or stored before coverage)."""
    return coverage.coverage_summary(interview.work_items, _question_covers(interview))


def get_interview_coverage(interview_id):
    """Return the coverage map of an interview's WORK items.

    Returns {interview_id, req_id, items: [{item, kind, covered, questions: [question_number]}],
    covered, total}: uncovered items first, then covered ones, each in input order (the items
    the kit was made for, services/coverage.py). A kit without items (none given, or stored before
    coverage existed) has items [] and covered = total = 0. Raises NotFound (404).
    """
    interview = get_interview(interview_id)
    items = coverage.coverage_map(interview.work_items or [], _question_covers(interview))
    return {
        "interview_id": interview.id,
        "req_id": interview.req_id,
        "items": items,
        "covered": sum(1 for row in items if row["covered"]),
        "total": len(items),
    }


def _question_covers(interview):
    return [{"question_number": q.question_number, "covers": q.covers} for q in interview.questions]


def _interview_not_found(interview_id):
    return NotFound(f"Interview {interview_id} not found")


def update_interview(interview_id, *, status=None, interview_name=None):
    """Rename an interview and/or move its status draft -> published -> archived (draft -> archived too).

    Raises NotFound (404), InvalidInput (400, field status) for an unknown status, Conflict (409)
    for a transition not allowed (e.g. archived -> draft).
    """
    interview = get_interview(interview_id)
    if status is not None and status != interview.status:
        if status not in STATUSES:
            raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}", req_id=interview.req_id)
        if status not in TRANSITIONS[interview.status]:
            raise Conflict(
                f"Interview {interview_id} cannot move from {interview.status} to {status}",
                req_id=interview.req_id,
                extra={"status": interview.status},
            )
        interview.status = status
    if interview_name is not None:
        interview.interview_name = interview_name
    interview.updated_at = utcnow()
    db.session.commit()
    return interview
