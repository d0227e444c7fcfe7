"""The response cache on the real app, a real Redis and the emulator: hits, keys, what is
never kept, and pages dropped when their search changes."""

import time

import pytest
from pyramid.csrf import get_csrf_token
from pyramid.interfaces import IRoutesMapper
from pyramid.response import Response

from stackq.cache import CachedPage, invalidate_searches, parameters
from stackq.cache.origin import ROUTES
from stackq.infra.registry import RESPONSE_CACHE
from stackq.infra.settings import SettingsError, load_settings
from tests.support.apps import cached_app, visitor
from tests.support.searches import form_token, save_search, search_id
from tests.support.waiting import wait_until

renders = {"count": 0}


def counted(request):
    renders["count"] += 1
    return Response(f"render {renders['count']}", content_type="text/plain")


def no_store(request):
    response = counted(request)
    response.cache_control = "no-store"  # as a running task's page does
    return response


def token_page(request):
    # A page that carries the visitor's token without being a known form page.
    return Response(f"<p>{get_csrf_token(request)}</p>", content_type="text/html")


def extra_views(config):
    for name, view in (("counted", counted), ("no_store", no_store), ("token", token_page)):
        config.add_route(f"test_{name}", f"/_test/{name}")
        config.add_view(view, route_name=f"test_{name}", cached=CachedPage())
    config.add_route("test_tabbed", "/_test/tabbed")  # a page that reads `tab`
    config.add_view(counted, route_name="test_tabbed", cached=CachedPage(query=parameters("tab")))
    # A page whose author did not opt in: never cached.
    config.add_route("test_plain", "/_test/plain")
    config.add_view(counted, route_name="test_plain")


@pytest.fixture(scope="module")
def capp(request, app_settings, dbengine, cache_redis):
    return cached_app(app_settings, dbengine, cache_redis.url, request.addfinalizer,
                      **{"pyramid.includes": "tests.cache.test_cache.extra_views"})


@pytest.fixture
def browser(capp, fresh_cache, tm, dbsession, upstream):
    return visitor(capp, tm, dbsession)


@pytest.fixture
def results(browser):
    return save_search(browser, "python")


def x_cache(response):
    return response.headers.get("X-Cache")


def test_results_page_is_a_miss_then_a_hit_with_age(browser, results):
    first = browser.get(results)
    second = browser.get(results)
    assert (x_cache(first), x_cache(second)) == ("MISS", "HIT")
    assert second.body == first.body
    assert int(second.headers["Age"]) >= 0
    assert "Age" not in first.headers


def test_defaults_and_parameter_order_make_one_entry(browser, results):
    assert x_cache(browser.get(results + "?page=1&per_page=25")) == "MISS"
    for same in ("?per_page=25&page=1", "", "?order=desc&sort=activity&page=1",
                 "?page=1&per_page=25&utm_source=mail"):
        assert x_cache(browser.get(results + same)) == "HIT", same


def test_junk_parameters_make_no_entries(browser, cache_redis):
    junk = "x" * 3900  # the guard's limit is 4,096 characters of query string
    for n in range(200):
        assert browser.get(f"/?n={n}&p={junk}").status_int == 200
        browser.get(f"/_test/tabbed?tab=a&n={n}&p={junk}")
    assert len(cache_redis.client().keys("stackq:cache:page:*")) == 2  # home, tab=a
    assert x_cache(browser.get("/_test/tabbed?tab=b")) == "MISS"  # what it reads counts
    assert x_cache(browser.get("/_test/tabbed?tab=b&utm=1")) == "HIT"


def test_other_per_page_sort_or_order_are_other_entries(browser, results, cache_redis,
                                                        fresh_cache):
    others = ["?per_page=50", "?sort=votes", "?sort=activity&order=asc", "?page=2"]
    for query in ("", *others):
        browser.get(results + query)  # stores the upstream pages: no drop below
    cache_redis.client().flushall()
    fresh_cache.local.clear()
    browser.get(results)
    assert [x_cache(browser.get(results + q)) for q in others] == ["MISS"] * 4
    assert [x_cache(browser.get(results + q)) for q in others] == ["HIT"] * 4


