"""Refreshes and harvests store bodies with the calls they made anyway: none more."""

from sqlalchemy import func, select

from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.models import Question
from tests.support.refresh_cycles import ONLY_SEARCHES, run_cycle

STACK_SETTINGS = {"stackq.api.key": "archive-tests"}


def calls(upstream):
    return dict(upstream.stats()["by_method"])


def calls_since(upstream, before):
    return {m: n - before.get(m, 0) for m, n in calls(upstream).items()
            if n != before.get(m, 0)}


def without_body(stack):
    with stack.session() as dbsession:
        return dbsession.scalar(select(func.count()).select_from(Question)
                                .where(Question.body.is_(None)))


def test_a_refresh_stores_the_bodies_of_new_and_changed_questions(clean, upstream):
    clean.save_search("asyncio")
    mutated = upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)
    before = calls(upstream)
    run_cycle(clean, settings=ONLY_SEARCHES)
    assert calls_since(upstream, before) == {"search/advanced": 1}
    with clean.session() as dbsession:
        bodies = dict(dbsession.execute(select(Question.question_id, Question.body)
                                        .where(Question.question_id.in_(mutated["new"]))).all())
    assert len(bodies) == 3 and all("<p>" in body for body in bodies.values())
    assert without_body(clean) == 0


def test_a_harvest_stores_every_body_with_its_pages(clean, upstream):
    before = calls(upstream)
    run_harvest(clean.session_factory, clean.api,
                HarvestRequest(site="stackoverflow", q="python", max_pages=2))
    made = calls_since(upstream, before)
    # The count (its filter made once), then the two pages: no call for bodies.
    assert made.pop("search/advanced") == 3 and set(made) <= {"filters/create"}
    with clean.session() as dbsession:
        stored = dbsession.scalar(select(func.count()).select_from(Question))
    assert stored >= 200 and without_body(clean) == 0
