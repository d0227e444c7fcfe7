"""Bodies stored from search pages, and the question page, against the emulator over HTTP."""

import pytest
from sqlalchemy import select

from stackq.models import Answer, Question
from stackq.testing.emulator_data import HOSTILE_QUESTION_IDS
from tests.support.searches import create_search

FAMOUS = HOSTILE_QUESTION_IDS["quotes"]  # 51 answers, 231855 accepted
HOSTILE_BODY = HOSTILE_QUESTION_IDS["script"]
GONE = ("<script", "onerror", "onmouseover", "javascript:", "<iframe", "<style", "<form",
        "<input", "alert(2)")
KEPT = ("the trick", "Hover text", "framed text", "form text",
        '<a href="https://example.org/docs" rel="nofollow noopener">the docs</a>')


def calls(upstream):
    return dict(upstream.stats()["by_method"])


def calls_since(upstream, before):
    after = calls(upstream)
    return {m: n - before.get(m, 0) for m, n in after.items() if n != before.get(m, 0)}


@pytest.fixture
def results_path(testapp, csrf):
    return f"/queries/{create_search(testapp, csrf, q='python')}"


@pytest.fixture
def stored(testapp, upstream, results_path):
    """The first results page opened: its questions stored, with their bodies."""
    testapp.get(results_path)
    return results_path


def stored_body(dbsession, question_id):
    return dbsession.scalar(select(Question.body).where(Question.question_id == question_id))


def test_bodies_come_with_the_search_page_and_no_extra_call(testapp, upstream, dbsession,
                                                          results_path):
    before = calls(upstream)
    page = testapp.get(results_path)
    assert calls_since(upstream, before) == {"search/advanced": 1}
    ids = [int(row["data-question-id"]) for row in page.html.select("table.results tbody tr")]
    bodies = dict(dbsession.execute(select(Question.question_id, Question.body)
                                    .where(Question.question_id.in_(ids))).all())
    assert len(bodies) == len(ids) and all(body and "<p>" in body for body in bodies.values())
    assert any("Пример" in body for body in bodies.values())  # Cyrillic kept as it is


def test_hostile_markup_is_gone_and_its_text_kept(stored, dbsession):
    body = stored_body(dbsession, HOSTILE_BODY)
    assert all(bad not in body for bad in GONE), body
    assert all(text in body for text in KEPT), body


def test_the_title_links_to_the_stored_copy_and_the_row_to_the_original(testapp, stored):
    row = testapp.get(stored).html.select_one(f'tr[data-question-id="{FAMOUS}"]')
    assert row.select_one("a.question")["href"] == f"/questions/stackoverflow/{FAMOUS}"
    assert row.select_one("a.original")["href"].startswith(f"https://stackoverflow.com/questions/{FAMOUS}/")


def test_the_question_page_fetches_answers_once_then_serves_them_stored(testapp, upstream,
                                                                      stored):
    before = calls(upstream)
    page = testapp.get(f"/questions/stackoverflow/{FAMOUS}")
    assert calls_since(upstream, before) == {"questions/answers": 1}
    answers = page.html.select("section.answers article.answer")
    assert len(answers) == 51
    assert answers[0]["data-answer-id"] == "231855" and "accepted" in answers[0]["class"]
    scores = [int(a.select_one(".meta").text.split("Score")[1].split()[0]) for a in answers[1:]]
    assert scores == sorted(scores, reverse=True)
    assert 'What does the "yield" keyword do in Python?' in page.html.h1.text
    assert page.html.select_one("p.original a")["href"].startswith("https://stackoverflow.com/")
    attribution = page.html.select_one("footer.attribution")
    assert attribution.select('a[rel="license"]') and len(attribution.select("a.owner")) >= 51
    assert all(bad not in page.text for bad in ("<script>alert", "onerror=", "javascript:"))

    before = calls(upstream)
    again = testapp.get(f"/questions/stackoverflow/{FAMOUS}")
    assert calls_since(upstream, before) == {}
    assert len(again.html.select("section.answers article.answer")) == 51


def test_upstream_down_shows_what_is_stored_and_says_so(testapp, upstream, stored,
                                                        dbsession):
    upstream.set_fault("500")
    try:
        page = testapp.get(f"/questions/stackoverflow/{FAMOUS}", status=200)
    finally:
        upstream.set_fault(None)
    assert page.html.select_one(".answers-missing")
    assert page.headers["Cache-Control"] == "no-store"
    assert "yield" in page.html.select_one("article.question .body").text
    assert dbsession.scalars(select(Answer)).all() == []
    # The API back: the next open fetches them.
    assert len(testapp.get(f"/questions/stackoverflow/{FAMOUS}")
               .html.select("article.answer")) == 51


@pytest.mark.parametrize("path", [
    "/questions/stackoverflow/1", "/questions/nosuchsite/231767", "/questions/stackoverflow/x1",
    "/questions/stackoverflow/" + "9" * 40, "/questions/Stack%3Cscript%3E/231767",
])
def test_a_question_not_stored_is_404(testapp, stored, path):
    testapp.get(path, status=404)


def test_a_question_stored_without_its_body_gets_it_when_first_opened(testapp, upstream,
                                                                      stored, dbsession):
    question = dbsession.scalar(select(Question).where(Question.question_id == HOSTILE_BODY))
    question.body = None
    dbsession.flush()
    before = calls(upstream)
    page = testapp.get(f"/questions/stackoverflow/{HOSTILE_BODY}")
    assert calls_since(upstream, before) == {"questions": 1, "questions/answers": 1}
    assert "the trick" in page.html.select_one("article.question .body").text
    assert all(bad not in stored_body(dbsession, HOSTILE_BODY) for bad in GONE)
