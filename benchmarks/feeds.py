"""A search's Atom feed with 10,000 recorded events, on one real server: requests per second
rendered for every request and from the response cache, each against a bare Pyramid view.

Run: .venv/bin/python benchmarks/feeds.py   (needs wrk: apt-get install wrk)

Reading a feed is one indexed query for the newest 50 events (the history is written at
refresh time, never diffed on read), so its cost should not grow with the history.
Targets (issue 26): uncached >= 0.25 of the bare view, cached >= 1.0. "Uncached" is the feed
asked with `Cache-Control: no-cache` (X-Cache: BYPASS: rendered, nothing looked up).
Every request says `Accept-Encoding: gzip`, as feed readers' do: a hit is then sent gzipped
(stackq/cache/encoding.py), compressed once per local copy; the bare view and a render ignore
it. The cached feed is measured without it too, sent as stored (40 KB).
"""

import argparse
import os
import statistics
import sys
import tempfile
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import create_engine, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from benchmarks.harness import create_search, response_header, stackq_server, wrk  # noqa: E402
from stackq.models import SearchEvent, SearchResult  # noqa: E402
from stackq.watch.entries import with_entries  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

NO_CACHE = "Cache-Control: no-cache"
GZIP = "Accept-Encoding: gzip"
KINDS = ("new", "changed", "changed", "removed")
CHANGES = '[["score", 12, 40], ["answers", 1, 2]]'


def record_events(database, search_id, count):
    """`count` events of the search's stored questions, one a minute up to now, each with its
    entry's text as a refresh writes it."""
    engine = create_engine(f"sqlite:///{database}")
    start = datetime(2026, 12, 1) - timedelta(minutes=count)
    with Session(engine) as db, db.begin():
        pks = list(db.scalars(select(SearchResult.question_id)
                              .where(SearchResult.search_id == search_id)))
        db.execute(insert(SearchEvent), with_entries(db, search_id, [
            {"search_id": search_id, "question_id": pks[i % len(pks)], "api_id": 10**6 + i,
             "title": f"Event {i}: <b>why</b> & “how” — ünïcödé", "kind": KINDS[i % 4],
             "changes": CHANGES if KINDS[i % 4] == "changed" else "[]",
             "seen_at": start + timedelta(minutes=i)} for i in range(count)]))
    engine.dispose()


def measure(env, database, events, rounds, measure_args):
    """Median (bare, cached, cached as stored, uncached) req/s on one fresh server."""
    runs = {"bare": [], "cached": [], "identity": [], "uncached": []}
    with stackq_server(env) as (server, _):
        results = create_search(server.url, "python")
        search_id = int(results.rstrip("/").rsplit("/", 1)[1])
        record_events(database, search_id, events)
        feed = f"{server.url}/queries/{search_id}/feed.atom"
        response_header(feed, "X-Cache", {"Cache-Control": "no-cache"})
        response_header(feed, "X-Cache")  # stored
        if response_header(feed, "X-Cache") != "HIT":
            raise SystemExit(f"{feed} is not served from the cache")
        if response_header(feed, "Content-Encoding", {"Accept-Encoding": "gzip"}) != "gzip":
            raise SystemExit(f"{feed} is not sent gzipped")
        for _ in range(rounds):
            runs["bare"].append(wrk(server.url + "/_bench/bare", headers=[GZIP], **measure_args))
            runs["cached"].append(wrk(feed, headers=[GZIP], **measure_args))
            runs["identity"].append(wrk(feed, **measure_args))
            runs["uncached"].append(wrk(feed, headers=[GZIP, NO_CACHE], **measure_args))
    return tuple(statistics.median(runs[name])
                 for name in ("bare", "cached", "identity", "uncached"))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    redis_server = RedisServer().start()
    directory = tempfile.mkdtemp(prefix="stackq-feeds-")
    database = os.path.join(directory, "feeds.sqlite")
    try:
        env = {"STACKQ_CACHE_TTL": "60", "STACKQ_REDIS_URL": redis_server.url,
               "STACKQ_SQLALCHEMY_URL": f"sqlite:///{database}"}
        bare, cached, identity, uncached = measure(env, database, args.events, args.rounds,
                                         dict(seconds=args.seconds, connections=args.connections))
    finally:
        redis_server.stop()
    print(f"wrk: {args.connections} connections, {args.rounds} rounds of {args.seconds} s each,"
          f" medians; one pserve (gevent); SQLite; Redis over TCP; {args.events} events")
    print(f"bare Pyramid view              {bare:9.1f} req/s")
    print(f"feed, cached (HIT, gzipped)    {cached:9.1f} req/s")
    print(f"feed, cached (HIT, as stored)  {identity:9.1f} req/s   (no Accept-Encoding)")
    print(f"feed, uncached (50 entries)    {uncached:9.1f} req/s")
    print(f"uncached / bare view    = {uncached / bare:6.3f}   (target >= 0.25)")
    print(f"cached / bare view      = {cached / bare:6.3f}   (target >= 1.0)")
    print(f"cached as stored / bare = {identity / bare:6.3f}")


if __name__ == "__main__":
    main()
