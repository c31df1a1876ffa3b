"""Interview reads served from a representation made once (issue 12), with Flask-Caching.

A kit changes only by PATCH (its name or status, which also sets ``updated_at``), and a new
version is a new row, so the JSON body of ``GET /api/interview/<id>`` is a function of the
interview's own row. ``@cached_representation(stamp)`` goes between ``@require_roles`` and
``@blp.response``. Each read:

1. calls ``stamp(**view_args)``: one indexed query of the row's own columns
   (services/interviews.interview_stamp / requisition_stamp), raising NotFound as the read would;
2. looks up the body under a key made of the view, REPRESENTATION_VERSION and that stamp. On a
   hit it answers those bytes as they are, with the same headers as the first answer. On a miss
   it runs the view, and so the contract schema's dump, and stores the bytes.

Any change to the row changes the stamp and so the key, whatever worker or host made it, because
the stamp comes from the database on every read. So a PATCH is visible at once everywhere, and
nothing needs invalidating. A worker keeps its own copies (CACHE_TYPE SimpleCache, at most
CACHE_THRESHOLD entries, default 1000, so at most about 18 MB of bodies per worker; each for
CACHE_DEFAULT_TIMEOUT seconds, default 300). NullCache turns it off. A shared cache (RedisCache) works too, but buys
little, since a miss costs one ordinary read. Auth, roles and rate limits run before this
decorator (they are the outer ones), and errors are never stored.
"""

import functools

from flask import Response
from flask_caching import Cache

cache = Cache()

# Bump when the serialised form changes for the same rows (a schema field added, renamed or
# reformatted), so a SimpleCache that outlives a reload, or a shared cache, never serves the old form.
REPRESENTATION_VERSION = 1
_KEPT_HEADERS = ("Content-Type", "Last-Modified", "ETag")


def cached_representation(stamp):
    """Decorate a read view (below @require_roles, above @blp.response): serve its 200 body from the
    cache while ``stamp(**view_args)`` (a tuple of what the body depends on) is unchanged."""

    def decorator(view):
        name = view.__name__

        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            key = f"representation:{name}:{REPRESENTATION_VERSION}:{stamp(**kwargs)!r}"
            stored = cache.get(key)
            if stored is not None:
                body, headers = stored
                return Response(body, status=200, headers=headers)
            response = view(*args, **kwargs)
            if response.status_code == 200:
                response.add_etag()  # kept with the body, so a hit is not hashed again (routes/conditional.py)
                headers = [(header, response.headers[header]) for header in _KEPT_HEADERS if header in response.headers]
                cache.set(key, (response.get_data(), headers))
            return response

        return wrapper

    return decorator
