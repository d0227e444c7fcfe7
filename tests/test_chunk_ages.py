"""The planner's view of each site's re-read chunks comes out of the database as it would from
every stored question read in re-read order and taken every IDS_PER_CALL-th."""

from datetime import datetime, timedelta

import pytest

from stackq.models import Question, SavedSearch, SearchResult, Site
from stackq.services import refresh_state
from stackq.services.refresh_plan import IDS_PER_CALL

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
    read = add_questions(dbsession, first, searches[0], 2 * IDS_PER_CALL + 30, 10_000)
    add_questions(dbsession, first, searches[0], 40, 20_000, in_search=False)
    add_questions(dbsession, second, searches[1], 25, 30_000)
    return first, read


def expected(questions, chunks):
    ordered = sorted(questions, key=lambda q: (q.stored_at, q.id))
    return tuple(q.stored_at for q in ordered[:chunks * IDS_PER_CALL][::IDS_PER_CALL])


def test_each_chunk_is_dated_by_its_least_recently_read_question(dbsession, stored):
    site, read = stored
    ages = refresh_state.chunk_ages(dbsession, site.id)
    assert len(ages) == 3  # 230 questions: two full chunks and a part one
    assert ages == expected(read, refresh_state.MAX_CHUNKS)


def test_no_more_chunks_than_the_planner_looks_ahead(dbsession, stored, monkeypatch):
    site, read = stored
    monkeypatch.setattr(refresh_state, "MAX_CHUNKS", 2)
    assert refresh_state.chunk_ages(dbsession, site.id) == expected(read, 2)


def test_site_states_count_only_questions_of_saved_searches(dbsession, stored):
    site, read = stored
    states = {state.site_id: state for state in refresh_state.site_states(dbsession)}
    assert states[site.id].distinct == len(read)
    assert states[site.id].chunk_ages == expected(read, refresh_state.MAX_CHUNKS)
