"""Refresh cycles as tests run them: one cycle in this process, a slow one in a real
refresher, and what upstream and the database hold for a search."""

from sqlalchemy import func, select

from stackq.models import Question, RefreshRun, SearchPosition
from stackq.refresh.cycle import RefreshCycle
from stackq.refresh.plan import PlanSettings, Quota, next_midnight
from tests.support.stack import start_refresher
from tests.support.waiting import wait_until

# A plan with no re-read or total ever due, for tests that count a cycle's calls. With the
# default a day, one background call is spread into the cycles of some 10-minute windows of
# the wall clock (4 chunks and totals: one window in 36), so such a count failed in them.
# Spread at (items x interval / full_every) per cycle since 1970, this stays under one
# call for a dozen items for centuries.
ONLY_SEARCHES = PlanSettings(full_every=3e10)


def run_cycle(stack, workers=4, settings=None):
    """One cycle in this process, with a day's keyed quota left (enough for every search);
    `settings`: the plan's (`PlanSettings`, the defaults unless given)."""
    return RefreshCycle(stack.session_factory, stack.api, workers=workers,
                        quota=lambda now: Quota(10000, 10000, next_midnight(now)),
                        settings=settings).run()


def top_ids(upstream, **search):
    """The question ids upstream page 1 (activity, desc) holds now."""
    return [item["question_id"] for item in upstream.search("stackoverflow", **search)[:100]]


def stored_page_one(stack, search_id):
    with stack.session() as dbsession:
        return list(dbsession.scalars(
            select(Question.question_id)
            .join(SearchPosition, SearchPosition.question_id == Question.id)
            .where(SearchPosition.search_id == search_id, SearchPosition.sort == "activity",
                   SearchPosition.direction == "desc")
            .order_by(SearchPosition.position)))


TOPICS = ("asyncio", "django", "sqlalchemy", "postgresql")


def slow_cycle_started(clean, upstream, log_path, *args, backoff=1, latency=0.0,
                       lock_ttl="2"):
    """A refresher one search into a cycle that takes seconds; the saved search ids.

    Every search call is answered after `latency` s with a `backoff`: the next waits that
    long. `lock_ttl`: the refresher's --lock-ttl (None: its default)."""
    ids = [clean.save_search(q) for q in TOPICS]
    for q in TOPICS:
        upstream.mutate("stackoverflow", q, changed=1)
    upstream.configure(backoff={"search/advanced": backoff}, latency=latency)
    ttl = ["--lock-ttl", lock_ttl] if lock_ttl else []
    proc = start_refresher(clean.ini, "--workers", "1", *ttl, *args, log_path=log_path)

    def searches_done():
        with clean.session() as dbsession:
            return dbsession.scalar(select(func.max(RefreshRun.searches)))

    try:
        wait_until(searches_done, 30, "the first search to be refreshed")
    except BaseException:
        proc.kill()
        raise
    return proc, ids
