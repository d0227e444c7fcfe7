"""Refreshes and harvests store bodies with the calls they made anyway: none more; and
`stackq_harvest --answers` stores the answers, 100 questions a call."""

import re

from sqlalchemy import func, select

from stackq.harvest.answers import harvest_answers, questions_lacking_answers
from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.models import Answer, Question
from tests.support.harvest import run_harvester, search_id
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


def test_harvest_answers_asks_100_questions_a_call_and_only_those_lacking_them(clean, upstream):
    run_harvest(clean.session_factory, clean.api,
                HarvestRequest(site="stackoverflow", q="python", max_pages=2))
    query_id = search_id(clean, q="python")
    _, _, lacking = questions_lacking_answers(clean.session_factory, query_id)
    assert 100 < len(lacking) <= 200
    before = calls(upstream)
    done = harvest_answers(clean.session_factory, clean.api, query_id)
    assert done.questions == len(lacking) and done.answers > len(lacking)
    with clean.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(Answer)) == done.answers
        per_question = dict(dbsession.execute(
            select(Question.question_id, func.count()).join(Answer.question)
            .group_by(Question.question_id)).all())
    # Two batches (100 questions, then the rest), each a call per 100 of their answers.
    in_batches = [sum(per_question.get(i, 0) for i in batch)
                  for batch in (lacking[:100], lacking[100:])]
    assert calls_since(upstream, before) == {
        "questions/answers": sum(-(-count // 100) for count in in_batches)}
    with clean.session() as dbsession:
        assert dbsession.scalar(select(func.count()).select_from(Answer)
                                .where(Answer.body.like("%<script%"))) == 0
    assert questions_lacking_answers(clean.session_factory, query_id)[2] == []
    before = calls(upstream)
    assert harvest_answers(clean.session_factory, clean.api, query_id).answers == 0
    assert calls_since(upstream, before) == {}


def test_stackq_harvest_answers_on_the_command_line(clean, upstream):
    ran = run_harvester(clean.ini, "-s", "django", "--answers")
    assert ran.returncode == 0, ran.stderr
    assert re.search(r"^stored \d+ answers of \d+ questions of saved search \d+; \d+ API calls?$",
                     ran.stdout, re.M), ran.stdout
