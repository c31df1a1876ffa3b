"""Conditional GET for interview kits (RFC 9110 §8.8 validators, §13 conditional requests).

``@conditional_get`` goes right below ``@blp.route`` on a read whose view returns
``(data, last_modified_headers(moment))``. A 200 answer then carries:

- ``ETag``: a strong validator, the SHA-1 of the exact JSON body (werkzeug's
  ``Response.add_etag``) as served. The body is made from, or kept against, the interview's row as
  the database holds it on this request (routes/representations.py), so a PATCH changes the ETag
  at once for every worker and host that reads the same database.
- ``Last-Modified``: the representation's last change (an interview's ``updated_at``, else its
  ``created_at``; for a requisition's list, the newest of its versions), to the second.
- ``Cache-Control: private, no-cache``: a client or the caller's own cache may store the kit, but
  must revalidate it every time (interviews change by PATCH), and no shared cache may keep it
  (it is behind credentials).

Preconditions, evaluated in RFC 9110 §13.2.2's order:

1. ``If-Match``: ``*`` or the current ETag (strong comparison) goes on; anything else answers
   ``412`` in the error envelope (the client's copy is no longer current).
2. ``If-None-Match``: the current ETag (weak comparison, as §13.1.2 asks for GET) or ``*`` answers
   ``304 Not Modified`` with no body, repeating ``ETag`` and ``Cache-Control`` (§15.4.5);
   otherwise the full 200. Werkzeug's ``Response.make_conditional`` builds the 304.
3. ``If-Modified-Since`` and ``If-Unmodified-Since`` are not evaluated. HTTP dates have one-second
   resolution, so a PATCH made in the same second as an earlier read would look unchanged, and
   the ETag says everything they could. The answer is then the full 200 (or the 304 of step 2).

Auth, roles and rate limits run first (a 304 counts as a read), and errors are never conditional.
"""

import functools
from datetime import timezone

from flask import make_response, request
from werkzeug.http import http_date

from routes.errors import error_response

CACHE_CONTROL = "private, no-cache"
_IGNORED_PRECONDITIONS = ("HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_RANGE")


def _header_parameter(name, description):
    return {"in": "header", "name": name, "required": False, "schema": {"type": "string"}, "description": description}


# OpenAPI: the request's precondition headers, the 200 answer's validator headers, the 304 answer.
IF_NONE_MATCH_PARAMETER = {
    **_header_parameter("If-None-Match", "The ETag of a copy the client holds: 304 with no body while it is current "
                                         "(RFC 9110 §13.1.2)."),
    "example": '"6f1c0ab2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708"',
}
IF_MATCH_PARAMETER = _header_parameter("If-Match", "Answer only if the kit is still this ETag (or `*`): otherwise 412 "
                                                   "(RFC 9110 §13.1.1).")
VALIDATOR_HEADERS = {
    "ETag": {"description": "Strong validator of this exact body (changes with any PATCH).",
             "schema": {"type": "string"}},
    "Last-Modified": {"description": "When the representation last changed (HTTP date, 1 s resolution).",
                      "schema": {"type": "string"}},
    "Cache-Control": {"description": "`private, no-cache`: store only in the caller's own cache, revalidate every time.",
                      "schema": {"type": "string"}},
}
NOT_MODIFIED_DOC = {
    "description": "Not Modified: the If-None-Match ETag is current; no body. Repeats ETag and Cache-Control (RFC 9110 §15.4.5).",
    "headers": {name: VALIDATOR_HEADERS[name] for name in ("ETag", "Cache-Control")},
}


def last_modified_headers(moment):
    """Return {"Last-Modified": HTTP date} for a UTC datetime (naive means UTC), or {} for None."""
    if moment is None:
        return {}
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return {"Last-Modified": http_date(moment)}


def conditional_get(view):
    """Decorate a read (below @blp.route): validators on its 200 answer, 304 when the client's copy is current."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        response = make_response(view(*args, **kwargs))
        if response.status_code != 200:
            return response
        response.add_etag()
        response.headers["Cache-Control"] = CACHE_CONTROL
        asked = request.environ
        if "HTTP_IF_MATCH" in asked:
            etag, _ = response.get_etag()
            if request.if_match and not (request.if_match.star_tag or request.if_match.contains(etag)):
                return error_response(412, "If-Match names a copy that is no longer current; read the resource again",
                                      headers={"ETag": response.headers["ETag"]})
        if "HTTP_IF_NONE_MATCH" not in asked:
            return response  # nothing else is evaluated: the full 200 as it is
        # Only If-None-Match decides (see the module's docstring): werkzeug sees no other precondition.
        environ = {name: value for name, value in asked.items() if name not in _IGNORED_PRECONDITIONS}
        response = response.make_conditional(environ)
        response.headers.pop("Date", None)  # werkzeug's; the server sends its own, as on the 200 above
        return response

    return wrapper
