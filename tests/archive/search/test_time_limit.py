"""A search past `stackq.search.time_limit` is stopped: a 503 saying how to narrow it (the
page and the JSON API), the request's transaction goes on, and nothing of the limit stays
behind for what runs after it (archive/search/limit.py)."""

import dataclasses
import time

import pytest
from sqlalchemy import text

from stackq.archive.search.limit import SearchTooSlow, time_limit
from stackq.infra.registry import SETTINGS
from tests.support.search_archive import store_archive

# Statements that run for many seconds unless stopped.
SLOW = {
    "sqlite": "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 300000000)"
              " SELECT count(*) FROM n",
    "postgresql": "SELECT pg_sleep(30)",
}
# 500 more questions with zorblax, so that a search of it runs thousands of SQLite's steps:
# more than one PROGRESS_STEPS apart.
COPIES = """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 500)
INSERT INTO questions (site_id, question_id, title, link, score, answer_count, view_count,
                       is_answered, creation_date, last_activity_date, stored_at, tags, body,
                       body_text)
SELECT q.site_id, 8000000 + n.i, q.title, q.link, q.score, q.answer_count, q.view_count,
       q.is_answered, q.creation_date, q.last_activity_date, q.stored_at, q.tags, q.body,
       q.body_text FROM n, questions AS q WHERE q.question_id = 9100001"""
PAUSE = 0.4  # seconds
# A statement of some tens of ms on SQLite: stopped if a handler were left installed.
LONGER = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 300000)"
          " SELECT count(*) FROM n")


def dialect(dbsession):
    return dbsession.get_bind().dialect.name


def test_a_statement_past_the_limit_is_stopped_and_the_transaction_goes_on(dbsession):
    dbsession.execute(text("CREATE TEMPORARY TABLE kept (n integer)"))
    dbsession.execute(text("INSERT INTO kept VALUES (1)"))
    with pytest.raises(SearchTooSlow), time_limit(dbsession, 0.05):
        dbsession.execute(text(SLOW[dialect(dbsession)])).scalar()
    # What the transaction wrote before the search is still there, and it takes statements.
    assert dbsession.execute(text("SELECT count(*) FROM kept")).scalar() == 1


def test_the_limit_is_the_whole_searchs_not_each_statements(dbsession):
    """Statements of PAUSE seconds each: one fits a limit of 0.7 s, two do not."""
    if dialect(dbsession) == "sqlite":
        raw = dbsession.connection().connection.driver_connection
        raw.create_function("stackq_test_pause", 1, lambda value: time.sleep(PAUSE) or value)
        # The pause, then enough steps after it for the progress handler to be asked.
        statement = ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                     " LIMIT 100000) SELECT count(*) FROM n WHERE i > 1 OR stackq_test_pause(i)")
    else:
        statement = f"SELECT pg_sleep({PAUSE})"
    with time_limit(dbsession, 0.7):
        dbsession.execute(text(statement)).all()
    with pytest.raises(SearchTooSlow), time_limit(dbsession, 0.7):
        dbsession.execute(text(statement)).all()
        dbsession.execute(text(statement)).all()


def test_nothing_of_the_limit_stays_after_it(dbsession):
    with time_limit(dbsession, 0.001):
        assert dbsession.execute(text("SELECT 1")).scalar() == 1
    if dialect(dbsession) == "postgresql":
        assert dbsession.execute(text("SHOW statement_timeout")).scalar() == "0"
    else:
        # Past the deadline now: a handler left behind would stop this.
        assert dbsession.execute(text(LONGER)).scalar() == 300000


def test_other_database_errors_are_not_taken_for_a_slow_search(dbsession):
    with pytest.raises(Exception) as raised, time_limit(dbsession, 5):
        dbsession.execute(text("SELECT * FROM no_such_table")).all()
    assert not isinstance(raised.value, SearchTooSlow)


@pytest.fixture
def limited(app, monkeypatch):
    """The app's search time limit set to `seconds` for this test."""
    def limit(seconds):
        settings = app.registry.settings[SETTINGS]
        monkeypatch.setitem(app.registry.settings, SETTINGS,
                            dataclasses.replace(settings, search_time_limit=seconds))
    return limit


@pytest.fixture
def slow_search(dbsession, dbengine, limited):
    """Every search made slower than the limit. SQLite: a limit shorter than the first
    PROGRESS_STEPS of a search of many matches. PostgreSQL: the threads locked by another
    transaction, which the search waits for until its statement_timeout stops it."""
    if dialect(dbsession) == "sqlite":
        store_archive(dbsession)
        dbsession.execute(text(COPIES))
        limited(1e-6)
        yield
        return
    limited(0.2)
    with dbengine.connect() as other:
        # Were the search never stopped, the server ends this transaction, and the test
        # fails instead of waiting for ever.
        other.execute(text("SET LOCAL idle_in_transaction_session_timeout = '10s'"))
        other.execute(text("LOCK TABLE search_threads IN ACCESS EXCLUSIVE MODE"))
        yield
        other.rollback()


def test_a_search_past_the_limit_is_a_503_page_saying_how_to_narrow_it(testapp, slow_search):
    page = testapp.get("/search", {"q": "zorblax -<b>"}, status=503)
    assert "took longer than" in page.text and "tag:" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    # The query stays in the header's search box, to be narrowed (escaped, as everywhere).
    box = page.html.find("input", attrs={"name": "q"})
    assert box["value"] == "zorblax -<b>"
    assert "-<b>" not in page.text


def test_the_json_api_answers_a_search_past_the_limit_with_a_503(testapp, slow_search):
    answer = testapp.get("/api/search", {"q": "zorblax"}, status=503).json
    assert "took longer than" in answer["errors"][0]["message"]


def test_a_search_within_the_limit_is_answered(testapp, dbsession, limited):
    store_archive(dbsession)
    limited(5)
    assert testapp.get("/api/search", {"q": "zorblax"}).json["total"] == 5
