"""The plan of a refresh cycle: what it will ask the API, and what the daily quota allows.

A cycle costs one call per search it refreshes (`sort=activity&min=...`: what changed, more
only while `has_more`), plus its share of the rolling re-read (`/questions/{ids}`, 100 ids a
call, every stored question once per `full_every`) and of the totals (each search's once per
`full_every`), plus a call per 100 questions whose stored answers fell behind their
`answer_count` (`/questions/{ids}/answers`, counted as one call though a batch with more than
100 answers takes more: a re-read or a refresh saw the count move). What the quota allows:
every mirror's calls left today (the lowest its answers said) less the reserve kept for
people browsing, shared evenly by the cycles left until the quota renews. Pure values in, a
plan out: `now` is an argument, so a test can run a day.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

IDS_PER_CALL = 100
# Without any answer yet today, a mirror is assumed to have its whole day left.
KEYLESS_QUOTA, KEYED_QUOTA = 300, 10000
DAY = 86400.0
EPOCH = datetime(1970, 1, 1)  # times are naive UTC, as stored


@dataclass(frozen=True)
class PlanSettings:
    interval: float = 600.0
    full_every: float = DAY
    reserve: float = 0.2  # share of the daily quota never spent by the refresher
    has_key: bool = False
    watch_keep_days: int = 90  # the cycle prunes change histories older than this


def plan_settings(settings, interval=None):
    """The PlanSettings of typed `Settings` (`interval`: --interval, when given)."""
    return PlanSettings(interval=float(interval or settings.refresh_interval),
                        full_every=settings.refresh_full_every,
                        reserve=settings.refresh_quota_reserve, has_key=bool(settings.api_key),
                        watch_keep_days=settings.watch_keep_days)


@dataclass(frozen=True)
class Quota:
    """Calls left on every mirror until `renews_at`, and their daily limit."""

    remaining: int
    limit: int
    renews_at: datetime
    mirrors: int = 1

    def spendable(self, reserve):
        """What the refresher may still spend: never the reserve."""
        return max(0, self.remaining - math.ceil(reserve * self.limit))


@dataclass(frozen=True)
class SearchState:
    id: int
    site_id: int
    opened_at: datetime | None
    refreshed_at: datetime | None
    total_at: datetime | None


@dataclass(frozen=True)
class SiteState:
    """One site's distinct stored questions: how many, and when the chunks to re-read next
    (100 each, least recently read first) were read, by their oldest question."""

    site_id: int
    distinct: int
    chunk_ages: tuple = ()
    stale_answers: int = 0  # questions whose stored answers are behind their answer count


@dataclass
class CyclePlan:
    budget: int  # calls this cycle may make
    spendable: int  # calls left today above the reserve
    cycles_left: int  # cycles until the quota renews, this one included
    searches: list = field(default_factory=list)  # ids to ask what changed, in order
    rereads: dict = field(default_factory=dict)  # site id -> calls of /questions/{ids}
    answers: dict = field(default_factory=dict)  # site id -> calls of /questions/{ids}/answers
    totals: list = field(default_factory=list)  # search ids whose total is counted again
    left: list = field(default_factory=list)  # search ids left for a later cycle
    renews_at: datetime | None = None

    @property
    def calls(self):
        return (len(self.searches) + sum(self.rereads.values()) + sum(self.answers.values())
                + len(self.totals))

    @property
    def stopped_for_the_day(self):
        return self.spendable == 0


def quota_from_status(status, now, has_key):
    """The Quota of all mirrors from the access layer's status (`AccessStatus`)."""
    default = KEYED_QUOTA if has_key else KEYLESS_QUOTA
    remaining = limit = 0
    renews = next_midnight(now)
    for mirror in status.mirrors:
        most = mirror.quota_max or default
        limit += most
        remaining += most if mirror.quota_remaining is None else mirror.quota_remaining
        if mirror.quota_remaining is not None and mirror.quota_resets_in is not None:
            renews = min(renews, now + timedelta(seconds=mirror.quota_resets_in))
    return Quota(remaining, limit, renews, max(1, len(status.mirrors)))


def next_midnight(now):
    return datetime(now.year, now.month, now.day) + timedelta(days=1)


