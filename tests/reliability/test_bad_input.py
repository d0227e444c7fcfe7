"""Bad input on every route, form, query parameter and header: a 4xx page with a clear
message, never a 5xx, no traceback in the log, nothing stored."""

import logging
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from tests.reliability.conftest import csrf_token_of, stored_counts

FORM = "application/x-www-form-urlencoded"
LONG = "x" * 5000


@dataclass
class Case:
    kind: str
    method: str = "GET"
    path: str = "/queries/{id}"
    query: str = ""
    body: str | bytes = b""
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    status: int | None = None  # the exact status, when one is right; else any 4xx
    says: str = ""  # words the message must hold


def form(kind, fields, **kw):
    """A POST /queries of `fields` (raw, already encoded) with the visitor's token."""
    return Case(kind, "POST", "/queries", body=fields + "&csrf_token={token}",
                content_type=FORM, **kw)


CASES = [
    # Query parameters of a results page.
    Case("negative page", query="page=-1", status=400, says="page must be"),
    Case("zero page", query="page=0", status=400, says="page must be"),
    Case("huge page", query="page=99999999999999999999999", status=400, says="page must be"),
    Case("fractional page", query="page=1.5", status=400, says="page must be"),
    Case("page in words", query="page=two", status=400, says="page must be"),
    Case("empty page", query="page=", status=400, says="page must be"),
    Case("page with exponent", query="page=1e3", status=400),
    Case("hex page", query="page=0x10", status=400),
    Case("fullwidth digit page", query="page=%EF%BC%91", status=400),
    Case("page with spaces", query="page=+1+", status=400),
    Case("page twice", query="page=1&page=2", status=400, says="given 2 times"),
    Case("page with a NUL", query="page=1%00", status=400, says="NUL"),
    Case("page with a script", query="page=%3Cscript%3E", status=400),
    Case("bad percent-encoding", query="page=%zz", status=400),
    Case("per_page off the list", query="per_page=7", status=400, says="per_page must be"),
    Case("negative per_page", query="per_page=-25", status=400),
    Case("huge per_page", query="per_page=100000000", status=400),
    Case("per_page twice", query="per_page=25&per_page=50", status=400, says="2 times"),
    Case("unknown sort", query="sort=nope", status=400, says="sort must be one of"),
    Case("SQL in sort", query="sort=" + quote("title; DROP TABLE questions; --"), status=400),
    Case("SQL in order", query="order=" + quote("asc, (SELECT 1)"), status=400),
    Case("template in sort", query="sort=" + quote("{{7*7}}"), status=400),
    Case("template in order", query="order=" + quote("${7*7}"), status=400),
    Case("upper-case sort", query="sort=VOTES", status=400),
    Case("sort twice", query="sort=votes&sort=title", status=400),
    Case("unknown order", query="order=sideways", status=400, says="order must be"),
    Case("invalid UTF-8 in order", query="order=%ff", status=400, says="not valid UTF-8"),
    Case("invalid UTF-8 in a parameter name", query="%c3%28=1", status=400),
    Case("overlong UTF-8 sequence", query="sort=%c0%af", status=400),
    Case("UTF-16 surrogate", query="sort=%ed%a0%80", status=400),
    Case("overlong query string", query="x=" + LONG, status=414),
    Case("60 parameters", query="&".join(f"p{i}=1" for i in range(60)), status=400),
    Case("keyless page past 2,500 results", query="page=30&per_page=100", status=400),
    # Paths.
    Case("id past 64 bits", path="/queries/99999999999999999999999", status=404),
    Case("negative id", path="/queries/-1", status=404),
    Case("id in words", path="/queries/one", status=404),
    Case("fractional id", path="/queries/1.0", status=404),
    Case("no such search", path="/queries/987654321", status=404, says="no saved search"),
    Case("invalid UTF-8 path", path=b"/\xff\xfe", status=400, says="not valid UTF-8"),
    Case("NUL in the path", path="/queries/1\0", status=400, says="NUL"),
    Case("dot segments", path="/../../etc/passwd", status=404),
    Case("static dot segments", path="/static/../setup.py", status=404),
    Case("static encoded dot segments", path="/static/%2e%2e/setup.py", status=404),
    Case("static encoded slash", path="/static/..%2f..%2fsetup.py", status=404),
    Case("static absolute path", path="/static//etc/passwd", status=404),
    Case("a path under a search", path="/queries/{id}/../../setup.py", status=404),
    Case("an overlong path", path="/" + LONG, status=404),
    # Wrong methods.
    Case("PUT a search", method="PUT", path="/queries/{id}", status=405, says="GET"),
    Case("DELETE the home page", method="DELETE", path="/", status=405),
    Case("GET the POST-only list", path="/queries", status=405, says="POST"),
    Case("PATCH the form", method="PATCH", path="/queries/new", status=405),
    Case("POST a results page", method="POST", path="/queries/{id}", status=405),
    Case("a made-up method", method="BREW", path="/", status=405),
    # Forms.
    form("no fields at all", "", status=400, says="enter words"),
    form("empty search", "q=&site=stackoverflow", status=400, says="enter words"),
    form("NUL in the search", "q=py%00thon&site=stackoverflow", status=400, says="NUL"),
    form("NUL in the site", "q=python&site=stackoverflow%00", status=400, says="NUL"),
    form("invalid UTF-8 in the search", "q=%ff%fe&site=stackoverflow", status=400,
         says="not valid UTF-8"),
    form("raw non-ASCII bytes", "q=caf\xe9".encode("latin-1").decode("latin-1"),
         status=400),
    form("overlong search", f"q={LONG}&site=stackoverflow", status=400, says="too long"),
    form("overlong tags", "tagged=" + ";".join(f"tag{i}" for i in range(200)), status=400,
         says="too long"),
    form("unknown site", "q=python&site=nosuchsite", status=400, says="unknown site"),
    form("SQL in the site", "q=python&site=" + quote("so' OR '1'='1"), status=400,
         says="unknown site"),
    form("template in the site", "q=python&site=" + quote("{{7*7}}"), status=400,
         says="unknown site"),
    form("a path as the site", "q=python&site=" + quote("../../etc/passwd"), status=400),
    form("search given twice", "q=a&q=b&site=stackoverflow", status=400, says="2 times"),
    form("site given twice", "q=a&site=stackoverflow&site=math", status=400),
    Case("overlong body", "POST", "/queries", body=b"q=" + b"x" * 70000, content_type=FORM,
         status=413),
    Case("JSON instead of a form", "POST", "/queries", body=b'{"q": "python"}',
         content_type="application/json", headers={"X-CSRF-Token": "{token}"}, status=400),
    Case("form without a token", "POST", "/queries", body=b"q=python", content_type=FORM,
         status=403, says="security token"),
    Case("forged token", "POST", "/queries", body=b"q=python&csrf_token=forged",
         content_type=FORM, status=403),
    Case("NUL in the token header", "POST", "/queries", body=b"q=python", content_type=FORM,
         headers={"X-CSRF-Token": "a\0b"}, status=403),
    # Headers.
    Case("forged Host with markup", headers={"Host": 'evil.example"><script>'}, status=400,
         says="Host"),
    Case("Host with spaces", headers={"Host": "evil example"}, status=400),
    Case("Host with a path", headers={"Host": "example.com/evil"}, status=400),
    Case("empty Host", headers={"Host": ""}, status=400),
    Case("Host with a bad port", headers={"Host": "example.com:http"}, status=400),
    Case("a cookie of invalid UTF-8", "POST", "/queries", body=b"q=python",
         content_type=FORM, headers={"Cookie": "csrf_token=\xff\xfe"}, status=403),
    Case("a WebSocket upgrade over plain WSGI", path="/ws", headers={"Upgrade": "websocket"},
         status=400, says="WebSocket only"),
]


