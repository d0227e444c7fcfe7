"""The planner's view of each site's re-read chunks comes out of the database as it would from
every stored question read in re-read order and taken every IDS_PER_CALL-th."""

from datetime import datetime, timedelta

import pytest

from stackq.models import Question, SavedSearch, SearchResult, Site
from stackq.refresh import state as refresh_state
from stackq.refresh.plan import IDS_PER_CALL

START = datetime(2026, 11, 1)


def add_questions(dbsession, site, search, count, first_id, in_search=True):
    questions = [Question(
        site_id=site.id, question_id=first_id + n, title=f"q{n}", link=f"https://x/{n}",
        score=0, answer_count=0, view_count=0, is_answered=False, creation_date=START,
        last_activity_date=START, owner_id=None,
        # Ties on purpose (every 7 questions share a time): the id orders them.
        stored_at=START + timedelta(minutes=(n * 37) % 101 // 7)) for n in range(count)]
    dbsession.add_all(questions)
    dbsession.flush()
    if in_search:
        dbsession.add_all(SearchResult(search_id=search.id, question_id=q.id) for q in questions)
        dbsession.flush()
    return questions


@pytest.fixture
def stored(dbsession):
    first, second = dbsession.query(Site).order_by(Site.id).limit(2).all()
    searches = [SavedSearch(site=site, q="chunks", tagged="", created_at=START)
                for site in (first, second)]
    dbsession.add_all(searches)
    dbsession.flush()
    read = {first.id: add_questions(dbsession, first, searches[0], 2 * IDS_PER_CALL + 30,
                                    10_000),
            second.id: add_questions(dbsession, second, searches[1], 25, 30_000)}
    add_questions(dbsession, first, searches[0], 40, 20_000, in_search=False)
    return read


def expected(questions, chunks):
    ordered = sorted(questions, key=lambda q: (q.stored_at, q.id))
    return tuple(q.stored_at for q in ordered[:chunks * IDS_PER_CALL][::IDS_PER_CALL])


def states_of(dbsession):
    return {state.site_id: state for state in refresh_state.site_states(dbsession)}


def test_each_chunk_is_dated_by_its_least_recently_read_question(dbsession, stored):
    states = states_of(dbsession)
    assert set(states) == set(stored)
    for site_id, read in stored.items():
        assert states[site_id].chunk_ages == expected(read, refresh_state.MAX_CHUNKS)
    first, second = stored
    # 230 questions: two full chunks and a part one; 25: one part chunk.
    assert (len(states[first].chunk_ages), len(states[second].chunk_ages)) == (3, 1)


def test_no_more_chunks_than_the_planner_looks_ahead(dbsession, stored, monkeypatch):
    monkeypatch.setattr(refresh_state, "MAX_CHUNKS", 2)
    states = states_of(dbsession)
    for site_id, read in stored.items():
        assert states[site_id].chunk_ages == expected(read, 2)


def test_each_site_counts_only_questions_of_saved_searches(dbsession, stored):
    states = states_of(dbsession)
    assert {site_id: states[site_id].distinct for site_id in stored} == {
        site_id: len(read) for site_id, read in stored.items()}
