"""What each job operation runs: the same services as the synchronous endpoints, resumed.

Each function takes the app's extensions and a Job, and returns the service's result object
(EnhancementResult, GenerationResult, WorkflowResult, EvaluationResult), raising what the
service raises. A redone job (its earlier attempt's worker died) does not repeat what that
attempt already stored: services.jobs.completed_operations names it, and its result is rebuilt
from the stored row and its audit row (the same tokens and cost), without a Claude call.
``precheck`` refuses, before a job is stored, what the service would refuse before Claude.
"""

from decimal import Decimal

from models import ApiKey, Evaluation, Interview, JobDescription, db
from services import jobs
from services.budgets import check_budgets
from services.errors import CredentialsRevoked, InvalidInput, JobQueueUnavailable
from services.evaluations import EvaluationResult, check_can_evaluate, create_evaluation
from services.interview_generation import (
    GenerationResult,
    check_can_generate,
    generate_interview,
)
from services.jd_enhancement import (
    EnhancementResult,
    check_can_enhance,
    enhance_job_description,
)
from services.jobs import completed_operations
from services.pricing import TOKEN_KINDS
from services.workflow import combine_results, retry_hint, run_full_workflow

# The operations each job runs, for the token budget check (services/budgets.py).
BUDGETED = {
    "jd_enhancement": ("jd_enhancement",),
    "interview_generation": ("interview_generation",),
    "workflow_full": ("jd_enhancement", "interview_generation"),
    "workflow_create": ("jd_enhancement", "interview_generation"),
    "candidate_scoring": ("candidate_scoring",),
}


def accept(*, queue, config, operation, principal, body, args, callback_url, method, path, request_id):
    """Store a job for an asynchronous request and hand it to the queue; return the Job.

    Refuses first what the synchronous call would refuse before Claude (precheck: 400/404/409)
    and a callback the key cannot sign or that could reach inside (400, field callback_url). The
    caller has already checked auth, validation, rate limits, idempotency and budgets.
    queue: services.job_queue.JobQueue. Raises JobQueueUnavailable (503) when the broker cannot
    take the job; the job is then discarded (the client got no job id).
    """
    precheck(operation, body, args)
    callback_url = _callback_for(principal, callback_url, config)
    job = jobs.submit_job(
        operation=operation, method=method, path=path, principal=principal, body=body, args=args,
        req_id=body.get("req_id") or _requisition_of(args.get("interview_id")), candidate_id=body.get("candidate_id"),
        callback_url=callback_url, request_id=request_id, max_attempts=config["JOB_MAX_ATTEMPTS"],
    )
    try:
        queue.enqueue_job(job.id)
    except JobQueueUnavailable:
        jobs.discard(job.id)
        raise
    return job


def admit(extensions, job):
    """Refuse, when the job starts, what its request would be refused now: a revoked API key (401)
    and an exceeded token budget (429, with a "refused" audit row), as the synchronous call would.
    A redone job (attempt 2 or later) is not checked again for its budget."""
    if job.api_key_id is not None:
        key = db.session.get(ApiKey, job.api_key_id)
        if key is None or key.revoked_at is not None:
            raise CredentialsRevoked("The API key that submitted this job was revoked before the job ran",
                                     req_id=job.request["body"].get("req_id"))
    if job.attempts <= 1:
        body = job.request["body"]
        if job.operation != "candidate_scoring" or body.get("mode") == "ai":
            check_budgets(extensions["budgets"], BUDGETED[job.operation], user_id=job.owner_user_id,
                          api_key_id=job.api_key_id, req_id=body.get("req_id"))
    db.session.close()


def perform(extensions, job):
    """Run the job's operation (after ``admit``); return the service's result object."""
    admit(extensions, job)
    return RUNS[job.operation](extensions, job)


