"""Requests stackq cannot read are refused with a 400 page before anything decodes them.

Pyramid and WebOb decode the path, the query string and form bodies lazily and raise
UnicodeDecodeError wherever that first happens (in a view, the debug toolbar, the error
page itself), and PostgreSQL refuses NUL characters in text mid-transaction: so this tween,
over all of them, checks the raw request once, reading its fields with WebOb's own parsers
(what it counts is what the views get). It first refuses a Host the site was not told
about (`stackq.web.hosts`).
"""

import itertools
import logging
import re
from urllib.parse import parse_qsl

from pyramid.renderers import render_to_response
from pyramid.response import Response
from webob.compat import parse_qsl_text

from .headers import TWEENS_BELOW
from .hosts import host_refusal
from .limits import MAX_BODY

log = logging.getLogger(__name__)

TEMPLATE = "stackq.web:templates/error.jinja2"
API_PREFIX = "/api/"
FORM_TYPE = "application/x-www-form-urlencoded"
# What `request.POST` reads as a URL-encoded form: WebOb takes a POST with no Content-Type
# for one too.
FORM_TYPES = ("", FORM_TYPE)
MAX_QUERY = 4096  # characters of query string; no page reads more than a handful of fields
MAX_FIELDS = 50
# A host name, an IPv4 or bracketed IPv6 address, and an optional port: the pages' links are
# built from it.
HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?\Z")
# A multipart body is split on its boundary: without one WebOb's parser fails wherever the
# body is first read (the CSRF check, a view), a 500.
# Lone surrogates: what bytes that are no UTF-8 become under surrogateescape.
SURROGATE = re.compile("[\ud800-\udfff]")
BOUNDARY = re.compile(r';\s*boundary=(?:"[^"]+"|[^\s;"]+)', re.IGNORECASE)


class Refused(Exception):
    def __init__(self, status, title, message, plain=False):
        super().__init__(message)
        self.status, self.title, self.message = status, title, message
        self.plain = plain  # a text/plain answer: no template, no link, nothing of the app


def single_fields(fields, what):
    """Each field of a form at most once: which of two values was meant is anyone's guess."""
    names = [name for name, _ in fields]
    for name in dict.fromkeys(names):
        if names.count(name) > 1:
            raise Refused(400, "Bad request",
                          f"The {what} gives {name} {names.count(name)} times; give it once.")


def webob_query_fields(text):
    """A query string's fields as `request.GET` reads them: WebOb's own parser, which splits
    on `;` as on `&` (counting only `&` let `?a=1;a=2;…` pass the limit)."""
    return parse_qsl_text(text)


def webob_form_fields(text):
    """A form body's fields as `request.POST` reads them (WebOb hands the body to cgi, which
    splits on `&` only); bytes that are not UTF-8 kept as lone surrogates, to name their field."""
    return iter(parse_qsl(text, keep_blank_values=True, encoding="utf-8",
                          errors="surrogateescape"))


def not_text(text):
    """Why `text` is not text stackq stores (None if it is): a NUL, or what is no Unicode."""
    if "\0" in text:
        return "holds a NUL character"
    if SURROGATE.search(text):
        return "is not valid UTF-8 text"
    return None


def decoded_fields(text, what, parse, status=400):
    """The (name, value) pairs `parse` (one of the two above) reads in a query string or
    form body; Refused if unreadable or too many, `status` if a field is no text."""
    try:
        fields = list(itertools.islice(parse(text), MAX_FIELDS + 1))
    except UnicodeError:  # undecodable UTF-8, or a query string that is no latin-1 (WSGI)
        raise Refused(400, "Bad request", f"The {what} is not valid UTF-8.") from None
    if len(fields) > MAX_FIELDS:
        raise Refused(400, "Bad request", f"The {what} has more than {MAX_FIELDS} fields.")
    for name, value in fields:
        if not_text(name):
            raise Refused(status, "Bad request", f"The {what} has a field name that "
                                                 f"{not_text(name)}.")
        if not_text(value):
            raise Refused(status, "Bad request", f"The {what}'s field {name} {not_text(value)}.")
    return fields


def check_request(request):
    """Raise Refused if the raw request cannot be read as stackq reads it."""
    environ = request.environ
    if not HOST.match(environ.get("HTTP_HOST", "localhost")):
        raise Refused(400, "Bad request", "The Host header is not a host name.")
    # Before anything reads the request (stackq.web.hosts): a foreign Host may be a page
    # that rebound its name to this machine.
    refusal = host_refusal(environ, request.settings.allowed_hosts)
    if refusal is not None:
        raise Refused(400, "Bad request", refusal, plain=True)
    try:
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise Refused(400, "Bad request", "The address is not valid UTF-8.") from None
    if "\0" in path:
        raise Refused(400, "Bad request", "The address holds a NUL character.")
    query = environ.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY:
        raise Refused(414, "Address too long",
                      f"The query string is longer than {MAX_QUERY} characters.")
    decoded_fields(query, "query string", webob_query_fields)
    if request.content_length and request.content_length > MAX_BODY:
        raise Refused(413, "Request too large", f"stackq takes at most {MAX_BODY} bytes.")
    if (request.content_type.startswith("multipart/")
            and not BOUNDARY.search(environ.get("CONTENT_TYPE", ""))):
        raise Refused(400, "Bad request", "The multipart body names no boundary.")
    if request.method == "POST" and request.content_type in FORM_TYPES:
        try:
            body = request.body.decode("ascii")
        except UnicodeDecodeError:
            raise Refused(400, "Bad request", "The form is not URL-encoded.") from None
        # 422 naming the field, as the JSON API answers text that is no Unicode.
        single_fields(decoded_fields(body, "form", webob_form_fields, status=422), "form")


def refusal_page(request, refused):
    if refused.plain:
        response = Response(refused.message + "\n", content_type="text/plain",
                            charset="utf-8")
    elif request.environ.get("PATH_INFO", "").startswith(API_PREFIX):
        # The JSON API answers in JSON, errors included (as stackq/tasks/api/views.py does).
        response = render_to_response("json", {"errors": [
            {"field": "request", "message": refused.message}]}, request=request)
    else:
        response = render_to_response(
            TEMPLATE, {"status": refused.status, "title": refused.title,
                       "message": refused.message}, request=request)
    response.status = refused.status
    response.cache_control = "no-store"
    return response


def guard_tween_factory(handler, registry):
    def guard_tween(request):
        try:
            check_request(request)
        except Refused as refused:
            log.info("refused %s: %s", request.method, refused.message)
            return refusal_page(request, refused)
        return handler(request)

    return guard_tween


def includeme(config):
    config.add_tween("stackq.web.guard.guard_tween_factory",
                     under="stackq.web.headers.security_headers_tween_factory", over=TWEENS_BELOW)
