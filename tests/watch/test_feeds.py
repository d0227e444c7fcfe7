"""The history page and the Atom feeds, read as a browser and a feed reader would: after an
emulator mutation and one refresh cycle, through the app with the response cache on, on the
module's own database and Redis."""

import gzip

import feedparser
import pytest
import webob
import webtest
from sqlalchemy import text as text_sql

from stackq.testing.emulator import HOSTILE_QUESTION_IDS
from stackq.watch.feed import text
from tests.support.apps import stackq_app
from tests.support.refresh_cycles import run_cycle

STACK_SETTINGS = {"stackq.api.key": "watch-tests"}
ATOM = "application/atom+xml"
HOSTILE = "<script>alert(1)</script> &amp; \"x\" 😀 שלום עולם \u202egnp.exe"


@pytest.fixture
def web(clean, request):
    """A browser on the app with the cache on, over the stack's database and Redis."""
    app = stackq_app({**clean.raw_settings, "stackq.cache.ttl": "60"}, clean.engine,
                     request.addfinalizer)
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


def read_feed(web, path, **headers):
    answer = web.get(path, headers=headers)
    assert answer.content_type == ATOM
    feed = feedparser.parse(answer.body)
    assert (feed.bozo, feed.version) == (0, "atom10"), feed.get("bozo_exception")
    return answer, feed


def test_history_page_lists_new_and_changed_with_what_changed(clean, upstream, web):
    search_id = clean.save_search("asyncio")
    mutated = upstream.mutate("stackoverflow", "asyncio", new=2, changed=2)
    run_cycle(clean)

    page = web.get(f"/queries/{search_id}/changes")
    items = page.html.select("ol.changes > li")
    assert len(items) == 4
    kinds = [li["class"][1] for li in items]
    assert sorted(kinds) == ["change-changed", "change-changed", "change-new", "change-new"]
    text = page.html.select_one("ol.changes").get_text()
    assert "Answers: " in text and " → " in text
    for question_id in mutated["new"] + mutated["changed"]:  # the stored copy, the original
        assert page.html.select_one(
            f'ol.changes a[href$="/questions/stackoverflow/{question_id}"]:not(.original)')
        assert page.html.select_one(f'ol.changes a.original[href*="/questions/{question_id}"]')
    results = web.get(f"/queries/{search_id}")
    assert results.html.select_one(f'a[href$="/queries/{search_id}/changes"]')
    assert results.html.select_one(f'link[rel=alternate][type="{ATOM}"]')["href"] == \
        f"http://example.com/queries/{search_id}/feed.atom"
    assert results.html.select_one(f'a.feed-link[href$="/queries/{search_id}/feed.atom"]')
    assert web.get(f"/queries/{search_id}/changes?page=x", status=400)
    assert web.get("/queries/999999/changes", status=404)


def test_feed_has_an_entry_per_new_question_with_stable_ids(clean, upstream, web):
    search_id = clean.save_search("asyncio")
    _, empty = read_feed(web, f"/queries/{search_id}/feed.atom")
    assert empty.entries == [] and empty.feed.title == "stackq: asyncio on Stack Overflow"
    assert web.get("/queries/999999/feed.atom", status=404)
    mutated = upstream.mutate("stackoverflow", "asyncio", new=3, changed=2)
    run_cycle(clean)

    answer, feed = read_feed(web, f"/queries/{search_id}/feed.atom")
    assert answer.headers["X-Cache"] == "MISS"  # the search changed: dropped
    new = [e for e in feed.entries if e.title.startswith("New: ")]
    # An entry's page is the stored copy; the original is its related link.
    assert sorted(int(e.link.rsplit("/", 1)[-1]) for e in new) == sorted(mutated["new"])
    assert all(e.link.startswith("http://example.com/questions/stackoverflow/") for e in new)
    related = [[link.href for link in e.links if link.rel == "related"] for e in new]
    assert all(len(hrefs) == 1 and "stackoverflow.com/questions/" in hrefs[0]
               for hrefs in related)
    assert all(e.id.startswith("tag:example.com,2026:stackq/search/") for e in feed.entries)
    assert all(e.updated_parsed for e in feed.entries)
    assert [link.href for link in feed.feed.links if link.rel == "self"] == \
        [f"http://example.com/queries/{search_id}/feed.atom"]
    again, same = read_feed(web, f"/queries/{search_id}/feed.atom")
    assert again.headers["X-Cache"] == "HIT"
    assert [e.id for e in same.entries] == [e.id for e in feed.entries]
    _, everything = read_feed(web, "/feed.atom")
    assert {e.id for e in feed.entries} <= {e.id for e in everything.entries}
    home = web.get("/")
    assert home.html.select_one(f'link[rel=alternate][type="{ATOM}"]')["href"] == \
        "http://example.com/feed.atom"


