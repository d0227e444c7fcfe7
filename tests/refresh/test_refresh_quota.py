"""Refreshing within the daily quota, against the emulator over HTTP: what one cycle costs and
finds, a keyless day on a fake clock, and /status showing the plan the refresher then runs."""

import math
import urllib.request
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import transaction
from sqlalchemy import func, select

from stackq import models
from stackq.infra.clock import utcnow
from stackq.models import Question, RefreshRun, SavedSearch, SearchPosition, SearchResult
from stackq.refresh.cycle import RefreshCycle
from stackq.refresh.plan import DAY, PlanSettings, next_midnight, quota_from_status
from stackq.searches.ingest import UPSTREAM_PAGE_SIZE
from stackq.searches.results import results_page
from stackq.searches.saved import note_opened
from tests.support.clock import Clock
from tests.support.events import published
from tests.support.stack import run_refresher, running_web, write_ini

SO = "stackoverflow"
TEN_MINUTES = PlanSettings(interval=600, full_every=DAY, reserve=0.2)
# Ten searches of one site that share many questions (a word, and the tag of that word).
SEARCHES = (("asyncio", ""), ("", "asyncio"), ("django", ""), ("", "django"), ("", "python"),
            ("python", ""), ("sql", ""), ("", "sql"), ("javascript", ""), ("", "javascript"))
ORDERS = (("activity", "desc", 1), ("activity", "desc", 2), ("votes", "desc", 1))


def cycle(stack, clock, settings, quota=None):
    return RefreshCycle(stack.session_factory, stack.api, workers=2,
                        settings=settings, clock=clock, quota=quota).run()


def stored_ids(stack, search_id):
    with stack.session() as dbsession:
        return set(dbsession.scalars(
            select(Question.question_id).join(SearchResult, SearchResult.question_id == Question.id)
            .where(SearchResult.search_id == search_id)))


def page_one(stack, search_id, sort="activity"):
    with stack.session() as dbsession:
        return list(dbsession.scalars(
            select(Question.question_id)
            .join(SearchPosition, SearchPosition.question_id == Question.id)
            .where(SearchPosition.search_id == search_id, SearchPosition.sort == sort,
                   SearchPosition.direction == "desc", SearchPosition.position <= 100)
            .order_by(SearchPosition.position)))


def notice_counts(pubsub, timeout=1.0):
    """{query id: Counter of new, changed, removed} over every notice published meanwhile."""
    found = {}
    for event in published(pubsub, "query_updated", timeout):
        found.setdefault(event["query_id"], Counter()).update(
            {k: event[k] for k in ("new", "changed", "removed")})
    return found


def upstream_ids(upstream, q, tagged):
    return [item["question_id"] for item in upstream.search(SO, q=q or None, tagged=tagged or None)]


def test_one_cycle_asks_each_search_what_changed_and_the_reread_finds_the_rest(
        clean, upstream, events):
    upstream.configure(quota=100_000)  # this test is about what a cycle asks, not the quota
    ids = {key: clean.save_search(key[0], tagged=key[1], orders=ORDERS) for key in SEARCHES}
    before = {key: stored_ids(clean, sid) for key, sid in ids.items()}
    with clean.session() as dbsession:
        distinct = dbsession.scalar(select(func.count(SearchResult.question_id.distinct())))
    assert distinct < sum(map(len, before.values()))  # they share questions
    scripted = [upstream.mutate(SO, "asyncio", new=2, changed=3, removed=2, rescored=3),
                upstream.mutate(SO, None, tagged="django", new=1, changed=2, removed=1, rescored=2),
                upstream.mutate(SO, "sql", changed=2, rescored=2)]
    made = {kind: set().union(*(s[kind] for s in scripted)) for kind in scripted[0]}
    requests = upstream.stats()["by_method"]
    clock = Clock(utcnow())

    report = cycle(clean, clock, TEN_MINUTES)

    calls = Counter(upstream.stats()["by_method"]) - Counter(requests)
    assert sum(calls.values()) == report.calls == report.plan.calls
    assert report.calls <= len(SEARCHES) + math.ceil(distinct / 100) * 600 / DAY + 1
    # One call each (nothing had more), and the cycle's share of the totals and re-reads.
    assert calls["search/advanced"] == len(SEARCHES) + len(report.plan.totals)
    assert calls["questions"] == sum(report.plan.rereads.values())
    found = notice_counts(events)
    for key, search_id in ids.items():
        now_upstream = set(upstream_ids(upstream, *key))
        active = (made["new"] | made["changed"]) & now_upstream
        got = found.get(search_id, Counter())
        # New and re-activated questions: all found in this very cycle.
        assert got["new"] == len(active - before[key]), key
        assert active <= stored_ids(clean, search_id)
        reactivated = len(made["changed"] & before[key])
        # Votes and deletions wait for the re-read, which may have reached some already.
        assert reactivated <= got["changed"] <= reactivated + len(made["rescored"] & before[key])
        assert got["removed"] <= len(made["removed"] & before[key])

    # Within one full_every (an hour here) the re-read finds every score-only change and
    # every deletion, each counted once for each search that showed it.
    hourly = replace(TEN_MINUTES, full_every=3600)
    for _ in range(6):
        clock.advance(600)
        cycle(clean, clock, hourly)
    more = notice_counts(events)
    found = {sid: found.get(sid, Counter()) + more.get(sid, Counter()) for sid in ids.values()}
    for key, search_id in ids.items():
        got = found.get(search_id, Counter())
        shown = before[key] - made["removed"]
        assert got["changed"] == len((made["changed"] | made["rescored"]) & shown), key
        assert got["removed"] == len(made["removed"] & before[key]), key
        assert not stored_ids(clean, search_id) & made["removed"]
        # The stored first page is upstream's first page, without fetching it again.
        assert page_one(clean, search_id) == upstream_ids(upstream, *key)[:100], key
        with clean.session() as dbsession:
            assert dbsession.get(SavedSearch, search_id).total == len(upstream_ids(upstream, *key))


