"""Where jobs run: Celery workers on a broker, or a bounded thread pool in the web process.

``JobQueue.from_app(app, performers)`` picks by config:

- CELERY_BROKER_URL set (redis://..., amqp://...): a Celery app (https://docs.celeryq.dev/en/stable/)
  whose tasks carry only ids. Tasks are acknowledged late and rejected when their worker is lost
  (``task_acks_late``, ``task_reject_on_worker_lost``), a worker takes one message at a time
  (``worker_prefetch_multiplier=1``), and no result backend is used: the job's state lives in
  the database. ``worker.py`` runs the same JobQueue inside ``celery -A worker worker``.
- Otherwise (the embedded default of ``make run`` and the tests): JOB_EMBEDDED_THREADS threads in
  this process run the same job code. Jobs in flight die with the process; the next sweep of
  any process (after JOB_STALE_SECONDS) queues them again.

Either way a sweep thread (every JOB_SWEEP_SECONDS) redoes stale jobs and sends due webhook
deliveries (services/jobs.sweep).
"""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from models import db
from services import jobs
from services.errors import JobQueueUnavailable

log = logging.getLogger(__name__)

RUN_JOB_TASK = "techscreen.run_job"
DELIVER_WEBHOOK_TASK = "techscreen.deliver_webhook"
# A retry further away than this is not put on the queue: the sweep sends it when it is due
# (long countdowns are held unacknowledged by a worker: past RabbitMQ's consumer_timeout, or
# Redis' visibility_timeout, that breaks or duplicates; Celery's docs warn against them).
MAX_COUNTDOWN_SECONDS = 300
# Webhook deliveries run on their own threads (embedded) or queue (Celery): a slow receiver never
# holds up jobs.
DELIVERY_THREADS = 4


def webhook_queue(config):
    """The Celery queue of webhook deliveries: CELERY_WEBHOOK_QUEUE, default "<CELERY_QUEUE>.webhooks"."""
    return config.get("CELERY_WEBHOOK_QUEUE") or f"{config['CELERY_QUEUE']}.webhooks"


