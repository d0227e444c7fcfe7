"""The after-commit hook: whoever commits (a script's plain session, pyramid_tm), the
searches written have their cached pages dropped, then the notices queued are published;
a transaction that does not commit does neither; Redis down never fails the commit.

On the module's own database and Redis (tests/support/stack.py), whose session factory
is the app's, as refresh_queries and stackq_harvest get it."""

import logging

import pytest
import webtest
from sqlalchemy import insert, select

from stackq.cache import store
from stackq.infra.clock import utcnow
from stackq.infra.registry import DBSESSION_FACTORY
from stackq.models import FetchedPage, RefreshRun, SavedSearch, Site
from stackq.notify import queue_query_updated
from tests.support.apps import stackq_app
from tests.support.events import every_event
from tests.support.searches import save_search
from tests.support.serverproc import free_port


def new_search(stack, q="hook"):
    """A saved search written past the app's sessions (nothing dropped, nothing told)."""
    with stack.engine.begin() as connection:
        site = connection.scalar(select(Site.id).where(Site.api_site_parameter == "stackoverflow"))
        return connection.execute(insert(SavedSearch).values(
            site_id=site, q=q, tagged="", created_at=utcnow())).inserted_primary_key[0]


def cached_page(stack, search_id):
    """A page of the search kept in the cache, as the web process stores one; its digest."""
    digest = f"page-of-{search_id}"
    key = store.search_generation(search_id)
    _, generation = store.claim(stack.redis, digest, key, 10)
    store.save(stack.redis, digest, store.Entry(200, [], b"old", 0.0, generation), 60)
    return digest


def still_cached(stack, search_id, digest):
    return store.lookup(stack.redis, digest, store.search_generation(search_id)) is not None


def write_page(dbsession, search_id, notice=True):
    """What a harvest's page does: rows of the search, and a notice of it queued."""
    dbsession.add(FetchedPage(search_id=search_id, sort="votes", direction="desc", page=1,
                              fetched_at=utcnow(), has_more=False, item_count=0))
    if notice:
        queue_query_updated(dbsession, query_id=search_id, q="hook", site="stackoverflow",
                            new=1, changed=0, removed=0, at=utcnow())


def test_a_scripts_commit_drops_the_pages_then_publishes_its_notices(clean, events):
    search_id = new_search(clean)
    digest = cached_page(clean, search_id)
    with clean.session_factory() as dbsession:  # a plain session, as a script's
        write_page(dbsession, search_id)
        assert still_cached(clean, search_id, digest)  # nothing before the commit
        dbsession.commit()
    assert not still_cached(clean, search_id, digest)
    sent = every_event(events, 3, timeout=1.0)
    assert [(e["type"], e.get("query_ids", e.get("query_id"))) for e in sent] == [
        ("cache_invalidated", [search_id]), ("query_updated", search_id)]
    assert (sent[1]["new"], sent[1]["q"]) == (1, "hook")


def test_a_session_factory_begin_block_is_acted_on_once_it_commits(clean, events):
    search_id = new_search(clean)
    with clean.session_factory.begin() as dbsession:
        write_page(dbsession, search_id, notice=False)
        dbsession.flush()
        assert every_event(events, 1, timeout=0.3) == []
    assert [e["type"] for e in every_event(events, 2, timeout=1.0)] == ["cache_invalidated"]


@pytest.mark.parametrize("undo", ["rollback", "close"])
def test_a_transaction_that_does_not_commit_drops_and_tells_nothing(clean, events, undo):
    search_id = new_search(clean)
    digest = cached_page(clean, search_id)
    with clean.session_factory() as dbsession:
        write_page(dbsession, search_id)
        dbsession.flush()
        getattr(dbsession, undo)()
        # What the undone transaction collected is gone: the next commit has its own.
        dbsession.add(RefreshRun(started_at=utcnow(), state="finished", runner="test"))
        dbsession.commit()
    assert still_cached(clean, search_id, digest)
    assert every_event(events, 1, timeout=1.0) == []
    with clean.session() as dbsession:
        assert dbsession.scalar(select(FetchedPage).where(FetchedPage.search_id == search_id)) \
            is None


def test_redis_down_is_logged_and_the_commit_stands(clean, caplog):
    """A process whose Redis is gone: the listeners warn, the rows are committed."""
    app = stackq_app({**clean.raw_settings, "redis.url": f"redis://127.0.0.1:{free_port()}/0"},
                     clean.engine)
    search_id = new_search(clean)
    with caplog.at_level(logging.WARNING):
        with app.registry[DBSESSION_FACTORY]() as dbsession:
            write_page(dbsession, search_id)
            dbsession.commit()
    with clean.session() as dbsession:
        assert dbsession.get(FetchedPage, (search_id, "votes", "desc", 1)) is not None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(f"could not drop cached pages of searches [{search_id}]" in w for w in warnings)
    assert any("1 notices not sent" in w for w in warnings)
    assert [r for r in caplog.records if r.levelno > logging.WARNING] == []


def test_a_request_committed_by_pyramid_tm_drops_the_pages_it_changed(request, clean):
    """The web path, committed for real: a new search drops the home page; the results page
    fetched on demand is stored under the generation its own commit bumped."""
    browser = webtest.TestApp(stackq_app(clean.raw_settings, clean.engine, request.addfinalizer),
                              extra_environ={"HTTP_HOST": "example.com"})
    assert [browser.get("/").headers["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]
    results = save_search(browser, "after commit")
    home = browser.get("/")
    assert home.headers["X-Cache"] == "MISS" and "after commit" in home.text
    assert [browser.get(results).headers["X-Cache"] for _ in range(2)] == ["MISS", "HIT"]


def test_a_process_without_the_response_cache_still_drops_what_it_commits(clean):
    """A refresher or harvester with STACKQ_CACHE_TTL=0 serves no page, but the web processes
    keep theirs: its commits drop them all the same."""
    app = stackq_app({**clean.raw_settings, "stackq.cache.ttl": "0"}, clean.engine)
    search_id = new_search(clean)
    digest = cached_page(clean, search_id)
    with app.registry[DBSESSION_FACTORY]() as dbsession:
        write_page(dbsession, search_id, notice=False)
        dbsession.commit()
    assert not still_cached(clean, search_id, digest)
