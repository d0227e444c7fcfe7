"""The bad JSON-API inputs the reliability suite sends: each a kind, the request, and the
4xx answer it must get (test_bad_json.py runs them; test_bad_input.py counts them)."""

import json
from dataclasses import dataclass

from stackq.tasks.validation import MAX_BODY

JSON = "application/json"


@dataclass
class JsonCase:
    kind: str
    body: bytes = b""
    status: int = 422
    field: str = ""  # the field the answer names, the only one unless `also` says more
    content_type: str = JSON
    path: str = "/api/tasks"
    method: str = "POST"
    also: tuple = ()  # every further field at fault: all are named at once


def body(kind, value, field, **kw):
    """A POST /api/tasks of `value` as JSON."""
    return JsonCase(kind, json.dumps(value).encode(), field=field, **kw)


def raw(kind, data, status, field, content_type=JSON):
    return JsonCase(kind, data, status, field, content_type)


def query(kind, path, field):
    return JsonCase(kind, status=400, field=field, path=path, method="GET")


Q = {"q": "x", "site": "stackoverflow"}
CASES = [
    # Bodies that are JSON objects but not a task.
    body("a harvest without words", {"kind": "harvest", "site": "stackoverflow"}, "q"),
    body("a harvest without a site", {"kind": "harvest", "q": "x"}, "site"),
    body("words as a number", {"q": 5, "site": "stackoverflow"}, "q"),
    body("empty words", {"q": "", "site": "stackoverflow"}, "q"),
    body("overlong words", {"q": "x" * 501, "site": "stackoverflow"}, "q"),
    body("an unknown site", {"q": "x", "site": "nosuchsite"}, "site"),
    body("a site as a number", {"q": "x", "site": 7}, "site"),
    body("zero pages", {**Q, "pages": 0}, "pages"),
    body("26 pages without a key", {**Q, "pages": 26}, "pages"),
    body("101 pages", {**Q, "pages": 101}, "pages"),
    body("pages as a string", {**Q, "pages": "3"}, "pages"),
    body("fractional pages", {**Q, "pages": 2.5}, "pages"),
    body("pages as a boolean", {**Q, "pages": True}, "pages"),
    body("a negative delay", {**Q, "delay": -1}, "delay"),
    body("a delay past an hour", {**Q, "delay": 3601}, "delay"),
    body("a null delay", {**Q, "delay": None}, "delay"),
    body("a sort the harvest lacks", {**Q, "sort": "title"}, "sort"),
    body("tags as a list", {**Q, "tagged": ["a"]}, "tagged"),
    body("an unknown field", {**Q, "colour": "red"}, "colour"),
    body("an unknown kind", {"kind": "explode", **Q}, "kind"),
    body("a kind as a number", {"kind": 3}, "kind"),
    body("a refresh without a search", {"kind": "refresh"}, "query_id"),
    body("a refresh of no such search", {"kind": "refresh", "query_id": 999999}, "query_id"),
    body("a search id as a string", {"kind": "refresh", "query_id": "1"}, "query_id"),
    body("a harvest field on a refresh", {"kind": "refresh", "query_id": 1, "q": "x"}, "q"),
    # Text that is no Unicode (a lone surrogate is valid JSON) or that no database keeps.
    body("a lone surrogate in the words", {"q": "sur\ud800x", "site": "stackoverflow"}, "q"),
    body("a lone surrogate in the site", {"q": "x", "site": "stack\udfffoverflow"}, "site"),
    body("a lone surrogate in the tags", {**Q, "tagged": "py\ud83d"}, "tagged"),
    body("a NUL in the words", {"q": "a\u0000b", "site": "stackoverflow"}, "q"),
    body("a lone surrogate in a field name", {**Q, "x\ud800": 1}, "body"),
    body("three bad fields at once", {"site": "stackoverflow", "pages": 0, "delay": 9999}, "q",
         also=("pages", "delay")),
    # Bodies that are no JSON object, or too long, or not JSON at all.
    raw("broken JSON", b"{not json", 400, "body"),
    raw("invalid UTF-8 body", b"\xff\xfe", 400, "body"),
    raw("a JSON array", b"[1, 2]", 400, "body"),
    raw("a JSON string", b'"harvest"', 400, "body"),
    raw("an empty body", b"", 400, "body"),
    raw("a body past the limit", b'{"q": "' + b"x" * MAX_BODY + b'", "site": "stackoverflow"}',
        413, "body"),
    raw("JSON sent as text/plain", b'{"q": "x", "site": "stackoverflow"}', 415, "Content-Type",
        "text/plain"),
    # What a cross-site HTML form can send: form-encoded, no token.
    raw("a form-encoded body (a cross-site form)", b"q=x&site=stackoverflow", 415,
        "Content-Type", "application/x-www-form-urlencoded"),
    raw("a multipart body", b"q=x", 415, "Content-Type", "multipart/form-data; boundary=x"),
    raw("a multipart body without a boundary", b"q=x", 400, "request", "multipart/form-data"),
    JsonCase("a multipart cancel without a boundary", b"q=x", 400, "request",
             "multipart/form-data", path="/api/tasks/{task}", method="DELETE"),
    # Query parameters of the lists and of one task.
    query("results page zero", "/api/tasks/results?page=0", "page"),
    query("results per_page in words", "/api/tasks/results?per_page=abc", "per_page"),
    query("a log limit past the most", "/api/tasks/{task}?log_limit=5000", "log_limit"),
]
