"""Bad input on every route, form, query parameter and header: a 4xx page with a clear
message, never a 5xx, no traceback in the log, nothing stored."""

import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

from tests.reliability.bad_json_cases import CASES as JSON_CASES
from tests.reliability.traces import csrf_token_of, leaves_no_trace

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


def param(kind, query, says="", status=400):
    """A results page with `query` (raw, already encoded)."""
    return Case(kind, query=query, status=status, says=says)


CASES = [
    # Query parameters of a results page.
    param("negative page", "page=-1", "page must be"),
    param("zero page", "page=0", "page must be"),
    param("huge page", "page=99999999999999999999999", "page must be"),
    param("fractional page", "page=1.5", "page must be"),
    param("page in words", "page=two", "page must be"),
    param("empty page", "page=", "page must be"),
    param("page with exponent", "page=1e3"),
    param("hex page", "page=0x10"),
    param("fullwidth digit page", "page=%EF%BC%91"),
    param("page with spaces", "page=+1+"),
    param("page twice", "page=1&page=2", "given 2 times"),
    param("page with a NUL", "page=1%00", "NUL"),
    param("page with a script", "page=%3Cscript%3E"),
    param("bad percent-encoding", "page=%zz"),
    param("per_page off the list", "per_page=7", "per_page must be"),
    param("negative per_page", "per_page=-25"),
    param("huge per_page", "per_page=100000000"),
    param("per_page twice", "per_page=25&per_page=50", "2 times"),
    param("unknown sort", "sort=nope", "sort must be one of"),
    param("SQL in sort", "sort=" + quote("title; DROP TABLE questions; --")),
    param("SQL in order", "order=" + quote("asc, (SELECT 1)")),
    param("template in sort", "sort=" + quote("{{7*7}}")),
    param("template in order", "order=" + quote("${7*7}")),
    param("upper-case sort", "sort=VOTES"),
    param("sort twice", "sort=votes&sort=title"),
    param("unknown order", "order=sideways", "order must be"),
    param("invalid UTF-8 in order", "order=%ff", "not valid UTF-8"),
    param("invalid UTF-8 in a parameter name", "%c3%28=1"),
    param("overlong UTF-8 sequence", "sort=%c0%af"),
    param("UTF-16 surrogate", "sort=%ed%a0%80"),
    param("overlong query string", "x=" + LONG, status=414),
    param("60 parameters", "&".join(f"p{i}=1" for i in range(60))),
    param("keyless page past 2,500 results", "page=30&per_page=100"),
    # Paths.
    Case("id past 64 bits", path="/queries/99999999999999999999999", status=404),
    Case("negative id", path="/queries/-1", status=404),
    Case("id in words", path="/queries/one", status=404),
    Case("fractional id", path="/queries/1.0", status=404),
    Case("no such search", path="/queries/987654321", status=404, says="no saved search"),
    Case("history of no such search", path="/queries/987654321/changes", status=404,
         says="no saved search"),
    Case("feed of no such search", path="/queries/987654321/feed.atom", status=404,
         says="no saved search"),
    Case("history page in words", path="/queries/{id}/changes", query="page=two", status=400,
         says="page must be"),
    Case("history page 0", path="/queries/{id}/changes", query="page=0", status=400),
    Case("history page past a million", path="/queries/{id}/changes", query="page=10000000",
         status=400),
    Case("history page in full-width digits", path="/queries/{id}/changes",
         query="page=%EF%BC%91", status=400),
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
    # Text that is no Unicode: 422 naming the field, as the JSON API answers it.
    form("NUL in the search", "q=py%00thon&site=stackoverflow", status=422,
         says="field q holds a NUL"),
    form("NUL in the site", "q=python&site=stackoverflow%00", status=422,
         says="field site holds a NUL"),
    form("invalid UTF-8 in the search", "q=%ff%fe&site=stackoverflow", status=422,
         says="field q is not valid UTF-8"),
    form("a lone surrogate in the search, as UTF-8", "q=sur%ed%a0%80x&site=stackoverflow",
         status=422, says="field q is not valid UTF-8"),
    form("NUL in a field's name", "q%00=python&site=stackoverflow", status=422,
         says="field name that holds a NUL"),
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
    Case("multipart form without a boundary", "POST", "/queries", body=b"q=x",
         content_type="multipart/form-data", headers={"X-CSRF-Token": "{token}"}, status=400,
         says="boundary"),
    Case("multipart form with an empty boundary", "POST", "/queries", body=b"q=x",
         content_type='multipart/form-data; boundary=""', status=400, says="boundary"),
    Case("multipart task form without a boundary", "POST", "/tasks", body=b"q=x",
         content_type="multipart/form-data; charset=utf-8", status=400, says="boundary"),
    Case("NUL in a harvest's search", "POST", "/tasks", content_type=FORM,
         body="q=py%00thon&site=stackoverflow&pages=1&csrf_token={token}", status=422,
         says="field q holds a NUL"),
    Case("a form without a Content-Type holding a NUL", "POST", "/queries",
         body="q=py%00thon&site=stackoverflow&csrf_token={token}", status=422, says="NUL"),
    Case("51 fields split by semicolons", query=";".join(f"f{i}=1" for i in range(51)),
         status=400, says="more than 50 fields"),
    Case("a field given twice, split by a semicolon", query="page=1;page=2", status=400),
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


def test_there_are_at_least_110_kinds():
    """Pages and forms here, the JSON API in test_bad_json.py: each kind once."""
    kinds = [case.kind for case in CASES + JSON_CASES]
    assert len(set(kinds)) == len(kinds) >= 110


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
    with leaves_no_trace(own_engine, caplog):
        answer = run(saved, case)
    assert 400 <= answer.status < 500, (answer.status, answer.body[:500])
    if case.status:
        assert answer.status == case.status, message_of(answer)
    message = message_of(answer)
    assert message and "Traceback" not in answer.body
    assert case.says in message, message
