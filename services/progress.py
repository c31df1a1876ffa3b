"""Progress of a running operation, for the job that runs it ("enhancing", "filling 3 of 5").

Services call ``report(step)`` at their milestones; outside a job nothing listens and it costs
a contextvar read. The job runner (services/jobs.py) installs a listener with ``listening``.
The listener travels with the request id into the threads of services/concurrency.py.
"""

import contextvars
from contextlib import contextmanager

current_listener = contextvars.ContextVar("techscreen_progress_listener", default=None)


def report(step):
    """Tell the running job (if any) its current step: a short text such as "planning"."""
    listener = current_listener.get()
    if listener is not None:
        listener(step)


@contextmanager
def listening(listener):
    """Send every ``report(step)`` made inside the block (this thread's context) to ``listener``."""
    token = current_listener.set(listener)
    try:
        yield
    finally:
        current_listener.reset(token)