@pytest.mark.parametrize("path", ["/queries/{id}/feed.atom", "/feed.atom"])
def test_a_conditional_get_is_a_304_rendered_or_cached(clean, upstream, web, path):
    path = path.format(id=clean.save_search("asyncio"))
    upstream.mutate("stackoverflow", "asyncio", new=1)
    run_cycle(clean)
    first = web.get(path)
    assert first.etag and first.last_modified
    for validator in ({"If-None-Match": first.headers["ETag"]},
                      {"If-Modified-Since": first.headers["Last-Modified"]}):
        answer = web.get(path, headers=validator, status=304)
        assert answer.body == b""
    assert web.get(path, headers={"If-None-Match": '"other"'}).status_code == 200
    upstream.mutate("stackoverflow", "asyncio", new=1)
    run_cycle(clean)
    assert web.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 200


def test_a_feed_reader_asking_for_gzip_gets_the_cached_feed_compressed(clean, upstream, web):
    path = f"/queries/{clean.save_search('asyncio')}/feed.atom"
    upstream.mutate("stackoverflow", "asyncio", new=3)
    run_cycle(clean)
    plain = web.get(path)  # rendered and kept

    def get(**headers):  # the bytes as sent (webtest would decode them)
        return webob.Request.blank(path, {"HTTP_HOST": "example.com"}, headers=headers) \
            .get_response(web.app)

    reader = {"Accept-Encoding": "gzip, deflate"}
    packed = get(**reader)
    assert (packed.headers["X-Cache"], packed.headers["Content-Encoding"]) == ("HIT", "gzip")
    assert packed.headers["Vary"] == "Accept-Encoding"
    assert int(packed.headers["Content-Length"]) == len(packed.body) < len(plain.body) / 2
    assert gzip.decompress(packed.body) == plain.body
    feed = feedparser.parse(gzip.decompress(packed.body))
    assert (feed.bozo, len(feed.entries)) == (0, 3)
    # Its own validator: a cache in between never takes one set of bytes for the other.
    assert packed.etag != plain.etag
    assert get(**reader, **{"If-None-Match": packed.headers["ETag"]}).status_code == 304
    refused = get(**{"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and refused.body == plain.body
    assert get().headers["Vary"] == "Accept-Encoding"  # the form as stored says so too


def test_a_hostile_title_is_escaped_in_the_feed_and_the_page(clean, upstream, web):
    search_id = clean.save_search("python")
    upstream.retitle("stackoverflow", HOSTILE_QUESTION_IDS["script"], HOSTILE)
    run_cycle(clean)

    answer, feed = read_feed(web, f"/queries/{search_id}/feed.atom")
    assert b"<script>" not in answer.body
    [entry] = [e for e in feed.entries if HOSTILE in e.title]
    assert entry.title == f"Title edited: {HOSTILE}"
    page = web.get(f"/queries/{search_id}/changes")
    assert "<script>alert" not in page.text
    assert any(a.get_text() == f"Title edited: {HOSTILE}"
               for a in page.html.select("ol.changes a"))


def test_history_pages_hold_50_events_and_the_feed_the_newest_50(clean, upstream, web):
    search_id = clean.save_search("asyncio")
    upstream.mutate("stackoverflow", "asyncio", new=60)
    run_cycle(clean)

    first = web.get(f"/queries/{search_id}/changes")
    assert len(first.html.select("ol.changes > li")) == 50
    older = first.html.select_one("nav.pager a[rel=next]")["href"]
    second = web.get(older)
    assert len(second.html.select("ol.changes > li")) == 10
    assert second.html.select_one("nav.pager a[rel=prev]")
    assert not second.html.select_one("nav.pager a[rel=next]")
    ids = [li["id"] for page in (first, second) for li in page.html.select("ol.changes > li")]
    assert ids == sorted(ids, key=lambda i: -int(i.split("-")[1]))  # newest first
    _, feed = read_feed(web, f"/queries/{search_id}/feed.atom")
    assert [e.id.rsplit("/", 1)[1] for e in feed.entries] == [i.split("-")[1] for i in ids[:50]]


def test_characters_xml_cannot_hold_become_a_replacement_character():
    assert text("a\x07<b>&\x00\ud800\ufffe") == "a\ufffd&lt;b&gt;&amp;\ufffd\ufffd\ufffd"
    assert text('\t"\n\'') == "\t&quot;\n&#x27;"


def test_entries_written_at_record_time_read_as_entries_rendered_on_read(clean, upstream, web):
    search_id = clean.save_search("python")
    upstream.mutate("stackoverflow", "python", new=3, changed=3)
    upstream.retitle("stackoverflow", HOSTILE_QUESTION_IDS["script"], HOSTILE)
    run_cycle(clean)
    path = f"/queries/{search_id}/feed.atom"
    headers = {"Cache-Control": "no-cache"}
    written = web.get(path, headers=headers).body
    # Events as recorded before entries were written: the feed renders them on read.
    with clean.engine.begin() as connection:
        assert connection.execute(text_sql("SELECT count(*) FROM search_events "
                                           "WHERE entry IS NULL")).scalar() == 0
        connection.execute(text_sql("UPDATE search_events SET entry = NULL"))
    rendered = web.get(path, headers=headers).body
    assert written == rendered
    titles = [e.title.split(":")[0] for e in feedparser.parse(written).entries]
    assert {"New", "Title edited"} <= set(titles), titles
