"""Migration 0005 moves each question's tags beside it, in their order, and back again."""

from datetime import datetime

import alembic.command
from sqlalchemy import inspect, text

from tests.support.database import migrate

QUESTIONS = {  # row id -> tags in the API's order (not alphabetical); 3 has none
    1: ["python", "asyncio", "c++"],
    2: ["zsh", "bash"],
    3: [],
}


def insert_tagged_questions(db):
    db.execute(text("INSERT INTO sites (id, api_site_parameter, name, site_url) "
                    "VALUES (1, 'stackoverflow', 'Stack Overflow', 'https://stackoverflow.com')"))
    now = datetime(2026, 11, 1)
    for pk in QUESTIONS:
        db.execute(text(
            "INSERT INTO questions (id, site_id, question_id, title, link, score, answer_count,"
            " view_count, is_answered, creation_date, last_activity_date, stored_at) VALUES"
            " (:pk, 1, :qid, 'a title', 'https://stackoverflow.com/q', 0, 0, 0, false,"
            " :now, :now, :now)"), {"pk": pk, "qid": 100 + pk, "now": now})
    names = sorted({name for tags in QUESTIONS.values() for name in tags})
    ids = {name: i for i, name in enumerate(names, 1)}
    for name, tag_id in ids.items():
        db.execute(text("INSERT INTO tags (id, name) VALUES (:id, :name)"),
                   {"id": tag_id, "name": name})
    for pk, tags in QUESTIONS.items():
        for position, name in enumerate(tags):
            db.execute(text("INSERT INTO question_tags (question_id, tag_id, position) "
                            "VALUES (:pk, :tag, :position)"),
                       {"pk": pk, "tag": ids[name], "position": position})


def tags_in_tables(db):
    rows = db.execute(text(
        "SELECT qt.question_id, t.name FROM question_tags qt JOIN tags t ON t.id = qt.tag_id "
        "ORDER BY qt.question_id, qt.position")).all()
    return {pk: [name for q, name in rows if q == pk] for pk in QUESTIONS}


def test_upgrade_keeps_every_tag_in_order_and_downgrade_restores_the_tables(migration_engine):
    migrate(migration_engine, alembic.command.upgrade, "0004")
    with migration_engine.begin() as db:
        insert_tagged_questions(db)
    migrate(migration_engine, alembic.command.upgrade, "0005")
    with migration_engine.connect() as db:
        stored = dict(db.execute(text("SELECT id, tags FROM questions")).all())
    assert stored == {pk: " ".join(tags) for pk, tags in QUESTIONS.items()}
    assert not {"tags", "question_tags"} & set(inspect(migration_engine).get_table_names())

    migrate(migration_engine, alembic.command.downgrade, "0004")
    assert "tags" not in {c["name"] for c in inspect(migration_engine).get_columns("questions")}
    with migration_engine.connect() as db:
        assert tags_in_tables(db) == QUESTIONS
