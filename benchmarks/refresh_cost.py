"""What keeping saved searches fresh costs in API calls: before (every stored page again, in
each order, and each total) and now (what changed, the rolling re-read, totals once a day).

100 saved searches on two sites, 3 stored pages each (300 questions), 40 % of each search's
questions shared with another search of its site; a day of scripted activity (new questions,
answers and edits, score-only changes, deletions), one cycle every 10 minutes. Cycles are
run back to back on a fake clock (CYCLES of them, a day's cycles would take minutes); the
calls are counted at the emulator.

    .venv/bin/python benchmarks/refresh_cost.py
"""

import math
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sqlalchemy import func, select  # noqa: E402

from stackq.infra.clock import utcnow  # noqa: E402
from stackq.models import FetchedPage, Question, SearchResult  # noqa: E402
from stackq.refresh.cycle import RefreshCycle  # noqa: E402
from stackq.refresh.plan import (  # noqa: E402
    DAY,
    KEYED_QUOTA,
    KEYLESS_QUOTA,
    PlanSettings,
    daily_allowance,
    refresh_every,
)
from stackq.testing.emulator import Emulator  # noqa: E402
from stackq.testing.emulator_data import DATA_NOW  # noqa: E402
from stackq.web.templating import format_duration  # noqa: E402
from tests.support.stack import open_stack  # noqa: E402

SITES = ("stackoverflow", "superuser")
SEARCHES_PER_SITE = 50
PAGES = 3
OWN, POOL = 180, 60  # each search: 180 questions of its own, and two pools of 60 shared
CYCLES = int(os.environ.get("CYCLES", "6"))
SETTINGS = PlanSettings(interval=600, full_every=DAY, reserve=0.2, has_key=True)
ORDERS = tuple(("activity", "desc", page) for page in range(1, PAGES + 1))


def build(emulator, stack):
    """The searches: (site, tagged) of each, saved with their pages stored."""
    searches = []
    for site in SITES:
        for i in range(SEARCHES_PER_SITE):
            # Asked over the last months, as on a real site.
            start = DATA_NOW - 120 * 86400 + i * 1800
            emulator.add_questions(site, OWN, [f"own{i}"], created=start, spacing=40_000)
            emulator.add_questions(site, POOL, [f"pool{i}"], created=start + 900, spacing=120_000)
        for i in range(SEARCHES_PER_SITE):
            tagged = f"own{i};pool{i};pool{(i + 1) % SEARCHES_PER_SITE}"
            stack.save_search(site=site, tagged=tagged, orders=ORDERS)
            searches.append((site, tagged))
    return searches


def script_activity(emulator, searches, rng, cycle):
    """About what a busy hour brings a handful of searches, spread over the cycles."""
    for site, tagged in rng.sample(searches, 5):
        emulator.mutate(site, None, tagged=tagged, new=rng.randint(0, 2),
                        changed=rng.randint(0, 3))
    if cycle % 3 == 0:
        for site, tagged in rng.sample(searches, 3):
            emulator.mutate(site, None, tagged=tagged, removed=1, rescored=5)


def main():
    emulator = Emulator().start()
    emulator.configure(max_rate=10_000, keyed_quota=10**7)  # the quota is not measured here
    tmp = Path(tempfile.mkdtemp(prefix="stackq-refresh-cost-"))
    try:
        with open_stack(tmp, emulator.base_url, **{"stackq.api.key": "bench",
                                                   "stackq.api.max_rate": "2000"}) as stack:
            run(emulator, stack)
    finally:
        emulator.stop()


def run(emulator, stack):
    started = time.monotonic()
    searches = build(emulator, stack)
    with stack.session() as dbsession:
        pages = dbsession.scalar(select(func.count()).select_from(FetchedPage))
        distinct = dict(dbsession.execute(
            select(Question.site_id, func.count(SearchResult.question_id.distinct()))
            .join(SearchResult, SearchResult.question_id == Question.id)
            .group_by(Question.site_id)).all())
        stored = dbsession.scalar(select(func.count()).select_from(SearchResult))
        in_two = select(SearchResult.question_id).group_by(SearchResult.question_id).having(
            func.count() > 1)
        shared = dbsession.scalar(select(func.count()).select_from(SearchResult).where(
            SearchResult.question_id.in_(in_two)))
    print(f"{len(searches)} saved searches on {len(SITES)} sites, {pages} stored pages, "
          f"{stored} stored results ({shared / stored:.0%} of them in another search too), "
          f"{sum(distinct.values())} distinct questions; set up in "
          f"{time.monotonic() - started:.0f} s")
    chunks = sum(math.ceil(n / 100) for n in distinct.values())
    floor = len(searches) + chunks * SETTINGS.interval / SETTINGS.full_every
    before = pages + len(searches)  # every stored page again, in its order, and each total
    cycles_a_day = DAY / SETTINGS.interval

    rng, clock = random.Random(14), utcnow()
    counts, ratios = Counter(), []
    for number in range(CYCLES):
        script_activity(emulator, searches, rng, number)
        asked = emulator.stats()["by_method"]
        report = RefreshCycle(stack.session_factory, stack.api, workers=4,
                              settings=SETTINGS, clock=lambda now=clock: now).run()
        calls = Counter(emulator.stats()["by_method"]) - Counter(asked)
        counts.update(calls)
        ratios.append(sum(calls.values()) / floor)
        assert report.errors == 0 and report.searches == len(searches), report
        clock += timedelta(seconds=SETTINGS.interval)
    per_cycle = sum(counts.values()) / CYCLES
    print(f"per cycle: before {before} calls; now {per_cycle:.2f} "
          f"({counts['search/advanced'] / CYCLES:.2f} search/advanced incl. totals, "
          f"{counts['questions'] / CYCLES:.2f} questions/{{ids}}) over {CYCLES} cycles")
    print(f"per day (10-minute cycles): before {before * cycles_a_day:,.0f}; "
          f"now {per_cycle * cycles_a_day:,.0f}")
    print(f"calls / (searches + ceil(distinct/100) x interval/full_every) = "
          f"{per_cycle:.2f} / {floor:.2f}: mean {sum(ratios) / len(ratios):.3f}, "
          f"worst cycle {max(ratios):.3f} (target <= 1.1)")
    for name, limit in (("keyless", KEYLESS_QUOTA), ("with a key", KEYED_QUOTA)):
        every = refresh_every(len(searches), list(distinct.values()),
                              daily_allowance(1, limit, SETTINGS.reserve), SETTINGS)
        how = (f"each search refreshed about every {format_duration(every)}" if every else
               "not enough: re-reading every stored question once a day needs more")
        print(f"{name} ({limit:,} calls a day, 20 % kept): {how}")
    print(f"total time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
