"""Signing in and out with accounts on: the form, where it leads, the throttle, the cookie."""

import pytest
from pyramid.session import JSONSerializer, SignedCookieSessionFactory
from sqlalchemy import text
from webob import Request

from stackq.accounts import passwords
from stackq.accounts.throttle import LIMIT, WINDOW
from tests.support.accounts import (
    AUTH_ON,
    PASSWORD,
    SECRET,
    SESSION_COOKIE,
    accounts_app,
    clean_accounts,
    make_user,
    new_browser,
    sign_in,
)
from tests.support.searches import form_token

STACK_SETTINGS = AUTH_ON


@pytest.fixture(scope="module")
def app(stack, request):
    return accounts_app(stack, request.addfinalizer)


@pytest.fixture
def alice(stack, upstream):
    clean_accounts(stack)
    make_user(stack, "alice")
    return "alice"


def session_cookie_header(response):
    headers = [v for k, v in response.headerlist if k == "Set-Cookie"
               and v.startswith(SESSION_COOKIE + "=")]
    assert len(headers) == 1, response.headerlist
    return headers[0]


def session_data(browser):
    """The signed session cookie's content, read with the site's secret."""
    request = Request.blank("/", cookies={SESSION_COOKIE: browser.cookies[SESSION_COOKIE]})
    factory = SignedCookieSessionFactory(SECRET, cookie_name=SESSION_COOKIE,
                                         serializer=JSONSerializer())
    return dict(factory(request))


def test_sign_in_leads_to_next_and_every_page_then_names_the_user(app, alice):
    browser = new_browser(app)
    assert "Sign in" in browser.get("/").text
    answer = sign_in(browser, next_path="/tasks")
    assert answer.location == "http://localhost/tasks"
    home = browser.get("/")
    assert 'class="account-name">alice<' in home.text
    assert "Sign in</a>" not in home.text


def test_sign_out_forgets_the_user(app, alice):
    browser = new_browser(app)
    sign_in(browser)
    token = form_token(browser.get("/queries/new").text)
    browser.post("/logout", {"csrf_token": token}, status=303)
    home = browser.get("/")
    assert "alice" not in home.text and "Sign in</a>" in home.text


def copy_of(app, browser):
    """Another browser holding copies of `browser`'s cookies (stolen, or a second device)."""
    other = new_browser(app)
    for name, value in browser.cookies.items():
        other.set_cookie(name, value)
    return other


def test_a_copy_of_a_signed_out_session_cookie_is_refused(app, alice, stack):
    search = stack.save_search("python")
    browser = new_browser(app)
    sign_in(browser)
    copy = copy_of(app, browser)
    assert 'class="account-name">alice<' in copy.get("/").text
    stolen = copy.cookies[SESSION_COOKIE]
    browser.post("/logout", {"csrf_token": form_token(browser.get("/queries/new").text)},
                 status=303)
    home = copy.get("/")
    assert "Sign in</a>" in home.text and "alice" not in home.text
    # The refused session is dropped, never issued again with a later time.
    assert session_cookie_header(home) and session_data(copy) == {}
    token = form_token(copy.get("/queries/new").text)
    copy.set_cookie(SESSION_COOKIE, stolen)
    refused = copy.post(f"/queries/{search}/pause", {"csrf_token": token}, status=403)
    assert "Sign in to change anything here" in refused.text


def test_signing_out_one_session_leaves_the_users_others(app, alice):
    first, second = new_browser(app), new_browser(app)
    sign_in(first)
    sign_in(second)
    first.post("/logout", {"csrf_token": form_token(first.get("/queries/new").text)},
               status=303)
    assert 'class="account-name">alice<' in second.get("/").text


@pytest.mark.parametrize("next_path", ["//evil.example/", "https://evil.example/",
                                       "/\\evil.example", "javascript:alert(1)"])
def test_next_leads_only_to_a_page_of_this_site(app, alice, next_path):
    answer = sign_in(new_browser(app), next_path=next_path)
    assert answer.location == "http://localhost/"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(app, alice):
    browser = new_browser(app)
    wrong = sign_in(browser, "alice", "not it", status=400)
    unknown = sign_in(browser, "nobody", "not it", status=400)
    assert wrong.html.find(role="alert").text == unknown.html.find(role="alert").text
    assert wrong.headers.get("Set-Cookie", "").split("=")[0] == \
        unknown.headers.get("Set-Cookie", "").split("=")[0]
    assert SESSION_COOKIE not in browser.cookies


