"""A thread longer than PostgreSQL's tsvector holds (1 MB) is stored with the rest of its
transaction, not refused at commit; on PostgreSQL its words are searchable up to
fulltext_pg_commit.BOUND characters, on SQLite all of them."""

from sqlalchemy import text

from stackq.archive.search.query import parse_query
from stackq.archive.search.service import search
from stackq.archive.store import store_answers
from stackq.models.fulltext_pg_commit import BOUND
from stackq.searches.ingest import store_questions
from tests.support.api_items import question_item
from tests.support.search_archive import site_id

ANSWERS, ANSWER_SIZE = 40, 30_000  # the API's longest body, forty times: 1.2 MB of text


def question(question_id, word):
    return question_item(question_id=question_id, title=f"Long {word}", tags=["long"],
                         body=f"<p>{word}body</p>",
                         link=f"https://stackoverflow.com/questions/{question_id}/x")


def long_answer(question_id, number):
    """30,000 characters of words found nowhere else (a vector of them all is over 1 MB)."""
    words, size = [f"firstof{number}x"], 0
    while size < ANSWER_SIZE:
        words.append(f"w{number}x{len(words)}")
        size += len(words[-1]) + 1
    return {"answer_id": 9610000 + number, "question_id": question_id, "score": 1,
            "is_accepted": False, "creation_date": 1577836800,
            "body": f"<p>{' '.join(words)}</p>"}


def at_commit(dbsession):
    """PostgreSQL: the threads written so far made as at commit (the test's transaction never
    commits); the writes after it wait for the next call."""
    if dbsession.get_bind().dialect.name != "sqlite":
        dbsession.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
        dbsession.execute(text("SET CONSTRAINTS ALL DEFERRED"))


def found(dbsession, q):
    return sorted(h.question_id for h in search(dbsession, parse_query(q), per_page=100).hits)


def test_a_thread_too_long_for_one_vector_is_stored_with_its_page(testapp, dbsession):
    at_commit(dbsession)  # the fixture's writes are made at each statement
    site = site_id(dbsession, "stackoverflow")
    store_questions(dbsession, site, [question(9600001, "longthread"),
                                      question(9600002, "shortthread")])
    answers = [long_answer(9600001, number) for number in range(ANSWERS)]
    short = {"answer_id": 9619999, "question_id": 9600002, "score": 1, "is_accepted": False,
             "creation_date": 1577836800, "body": "<p>shortanswerword</p>"}
    assert store_answers(dbsession, site, [9600001, 9600002], [*answers, short]) == ANSWERS + 1
    # Commit: a thread over 1 MB raised "string is too long for tsvector" and took the
    # transaction (both questions and their answers) with it.
    at_commit(dbsession)
    postgresql = dbsession.get_bind().dialect.name != "sqlite"
    # Title, body, the first answer; the other thread of the same transaction.
    assert found(dbsession, "longthread") == [9600001]
    assert found(dbsession, "longthreadbody firstof0x") == [9600001]
    assert found(dbsession, "shortthread shortanswerword") == [9600002]
    # Within the bound (the 3rd answer starts before 100,000 characters); past it (the
    # last answer starts at 1.17 million): searchable on SQLite alone.
    assert 2 * ANSWER_SIZE < BOUND < (ANSWERS - 1) * ANSWER_SIZE
    assert found(dbsession, "firstof2x") == [9600001]
    assert found(dbsession, f"firstof{ANSWERS - 1}x") == ([] if postgresql else [9600001])


def test_a_long_thread_is_made_again_whole_when_it_is_short_again(testapp, dbsession):
    """The bound is not kept: once the thread fits (answers deleted upstream), it is made
    from all its text again."""
    at_commit(dbsession)
    site = site_id(dbsession, "stackoverflow")
    store_questions(dbsession, site, [question(9600011, "shrinking")])
    answers = [long_answer(9600011, number) for number in range(ANSWERS)]
    store_answers(dbsession, site, [9600011], answers)
    at_commit(dbsession)
    # The API now sends the first and the last answer only: 60,000 characters in all.
    store_answers(dbsession, site, [9600011], [answers[0], answers[-1]])
    at_commit(dbsession)
    assert found(dbsession, f"firstof{ANSWERS - 1}x") == [9600011]
    assert found(dbsession, "firstof2x") == []