TOPICS = (("asyncio", ""), ("django", ""), ("pyramid", ""), ("sqlalchemy", ""),
          ("postgresql", ""), ("mysql", ""), ("typescript", ""), ("react", ""), ("node", ""),
          ("bash", ""), ("docker", ""), ("java", ""), ("", "c#"), ("", "c++"), ("", "go"),
          ("", "rust"), ("", "git"), ("linux", ""), ("", "sql"), ("", "javascript"))


def in_transaction(stack, work):
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        return work(models.get_tm_session(stack.session_factory, tm))


def open_page(stack, search_id, page):
    """A visitor opens page `page` (100 rows, by activity) of a search: the page's ids."""
    def work(dbsession):
        search = dbsession.get(SavedSearch, search_id)
        found = results_page(dbsession, stack.api, search, page, UPSTREAM_PAGE_SIZE, "activity",
                             "desc")
        return [q.question_id for q in found.questions]
    return in_transaction(stack, work)


def test_a_keyless_day_every_ten_minutes_never_spends_the_reserve(clean, upstream):
    ids = [clean.save_search(q, tagged=tagged) for q, tagged in TOPICS]
    setup_calls = upstream.stats()["requests"]
    day = next_midnight(utcnow())
    clock = Clock(day)

    def quota(now):
        # The emulator counts today's calls; on the fake clock the quota renews at the
        # simulated day's end.
        return replace(quota_from_status(clean.api.status(), now, False),
                       renews_at=day + timedelta(days=1))

    opened, refreshed, browsing = ids[:3], Counter(), 0
    while clock.now < day + timedelta(days=1):
        if clock.now.minute == 0:  # someone keeps three searches open all day
            in_transaction(clean, lambda db: [note_opened(db, db.get(SavedSearch, i), clock.now)
                                              for i in opened])
        if clock.now.minute == 0 and clock.now.hour % 3 == 0:
            q, tagged = TOPICS[clock.now.hour % len(TOPICS)]
            upstream.mutate(SO, q or None, tagged=tagged or None, new=1, changed=1)
        if clock.now.hour == 23 and clock.now.minute == 0:
            # Late in the day a visitor opens a page never stored: it needs the API, and works.
            assert len(open_page(clean, ids[-1], 2)) == UPSTREAM_PAGE_SIZE
            browsing += 1
        report = cycle(clean, clock, TEN_MINUTES, quota=quota)
        assert report.errors == 0
        with clean.session() as dbsession:
            refreshed.update(dbsession.scalars(select(SavedSearch.id).where(
                SavedSearch.refreshed_at == clock.now)))
        clock.advance(600)

    spent = upstream.stats()["requests"] - setup_calls - browsing
    print(f"keyless day: {setup_calls} calls saving, {spent} refreshing, {browsing} browsing;"
          f" refreshes of the opened searches {[refreshed[i] for i in opened]}, of the others"
          f" {sorted(refreshed[i] for i in ids if i not in opened)}")
    assert setup_calls + spent <= 300 - 60
    assert spent >= 240 - setup_calls - 5  # its share was used, not left idle
    # The searches people had open were refreshed most often.
    assert min(refreshed[i] for i in opened) > max(refreshed[i] for i in ids if i not in opened)
    assert all(refreshed[i] >= 1 for i in ids)
    # After the refresher's last cycle of the day, pages still work: the reserve is there.
    assert len(open_page(clean, ids[-2], 2)) == UPSTREAM_PAGE_SIZE
    assert quota(clock.now).remaining >= 60 - browsing - 1


