"""Asynchronous jobs: read, list, cancel, and their webhook deliveries."""

from flask import g

from routes import Blueprint
from routes.auth import READ_ROLES, SECURITY, WRITE_ROLES, require_roles
from routes.rate_limits import read_limit, write_limit
from routes.schemas import (
    JobListQuerySchema,
    JobListResponseSchema,
    JobResponseSchema,
    WebhookDeliveriesResponseSchema,
)
from services import jobs

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Asynchronous jobs (Prefer: respond-async) and their webhooks")


@blp.route("")
@read_limit
@require_roles(*READ_ROLES)
@blp.arguments(JobListQuerySchema, location="query")
@blp.response(200, JobListResponseSchema)
@blp.error_responses(400, 401, 429)
@blp.doc(security=SECURITY)
def list_jobs(query):
    """List the caller's jobs (an admin's: everyone's), newest first; filter by req_id and status.

    Cursor pagination: pass `next_cursor` back as `cursor`; `limit` 1-200 (default 50). Any role.
    """
    page, next_cursor = jobs.list_jobs(principal=g.principal, **query)
    usages = jobs.job_usages([job.id for job in page])
    return {"jobs": [jobs.job_resource(job, usage=usages[job.id]) for job in page], "next_cursor": next_cursor}


@blp.route("/<string:job_id>")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, JobResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def get_job(job_id):
    """Return a job: status, step, times, attempts; once ended, the synchronous call's answer.

    `http_status` with `result` (succeeded) or `error` (failed, canceled) is exactly what the
    synchronous call would have answered. Another caller's job is 404 unless the caller is admin.
    Any role.
    """
    return {"job": jobs.job_resource(jobs.get_job(job_id, principal=g.principal))}


@blp.route("/<string:job_id>/cancel", methods=["POST"])
@write_limit
@require_roles(*WRITE_ROLES)
@blp.response(200, JobResponseSchema)
@blp.error_responses(401, 403, 404, 409, 415, 429)
@blp.doc(security=SECURITY)
def cancel_job(job_id):
    """Cancel a queued job: it will not run (409 once it runs or has ended). Roles: admin, recruiter."""
    return {"job": jobs.job_resource(jobs.cancel_job(job_id, principal=g.principal))}


@blp.route("/<string:job_id>/deliveries")
@read_limit
@require_roles(*READ_ROLES)
@blp.response(200, WebhookDeliveriesResponseSchema)
@blp.error_responses(401, 404, 429)
@blp.doc(security=SECURITY)
def list_job_deliveries(job_id):
    """Return the job's webhook deliveries, each with every HTTP attempt (outcome, status, timing). Any role."""
    from services.webhooks import list_deliveries

    job = jobs.get_job(job_id, principal=g.principal)
    return {"job_id": job.id, "deliveries": list_deliveries(job.id)}
