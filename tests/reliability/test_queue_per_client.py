"""One client cannot queue the day away (issue 29, finding 6): at most
`stackq.tasks.max_queued_per_client` (10) tasks queued or running per client address; the
next gets a clear 429, in JSON from `POST /api/tasks` and as the form again from
`POST /tasks`, while another client is still accepted and an ended task frees its place."""

import json
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select, text

from stackq.models import Task
from tests.reliability.rawwsgi import Visitor
from tests.reliability.traces import csrf_token_of
from tests.support.apps import stackq_app

JSON = "application/json"
LIMIT = 10  # the default
# Long harvests, an hour away: what the finding queued 200 of in 2.2 s.
HARVEST = {"q": "python", "site": "stackoverflow", "pages": 25, "delay": 3600}
PROXY = "192.0.2.80"


@pytest.fixture
def empty_queue(own_app, own_engine):
    with own_engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks"))
    return own_app


def client(app, address):
    return Visitor(app, host="localhost", remote_addr=address)


def post_task(visitor, body=HARVEST):
    return visitor.request("POST", "/api/tasks", body=json.dumps(body).encode(),
                           content_type=JSON)


def post_form(visitor):
    body = urlencode({"q": "python", "site": "stackoverflow", "pages": "25", "delay": "3600",
                      "csrf_token": csrf_token_of(visitor)}).encode()
    return visitor.request("POST", "/tasks", body=body,
                           content_type="application/x-www-form-urlencoded")


def queued(engine):
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Task))


def test_the_eleventh_task_of_one_client_is_429_and_another_client_is_still_accepted(
        empty_queue, own_engine):
    first, second = client(empty_queue, "192.0.2.1"), client(empty_queue, "192.0.2.2")
    for _ in range(LIMIT):
        assert post_task(first).status == 202
    refused = post_task(first)
    assert refused.status == 429, refused.body
    assert refused.headers["Content-Type"].startswith(JSON)
    assert int(refused.headers["Retry-After"]) > 0
    [problem] = json.loads(refused.body)["errors"]
    assert problem["field"] == "tasks"
    assert "192.0.2.1 has 10 tasks queued or running" in problem["message"]
    assert "stackq.tasks.max_queued_per_client" in problem["message"]
    # The form says the same, as a page with the form as typed.
    page = post_form(first)
    assert page.status == 429 and page.headers["Content-Type"].startswith("text/html")
    assert int(page.headers["Retry-After"]) > 0
    words = " ".join(page.body.split())
    assert "you (192.0.2.1) already have 10 tasks queued or running" in words
    assert re.search(r'<form method="post"[^>]*action="[^"]*/tasks"', page.body)
    assert queued(own_engine) == LIMIT
    # Another client has its own ten.
    assert post_task(second).status == 202
    assert post_form(second).status == 303
    assert queued(own_engine) == LIMIT + 2


def test_a_task_that_ended_frees_its_place(empty_queue, own_engine):
    visitor = client(empty_queue, "192.0.2.3")
    ids = [json.loads(post_task(visitor).body)["id"] for _ in range(LIMIT)]
    assert post_task(visitor).status == 429
    cancelled = visitor.request("DELETE", f"/api/tasks/{ids[0]}")
    assert cancelled.status == 202, cancelled.body
    assert post_task(visitor).status == 202
    assert post_task(visitor).status == 429


@pytest.fixture(scope="module")
def proxied_app(request, own_settings, own_engine):
    """The app behind a reverse proxy at 192.0.2.80 (stackq.trusted_proxies)."""
    return stackq_app({**own_settings, "stackq.trusted_proxies": PROXY}, own_engine,
                      request.addfinalizer)


def test_behind_a_trusted_proxy_each_visitor_it_forwards_has_a_share_of_their_own(
        proxied_app, own_engine):
    with own_engine.begin() as connection:
        connection.execute(text("DELETE FROM tasks"))
    proxy = client(proxied_app, PROXY)

    def post_for(visitor_address, claimed=""):
        forwarded = ", ".join(filter(None, [claimed, visitor_address]))
        return proxy.request("POST", "/api/tasks", body=json.dumps(HARVEST).encode(),
                             content_type=JSON, headers={"X-Forwarded-For": forwarded})

    for _ in range(LIMIT):
        assert post_for("198.51.100.1").status == 202
    # What the visitor wrote to the left of the proxy's own entry is theirs to make up.
    refused = post_for("198.51.100.1", claimed="203.0.113.9")
    assert refused.status == 429
    assert "198.51.100.1 has 10 tasks" in json.loads(refused.body)["errors"][0]["message"]
    assert post_for("198.51.100.2").status == 202
    # A peer that is not the proxy is counted as itself, whatever it says it forwards.
    spoofer = client(proxied_app, "192.0.2.66")
    assert spoofer.request("POST", "/api/tasks", body=json.dumps(HARVEST).encode(),
                           content_type=JSON,
                           headers={"X-Forwarded-For": "198.51.100.3"}).status == 202
    with own_engine.connect() as connection:
        clients = dict(connection.execute(text(
            "SELECT client, count(*) FROM tasks GROUP BY client")).all())
    assert clients == {"198.51.100.1": LIMIT, "198.51.100.2": 1, "192.0.2.66": 1}
