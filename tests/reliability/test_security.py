"""Security on the real app, a real Redis and the emulator: the headers on every page, HIT or
MISS; no inline script or style; CSRF on every POST; sort and order whitelisted."""

import pytest
from bs4 import BeautifulSoup

from tests.support.apps import cached_app, visitor
from tests.support.searches import save_search

FRIEND = "https://friend.example"
FIXED = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
         "X-Frame-Options": "DENY"}
SECURITY_HEADERS = (*FIXED, "Content-Security-Policy")


@pytest.fixture(scope="module")
def capp(request, app_settings, dbengine, cache_redis):
    return cached_app(app_settings, dbengine, cache_redis.url, request.addfinalizer,
                      **{"stackq.ws.allowed_origins": FRIEND})


@pytest.fixture
def browser(capp, fresh_cache, tm, dbsession, upstream):
    return visitor(capp, tm, dbsession)


@pytest.fixture
def results(browser):
    return save_search(browser, "python")


def security_headers(response):
    return {name: response.headers.get(name) for name in SECURITY_HEADERS}


def csp_directives(response):
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def pages(results):
    """Every kind of page: (path, expected status)."""
    return [("/", 200), ("/queries/new", 200), (results, 200), (f"{results}?sort=title", 200),
            (f"{results}?page=2&per_page=50", 200), ("/status", 200),
            ("/static/stackq.css", 200), ("/static/notify.js", 200), ("/ws", 400),
            ("/no-such-page", 404), (f"{results}?sort=nope", 400), ("/?q=%ff", 400)]


def test_every_page_carries_the_security_headers(browser, results):
    for path, status in pages(results):
        answer = browser.get(path, status=status)
        headers = security_headers(answer)
        assert {k: headers[k] for k in FIXED} == FIXED, path
        directives = csp_directives(answer)
        assert directives["frame-ancestors"] == ["'none'"], path
        assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
        assert directives["connect-src"] == ["'self'", "ws://example.com:80",
                                             "wss://friend.example:443"], path


def test_a_cache_hit_carries_the_same_headers_as_the_miss(browser, results):
    for path in ("/", results, f"{results}?sort=votes&page=2"):
        miss = browser.get(path)
        hit = browser.get(path)
        assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT"), path
        assert security_headers(hit) == security_headers(miss), path
        assert all(security_headers(hit).values()), path


def test_the_cache_keeps_pages_without_the_headers_and_per_host(browser, results, capp):
    # The headers are added on the way out: a HIT for another host names that host's socket.
    browser.get(results)
    other = visitor(capp, browser.extra_environ["tm.manager"],
                    browser.extra_environ["app.dbsession"], host="other.example")
    answer = other.get(results)
    assert "ws://other.example:80" in csp_directives(answer)["connect-src"]


def test_pages_holding_a_csrf_token_are_no_store(browser, results):
    form = browser.get("/queries/new")
    assert form.headers["Cache-Control"] == "no-store"
    token = form.html.find("meta", attrs={"name": "csrf-token"})["content"]
    # The form shown again with an error holds the token too.
    again = browser.post("/queries", {"q": "", "site": "stackoverflow", "csrf_token": token},
                         status=400)
    assert again.headers["Cache-Control"] == "no-store"
    assert token in again.text
    assert "no-store" not in browser.get(results).headers.get("Cache-Control", "")


def test_no_page_has_an_inline_script_style_or_handler(browser, results):
    for path, status in pages(results):
        answer = browser.get(path, status=status)
        if "html" not in answer.content_type:
            continue
        soup = BeautifulSoup(answer.text, "html.parser")
        for script in soup.find_all("script"):
            assert script.get("src") and not script.string, (path, str(script))
        assert soup.find_all("style") == [], path
        for element in soup.find_all(True):
            assert "style" not in element.attrs, (path, str(element)[:80])
            assert not [a for a in element.attrs if a.startswith("on")], (path, element.name)


def post_views(app):
    """(route name, path) of every view that takes a POST."""
    introspector = app.registry.introspector
    found = set()
    for view in introspector.get_category("views"):
        methods = view["introspectable"]["request_methods"]
        if methods and "POST" in methods:
            route = view["introspectable"]["route_name"]
            pattern = introspector.get("routes", route)["pattern"]
            found.add((route, pattern.replace("{id:\\d{1,18}}", "1")))
    return sorted(found)


# Forms on cached pages (no token of their own): a POST without the visitor's token asks to
# confirm instead of a 403.
CONFIRMED_FROM_CACHED_PAGES = ("query_refresh", "query_pause", "query_resume")


def test_every_browser_post_needs_the_csrf_token(browser, capp, results):
    posts = post_views(capp)
    assert ("queries", "/queries") in posts
    for route, path in posts:
        if route in CONFIRMED_FROM_CACHED_PAGES:
            # From a cached page (which holds no token): a page asking to confirm, with a
            # token of its own; nothing is queued or changed without one.
            action = route.removeprefix("query_")
            for fields in ({}, {"csrf_token": "forged-token-0123456789"}):
                answer = browser.post(f"{results}/{action}", fields, status=200)
                assert answer.html.select_one('form input[name="csrf_token"]')["value"]
            continue
        if path.startswith("/api/"):
            # The JSON API takes no form at all, so no cross-site form can reach it.
            answer = browser.post(path, {"q": "python", "site": "stackoverflow"}, status=415)
            assert answer.json["errors"], path
            answer = browser.post_json(path, {"q": "python", "site": "stackoverflow"},
                                       headers={"X-CSRF-Token": "forged-token-0123456789"},
                                       status=403)
            continue
        answer = browser.post(path, {"q": "python", "site": "stackoverflow"}, status=403)
        assert "Form expired" in answer.text, path
        answer = browser.post(path, {"q": "python", "csrf_token": "forged-token-0123456789"},
                              status=403)
        assert "Form expired" in answer.text, path
    # Nothing stored but the one search the `results` fixture saved, not paused; nothing queued.
    rows = browser.get("/").html.select("table.searches tbody tr")
    assert len(rows) == 1 and "Paused" not in rows[0].get_text()
    assert browser.get("/api/tasks").json["tasks"] == []


@pytest.mark.parametrize("query", [
    {"sort": "title; DROP TABLE questions"}, {"sort": "id"}, {"sort": "score desc"},
    {"order": "random"}, {"order": "asc, title"}, {"sort": "TITLE"}, {"per_page": "1000"},
])
def test_sort_and_order_are_whitelisted(browser, results, query):
    answer = browser.get(results, query, status=400)
    name = next(iter(query))
    assert f"{name} must be one of" in answer.html.select_one(".error").text
