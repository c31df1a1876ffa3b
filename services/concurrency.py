"""Run a request's independent Claude calls at once, each in its own thread.

Each callable runs with the caller's request id (for logs and audit rows) inside an
application context of its own, so it gets its own database session (Flask-SQLAlchemy scopes
sessions per application context) and never shares the caller's. The number of threads is bounded
per call (``max_workers``); ClaudeClient bounds the calls in flight across the whole process.
Works wherever an application context is pushed (a request, the CLI, a worker task).
"""

import contextvars
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import current_app

from models import db
from observability import current_job_attempt, current_job_id, current_request_id
from services.progress import current_listener


def _in_own_context(app, function):
    # A fresh context holding only the request id (for log lines and audit rows), the job id and
    # the job's progress listener: never Flask's request context, which is neither thread-safe
    # nor there in a worker.
    carried = [(var, var.get()) for var in (current_request_id, current_job_id, current_job_attempt, current_listener)]
    context = contextvars.Context()
    for var, value in carried:
        context.run(var.set, value)

    def run():
        def inside():
            with app.app_context():
                try:
                    return function()
                finally:
                    db.session.remove()

        return context.run(inside)

    return run


def run_concurrently(functions, *, max_workers, return_exceptions=False):
    """Call every function at once (at most ``max_workers`` threads); return their results in order.

    Waits for all of them, then raises the exception of the first (in order) that failed, or
    with ``return_exceptions`` puts each exception in its function's place.
    """
    functions = list(functions)
    if not functions:
        return []
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(functions))), thread_name_prefix="claude") as pool:
        futures = [pool.submit(_in_own_context(app, function)) for function in functions]
        wait(futures)
    if return_exceptions:
        return [future.exception() or future.result() for future in futures]
    for future in futures:
        if future.exception() is not None:
            raise future.exception()
    return [future.result() for future in futures]


def start_beside(function):
    """Start ``function`` in a thread of its own now; return a Future for its result.

    The caller must always wait for the Future (``result()``), also when its own work fails, so
    that nothing outlives the request.
    """
    app = current_app._get_current_object()
    future = Future()
    runner = _in_own_context(app, function)

    def target():
        try:
            future.set_result(runner())
        except BaseException as exc:  # handed to the caller through the Future
            future.set_exception(exc)

    threading.Thread(target=target, name="claude-beside", daemon=True).start()
    return future