def test_there_are_at_least_60_kinds():
    assert len({case.kind for case in CASES}) == len(CASES) >= 60


def run(saved, case):
    visitor, search_id = saved
    token = csrf_token_of(visitor)

    def fill(value):
        if isinstance(value, bytes):
            return value
        return value.replace("{id}", str(search_id)).replace("{token}", token)

    headers = {name: fill(value) for name, value in case.headers.items()}
    if "Host" in headers:  # HTTP_HOST, not an extra header
        host, visitor.host = visitor.host, headers.pop("Host")
    body = fill(case.body)
    try:
        return visitor.request(case.method, fill(case.path) if isinstance(case.path, str)
                               else case.path, query=fill(case.query),
                               body=body.encode("latin-1") if isinstance(body, str) else body,
                               content_type=case.content_type, headers=headers)
    finally:
        if "Host" in case.headers:
            visitor.host = host


def message_of(answer):
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', answer.body, re.S)
    return found.group(1).strip() if found else answer.body.strip()


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_bad_input_is_a_clear_4xx(saved, own_engine, case, caplog):
    before = stored_counts(own_engine)
    with caplog.at_level(logging.INFO):
        answer = run(saved, case)
    assert 400 <= answer.status < 500, (answer.status, answer.body[:500])
    if case.status:
        assert answer.status == case.status, message_of(answer)
    message = message_of(answer)
    assert message and "Traceback" not in answer.body
    assert case.says in message, message
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert "Traceback" not in caplog.text
    assert stored_counts(own_engine) == before