def test_each_host_name_gets_its_own_entry(capp, browser, results, tm, dbsession):
    # Both names are in stackq.allowed_hosts (a forged one is refused: test_allowed_hosts).
    browser.get(results)
    other = visitor(capp, tm, dbsession, host="other.example")
    page = other.get(results)
    assert x_cache(page) == "MISS"
    assert b"http://example.com/" not in page.body


def test_post_error_pages_and_forms_never_hit(browser, results):
    for _ in range(2):
        token = form_token(browser.get("/queries/new").text)
        created = browser.post("/queries", {"q": "python", "csrf_token": token}, status=303)
        bad = browser.get(results + "?page=abc", status=400)
        missing = browser.get("/queries/99999", status=404)
        form = browser.get("/queries/new")
        static = browser.get("/static/stackq.css")
        for answer in (created, bad, missing, form, static):
            assert x_cache(answer) is None, answer.request.url


def test_no_store_pages_are_rendered_every_time(browser):
    before = renders["count"]
    answers = [browser.get("/_test/no_store") for _ in range(3)]
    assert renders["count"] - before == 3
    assert [x_cache(a) for a in answers] == [None] * 3


def test_a_route_whose_view_does_not_opt_in_is_never_cached(browser, cache_redis):
    before = renders["count"]
    answers = [browser.get("/_test/plain") for _ in range(3)]
    assert renders["count"] - before == 3
    assert [x_cache(a) for a in answers] == [None] * 3
    assert not cache_redis.client().keys("stackq:cache:page:*")


def test_only_the_home_results_history_feed_question_and_search_pages_opt_in(capp):
    opted = {name for name in capp.registry[ROUTES] if not name.startswith("test_")}
    assert opted == {"home", "query", "query_changes", "query_feed", "feed", "question",
                     "search", "api_search"}


def test_no_route_has_a_predicate(capp):
    # A page's key is remembered per path and query (cache/keys.py CacheKeys): a route
    # matched on a header too would break that.
    mapper = capp.registry.getUtility(IRoutesMapper)
    assert [route.name for route in mapper.get_routes() if route.predicates] == []


def test_cacheable_page_renders_once(browser):
    before = renders["count"]
    answers = [browser.get("/_test/counted") for _ in range(3)]
    assert renders["count"] - before == 1
    assert [x_cache(a) for a in answers] == ["MISS", "HIT", "HIT"]


def test_csrf_token_of_one_visitor_never_reaches_another(capp, fresh_cache, tm, dbsession):
    alice, bob = (visitor(capp, tm, dbsession) for _ in range(2))
    alice_token = form_token(alice.get("/queries/new").text)
    # Alice now has her cookie: her next form page sets none, but still holds her token.
    alice_again = alice.get("/queries/new")
    alice_page = alice.get("/_test/token")
    assert alice_token in alice_again.text and alice_token in alice_page.text
    bob_form, bob_page = bob.get("/queries/new"), bob.get("/_test/token")
    bob_token = form_token(bob_form.text)
    assert bob_token != alice_token
    for page in (bob_form, bob_page, bob.get("/queries/new"), bob.get("/_test/token")):
        assert alice_token not in page.text
        assert x_cache(page) is None


def test_token_minted_for_a_first_visit_is_not_kept(capp, fresh_cache, tm, dbsession):
    # The cookie is set by a response callback after every tween has run.
    carol, dave = (visitor(capp, tm, dbsession) for _ in range(2))
    carol_page = carol.get("/_test/token")
    dave_page = dave.get("/_test/token")
    assert "csrf_token" in carol.cookies and "csrf_token" in dave.cookies
    assert carol.cookies["csrf_token"] in carol_page.text
    assert carol.cookies["csrf_token"] not in dave_page.text
    assert x_cache(dave_page) is None


def test_fetching_a_page_on_demand_drops_the_searchs_pages(browser, results):
    # Sorted by title, the page shows only what is stored: nothing yet.
    stored_only = browser.get(results + "?sort=title")
    assert x_cache(browser.get(results + "?sort=title")) == "HIT"
    # Page 1 in activity order is fetched from the API and stored.
    assert x_cache(browser.get(results)) == "MISS"
    after = browser.get(results + "?sort=title")
    assert x_cache(after) == "MISS"
    assert len(after.html.select("tr[data-question-id]")) == 25
    assert len(stored_only.html.select("tr[data-question-id]")) == 0


