"""Bad input met while storing answers and bodies: skipped and logged, never stored half."""

import logging

from sqlalchemy import select

from stackq.archive.store import store_answers
from stackq.models import Answer, Question, Site
from stackq.searches.ingest import store_questions
from stackq.stackexchange.bodies import clean_body
from stackq.testing.emulator_answers import HOSTILE_MARKUP

QUESTION = {"question_id": 501, "title": "t", "link": "https://stackoverflow.com/q/501",
            "creation_date": 1_700_000_000, "answer_count": 2, "tags": ["python"],
            "body": "<p>question</p>"}


def answer(answer_id, question_id=501, **extra):
    return {"answer_id": answer_id, "question_id": question_id, "creation_date": 1_700_000_100,
            "score": 1, "is_accepted": False, "body": "<p>an answer</p>", **extra}


def test_answers_of_unknown_questions_and_malformed_items_are_skipped(dbsession, caplog):
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    store_questions(dbsession, site.id, [QUESTION])
    items = [answer(1), answer(2, question_id=999), {"answer_id": "x"}, "junk",
             answer(3, body=HOSTILE_MARKUP)]
    with caplog.at_level(logging.WARNING, logger="stackq.archive.store"):
        stored = store_answers(dbsession, site.id, [501], items)
    assert stored == 2
    rows = dbsession.scalars(select(Answer).order_by(Answer.answer_id)).all()
    assert [a.answer_id for a in rows] == [1, 3] and "<script" not in rows[1].body
    assert "its question 999 is not stored" in caplog.text and "skipping an answer" in caplog.text
    question = dbsession.scalar(select(Question).where(Question.question_id == 501))
    assert question.answers_at is not None


def test_a_body_of_several_megabytes_is_cleaned_whole():
    body = "<p>text &amp; more</p>" * 250_000 + HOSTILE_MARKUP * 1000  # about 6 MB
    cleaned = clean_body(body)
    assert len(cleaned) > 5_000_000
    assert "<script" not in cleaned and "onerror" not in cleaned and "javascript:" not in cleaned