class JobQueue:
    """Enqueues job runs and webhook deliveries, and runs them where this process is a worker."""

    def __init__(self, app, performers):
        self.app = app
        self.runner = jobs.JobRunner(app, performers, on_end=self._after_end)
        self.celery = _make_celery(self) if app.config.get("CELERY_BROKER_URL") else None
        self._pool = None
        self._delivery_pool = None
        self._pool_lock = threading.Lock()
        self._sweeper = None
        self._stopped = threading.Event()

    @classmethod
    def from_app(cls, app, performers):
        return cls(app, performers)

    @property
    def embedded(self):
        """True when jobs run in this process's thread pool (no CELERY_BROKER_URL)."""
        return self.celery is None

    # -- enqueueing --

    def enqueue_job(self, job_id):
        """Hand job ``job_id`` to a worker. Raises JobQueueUnavailable when the broker cannot take it."""
        if self.celery is not None:
            self._send(RUN_JOB_TASK, job_id)
        else:
            self._submit(self.run_job, job_id)

    def enqueue_delivery(self, delivery_id, *, delay=0.0):
        """Attempt webhook delivery ``delivery_id`` now, or after ``delay`` seconds; a delay past
        MAX_COUNTDOWN_SECONDS is left to the sweep (the delivery's due time is in the database)."""
        if delay > MAX_COUNTDOWN_SECONDS:
            return
        if self.celery is not None:
            try:
                self._send(DELIVER_WEBHOOK_TASK, delivery_id, countdown=delay or None,
                           queue=webhook_queue(self.app.config))
            except JobQueueUnavailable:
                log.warning("Webhook delivery %s not enqueued (broker unavailable); the sweep will retry", delivery_id)
        elif delay:
            timer = threading.Timer(delay, lambda: self._submit(self.deliver, delivery_id, deliveries=True))
            timer.daemon = True
            timer.start()
        else:
            self._submit(self.deliver, delivery_id, deliveries=True)

    # -- work --

    def run_job(self, job_id):
        """Run one job (see services.jobs.JobRunner.run)."""
        return self.runner.run(job_id)

    def deliver(self, delivery_id):
        """Attempt one webhook delivery; schedule the next attempt when it asks for one."""
        from services.webhooks import attempt_delivery

        with self.app.app_context():
            try:
                delay = attempt_delivery(delivery_id, config=self.app.config)
            finally:
                db.session.remove()
        if delay is not None:
            self.enqueue_delivery(delivery_id, delay=delay)

    def sweep_once(self):
        """Run services.jobs.sweep once in an app context; return its counts."""
        with self.app.app_context():
            try:
                return jobs.sweep(self.app.config, enqueue_job=self._enqueue_quietly, enqueue_delivery=self.enqueue_delivery)
            finally:
                db.session.remove()

    def start_sweeper(self):
        """Start the sweep thread of this process (once)."""
        with self._pool_lock:
            if self._sweeper is not None:
                return
            self._sweeper = threading.Thread(target=self._sweep_forever, name="job-sweeper", daemon=True)
            self._sweeper.start()

    def stop(self):
        """Stop the sweep thread and the embedded pools (waits for running jobs and deliveries)."""
        self._stopped.set()
        for pool in (self._pool, self._delivery_pool):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=False)

    def warm_up(self):
        """Open the broker connection and a producer now (imports kombu's transport), so that the
        first submissions of a fresh web worker do not pay for it (bench/README.md, jobs). A broker
        that is down is no error here: submissions then answer 503 as usual."""
        if self.celery is None:
            return
        import celery.canvas  # noqa: F401 - imported by the first send_task otherwise

        self.celery.backend  # noqa: B018 - loaded (the disabled backend, from entry points) by the first send_task
        with self.celery.producer_pool.acquire(block=True, timeout=3) as producer:
            producer.connection.ensure_connection(max_retries=1)
            for name in (self.app.config["CELERY_QUEUE"], webhook_queue(self.app.config)):
                producer.maybe_declare(self.celery.amqp.queues[name])  # declared once per connection

    # -- internals --

    def _after_end(self, job_id):
        with self.app.app_context():
            ids = jobs.pending_delivery_ids(job_id)
            db.session.remove()
        for delivery_id in ids:
            self.enqueue_delivery(delivery_id)

    def _enqueue_quietly(self, job_id):
        try:
            self.enqueue_job(job_id)
        except JobQueueUnavailable:
            log.warning("Job %s not re-enqueued (broker unavailable); the next sweep retries", job_id)

    def _submit(self, function, argument, deliveries=False):
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=max(1, self.app.config["JOB_EMBEDDED_THREADS"]),
                                                thread_name_prefix="job")
                self._delivery_pool = ThreadPoolExecutor(max_workers=DELIVERY_THREADS, thread_name_prefix="webhook")
        self.start_sweeper()
        (self._delivery_pool if deliveries else self._pool).submit(_logged, function, argument)

    def _send(self, task_name, argument, countdown=None, queue=None):
        try:
            self.celery.send_task(task_name, args=[argument], queue=queue or self.app.config["CELERY_QUEUE"], countdown=countdown)
        except Exception as exc:  # kombu's OperationalError and friends: the broker is unreachable
            log.warning("The broker did not take %s: %s", task_name, type(exc).__name__)
            raise JobQueueUnavailable() from exc

    def _sweep_forever(self):
        interval = self.app.config["JOB_SWEEP_SECONDS"]
        while not self._stopped.wait(interval):
            try:
                self.sweep_once()
            except Exception:
                log.warning("Job sweep failed", exc_info=True)


def _logged(function, argument):
    try:
        function(argument)
    except Exception:
        log.exception("Background work %s(%r) failed", getattr(function, "__name__", function), argument)


def _make_celery(queue):
    from celery import Celery

    config = queue.app.config
    celery = Celery("techscreen", broker=config["CELERY_BROKER_URL"], set_as_current=False)
    from kombu import Queue

    celery.conf.update(
        task_default_queue=config["CELERY_QUEUE"],
        # A worker consumes both unless told otherwise (-Q): jobs, and webhook deliveries apart.
        task_queues=[Queue(config["CELERY_QUEUE"]), Queue(webhook_queue(config))],
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,  # a task is acknowledged when it ends, so a lost worker's job is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,  # job state lives in the database; no result backend
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        broker_transport_options={"visibility_timeout": max(3600, int(config["JOB_TIMEOUT_SECONDS"]) + 600)},
        worker_hijack_root_logger=False,
    )

    @celery.task(name=RUN_JOB_TASK, acks_late=True, reject_on_worker_lost=True)
    def run_job(job_id):
        queue.run_job(job_id)

    @celery.task(name=DELIVER_WEBHOOK_TASK, acks_late=True, reject_on_worker_lost=True)
    def deliver_webhook(delivery_id):
        queue.deliver(delivery_id)

    return celery
