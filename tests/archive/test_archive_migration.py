"""Migration 0007 adds the bodies and the answers table, and takes them away again."""

import alembic.command
import pytest
from sqlalchemy import create_engine, inspect

from tests.support.database import migrate, separate_database


@pytest.fixture
def engine(tmp_path):
    with separate_database(tmp_path) as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def question_columns(engine):
    return {c["name"] for c in inspect(engine).get_columns("questions")}


def test_upgrade_adds_bodies_and_answers_and_downgrade_removes_them(engine):
    migrate(engine, alembic.command.upgrade, "0007")
    assert {"body", "answers_at"} <= question_columns(engine)
    answer_columns = {c["name"] for c in inspect(engine).get_columns("answers")}
    assert {"answer_id", "question_id", "score", "is_accepted", "creation_date", "owner_id",
            "body", "content_license"} <= answer_columns

    migrate(engine, alembic.command.downgrade, "0006")
    assert not {"body", "answers_at"} & question_columns(engine)
    assert "answers" not in inspect(engine).get_table_names()
