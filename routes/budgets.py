"""The budget gate of Claude-calling endpoints (services/budgets.py holds the rules)."""

import functools

from flask import current_app, g

from services.budgets import check_budgets


def within_budget(*operation_types, applies=None):
    """Decorate a view (innermost, below @blp.arguments) to refuse with 429 when a token budget
    would be exceeded. ``applies(body)`` may say the request calls no Claude (e.g. manual scoring)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            body = args[0] if args and isinstance(args[0], dict) else {}
            if applies is None or applies(body):
                principal = g.principal
                # Never read, but referenced until the view returns, so the view's own read of the
                # key (a job's webhook settings) comes from the session without another query
                # (tests/test_jobs.py test_a_submission_reads_the_callers_key_once_in_one_database_session).
                key = check_budgets(  # noqa: F841
                    current_app.extensions["budgets"],
                    operation_types,
                    user_id=principal.user_id,
                    api_key_id=principal.api_key_id,
                    req_id=body.get("req_id"),
                )
            return view(*args, **kwargs)

        return wrapper

    return decorator
