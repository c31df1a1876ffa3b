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
            key = None
            if applies is None or applies(body):
                principal = g.principal
                # Held while the view runs, so the view's own read of the key (webhook settings of
                # a job) is served from the session without another query.
                key = check_budgets(
                    current_app.extensions["budgets"],
                    operation_types,
                    user_id=principal.user_id,
                    api_key_id=principal.api_key_id,
                    req_id=body.get("req_id"),
                )
            try:
                return view(*args, **kwargs)
            finally:
                del key

        return wrapper

    return decorator