def test_page_fetched_on_demand_is_kept_for_the_next_visitor(browser, results):
    # The request that fetched page 1 changed its own search, then rendered
    # the result: what it stored is current.
    assert x_cache(browser.get(results)) == "MISS"
    assert x_cache(browser.get(results)) == "HIT"


def test_home_page_is_dropped_when_a_search_is_created(browser):
    assert x_cache(browser.get("/")) == "MISS"
    assert x_cache(browser.get("/")) == "HIT"
    save_search(browser, "asyncio")
    home = browser.get("/")
    assert x_cache(home) == "MISS"
    assert "asyncio" in home.text


def test_invalidate_searches_from_another_process(browser, results, cache_redis, fresh_cache):
    other_search = save_search(browser, "rust")
    for path in (results, other_search, "/"):
        browser.get(path)
        assert x_cache(browser.get(path)) == "HIT"
    epoch = fresh_cache.local.epoch
    assert invalidate_searches(cache_redis.client(), [search_id(results)]) is True
    # The event reaches this process's listener, which drops its local copies.
    assert wait_until(lambda: fresh_cache.local.epoch > epoch, timeout=5)
    assert x_cache(browser.get(results)) == "MISS"
    assert x_cache(browser.get("/")) == "MISS"
    assert x_cache(browser.get(other_search)) == "HIT"


def test_second_process_gets_hits_from_redis(request, app_settings, dbengine, cache_redis,
                                             browser, results, tm, dbsession):
    first = browser.get(results)
    other_process = cached_app(app_settings, dbengine, cache_redis.url, request.addfinalizer)
    page = visitor(other_process, tm, dbsession).get(results)
    assert x_cache(page) == "HIT"
    assert page.body == first.body


def test_ttl_expiry(request, app_settings, dbengine, cache_redis, fresh_cache, tm, dbsession,
                    upstream):
    short = visitor(cached_app(app_settings, dbengine, cache_redis.url, request.addfinalizer,
                               **{"stackq.cache.ttl": "1"}), tm, dbsession)
    assert [x_cache(short.get("/")) for _ in range(2)] == ["MISS", "HIT"]
    assert wait_until(lambda: x_cache(short.get("/")) == "MISS", timeout=3, interval=0.1)


def test_cache_ttl_zero_turns_the_cache_off(testapp):
    # The shared test app runs with stackq.cache.ttl = 0.
    assert [x_cache(testapp.get("/")) for _ in range(2)] == [None, None]


def test_hard_reload_renders_for_that_request_only(browser):
    before = renders["count"]
    browser.get("/_test/counted")
    fresh = browser.get("/_test/counted", headers={"Cache-Control": "no-cache"})
    assert x_cache(fresh) == "BYPASS"
    assert x_cache(browser.get("/_test/counted")) == "HIT"
    assert renders["count"] - before == 2


def test_local_copies_live_at_most_a_second(browser, cache_redis, fresh_cache, monkeypatch):
    now = [time.time()]
    monkeypatch.setattr(fresh_cache.local, "clock", lambda: now[0])
    assert x_cache(browser.get("/_test/counted")) == "MISS"
    cache_redis.client().flushall()
    # Redis has nothing now; the process's own copy still answers, briefly (at least
    # half the ttl, a random share of it beyond: tests/cache/test_cache_local.py).
    now[0] += 0.49
    assert x_cache(browser.get("/_test/counted")) == "HIT"
    now[0] += 0.52
    assert x_cache(browser.get("/_test/counted")) == "MISS"


def test_stackq_cache_ttl_0_in_the_environment_turns_the_cache_off(
        monkeypatch, app_settings, dbengine, cache_redis, tm, dbsession, upstream):
    monkeypatch.setenv("STACKQ_CACHE_TTL", "0")
    app = cached_app(app_settings, dbengine, cache_redis.url)
    assert RESPONSE_CACHE not in app.registry
    browser = visitor(app, tm, dbsession)
    assert [x_cache(browser.get("/")) for _ in range(2)] == [None, None]


def test_local_copies_may_not_outlive_a_second(app_settings):
    with pytest.raises(SettingsError, match="stackq.cache.local_ttl"):
        load_settings({**app_settings, "stackq.cache.local_ttl": "5"}, environ={})
