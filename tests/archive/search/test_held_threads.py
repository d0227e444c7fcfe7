"""store_answers writes a batch of answers with their questions' threads held (SQLite:
taken out of the index once, put back once; PostgreSQL: made once at commit). Whatever the
batch adds, changes or takes away, the index ends as if each thread were built from the
rows, and nothing stays held."""

import pytest
from sqlalchemy import select, text

from stackq.archive.search.query import parse_query
from stackq.archive.search.service import search
from stackq.archive.store import store_answers
from stackq.models import Question
from stackq.models.fulltext_threads import HELD, SQLITE_THREADS, TOKENIZER, _thread_words
from stackq.searches.ingest import store_questions
from tests.support.api_items import question_item
from tests.support.search_archive import site_id


def answer(question_id, answer_id, words):
    return {"answer_id": answer_id, "question_id": question_id, "score": 1,
            "is_accepted": False, "creation_date": 1577836800, "body": f"<p>{words}</p>"}


def question(question_id, words):
    return question_item(question_id=question_id, title=f"Held {words}", tags=["held"],
                         body=f"<p>{words}</p>",
                         link=f"https://stackoverflow.com/questions/{question_id}/x")


def found(dbsession, q):
    return sorted(h.question_id for h in search(dbsession, parse_query(q), per_page=100).hits)


def rebuilt_threads(dbsession, word):
    """The questions whose thread, built afresh from the rows, has `word`."""
    dbsession.execute(text("DROP TABLE IF EXISTS temp.rebuilt"))
    dbsession.execute(text(f"CREATE VIRTUAL TABLE temp.rebuilt USING fts5(words, content='', "
                           f"detail=none, tokenize='{TOKENIZER}')"))
    dbsession.execute(text(f"INSERT INTO temp.rebuilt(rowid, words) SELECT q.id, "
                           f"{_thread_words('q', 'a.question_id = q.id')} FROM questions AS q"))
    return sorted(dbsession.scalars(text(
        "SELECT rowid FROM temp.rebuilt WHERE rebuilt MATCH :w"), {"w": word}))


def indexed_threads(dbsession, word):
    return sorted(dbsession.scalars(text(
        f"SELECT rowid FROM {SQLITE_THREADS} WHERE {SQLITE_THREADS} MATCH :w"), {"w": word}))


WORDS = ("alphaheld", "betaheld", "gammaheld", "deltaheld", "epsilonheld", "zetaheld",
         "etaheld")


def test_a_batch_of_answers_leaves_the_threads_as_built_from_the_rows(testapp, dbsession):
    site = site_id(dbsession, "stackoverflow")
    # A question stored before, with an answer; one stored in this batch's transaction.
    store_questions(dbsession, site, [question(9400001, "alphaheld")])
    store_answers(dbsession, site, [9400001], [answer(9400001, 9410001, "betaheld")])
    store_questions(dbsession, site, [question(9400002, "gammaheld")])
    # The batch: 9400001 loses its answer and gains two; 9400002 gains its first; an answer
    # of a question not stored is skipped.
    stored = store_answers(dbsession, site, [9400001, 9400002, 9400003], [
        answer(9400001, 9410002, "deltaheld"), answer(9400001, 9410003, "epsilonheld"),
        answer(9400002, 9410004, "zetaheld"), answer(9400003, 9410005, "etaheld")])
    dbsession.execute(text("SET CONSTRAINTS ALL IMMEDIATE")
                      if dbsession.get_bind().dialect.name != "sqlite" else text("SELECT 1"))
    assert stored == 3
    assert found(dbsession, "betaheld OR etaheld") == []
    assert found(dbsession, "alphaheld deltaheld epsilonheld") == [9400001]
    assert found(dbsession, "gammaheld zetaheld") == [9400002]
    # The same batch again changes one answer's words only: per row, no hold.
    store_answers(dbsession, site, [9400002], [answer(9400002, 9410004, "etaheld")])
    dbsession.execute(text("SET CONSTRAINTS ALL IMMEDIATE")
                      if dbsession.get_bind().dialect.name != "sqlite" else text("SELECT 1"))
    assert (found(dbsession, "zetaheld"), found(dbsession, "etaheld")) == ([], [9400002])
    if dbsession.get_bind().dialect.name != "sqlite":
        return
    assert dbsession.scalar(text(f"SELECT count(*) FROM {HELD}")) == 0
    for word in (*WORDS, "held"):
        assert indexed_threads(dbsession, word) == rebuilt_threads(dbsession, word), word


@pytest.mark.parametrize("held_first", [True, False])
def test_a_held_thread_follows_every_write_once_let_go(testapp, dbsession, held_first):
    """Rows written while a thread is held (a new question, a retitle, a deletion) are all in
    its thread once the hold goes; a thread held before its question exists too."""
    if dbsession.get_bind().dialect.name != "sqlite":
        pytest.skip("holding a thread is SQLite's (PostgreSQL makes it at commit)")
    from stackq.models.fulltext_threads import threads_held
    site = site_id(dbsession, "stackoverflow")
    if not held_first:
        store_questions(dbsession, site, [question(9400011, "alphaheld")])
    # Held first: the id the question is about to get (SQLite's next rowid).
    pk = dbsession.scalar(select(Question.id).where(Question.question_id == 9400011)) or (
        dbsession.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM questions")))
    with threads_held(dbsession, lambda: [pk]):
        if held_first:
            store_questions(dbsession, site, [question(9400011, "alphaheld")])
        store_answers(dbsession, site, [9400011], [answer(9400011, 9410011, "betaheld"),
                                                    answer(9400011, 9410012, "gammaheld")])
        dbsession.execute(text("UPDATE questions SET title = 'Retitled deltaheld' "
                               "WHERE question_id = 9400011"))
        assert found(dbsession, "betaheld") == []  # held: out of the index
    assert dbsession.scalar(select(Question.id).where(Question.question_id == 9400011)) == pk
    assert found(dbsession, "deltaheld betaheld gammaheld alphaheld") == [9400011]
    for word in (*WORDS, "held", "retitled"):
        assert indexed_threads(dbsession, word) == rebuilt_threads(dbsession, word), word
