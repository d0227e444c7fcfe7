"""Run as `python -m tests.support.hub_probe DATABASE_URL` (tests/archive/search/
test_off_the_hub.py): under gevent's patching, as the web server runs, three searches made
slow at once while a greenlet ticks every 10 ms. Prints, as JSON, each search's total and
how many ticks came while it ran: none if a search held the hub's thread.

Slow: on SQLite, the tag count a search asks of stackq's connection sleeps half a second (the
OS's sleep, not gevent's); on PostgreSQL the threads are locked by another transaction for
half a second. Nothing is committed.
"""

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import transaction  # noqa: E402
from sqlalchemy import text  # noqa: E402

from stackq import models  # noqa: E402
from stackq.archive.search.limit import limited  # noqa: E402
from stackq.archive.search.query import parse_query  # noqa: E402
from stackq.archive.search.service import search  # noqa: E402
from stackq.models.sqlite_functions import tag_counts  # noqa: E402
from tests.support.search_archive import store_archive  # noqa: E402

SLEEP = monkey.get_original("time", "sleep")
HOLD = 0.5


def slow_tag_counts(tags):
    SLEEP(HOLD)
    return tag_counts(tags)


def main(url):
    engine = models.get_engine({"sqlalchemy.url": url})
    factory = models.get_session_factory(engine)
    sqlite = engine.dialect.name == "sqlite"
    managers = [transaction.TransactionManager(explicit=True) for _ in range(3)]
    sessions = []
    for manager in managers:
        manager.begin()
        sessions.append(models.get_tm_session(factory, manager))
    if sqlite:
        store_archive(sessions[0])  # seen by that session only: the others search nothing
        for session in sessions:
            raw = session.connection().connection.driver_connection
            raw.create_function("stackq_tag_counts", 1, slow_tag_counts)
    else:
        locker = engine.connect()
        locker.execute(text("LOCK TABLE search_threads IN ACCESS EXCLUSIVE MODE"))
        gevent.spawn_later(HOLD, locker.rollback)
    ticks = [0]

    def tick():
        while True:
            gevent.sleep(0.01)
            ticks[0] += 1

    ticker = gevent.spawn(tick)

    def one(session):
        before = ticks[0]
        results = limited(session, 10, search, parse_query("zorblax"), "relevance", 1, 25)
        return {"total": results.total, "ticks": ticks[0] - before}

    runs = [gevent.spawn(one, session) for session in sessions]
    gevent.joinall(runs, raise_error=True)
    ticker.kill()
    for manager in managers:
        manager.abort()
    engine.dispose()
    print(json.dumps([run.value for run in runs]))


if __name__ == "__main__":
    main(sys.argv[1])
