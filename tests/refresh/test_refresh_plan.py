"""The refresh planner and the re-ranking of stored pages, on plain values."""

import math
from datetime import datetime, timedelta

import pytest

from stackq.infra import registry
from stackq.infra.settings import SettingsError, load_settings
from stackq.refresh.diff import Shown
from stackq.refresh.plan import (
    DAY,
    PlanSettings,
    Quota,
    SearchState,
    SiteState,
    daily_allowance,
    next_midnight,
    plan_cycle,
    refresh_every,
)
from stackq.refresh.rank import rank_window
from stackq.web.templating import format_duration

MIDNIGHT = datetime(2026, 12, 2)
TEN_MINUTES = PlanSettings(interval=600, full_every=DAY, reserve=0.2)


def searches(count, site_id=1, refreshed=MIDNIGHT, **fields):
    return [SearchState(i, site_id, fields.get("opened_at"), refreshed, refreshed)
            for i in range(1, count + 1)]


def day_quota(remaining, limit=300, now=MIDNIGHT):
    return Quota(remaining, limit, next_midnight(now))


def test_a_cycle_never_spends_the_reserve():
    plan = plan_cycle(searches(50), [], Quota(70, 300, MIDNIGHT + timedelta(minutes=5)),
                      MIDNIGHT, TEN_MINUTES)
    # 70 left, 60 of them the reserve: one cycle before renewal may spend 10, no more.
    assert (plan.spendable, plan.budget, plan.calls) == (10, 10, 10)
    assert len(plan.left) == 40
    out = plan_cycle(searches(50), [], Quota(60, 300, MIDNIGHT + timedelta(hours=5)),
                     MIDNIGHT, TEN_MINUTES)
    assert (out.calls, out.stopped_for_the_day, len(out.left)) == (0, True, 50)


def test_a_day_of_plans_spends_the_allowance_evenly_and_never_more():
    state = searches(20)
    now, left, spent = MIDNIGHT, 300, []
    while now < MIDNIGHT + timedelta(days=1):
        plan = plan_cycle(state, [], day_quota(left, now=now), now, TEN_MINUTES)
        spent.append(plan.calls)
        left -= plan.calls
        now += timedelta(minutes=10)
    assert sum(spent) <= 240
    assert sum(spent) >= 235  # the share is used, not left idle
    # Evenly: every 6 hours of the day get about a quarter of it.
    quarters = [sum(spent[i:i + 36]) for i in range(0, 144, 36)]
    assert max(quarters) - min(quarters) <= 4, quarters


def test_opened_searches_first_then_background_work_then_least_recently_refreshed():
    now = MIDNIGHT + timedelta(hours=3)
    state = [SearchState(1, 1, None, now - timedelta(hours=1), now),
             SearchState(2, 1, now - timedelta(minutes=1), now - timedelta(minutes=30), now),
             SearchState(3, 1, None, now - timedelta(hours=2), now),
             SearchState(4, 1, now - timedelta(minutes=5), now - timedelta(minutes=20), now),
             SearchState(5, 1, now - timedelta(hours=3), now - timedelta(minutes=10), now)]
    # Site 1's oldest chunk was read more than full_every ago: due now, before any other.
    sites = [SiteState(1, 250, (now - timedelta(days=2), now, now))]
    plan = plan_cycle(state, sites, day_quota(10_000, 10_000, now), now, TEN_MINUTES)
    # 5 was opened before it was last refreshed: not a reason to go first.
    assert plan.searches == [2, 4, 3, 1, 5]
    assert plan.rereads == {1: 1}
    tight = plan_cycle(state, sites, Quota(2000 + 3, 10_000, now + timedelta(minutes=5)), now,
                       TEN_MINUTES)
    assert (tight.searches, tight.rereads, tight.left) == ([2, 4], {1: 1}, [3, 1, 5])


def test_answers_that_fell_behind_are_planned_after_opened_searches_a_call_per_100():
    now = MIDNIGHT + timedelta(hours=3)
    state = [SearchState(1, 1, now - timedelta(minutes=1), now - timedelta(minutes=30), now),
             SearchState(2, 1, None, now - timedelta(hours=1), now)]
    sites = [SiteState(1, 250, (now - timedelta(days=2), now, now), stale_answers=150),
             SiteState(2, 80, (now,), stale_answers=0)]
    plan = plan_cycle(state, sites, day_quota(10_000, 10_000, now), now, TEN_MINUTES)
    assert (plan.searches, plan.answers, plan.rereads) == ([1, 2], {1: 2}, {1: 1})
    assert plan.calls == 2 + 2 + 1
    # Three calls allowed: the opened search, then both answer calls; the rest waits.
    tight = plan_cycle(state, sites, Quota(2000 + 3, 10_000, now + timedelta(minutes=5)), now,
                       TEN_MINUTES)
    assert (tight.searches, tight.answers, tight.rereads, tight.left) == ([1], {1: 2}, {}, [2])