def _callback_for(principal, callback_url, config):
    """The job's webhook URL: the request's, else the API key's default; checked against SSRF rules."""
    from services import webhooks

    if principal.api_key_id is None:
        if callback_url is not None:
            raise InvalidInput("callback_url", "webhooks need API-key authentication (the signing secret belongs to the key)")
        return None
    secret, default_url = webhooks.webhook_settings(principal.api_key_id, config.get("WEBHOOK_ENCRYPTION_KEY"))
    url = callback_url or default_url
    if url is None:
        return None
    if secret is None:
        raise InvalidInput(
            "callback_url", "this API key has no webhook signing secret; an admin makes one with "
            "`flask --app app api-keys set-webhook KEY_ID`",
        )
    webhooks.check_callback_url(url, webhooks.parse_allowed_hosts(config.get("WEBHOOK_ALLOWED_HOSTS") or ""))
    return url


def _requisition_of(interview_id):
    if interview_id is None:
        return None
    return db.session.scalar(db.select(Interview.req_id).where(Interview.id == interview_id))


def precheck(operation, body, args):
    """Raise the 400/404/409 the operation's service would raise before calling Claude; else return."""
    if operation in ("jd_enhancement", "workflow_full", "workflow_create"):
        check_can_enhance(body["req_id"], replace=body.get("replace", False))
    elif operation == "interview_generation":
        check_can_generate(body["job_description_id"], body["req_id"])
    elif operation == "candidate_scoring":
        check_can_evaluate(args["interview_id"], mode=body["mode"], answers=body.get("answers"), scores=body.get("scores"))


def run_enhancement(extensions, job):
    """Enhance the job's requisition (or return what an earlier attempt stored)."""
    done = completed_operations(job)
    if "jd_enhancement" in done:
        return _enhancement_from(done["jd_enhancement"])
    return enhance_job_description(claude=extensions["claude"], user_id=job.owner_user_id, **job.request["body"])


def run_generation(extensions, job):
    """Generate the job's interview (or return the one an earlier attempt stored)."""
    done = completed_operations(job)
    if "interview_generation" in done:
        return _generation_from(done["interview_generation"])
    return generate_interview(
        claude=extensions["claude"], question_cache=extensions["question_cache"], user_id=job.owner_user_id,
        **job.request["body"],
    )


def run_workflow(extensions, job):
    """Enhance and generate; a redone job keeps an enhancement (and interview) already stored."""
    body = dict(job.request["body"])
    claude, question_cache = extensions["claude"], extensions["question_cache"]
    done = completed_operations(job)
    if "jd_enhancement" not in done:
        return run_full_workflow(claude=claude, question_cache=question_cache, user_id=job.owner_user_id, **body)
    enhancement = _enhancement_from(done["jd_enhancement"])
    if "interview_generation" in done:
        generation = _generation_from(done["interview_generation"])
    else:
        with retry_hint(enhancement.job_description):
            generation = generate_interview(
                claude=claude, question_cache=question_cache, req_id=body["req_id"],
                job_description_id=enhancement.job_description.id, interview_name=body.get("interview_name"),
                use_cache=body.get("use_cache"), user_id=job.owner_user_id,
            )
    return combine_results(claude, enhancement, generation)


def run_evaluation(extensions, job):
    """Score the job's candidate (AI mode), or return the scorecard an earlier attempt stored."""
    done = completed_operations(job)
    if "candidate_scoring" in done:
        log = done["candidate_scoring"]
        return EvaluationResult(db.session.get(Evaluation, log.evaluation_id), log.tokens_used)
    return create_evaluation(
        claude=extensions["claude"], thresholds=extensions["evaluation_thresholds"],
        interview_id=job.request["args"]["interview_id"], user_id=job.owner_user_id, **job.request["body"],
    )


RUNS = {
    "jd_enhancement": run_enhancement,
    "interview_generation": run_generation,
    "workflow_full": run_workflow,
    "workflow_create": run_workflow,
    "candidate_scoring": run_evaluation,
}


def _usage(log):
    return {kind: getattr(log, kind) for kind in TOKEN_KINDS}


def _enhancement_from(log):
    job_description = db.session.get(JobDescription, log.job_description_id)
    return EnhancementResult(job_description, log.tokens_used, log.provider, job_description.model, usage=_usage(log),
                             cost_usd=Decimal(log.cost_usd or 0))


def _generation_from(log):
    interview = db.session.get(Interview, log.interview_id)
    return GenerationResult(interview, log.tokens_used, log.cache_hits, log.provider, interview.model, usage=_usage(log),
                            cost_usd=Decimal(log.cost_usd or 0))
