"""Migrations 0010 (the index) and 0013 (the threads' index) index what is already stored,
and take the index away again."""

import alembic.command
import pytest
import transaction
from sqlalchemy import create_engine, inspect, text

from stackq import models
from stackq.archive.search.query import parse_query
from stackq.archive.search.service import search
from stackq.models.initialize_db import bundled_sites, load_sites
from tests.support.database import migrate, separate_database
from tests.support.search_archive import store_archive


@pytest.fixture
def engine(tmp_path):
    with separate_database(tmp_path) as url:
        engine = models.get_engine({"sqlalchemy.url": url})
        yield engine
        engine.dispose()


def with_session(engine, work):
    with transaction.manager:
        return work(models.get_tm_session(models.get_session_factory(engine),
                                          transaction.manager))


def test_upgrade_indexes_stored_questions_and_downgrade_drops_the_index(engine):
    migrate(engine, alembic.command.upgrade, "head")
    with_session(engine, lambda s: load_sites(s, bundled_sites()))
    with_session(engine, store_archive)
    # Down to before the index: the bodies' text and the index go, the bodies stay.
    migrate(engine, alembic.command.downgrade, "0009")
    assert "body_text" not in {c["name"] for c in inspect(engine).get_columns("answers")}

    migrate(engine, alembic.command.upgrade, "head")
    found = with_session(engine, lambda s: [
        h.question_id for h in search(s, parse_query("qwertyanswerword OR quirks")).hits])
    assert sorted(found) == [9100002, 9100003]

    migrate(engine, alembic.command.downgrade, "0009")
    names = set(inspect(engine).get_table_names())
    assert not {n for n in names if n.startswith(("search_questions", "search_answers",
                                                       "search_threads"))}
    assert "search_vector" not in {c["name"] for c in inspect(engine).get_columns("questions")}
    with engine.begin() as db:  # the triggers went too: writing needs nothing of the index
        db.execute(text("UPDATE questions SET title = 'x'"))


def test_any_writer_keeps_the_index_without_functions_of_stackq(engine):
    """The index's triggers need nothing a connection of stackq registers: a plain engine
    (as the sqlite3 shell or psql) writes questions and answers, and search follows."""
    migrate(engine, alembic.command.upgrade, "head")
    with_session(engine, lambda s: load_sites(s, bundled_sites()))
    with_session(engine, store_archive)
    plain = create_engine(engine.url)
    try:
        with plain.begin() as db:
            question = db.scalar(text("SELECT id FROM questions WHERE question_id = 9100002"))
            db.execute(text(
                "INSERT INTO answers (site_id, answer_id, question_id, score, is_accepted, "
                "creation_date, last_activity_date, body, body_text, stored_at) "
                "SELECT site_id, 9299999, id, 0, FALSE, creation_date, creation_date, "
                "'<p>plonkwords here</p>', 'plonkwords here', creation_date "
                "FROM questions WHERE id = :id"), {"id": question})
            db.execute(text("UPDATE questions SET title = 'Retitled wibblequest' "
                            "WHERE question_id = 9100004"))
            db.execute(text("DELETE FROM answers WHERE body_text LIKE '%qwertyanswerword%'"))
    finally:
        plain.dispose()

    def found(q):
        return with_session(engine, lambda s: [h.question_id
                                               for h in search(s, parse_query(q)).hits])

    assert found("plonkwords") == [9100002]
    assert found("wibblequest") == [9100004]
    assert found("qwertyanswerword") == []
