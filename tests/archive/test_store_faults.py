"""Bad input met while storing questions, answers and bodies: skipped and logged, or made
storable; never stored half, never failing the rest of the page."""

import logging

from sqlalchemy import select

from stackq.archive.store import store_answers
from stackq.models import Answer, Owner, Question, Site
from stackq.searches.ingest import store_questions
from stackq.stackexchange.bodies import clean_body
from stackq.stackexchange.storable import storable
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


def question(question_id, **extra):
    return {**QUESTION, "question_id": question_id,
            "link": f"https://stackoverflow.com/q/{question_id}", **extra}


def test_a_malformed_question_is_skipped_and_the_rest_of_its_page_stored(dbsession, caplog):
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    items = [question(601), {"question_id": "x"}, "junk", question(602, tags="python"),
             question(603, tags=["python", 3]), question(604)]
    with caplog.at_level(logging.WARNING, logger="stackq.searches.ingest"):
        pks = store_questions(dbsession, site.id, items)
    stored = dbsession.scalars(select(Question.question_id).order_by(Question.question_id))
    assert len(pks) == 2 and stored.all() == [601, 604]
    assert caplog.text.count("skipping a question") == 4


def test_tags_past_any_stack_exchange_tag_are_left_out(dbsession):
    """PostgreSQL refused the question (and its page) with `word is too long` for a tag of
    3,000 characters, and 60 tags outgrow an index row."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    long_tag = "".join(chr(ord("a") + n * 7 % 26) for n in range(3000))
    tags = ["python", long_tag, "", *(f"t{n}é" * 16 for n in range(60))]
    store_questions(dbsession, site.id, [question(611, tags=tags)])
    dbsession.flush()
    stored = dbsession.scalar(select(Question).where(Question.question_id == 611))
    assert stored.tags.split() == ["python", *(f"t{n}é" * 16 for n in range(7))]


def test_text_no_database_stores_is_stored_replaced(dbsession):
    """What the client reads (storable) stores on both databases: PostgreSQL refused a NUL,
    and neither encodes half a surrogate pair."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    item = storable(question(621, title="nul\x00title \ud800", tags=["a\x00b"],
                             body="<p>body\x00 text\udc00</p>"))
    store_questions(dbsession, site.id, [item])
    dbsession.flush()
    stored = dbsession.scalar(select(Question).where(Question.question_id == 621))
    assert stored.title == "nul\ufffdtitle \ufffd" and stored.tags == "a\ufffdb"
    assert "body\ufffd text\ufffd" in stored.body


def test_fields_longer_than_their_columns_are_cut_not_refused(dbsession):
    """PostgreSQL refused the row (and its page) with `value too long for type character
    varying`; SQLite took it whole. Both now store it cut, the same on each."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    deleted_user = {"display_name": "d" * 400, "user_type": "does_not_exist" * 5,
                    "link": "https://stackoverflow.com/users/" + "9" * 600}
    store_questions(dbsession, site.id, [question(
        641, title="t" * 600, link="https://stackoverflow.com/q/" + "1" * 1200,
        closed_reason="c" * 200, content_license="CC" * 40, owner=deleted_user)])
    store_answers(dbsession, site.id, [641], [answer(6410, question_id=641,
                                                     content_license="L" * 99,
                                                     owner=deleted_user)])
    dbsession.flush()
    stored = dbsession.scalar(select(Question).where(Question.question_id == 641))
    assert (stored.title, stored.link, stored.closed_reason, stored.content_license) == (
        "t" * 500, "", "c" * 100, "CC" * 20)
    owner = dbsession.get(Owner, stored.owner_id)
    assert (owner.display_name, owner.user_type, owner.link) == (
        "d" * 200, ("does_not_exist" * 5)[:40], None)
    stored_answer = dbsession.scalar(select(Answer).where(Answer.answer_id == 6410))
    assert stored_answer.owner_id == owner.id and stored_answer.content_license == "L" * 40


def test_numbers_past_what_the_columns_hold(dbsession, caplog):
    """PostgreSQL refused the page (`integer out of range`), SQLite a number past 64 bits.
    A score or a count is held at the columns' bound; an id past it is no id: its item is
    skipped."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    with caplog.at_level(logging.WARNING):
        store_questions(dbsession, site.id, [
            question(661, score=10**30, view_count=-(10**12), answer_count=2**31,
                     owner={"user_id": 5, "display_name": "x", "reputation": 10**15}),
            question(10**12)])
        store_answers(dbsession, site.id, [661], [answer(10**12, question_id=661),
                                                 answer(6610, question_id=661, score=-(10**20))])
    dbsession.flush()
    stored = dbsession.scalar(select(Question).where(Question.question_id == 661))
    assert (stored.score, stored.view_count, stored.answer_count) == (
        2**31 - 1, -(2**31), 2**31 - 1)
    assert dbsession.get(Owner, stored.owner_id).reputation == 2**31 - 1
    assert dbsession.scalars(select(Question.question_id)).all() == [661]
    assert [(a.answer_id, a.score) for a in dbsession.scalars(select(Answer))] == [
        (6610, -(2**31))]
    assert caplog.text.count("an id out of range") == 2


def test_a_link_that_is_no_web_address_is_not_stored(dbsession):
    """A question's link is shown as an href (the changes page, the feed): nothing but
    http(s) may reach one."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    store_questions(dbsession, site.id, [question(671, link="javascript:alert(1)")])
    dbsession.flush()
    assert dbsession.scalar(select(Question.link).where(Question.question_id == 671)) == ""


def test_text_fields_that_are_no_text_are_left_empty(dbsession):
    """An object where a licence or a link belongs failed the whole page on PostgreSQL (no
    adapter for it) and on SQLite (a link is read as text)."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    store_questions(dbsession, site.id, [question(
        681, content_license={"cc": 4}, owner={"user_id": 6, "display_name": "y", "link": 5,
                                               "profile_image": ["x"]})])
    store_answers(dbsession, site.id, [681], [answer(6810, question_id=681,
                                                     content_license=["cc"])])
    dbsession.flush()
    stored = dbsession.scalar(select(Question).where(Question.question_id == 681))
    assert stored.content_license is None and dbsession.get(Owner, stored.owner_id).link is None
    assert dbsession.scalar(select(Answer.content_license)) is None


def test_an_owner_that_is_no_owner_leaves_its_post_without_one(dbsession):
    """No object, an id that is no number or past what the column holds: the post is kept."""
    site = dbsession.scalar(select(Site).where(Site.api_site_parameter == "stackoverflow"))
    store_questions(dbsession, site.id, [question(691, owner="someone"),
                                          question(692, owner={"user_id": "x", "reputation": 1}),
                                          question(693, owner={"user_id": 2**40})])
    store_answers(dbsession, site.id, [691], [answer(6910, question_id=691, owner=[1, 2])])
    dbsession.flush()
    owners = dbsession.execute(select(Question.question_id, Question.owner_id)
                               .where(Question.question_id.between(691, 693))).all()
    assert sorted(owners) == [(691, None), (692, None), (693, None)]
    assert dbsession.scalar(select(Answer).where(Answer.answer_id == 6910)).owner_id is None
