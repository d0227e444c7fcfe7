"""The change history: recorded by a refresh cycle against the emulator over HTTP, with what
changed, in the cycle's own transaction; pruned after keep_days."""

import json
from datetime import timedelta

from sqlalchemy import func, select

from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.infra.clock import utcnow
from stackq.models import Question, SearchEvent
from stackq.refresh.plan import PlanSettings
from tests.support.refresh_cycles import run_cycle

STACK_SETTINGS = {"stackq.api.key": "watch-tests"}


def events_of(stack, search_id):
    with stack.session() as dbsession:
        return dbsession.execute(
            select(SearchEvent.kind, SearchEvent.api_id, SearchEvent.title, SearchEvent.changes,
                   SearchEvent.question_id).where(SearchEvent.search_id == search_id)
            .order_by(SearchEvent.id)).all()


def test_a_cycle_records_new_and_changed_questions_with_what_changed(clean, upstream):
    search_id = clean.save_search("asyncio")
    with clean.session() as dbsession:
        was = {row.question_id: row for row in dbsession.execute(
            select(Question.question_id, Question.score, Question.answer_count, Question.title))}
    assert events_of(clean, search_id) == []  # saving a search is no change
    mutated = upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)

    run_cycle(clean)

    events = events_of(clean, search_id)
    assert {e.api_id for e in events if e.kind == "new"} == set(mutated["new"])
    changed = {e.api_id: dict((name, (old, new)) for name, old, new in json.loads(e.changes))
               for e in events if e.kind == "changed"}
    assert set(changed) == set(mutated["changed"])
    now = {item["question_id"]: item for item in upstream.search("stackoverflow", q="asyncio")}
    for question_id, what in changed.items():
        before, after = was[question_id], now[question_id]
        assert what["answers"] == (before.answer_count, after["answer_count"])
        assert what["title"] == (before.title, after["title"])
        if before.score != after["score"]:
            assert what["score"] == (before.score, after["score"])
    assert all(e.question_id is not None for e in events)

    run_cycle(clean)  # nothing changed since: nothing recorded
    assert len(events_of(clean, search_id)) == len(events)


def test_a_question_shared_by_two_searches_changes_from_what_each_showed(clean, upstream):
    first, second = clean.save_search("asyncio"), clean.save_search("python")
    mutated = upstream.mutate("stackoverflow", "asyncio", changed=3)
    shared = set(mutated["changed"]) & {item["question_id"] for item in
                                        upstream.search("stackoverflow", q="python")}
    assert shared  # the test is about them

    run_cycle(clean, workers=1)

    for search_id in (first, second):
        recorded = {e.api_id: json.loads(e.changes) for e in events_of(clean, search_id)
                    if e.kind == "changed"}
        for question_id in shared & set(recorded):
            assert "answers" in {name for name, _, _ in recorded[question_id]}


def test_the_cycle_prunes_events_older_than_keep_days(clean, upstream):
    search_id = clean.save_search("asyncio")
    upstream.mutate("stackoverflow", "asyncio", new=2)
    run_cycle(clean)
    with clean.session() as dbsession:
        dbsession.execute(SearchEvent.__table__.update().values(
            seen_at=utcnow() - timedelta(days=31)))
        dbsession.commit()

    run_cycle(clean, settings=PlanSettings(full_every=3e10, watch_keep_days=60))
    assert len(events_of(clean, search_id)) == 2
    run_cycle(clean, settings=PlanSettings(full_every=3e10, watch_keep_days=30))
    with clean.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(SearchEvent)) == 0


def test_the_reread_records_score_changes_and_removed_questions(clean, upstream):
    search_id = clean.save_search("asyncio")
    mutated = upstream.mutate("stackoverflow", "asyncio", removed=1, rescored=2)
    [gone] = mutated["removed"]
    with clean.session() as dbsession:
        title = dbsession.scalar(select(Question.title).where(Question.question_id == gone))
        stored = set(dbsession.scalars(select(Question.question_id)))

    # Every stored question is due for the re-read in a cycle with full_every one second.
    run_cycle(clean, settings=PlanSettings(full_every=1))

    events = events_of(clean, search_id)
    assert [(e.kind, e.api_id, e.title, e.question_id) for e in events
            if e.kind == "removed"] == [("removed", gone, title, None)]
    rescored = {e.api_id: json.loads(e.changes) for e in events if e.kind == "changed"}
    assert set(rescored) == set(mutated["rescored"]) & stored  # the others it never showed
    assert rescored
    assert all(changes[0][0] == "score" for changes in rescored.values())


def test_a_harvested_page_records_its_changes_too(clean, upstream):
    search_id = clean.save_search("python")
    mutated = upstream.mutate("stackoverflow", "python", new=2, changed=3)

    run_harvest(clean.session_factory, clean.api,
                HarvestRequest(site="stackoverflow", q="python", max_pages=1))

    events = events_of(clean, search_id)
    assert {e.api_id for e in events if e.kind == "new"} == set(mutated["new"])
    assert {e.api_id for e in events if e.kind == "changed"} == set(mutated["changed"])


def all_events(stack):
    with stack.session() as dbsession:
        return dbsession.execute(select(SearchEvent.kind, SearchEvent.api_id)).all()


def test_a_searchs_first_fill_is_no_news_but_what_comes_after_is(clean, upstream):
    harvest = HarvestRequest(site="stackoverflow", q="python", max_pages=1)
    run_harvest(clean.session_factory, clean.api, harvest)  # a new search's first 100
    assert all_events(clean) == []
    mutated = upstream.mutate("stackoverflow", "python", new=2)

    run_harvest(clean.session_factory, clean.api, harvest)

    assert {api_id for kind, api_id in all_events(clean) if kind == "new"} == set(mutated["new"])
