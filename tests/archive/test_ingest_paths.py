"""Refreshes and harvests store bodies with the calls they made anyway: none more; and
`stackq_harvest --answers` stores the answers, 100 questions a call."""

import re

from sqlalchemy import func, select

from stackq.harvest.answers import harvest_answers, questions_lacking_answers
from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.models import Answer, Question, SavedSearch
from stackq.refresh.jobs import AnswersJob
from stackq.refresh.state import search_jobs
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


def answers_by_question(stack, question_ids):
    with stack.session() as dbsession:
        return dict(dbsession.execute(
            select(Question.question_id, func.count(Answer.id))
            .outerjoin(Answer, Answer.question_id == Question.id)
            .where(Question.question_id.in_(question_ids))
            .group_by(Question.question_id)).all())


def answer_counts(stack, question_ids):
    with stack.session() as dbsession:
        return dict(dbsession.execute(
            select(Question.question_id, Question.answer_count)
            .where(Question.question_id.in_(question_ids))).all())


def test_answers_that_fell_behind_are_asked_for_by_the_next_cycle_within_its_plan(
        clean, upstream):
    query_id = clean.save_search("asyncio")
    harvest_answers(clean.session_factory, clean.api, query_id)
    mutated = upstream.mutate("stackoverflow", "asyncio", changed=5)  # a new answer each
    run_cycle(clean, settings=ONLY_SEARCHES)  # sees the counts move
    changed = mutated["changed"]
    stored, counts = answers_by_question(clean, changed), answer_counts(clean, changed)
    assert all(stored[i] == counts[i] - 1 for i in changed)
    before = calls(upstream)
    report = run_cycle(clean, settings=ONLY_SEARCHES)
    assert list(report.plan.answers.values()) == [1]
    assert report.plan.calls == 2  # the search, and one batch of answers: both planned
    assert calls_since(upstream, before) == {"search/advanced": 1, "questions/answers": 1}
    assert report.calls == 2
    assert answers_by_question(clean, changed) == answer_counts(clean, changed)
    # Caught up: the cycle after asks the search alone.
    before = calls(upstream)
    assert run_cycle(clean, settings=ONLY_SEARCHES).plan.answers == {}
    assert calls_since(upstream, before) == {"search/advanced": 1}


def test_refresh_now_of_one_search_asks_for_its_answers_that_fell_behind(clean, upstream):
    query_id = clean.save_search("django")
    harvest_answers(clean.session_factory, clean.api, query_id)
    changed = upstream.mutate("stackoverflow", "django", changed=3)["changed"]
    run_cycle(clean, settings=ONLY_SEARCHES)
    with clean.session() as dbsession:
        search = dbsession.get(SavedSearch, query_id)
        batches = [job.question_ids for job in search_jobs(dbsession, search)
                   if isinstance(job, AnswersJob)]
    assert [sorted(batch) for batch in batches] == [sorted(changed)]
