"""PostgreSQL's count of questions by site and tag (`search_totals`, what counting from the
non-matches starts from) stays exact under writers at the same time, and no two writers wait
on each other for it: each applies its changes at commit, in one order."""

import alembic.command
import pytest
import transaction
from sqlalchemy import text

from stackq import models
from stackq.models.initialize_db import bundled_sites, load_sites
from tests.support.database import database_kind, migrate, separate_database

pytestmark = pytest.mark.skipif(database_kind() != "postgresql",
                                reason="SQLite has one writer at a time: its totals are "
                                       "kept by plain triggers")

INSERT = text("""
INSERT INTO questions (site_id, question_id, title, link, score, answer_count, view_count,
                       is_answered, creation_date, last_activity_date, stored_at, tags)
SELECT id, :question, 'A title', 'https://stackoverflow.com/q/1', 0, 0, 0, false,
       now(), now(), now(), :tags FROM sites WHERE api_site_parameter = :site
""")


@pytest.fixture
def engine(tmp_path):
    with separate_database(tmp_path) as url:
        engine = models.get_engine({"sqlalchemy.url": url})
        migrate(engine, alembic.command.upgrade, "head")
        with transaction.manager:
            load_sites(models.get_tm_session(models.get_session_factory(engine),
                                             transaction.manager), bundled_sites())
        yield engine
        engine.dispose()


def totals(engine):
    with engine.connect() as db:
        return {(kind, key): questions for kind, key, questions in db.execute(text(
            "SELECT kind, key, questions FROM search_totals WHERE questions <> 0"))}


def test_two_writers_taking_the_same_tags_in_opposite_orders_never_wait(engine):
    first, second = engine.connect(), engine.connect()
    try:
        for db in (first, second):
            db.execute(text("SET lock_timeout = '3s'"))  # a wait fails the test, not hangs
        first.execute(INSERT, {"question": 1, "tags": "alpha", "site": "stackoverflow"})
        second.execute(INSERT, {"question": 2, "tags": "beta", "site": "superuser"})
        first.execute(INSERT, {"question": 3, "tags": "beta", "site": "superuser"})
        second.execute(INSERT, {"question": 4, "tags": "alpha gamma", "site": "stackoverflow"})
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()
    site = dict(totals_by_site(engine))
    assert site == {"stackoverflow": 2, "superuser": 2}
    assert {key: n for (kind, key), n in totals(engine).items() if kind == "t"} == {
        "alpha": 2, "beta": 2, "gamma": 1}


def test_totals_follow_retagging_deleting_rolling_back_and_truncating(engine):
    with engine.begin() as db:
        for number, tags in enumerate(("alpha beta", "beta", "gamma"), 1):
            db.execute(INSERT, {"question": number, "tags": tags, "site": "stackoverflow"})
    with engine.begin() as db:
        db.execute(text("UPDATE questions SET tags = 'alpha delta' WHERE question_id = 2"))
        db.execute(text("UPDATE questions SET score = 5"))  # changes no total
        db.execute(text("DELETE FROM questions WHERE question_id = 3"))
    with engine.connect() as db:
        db.execute(INSERT, {"question": 9, "tags": "omega", "site": "superuser"})
        db.rollback()
    assert {key: n for (kind, key), n in totals(engine).items() if kind == "t"} == {
        "alpha": 2, "beta": 1, "delta": 1}
    assert dict(totals_by_site(engine)) == {"stackoverflow": 2}
    with engine.connect() as db:
        assert db.scalar(text("SELECT count(*) FROM search_totals_pending")) == 0
    with engine.begin() as db:
        db.execute(text("TRUNCATE questions CASCADE"))
    assert totals(engine) == {}


def totals_by_site(engine):
    with engine.connect() as db:
        return db.execute(text(
            "SELECT s.api_site_parameter, t.questions FROM search_totals AS t "
            "JOIN sites AS s ON s.id::text = t.key WHERE t.kind = 's' AND t.questions <> 0"
        )).all()
