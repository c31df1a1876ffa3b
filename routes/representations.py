"""Interview reads served from a representation made once (issue 12), with Flask-Caching.

A kit changes only by PATCH (its name or status, which also sets ``updated_at``), and a new
version is a new row, so the JSON body of ``GET /api/interview/<id>`` is a function of the
interview's own row. ``@cached_representation(stamp, scope)`` goes between ``@require_roles`` and
``@blp.response``. Each read:

1. gets the body's stamp. With REPRESENTATION_STAMP_URL set, that is a token in Redis for
   ``scope(**view_args)`` (services/representation_stamps.py), renewed by every commit that
   changes an interview; the worker keeps its copy until Redis reports a change, so no round trip
   at all while the kit is unchanged. Otherwise (or while Redis is unreachable) it
   is ``stamp(**view_args)``: one indexed query of the row's own columns
   (services/interviews.interview_stamp / requisition_stamp), raising NotFound as the read would;
2. looks up the body under a key made of the view, REPRESENTATION_VERSION and that stamp. On a
   hit it answers those bytes as they are, with the same headers as the first answer. On a miss
   it runs the view, and so the contract schema's dump, and stores the bytes.

Any change to the rows changes the stamp and so the key, whatever worker or host made it: the
database stamp is read on every request, and the Redis token is renewed after the commit, before
the writer answers. So a PATCH is visible at once everywhere, and nothing needs invalidating. A
worker keeps its own copies (CACHE_TYPE SimpleCache, at most CACHE_THRESHOLD entries, default 1000,
so at most about 18 MB of bodies per worker; each for CACHE_DEFAULT_TIMEOUT seconds, default 300).
NullCache turns it off. A shared cache (RedisCache) works too, but buys little, since a miss costs
one ordinary read. Auth, roles and rate limits run before this decorator (they are the outer
ones), and errors are never stored.
"""

import functools

from flask import Response, current_app
from flask_caching import Cache

from models import db

cache = Cache()

# Bump when the serialised form changes for the same rows (a schema field added, renamed or
# reformatted), so a SimpleCache that outlives a reload, or a shared cache, never serves the old form.
REPRESENTATION_VERSION = 2  # 2: questions' covers and the interview's coverage (WORK coverage map)
_KEPT_HEADERS = ("Content-Type", "Last-Modified", "ETag")


def cached_representation(stamp, scope):
    """Decorate a read view (below @require_roles, above @blp.response): serve its 200 body from the
    cache while its stamp is unchanged: the Redis token of ``scope(**view_args)`` (a (scope, key)
    pair, see services/representation_stamps.py) when REPRESENTATION_STAMP_URL is set and Redis
    answers, else ``stamp(**view_args)`` (a tuple of what the body depends on, from the database)."""

    def decorator(view):
        name = view.__name__

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            stamps = current_app.extensions.get("representation_stamps")
            token = stamps.token(*scope(**kwargs)) if stamps is not None else None
            if token is not None:
                key = f"representation:{name}:{REPRESENTATION_VERSION}:{kwargs!r}:token:{token}"
            else:
                key = f"representation:{name}:{REPRESENTATION_VERSION}:{stamp(**kwargs)!r}"
            stored = cache.get(key)
            if stored is not None:
                body, headers = stored
                return Response(body, status=200, headers=headers)
            if token is not None and db.session().in_transaction():
                # The body stored under this token must be read after it: end a snapshot begun
                # earlier in this request (an API-key lookup), which could predate the commit that
                # renewed it. A GET has nothing to keep.
                db.session.rollback()
            response = view(*args, **kwargs)
            if response.status_code == 200:
                response.add_etag()  # kept with the body, so a hit is not hashed again (routes/conditional.py)
                headers = [(header, response.headers[header]) for header in _KEPT_HEADERS if header in response.headers]
                cache.set(key, (response.get_data(), headers))
            return response

        return wrapper

    return decorator
