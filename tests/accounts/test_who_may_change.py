"""With accounts on, every change needs a user or a token: every route of the app is walked,
so a route added later cannot be forgotten. Reading is public or not, per setting, and the
response cache never shows one visitor's name to another."""

import re

import pytest
import webtest
from openapi_spec_validator import validate
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import text

from stackq.accounts.users import revoke_token
from stackq.models import ApiToken, new_transaction
from tests.support.accounts import (
    AUTH_ON,
    SIGN_IN_LINK,
    accounts_app,
    clean_accounts,
    make_token,
    make_user,
    new_browser,
    sign_in,
)
from tests.support.apps import stackq_app

STACK_SETTINGS = AUTH_ON
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
OPEN = ("login", "logout")
PLACEHOLDER = re.compile(r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}")  # {id}, {id:\d{1,18}}


@pytest.fixture(scope="module")
def app(stack, request):
    return accounts_app(stack, request.addfinalizer)


@pytest.fixture(scope="module")
def login_app(stack, request):
    return accounts_app(stack, request.addfinalizer, **{"stackq.auth.read": "login"})


@pytest.fixture
def search_id(stack, upstream):
    clean_accounts(stack)
    make_user(stack, "alice")
    make_user(stack, "bob")
    return stack.save_search("python")


def permission_of(item):
    """The permission a view was declared with (None: the default one)."""
    for related in item["related"]:
        if related.category_name == "permissions":
            return related["value"]
    return None


def unsafe_requests(app, search_id):
    """(method, path) of every view a request with an unsafe method can reach, by the
    registry's introspector: each route's views and the methods they take. Views open to
    everyone (NO_PERMISSION_REQUIRED) are left out, and must be the ones meant to be."""
    introspector = app.registry.introspector
    values = {"id": str(search_id), "format": "csv", "site": "stackoverflow",
              "question_id": "1"}
    found = set()
    for item in introspector.get_category("views"):
        view = item["introspectable"]
        if view["route_name"] is None or view["exception_only"]:
            continue
        methods = view["request_methods"] or ("POST",)  # None: any method
        methods = (methods,) if isinstance(methods, str) else methods
        if permission_of(item) == NO_PERMISSION_REQUIRED:
            # Static files (any method, read only), and signing in and out.
            assert view["route_name"].startswith("__") or view["route_name"] in OPEN, view
            continue
        pattern = introspector.get("routes", view["route_name"])["pattern"]
        path = PLACEHOLDER.sub(lambda m: values[m.group(1)], pattern)
        found.update((method, path) for method in methods if method in UNSAFE)
    return sorted(found)


def send(browser, method, path, **kwargs):
    body = {"kind": "refresh", "query_id": 1} if path.startswith("/api/") else {"q": "x"}
    if path.startswith("/api/"):
        return browser.request(path, method=method, body=b"{}" if method != "DELETE" else b"",
                               content_type="application/json", expect_errors=True, **kwargs)
    return browser.request(path, method=method, POST=body, expect_errors=True, **kwargs)


def test_the_walk_finds_every_kind_of_change(app, search_id):
    found = unsafe_requests(app, search_id)
    paths = {path for _, path in found}
    for path in ("/queries", f"/queries/{search_id}/delete", f"/queries/{search_id}/pause",
                 f"/queries/{search_id}/resume", f"/queries/{search_id}/refresh", "/tasks",
                 "/api/tasks", f"/api/queries/{search_id}", f"/tasks/{search_id}/cancel"):
        assert path in paths, path


def test_every_change_is_refused_to_an_anonymous_visitor(app, search_id, stack):
    for method, path in unsafe_requests(app, search_id):
        answer = send(new_browser(app), method, path)
        if path.startswith("/api/"):
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="stackq"')
            assert answer.json["errors"][0]["field"] == "Authorization"
        else:
            assert answer.status_code == 403, (method, path, answer.text)
            assert SIGN_IN_LINK.search(answer.text), (method, path)
    # Nothing changed: the search is there, not paused.
    with stack.engine.connect() as connection:
        assert connection.execute(text("SELECT paused FROM saved_searches WHERE id = :i"),
                                  {"i": search_id}).scalar_one() in (False, 0)


def test_a_signed_in_user_gets_past_the_check_on_every_change(app, search_id):
    browser = new_browser(app)
    sign_in(browser)
    for method, path in unsafe_requests(app, search_id):
        if path.endswith("/delete"):
            continue
        answer = send(browser, method, path)
        assert answer.status_code != 401 and "Sign in first" not in answer.text, (method, path)


def test_the_sign_in_link_of_a_refused_form_leads_back_to_its_page(app, search_id):
    page = f"http://localhost/queries/{search_id}"
    answer = new_browser(app).post(f"/queries/{search_id}/pause", {"csrf_token": "x"},
                                   headers={"Referer": page}, status=403)
    assert SIGN_IN_LINK.search(answer.text).group(1).endswith(
        f"/login?next=%2Fqueries%2F{search_id}")


def test_reading_is_public_by_default(app, search_id):
    browser = new_browser(app)
    for path in ("/", f"/queries/{search_id}", "/tasks", "/status", "/api/tasks"):
        browser.get(path, status=200)


