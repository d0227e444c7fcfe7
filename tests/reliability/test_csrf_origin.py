"""An unsafe request a page of another site sent is refused, token or not, over plain HTTP
too: the token's cookie is unsigned, so a page of the same site (another port of localhost,
a sibling subdomain) could set it and post with it. The page is named by Origin, else by
Referer; a client that sends neither (no browser page) still goes by the token alone."""

import json
from urllib.parse import urlencode

import pytest

from tests.reliability.traces import csrf_token_of

FORM = "application/x-www-form-urlencoded"
FOREIGN = [
    {"Origin": "http://localhost:6700"},  # another app on this machine
    {"Origin": "http://example.com:8080"},  # another port of the same name
    {"Origin": "http://sub.example.com"},  # a sibling subdomain
    {"Origin": "null"},  # a sandboxed frame, a data: page
    {"Origin": "http://example.com.evil.example"},
    {"Referer": "http://localhost:6700/attack.html"},
    {"Referer": "http://sub.example.com/"},
]
OWN = [
    {},  # curl, scripts, WebTest: no page sent it
    {"Origin": "http://example.com"},
    {"Origin": "HTTP://Example.COM:80"},
    {"Origin": "https://example.com"},  # the page over TLS, ended by a proxy in front
    {"Referer": "http://example.com/queries/new"},
]


def save_search(visitor, headers):
    body = urlencode({"q": "python", "site": "stackoverflow",
                      "csrf_token": csrf_token_of(visitor)}).encode()
    return visitor.request("POST", "/queries", body=body, content_type=FORM, headers=headers)


@pytest.mark.parametrize("headers", FOREIGN, ids=[str(h) for h in FOREIGN])
def test_a_form_from_another_site_is_refused_with_the_right_token(saved, headers):
    visitor, _ = saved
    answer = save_search(visitor, headers)
    assert answer.status == 403, answer.body
    assert "Sent from another site" in answer.body


@pytest.mark.parametrize("headers", OWN, ids=[str(h) for h in OWN])
def test_a_form_from_the_site_itself_is_taken(saved, headers):
    visitor, _ = saved
    answer = save_search(visitor, headers)
    assert answer.status == 303, answer.body


def test_the_token_is_still_needed_from_the_site_itself(saved):
    visitor, _ = saved
    answer = visitor.request("POST", "/queries", body=b"q=python&site=stackoverflow",
                             content_type=FORM, headers={"Origin": "http://example.com"})
    assert answer.status == 403


def test_the_json_api_refuses_another_sites_page(saved):
    visitor, _ = saved
    body = json.dumps({"q": "python", "site": "stackoverflow", "delay": 3600}).encode()
    answer = visitor.request("POST", "/api/tasks", body=body, content_type="application/json",
                             headers={"Origin": "http://localhost:6700"})
    assert answer.status == 403, answer.body
    assert json.loads(answer.body)["errors"][0]["field"] == "request"
    created = visitor.request("POST", "/api/tasks", body=body, content_type="application/json")
    assert created.status == 202, created.body
    task = json.loads(created.body)["id"]
    refused = visitor.request("DELETE", f"/api/tasks/{task}",
                              headers={"Origin": "http://sub.example.com"})
    assert refused.status == 403, refused.body
    assert visitor.request("DELETE", f"/api/tasks/{task}").status in (200, 202)
