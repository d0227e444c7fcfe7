"""A page rebinding its name to 127.0.0.1 reaches nothing: `stackq.allowed_hosts` on a real
server (pserve and gunicorn share the handler), the debug toolbar of development.ini included.

The stack's ini is development.ini with the toolbar kept (`STACK_SETTINGS`), as `make run`
serves it, and the default allowed hosts.
"""

import configparser
import http.client
import re

import pytest
from pyramid_debugtoolbar.utils import as_display_debug_or_false

from tests.support.stack import REPO, running_web

STACK_SETTINGS = {"pyramid.includes": "pyramid_debugtoolbar"}
FOREIGN = "attacker.example:6700"
HANDSHAKE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
             "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": f"http://{FOREIGN}"}
TOOLBAR_ID = re.compile(r"/_debug_toolbar/([0-9a-f]{8,})")
FRAME_ID = re.compile(r'id="frame-(\d+)"')


@pytest.fixture(scope="module", params=["pserve", "gunicorn"])
def server(request, stack):
    with running_web(request.param, stack.ini) as running:
        yield running


def ask(server, path, host, headers=()):
    """(status, headers, body text) of GET `path` sent with `Host: host`."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        connection.request("GET", path, headers={"Host": host, **dict(headers)})
        answer = connection.getresponse()
        return answer.status, answer.headers, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


def assert_refused_plainly(answer):
    status, headers, body = answer
    assert status == 400, body
    assert headers["Content-Type"].startswith("text/plain"), headers
    assert "attacker.example" in body and "stackq.allowed_hosts" in body
    assert "X-Cache" not in headers and "Set-Cookie" not in headers  # no app behind it ran


@pytest.mark.parametrize("path", ["/", "/tasks", "/queries/new", "/static/stackq.css",
                                  "/_debug_toolbar/", "/_debug_toolbar/1a2b3c4d/exception/"
                                  "execute/123?cmd=6*7&token=x"])
def test_a_foreign_host_is_refused_before_anything_runs(server, path):
    assert_refused_plainly(ask(server, path, FOREIGN))


def test_a_websocket_handshake_with_a_foreign_host_is_refused(server):
    assert_refused_plainly(ask(server, "/ws", FOREIGN, HANDSHAKE))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:6543", "LOCALHOST"])
def test_the_default_names_are_answered(server, host):
    status, _, _ = ask(server, "/", host)
    assert status == 200


def test_a_websocket_handshake_with_an_allowed_host_is_taken(server):
    origin = f"http://127.0.0.1:{server.port}"
    status, _, body = ask(server, "/ws", f"127.0.0.1:{server.port}",
                          {**HANDSHAKE, "Origin": origin})
    assert status == 101, body


def test_development_ini_offers_no_code_console():
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "development.ini", encoding="utf-8")
    setting = parser["app:main"].get("debugtoolbar.intercept_exc", "debug")  # its default
    assert as_display_debug_or_false(setting) is False


def test_an_error_page_of_the_served_toolbar_runs_no_code(server):
    # A 404 is an exception the toolbar records; with `intercept_exc = debug` its traceback
    # page lists frames, and `execute` runs Python in them.
    status, _, page = ask(server, "/no/such/page", "127.0.0.1")
    assert status == 404
    request_id = TOOLBAR_ID.search(page).group(1)
    status, _, traceback = ask(server, f"/_debug_toolbar/{request_id}/exception", "127.0.0.1")
    frames = FRAME_ID.findall(traceback) or ["0"]
    for frame in frames:
        path = f"/_debug_toolbar/{request_id}/exception/execute/{frame}?cmd=6*7"
        status, _, body = ask(server, path, "127.0.0.1")
        assert status == 400 and "42" not in body, body