def test_reading_needs_a_user_when_auth_read_is_login(login_app, search_id):
    browser = new_browser(login_app)
    refused = browser.get("/", status=403)
    assert SIGN_IN_LINK.search(refused.text).group(1).endswith("/login?next=%2F")
    browser.get(f"/queries/{search_id}", status=403)
    assert browser.get("/api/tasks", status=401).headers["WWW-Authenticate"].startswith("Bearer")
    browser.get("/login", status=200)
    browser.get("/static/stackq.css", status=200)
    sign_in(browser)
    browser.get(f"/queries/{search_id}", status=200)


def test_with_reading_for_users_the_cache_never_answers_an_anonymous_visitor(login_app,
                                                                             search_id):
    alice = new_browser(login_app)
    sign_in(alice)
    path = f"/queries/{search_id}"
    assert [alice.get(path).headers["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]
    assert new_browser(login_app).get(path, status=403).headers.get("X-Cache") is None


def test_the_cache_never_shows_one_visitors_name_to_another(app, search_id):
    alice, bob, anonymous = new_browser(app), new_browser(app), new_browser(app)
    sign_in(alice)
    sign_in(bob, "bob")
    path = f"/queries/{search_id}"
    first = alice.get(path)
    assert 'class="account-name">alice<' in first.text
    assert first.headers["Cache-Control"] == "no-store"
    seen_by_bob = bob.get(path)
    assert seen_by_bob.headers["X-Cache"] == "HIT"
    assert "alice" not in seen_by_bob.text and 'class="account-name">bob<' in seen_by_bob.text
    seen_anonymously = anonymous.get(path)
    assert seen_anonymously.headers["X-Cache"] == "HIT"
    assert "alice" not in seen_anonymously.text and "bob" not in seen_anonymously.text
    assert "Sign in</a>" in seen_anonymously.text


def harvest(browser, headers):
    return browser.post_json("/api/tasks", {"kind": "harvest", "q": "python",
                                            "site": "stackoverflow", "pages": 1},
                             headers=headers, expect_errors=True)


def test_an_api_token_lets_a_client_change_things_without_csrf(app, search_id, stack):
    token = make_token(stack, "alice")
    client = webtest.TestApp(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert harvest(client, bearer).status_code == 202
    client.delete(f"/api/queries/{search_id}", headers=bearer, status=204)
    client.delete(f"/api/queries/{search_id}", headers=bearer, status=404)


def test_a_token_pauses_resumes_and_refreshes_through_the_pages_forms(app, search_id, stack):
    # The forms' POSTs act for a token as the JSON API does: no confirmation page, no CSRF.
    client = webtest.TestApp(app)
    bearer = {"Authorization": f"Bearer {make_token(stack, 'alice')}"}

    def paused():
        with stack.engine.connect() as db:
            return db.scalar(text("SELECT paused FROM saved_searches WHERE id = :id"),
                             {"id": search_id})

    client.post(f"/queries/{search_id}/pause", headers=bearer, status=303)
    assert paused()
    client.post(f"/queries/{search_id}/resume", headers=bearer, status=303)
    assert not paused()
    queued = client.post(f"/queries/{search_id}/refresh", headers=bearer, status=303)
    assert re.search(r"/tasks/\d+$", queued.location)
    # Without a token nor a CSRF token: the page asking to confirm, and nothing changes.
    signed_in = new_browser(app)
    sign_in(signed_in)
    asked = signed_in.post(f"/queries/{search_id}/pause", status=200)
    assert "Pause “python”?" in asked.text and not paused()


def test_a_revoked_or_wrong_token_is_refused(app, search_id, stack):
    token = make_token(stack, "alice")
    with new_transaction(stack.session_factory) as dbsession:
        revoke_token(dbsession, "alice", dbsession.query(ApiToken).one().id)
    client = webtest.TestApp(app)
    for sent in (token, token + "x", "stackq_nothing"):
        refused = harvest(client, {"Authorization": f"Bearer {sent}"})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def test_a_bad_token_does_not_fall_back_to_the_session(app, search_id):
    browser = new_browser(app)
    sign_in(browser)
    assert harvest(browser, {"Authorization": "Bearer stackq_wrong"}).status_code == 401


def test_with_accounts_off_nothing_asks_who_you_are(stack, request, search_id):
    app = stackq_app({**stack.raw_settings, "stackq.cache.ttl": "60",
                      "stackq.auth.enabled": "false"}, stack.engine, request.addfinalizer)
    browser = webtest.TestApp(app)
    home = browser.get("/")
    assert "Sign in" not in home.text and "stackq:account" not in home.text
    browser.get("/login", status=404)
    assert harvest(browser, {}).status_code == 202
    document = browser.get("/api/openapi.json").json
    assert "securitySchemes" not in document["components"]


def test_the_openapi_document_names_the_token_and_the_401(app, search_id):
    document = webtest.TestApp(app).get("/api/openapi.json").json
    validate(document)
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, method in (("/api/tasks", "post"), ("/api/tasks/{id}", "delete"),
                         ("/api/queries/{id}", "delete")):
        operation = document["paths"][path][method]
        assert operation["security"] == [{"bearer": []}] and "401" in operation["responses"]
    assert "security" not in document["paths"]["/api/tasks"]["get"]