def test_an_unknown_name_costs_one_argon2_check_as_a_wrong_password_does(app, alice,
                                                                        monkeypatch):
    checked = []

    class CountingHasher:
        def __getattr__(self, name):
            return getattr(real, name)

        def verify(self, *args):
            checked.append(args)
            return real.verify(*args)

    real = passwords.HASHER
    monkeypatch.setattr(passwords, "HASHER", CountingHasher())
    browser = new_browser(app)
    sign_in(browser, "alice", "not it", status=400)
    sign_in(browser, "nobody", "not it", status=400)
    assert len(checked) == 2
    assert checked[1][0] == passwords.stand_in_hash() != checked[0][0]


def test_five_failures_then_429_with_retry_after_even_for_the_right_password(app, alice):
    browser = new_browser(app)
    for _ in range(LIMIT):
        sign_in(browser, "alice", "guess", status=400)
    refused = sign_in(browser, "alice", PASSWORD, status=429)
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW
    assert SESSION_COOKIE not in browser.cookies
    # Another address is not held back by these failures, nor another name from this one.
    sign_in(new_browser(app, REMOTE_ADDR="192.0.2.99"), "alice", PASSWORD)
    sign_in(browser, "bob", "guess", status=400)


def test_unknown_names_are_throttled_too(app, alice):
    browser = new_browser(app)
    for _ in range(LIMIT):
        sign_in(browser, "mallory", "guess", status=400)
    sign_in(browser, "mallory", "guess", status=429)


def test_the_session_cookie_is_httponly_and_samesite_lax_and_not_secure_over_http(app, alice):
    flags = session_cookie_header(sign_in(new_browser(app))).lower()
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags


def test_the_session_cookie_is_secure_over_https(app, alice):
    # Over https Pyramid's CSRF check wants the page's origin too, as a browser sends it.
    browser = new_browser(app, HTTP_HOST="localhost", HTTP_ORIGIN="https://localhost",
                          **{"wsgi.url_scheme": "https"})
    flags = session_cookie_header(sign_in(browser))
    assert "secure" in flags.lower()


def test_x_forwarded_proto_is_ignored_from_an_untrusted_address(app, alice):
    browser = new_browser(app, HTTP_X_FORWARDED_PROTO="https")
    assert "secure" not in session_cookie_header(sign_in(browser)).lower()


def test_x_forwarded_proto_is_believed_from_a_trusted_proxy(stack, request, alice):
    app = accounts_app(stack, request.addfinalizer, **{"stackq.trusted_proxies": "192.0.2.10"})
    browser = new_browser(app, HTTP_X_FORWARDED_PROTO="https")
    assert "secure" in session_cookie_header(sign_in(browser)).lower()


def test_behind_a_trusted_proxy_failures_count_per_forwarded_address(stack, request, alice):
    app = accounts_app(stack, request.addfinalizer, **{"stackq.trusted_proxies": "192.0.2.10"})
    attacker = new_browser(app, HTTP_X_FORWARDED_FOR="198.51.100.7")
    for _ in range(LIMIT):
        sign_in(attacker, "alice", "guess", status=400)
    sign_in(attacker, "alice", PASSWORD, status=429)
    sign_in(new_browser(app, HTTP_X_FORWARDED_FOR="198.51.100.8"), "alice", PASSWORD)


def test_signing_in_starts_a_new_session(app, alice, stack):
    make_user(stack, "bob")
    browser = new_browser(app)
    sign_in(browser, "bob")  # a session somebody could have planted in this browser
    planted = browser.cookies[SESSION_COOKIE]
    planted_id = session_data(browser)["sid"]
    planted_csrf = browser.cookies["csrf_token"]
    sign_in(browser, "alice")
    assert browser.cookies[SESSION_COOKIE] != planted
    assert browser.cookies["csrf_token"] != planted_csrf
    data = session_data(browser)
    assert data["sid"] != planted_id and data["user"] == user_id(stack, "alice")
    assert 'class="account-name">alice<' in browser.get("/").text


def user_id(stack, name):
    with stack.engine.connect() as connection:
        return connection.execute(text("SELECT id FROM users WHERE name = :n"),
                                  {"n": name}).scalar_one()


def test_a_removed_user_is_signed_out(app, alice, stack):
    browser = new_browser(app)
    sign_in(browser)
    clean_accounts(stack)
    make_user(stack, "alice", "a new password")  # same name, maybe the same id: not the same
    assert "Sign in</a>" in browser.get("/").text
