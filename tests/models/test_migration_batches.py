"""A migration over every stored row works a batch of ids at a time and says how far it got
(models/migration_batches.py)."""

import logging

import sqlalchemy as sa

from stackq.models.migration_batches import each_batch


def test_every_id_once_a_batch_at_a_time_with_the_rows_done_so_far(caplog):
    engine = sa.create_engine("sqlite://")
    with engine.begin() as bind:
        bind.execute(sa.text("CREATE TABLE answers (id INTEGER PRIMARY KEY)"))
        ids = [2, 3, 4, 9, 10, 11, 12, 30]  # gaps: a batch of ids may hold no row
        bind.execute(sa.text("INSERT INTO answers (id) VALUES (:id)"), [{"id": i} for i in ids])
        batches = []
        with caplog.at_level(logging.INFO, logger="stackq.migrations"):
            each_batch(bind, "answers", "plain text", lambda *batch: batches.append(batch),
                       batch=4)
    assert batches == [(2, 5), (6, 9), (10, 13), (14, 17), (18, 21), (22, 25), (26, 29),
                       (30, 33)]
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "plain text: 8 stored answers"
    assert [line.split(" (")[0] for line in lines[1:]] == [
        "plain text: 3 of 8 answers", "plain text: 4 of 8 answers", "plain text: 7 of 8 answers",
        *["plain text: 7 of 8 answers"] * 4, "plain text: 8 of 8 answers"]


def test_an_empty_table_is_left_alone(caplog):
    engine = sa.create_engine("sqlite://")
    with engine.begin() as bind:
        bind.execute(sa.text("CREATE TABLE questions (id INTEGER PRIMARY KEY)"))
        with caplog.at_level(logging.INFO, logger="stackq.migrations"):
            each_batch(bind, "questions", "search threads", lambda *batch: 1 / 0)
    assert caplog.records == []