def test_rereads_and_totals_cost_their_share_of_a_full_every_and_no_more():
    chunks = [MIDNIGHT - timedelta(minutes=i) for i in range(15)]  # site 1, 1,450 questions
    totals = {i: MIDNIGHT for i in range(1, 21)}
    now, done = MIDNIGHT, 0
    for _ in range(2 * 144):
        state = [SearchState(i, 1, None, now, at) for i, at in totals.items()]
        sites = [SiteState(1, 1450, tuple(sorted(chunks)))]
        plan = plan_cycle(state, sites, day_quota(10_000, 10_000, now), now, TEN_MINUTES)
        work = plan.rereads.get(1, 0) + len(plan.totals)
        assert work <= 2
        done += work
        chunks = sorted(chunks)[plan.rereads.get(1, 0):] + [now] * plan.rereads.get(1, 0)
        totals.update({i: now for i in plan.totals})
        # Never older than full_every: each chunk and each total at least once a day.
        assert min(chunks) > now - timedelta(days=1) and min(totals.values()) > now - timedelta(
            days=1)
        now += timedelta(minutes=10)
    # 15 chunks and 20 totals a day, spread over the cycles.
    assert 2 * 35 <= done <= 2 * 35 + 2


def test_refresh_every_is_the_worked_example_of_docs_api_limits():
    # 20 searches on one site, 1,500 distinct stored questions, one mirror, 20 % kept.
    every = {limit: refresh_every(20, [1500], daily_allowance(1, limit, 0.2), TEN_MINUTES)
             for limit in (300, 10_000)}
    assert format_duration(every[300]) == "2 h 20 min"
    assert format_duration(every[10_000]) == "10 min"
    assert refresh_every(200, [20_000], daily_allowance(1, 300, 0.2), TEN_MINUTES) is None


@pytest.mark.parametrize("text, seconds", [("24h", DAY), ("90m", 5400), ("3600", 3600),
                                           ("1d", DAY), ("45s", 45)])
def test_full_every_takes_hours_minutes_or_seconds(text, seconds):
    raw = load_settings({"stackq.refresh.full_every": text}, here="/tmp", environ={})
    assert raw[registry.SETTINGS].refresh_full_every == seconds


@pytest.mark.parametrize("text, share", [("20%", 0.2), ("0.2", 0.2), ("0", 0.0), ("5 %", 0.05)])
def test_quota_reserve_is_a_share(text, share):
    raw = load_settings({}, here="/tmp", environ={"STACKQ_REFRESH_QUOTA_RESERVE": text})
    assert math.isclose(raw[registry.SETTINGS].refresh_quota_reserve, share)


@pytest.mark.parametrize("key, text", [("stackq.refresh.full_every", "soon"),
                                       ("stackq.refresh.full_every", "0"),
                                       ("stackq.refresh.quota_reserve", "100%"),
                                       ("stackq.refresh.quota_reserve", "lots")])
def test_bad_refresh_settings_are_refused_by_name(key, text):
    with pytest.raises(SettingsError, match=key):
        load_settings({key: text}, here="/tmp", environ={})


def shown(pk, activity, votes=0):
    return Shown(f"{pk}", activity=MIDNIGHT + timedelta(minutes=activity),
                 creation=MIDNIGHT - timedelta(days=pk), votes=votes, question_id=pk)


def test_activity_window_takes_the_newly_active_on_top_and_keeps_its_length():
    before = {pk: shown(pk, pk) for pk in range(1, 6)}  # 5 is the most active
    after = {**before, 2: shown(2, 100), 9: shown(9, 90)}
    ranked = rank_window([5, 4, 3, 2, 1], before, after, "activity", "desc", complete=False)
    assert ranked == [2, 9, 5, 4, 3, 1]  # cut to the window's pages by the caller


def test_a_question_reactivated_leaves_an_ascending_activity_window():
    before = {pk: shown(pk, pk) for pk in range(1, 8)}
    after = {**before, 2: shown(2, 100)}
    ranked = rank_window([1, 2, 3], before, after, "activity", "asc", complete=False)
    # 2 is now past the window's last row: upstream it lies beyond the stored pages.
    assert ranked == [1, 3]


def test_votes_window_reorders_by_fresh_scores_within_its_edge():
    before = {pk: shown(pk, 0, votes=10 - pk) for pk in range(1, 6)}  # 1 has 9 votes
    after = {**before, 4: shown(4, 0, votes=20), 2: shown(2, 0, votes=-5)}
    window = [1, 2, 3]  # 4 and 5 are stored, on a page after the window
    ranked = rank_window(window, before, after, "votes", "desc", complete=False)
    assert ranked == [4, 1, 3]
    assert rank_window(window, before, after, "votes", "desc", complete=True) == [4, 1, 3, 5, 2]