def status_plan(server):
    """The plan /status shows: (searches, calls) of the next cycle, and the page's text."""
    with urllib.request.urlopen(server.url + "/status", timeout=10) as answer:
        html = answer.read().decode()
    from bs4 import BeautifulSoup

    plan = BeautifulSoup(html, "html.parser").select_one(".refresh-plan")
    return int(plan["data-searches"]), int(plan["data-calls"]), " ".join(html.split())


def test_the_plan_on_status_is_what_the_refresher_then_does(clean, upstream, tmp_path):
    ids = [clean.save_search(q) for q in ("asyncio", "django", "pyramid")]
    upstream.mutate(SO, "django", new=2, changed=1, removed=1)
    # One cycle a day: the whole day's allowance is this cycle's, everything is due.
    ini = write_ini(tmp_path / "daily.ini", clean.db_url, clean.redis_url, clean.api_url,
                    **{"stackq.refresh.interval": "86400"})
    with running_web("pserve", ini) as server:
        # Opening a search's results is recorded (the refresher takes it first).
        for _ in range(2):
            urllib.request.urlopen(f"{server.url}/queries/{ids[1]}", timeout=10).close()
        with clean.session() as dbsession:
            opened = dbsession.execute(select(SavedSearch.id, SavedSearch.opened_at)).all()
        assert [i for i, at in opened if at is not None] == [ids[1]]
        with urllib.request.urlopen(server.url + "/", timeout=10) as answer:
            home = " ".join(answer.read().decode().split())
        assert "Keyless: each search is refreshed about every 24 h" in home
        searches, calls, text = status_plan(server)
        assert "Keyless: each search is refreshed about every" in text
        requests = upstream.stats()["requests"]
        done = run_refresher(ini, "--once", "--force")
        assert done.returncode == 0, done.stderr
    with clean.session() as dbsession:
        run = dbsession.scalars(select(RefreshRun)).one()
    assert (run.searches, run.calls) == (searches, calls) == (3, upstream.stats()["requests"]
                                                               - requests)
    assert calls > searches  # the re-read and the totals were due too


def test_status_says_when_the_refresher_has_stopped_for_the_day(clean, upstream, tmp_path):
    search_id = clean.save_search("asyncio")
    ini = write_ini(tmp_path / "spent.ini", clean.db_url, clean.redis_url, clean.api_url,
                    **{"stackq.refresh.quota_reserve": "0.995"})
    with running_web("pserve", ini) as server:
        _, calls, text = status_plan(server)
        assert calls == 0
        assert "The refresher has spent its share of today's API quota" in text
        requests = upstream.stats()["requests"]
        done = run_refresher(ini, "--once", "--force")
        assert done.returncode == 0 and "0 API calls" in done.stdout, done.stdout
        assert upstream.stats()["requests"] == requests
        # A page never stored still works: it spends the reserve kept for it.
        with urllib.request.urlopen(f"{server.url}/queries/{search_id}?page=2&per_page=100",
                                    timeout=10) as answer:
            assert answer.status == 200
    assert upstream.stats()["requests"] == requests + 1


def test_the_emulator_scripts_votes_without_activity_and_adds_questions(upstream):
    before = {item["question_id"]: item for item in upstream.search(SO, q="asyncio")}
    made = upstream.mutate(SO, "asyncio", rescored=4)
    after = {item["question_id"]: item for item in upstream.search(SO, q="asyncio")}
    assert len(made["rescored"]) == 4 and not made["changed"]
    for qid in made["rescored"]:
        assert after[qid]["score"] != before[qid]["score"]
        assert after[qid]["last_activity_date"] == before[qid]["last_activity_date"]
    added = upstream.add_questions("superuser", 3, ["bench-tag"], created=1_700_000_000,
                                   spacing=60)
    found = upstream.search("superuser", tagged="bench-tag", sort="creation", order="asc")
    assert [item["question_id"] for item in found] == added
    assert [item["creation_date"] for item in found] == [1_700_000_000 + 60 * i for i in range(3)]
