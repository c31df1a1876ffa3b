"""Printable documents (interview kits, scorecards): which format, and the answer that carries it.

Each document has two URL forms. ``.../kit`` (``.../scorecard``) negotiates with ``Accept``:
``text/html`` and ``application/pdf`` are served; no Accept, ``*/*`` or ``text/*`` give HTML (the
first of the two, which werkzeug's ``best_match`` prefers on equal quality); anything that admits
neither (``application/json`` alone, say) is 406 in the error envelope, naming the two. The answer
varies by Accept (``Vary: Accept``). ``.../kit.html`` and ``.../kit.pdf`` name the format in the URL
and ignore Accept: a link to print or to download.

Errors stay JSON in the error envelope whatever was asked for (401, 403, 404, 406, 429, 503).
Both forms take ``?paper=a4`` (default) or ``?paper=letter``. The HTML answer carries a
Content-Security-Policy that lets it load nothing (no script, image, font or stylesheet from
anywhere: its only style is inline), so a browser opening a kit makes no further request.
"""

from flask import Response, request
from marshmallow import fields, validate

from routes.auth import READ_ROLES, SECURITY, require_roles
from routes.errors import error_response
from routes.rate_limits import read_limit
from routes.schemas import StrictRequestSchema
from services.kits import FORMATS, PAPERS

FORMAT_CONVERTER = "any(html, pdf)"  # the path converter of the .html / .pdf URL forms
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"


class PrintQuerySchema(StrictRequestSchema):
    paper = fields.String(
        load_default="a4",
        validate=validate.OneOf(PAPERS),
        metadata={"description": "Page size of the print stylesheet and the PDF: `a4` (210 x 297 mm) or `letter` (US Letter, "
                  "8.5 x 11 in).", "example": "letter"},
    )


def document_responses(blp, what):
    """Document a printable document's 200 answer: HTML, or PDF, of ``what`` (e.g. "the interview kit")."""

    description = (f"{what}: an HTML5 page with its print stylesheet (text/html), or a PDF laid out from the same "
                   "HTML by WeasyPrint (application/pdf).")

    def decorator(view):
        view = blp.alt_response(
            200, schema={"type": "string", "format": "binary"}, content_type=FORMATS["pdf"], success=True,
            description=description,
        )(view)
        return blp.response(200, {"type": "string"}, content_type=FORMATS["html"], description=description)(view)

    return decorator


def printout_routes(blp, rule, *, what, noun, file_doc):
    """Register a printable document's two GET forms on ``blp``: a decorator of the function answering them.

    ``rule`` (e.g. "/<int:interview_id>/kit") reads Accept (406 naming ``noun``, e.g. "an interview
    kit", when it admits neither format); ``rule`` + ".html" / ".pdf" names the format. Both forms:
    the read rate limit, any role, ``?paper=`` (PrintQuerySchema), the 200 answer of ``what`` (see
    ``document_responses``), the error answers and the security requirement.

    The decorated ``respond(**path_ids, format, paper, negotiated)`` renders the document and returns
    ``document_response(...)``. Its name is the Accept form's endpoint and its docstring that
    operation's summary and description; the suffix form's endpoint is the name + "_file" and its
    docstring ``file_doc``. Returns ``respond`` unchanged.
    """

    def decorator(respond):
        def negotiated(query, **path_ids):
            format = negotiated_format()
            if format is None:
                return not_acceptable(noun)
            return respond(**path_ids, format=format, paper=query["paper"], negotiated=True)

        def by_suffix(query, format, **path_ids):
            return respond(**path_ids, format=format, paper=query["paper"], negotiated=False)

        name, module = respond.__name__, respond.__module__
        _register(blp, rule, negotiated, name=name, doc=respond.__doc__, module=module, what=what,
                  errors=(400, 401, 404, 406, 429, 503))
        _register(blp, f"{rule}.<{FORMAT_CONVERTER}:format>", by_suffix, name=f"{name}_file", doc=file_doc,
                  module=module, what=what, errors=(400, 401, 404, 429, 503))
        return respond

    return decorator


def _register(blp, rule, view, *, name, doc, module, what, errors):
    """Route ``view`` on ``blp`` as endpoint ``name`` with a printout's decorators (outermost first:
    read limit, roles, ?paper=, the 200 answer, ``errors``, security); ``doc`` is its docstring."""
    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    view.__module__ = module
    view = blp.doc(security=SECURITY)(view)
    view = blp.error_responses(*errors)(view)
    view = document_responses(blp, what)(view)
    view = blp.arguments(PrintQuerySchema, location="query")(view)
    view = require_roles(*READ_ROLES)(view)
    view = read_limit(view)
    blp.route(rule)(view)


def negotiated_format():
    """Return "html" or "pdf" from the request's Accept, or None when it admits neither."""
    accept = request.accept_mimetypes
    if not accept:  # no Accept header: any type will do (RFC 9110 §12.5.1)
        return "html"
    best = accept.best_match([FORMATS["html"], FORMATS["pdf"]])
    return {media_type: name for name, media_type in FORMATS.items()}.get(best)


def not_acceptable(what):
    """Return the 406 answer (error envelope) naming the types ``what`` is served as."""
    return error_response(
        406,
        f"Not acceptable: {what} is served as {FORMATS['html']} or {FORMATS['pdf']} "
        "(send one in Accept, or use the .html or .pdf URL)",
    )


def document_response(body, format, filename, *, negotiated, cache_control):
    """Return the 200 answer carrying a rendered document (HTML or PDF bytes).

    filename: the download name without extension. negotiated: whether Accept chose the format
    (then ``Vary: Accept``). cache_control: the Cache-Control value.
    """
    response = Response(body, status=200, mimetype=FORMATS[format])
    if format == "html":
        response.headers["Content-Security-Policy"] = _CSP
    response.headers["Content-Disposition"] = f'inline; filename="{filename}.{format}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = cache_control
    if negotiated:
        response.headers["Vary"] = "Accept"
    return response