def spread(rate, interval, now):
    """A whole number of things for the cycle at `now`, `rate` a cycle on average.

    Spread evenly by the clock: cycle c takes floor((c+1)·r) − floor(c·r), so fractions add
    up across cycles without any state kept.
    """
    cycle = math.floor((now - EPOCH).total_seconds() / interval)
    return math.floor((cycle + 1) * rate) - math.floor(cycle * rate)


def cycles_until(renews_at, now, interval):
    return max(1, math.ceil((renews_at - now).total_seconds() / interval))


def plan_cycle(searches, sites, quota, now, settings):
    """The cycle to run at `now`: within the budget, most wanted work first.

    Order: searches opened since they were last refreshed (most recent first), answers that
    fell behind, the re-reads and totals due, then the least recently refreshed searches.
    """
    spendable = quota.spendable(settings.reserve)
    cycles_left = cycles_until(quota.renews_at, now, settings.interval)
    # The pace is rounded down to 1/64 of a call, so it stays the same from cycle to cycle
    # and `spread` turns it into whole calls evenly (the last cycle takes what is left).
    pace = math.floor(spendable / cycles_left * 64) / 64
    plan = CyclePlan(budget=min(spendable, spread(pace, settings.interval, now)),
                     spendable=spendable, cycles_left=cycles_left, renews_at=quota.renews_at)
    wanted = []
    opened = sorted((s for s in searches if s.opened_at and (
        s.refreshed_at is None or s.opened_at > s.refreshed_at)),
        key=lambda s: s.opened_at, reverse=True)
    wanted += [("search", s.id) for s in opened]
    wanted += [("answers", site.site_id) for site in sites
               for _ in range(math.ceil(site.stale_answers / IDS_PER_CALL))]
    wanted += background_due(searches, sites, now, settings)
    chosen = {s.id for s in opened}
    rest = sorted((s for s in searches if s.id not in chosen),
                  key=lambda s: (s.refreshed_at is not None, s.refreshed_at or now, s.id))
    wanted += [("search", s.id) for s in rest]
    for kind, key in wanted:
        if plan.calls >= plan.budget:
            if kind == "search":
                plan.left.append(key)
            continue
        if kind == "search":
            plan.searches.append(key)
        elif kind in ("reread", "answers"):
            counts = plan.rereads if kind == "reread" else plan.answers
            counts[key] = counts.get(key, 0) + 1
        else:
            plan.totals.append(key)
    return plan


def background_due(searches, sites, now, settings):
    """The re-read chunks and totals due this cycle, least recently done first.

    Together they cost (chunks + searches) calls per full_every, spread evenly over the
    cycles; any that would be older than full_every by the next cycle are due now anyway.
    """
    work = [(age, "reread", site.site_id) for site in sites for age in site.chunk_ages]
    work += [(search.total_at, "total", search.id) for search in searches]
    work.sort(key=lambda w: (w[0] is not None, w[0] or now, w[1], w[2]))
    chunks = sum(math.ceil(site.distinct / IDS_PER_CALL) for site in sites)
    rate = (chunks + len(searches)) * settings.interval / settings.full_every
    stale = now - timedelta(seconds=settings.full_every - settings.interval)
    overdue = sum(1 for age, _, _ in work if age is None or age <= stale)
    due = max(spread(rate, settings.interval, now), overdue)
    return [(kind, key) for _, kind, key in work[:due]]


def refresh_every(searches, distinct_by_site, calls_a_day, settings):
    """Seconds between two refreshes of a search, on average, when `calls_a_day` may be spent.

    The re-read and the totals come first (their daily cost is fixed); the rest is shared by
    the searches, one call each per refresh, never more often than every interval.
    """
    if not searches:
        return settings.interval
    per_day = DAY / settings.full_every
    fixed = per_day * (searches + sum(math.ceil(n / IDS_PER_CALL) for n in distinct_by_site))
    left = calls_a_day - fixed
    if left <= 0:
        return None  # the quota does not even cover the re-read
    return max(settings.interval, DAY * searches / left)


def daily_allowance(mirrors, limit, reserve):
    """Calls a day the refresher may spend on `mirrors` mirrors of `limit` calls each."""
    return mirrors * (limit - math.ceil(reserve * limit))
