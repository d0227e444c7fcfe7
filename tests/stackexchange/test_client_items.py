"""Question items parsed from real captured answers and from odd ones."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from stackq.stackexchange.items import parse_question
from tests.support.api_items import question_item

# Real captured API answers (sources and licences in SOURCES.txt beside them).
FIXTURES = Path(__file__).parents[1] / "fixtures" / "stackexchange"


def test_parse_real_search_capture():
    raw = json.loads((FIXTURES / "freesearch_search_advanced_default_2.3.json").read_text())
    questions = [parse_question(item) for item in raw["items"]]
    assert len(questions) == 10
    first = questions[0]
    assert first.question_id == 79646317
    assert first.tags == ("claude", "model-context-protocol")
    assert first.creation_date == datetime.fromtimestamp(1748665466, tz=timezone.utc)
    assert first.creation_date.tzinfo is not None
    assert first.owner.display_name == "Masood Ahmad"
    assert first.owner.user_id == 244696
    assert first.content_license == "CC BY-SA 4.0"
    # Entities in the capture are decoded; none remain.
    assert not any("&amp;" in q.title or "&#39;" in q.title for q in questions)
    assert any("&" in q.title or "'" in q.title for q in questions)


def test_parse_real_capture_without_owner():
    raw = json.loads((FIXTURES / "remotesearch_search_advanced_2.3.json").read_text())
    q = parse_question(raw["items"][0])
    assert q.title == 'What does the "yield" keyword do in Python?'
    assert q.owner is None
    assert q.accepted_answer_id == 231855
    assert q.last_edit_date == datetime.fromtimestamp(1711253482, tz=timezone.utc)
    assert q.closed_date is None


def test_parse_question_unescapes_exactly_once():
    q = parse_question(
        question_item(
            title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;amp; it&#39;s",
            owner={
                "user_type": "registered",
                "user_id": 1,
                "display_name": "A &amp; B",
            },
        )
    )
    # "&amp;amp;" is a literal "&amp;" in the original title; it must stay that.
    assert q.title == '<script>alert("x")</script> &amp; it\'s'
    assert q.owner.display_name == "A & B"


def test_parse_question_deleted_owner():
    owner = {"user_type": "does_not_exist", "display_name": "user123"}
    q = parse_question(question_item(owner=owner))
    assert q.owner.user_type == "does_not_exist"
    assert q.owner.display_name == "user123"
    assert (q.owner.user_id, q.owner.link, q.owner.reputation) == (None, None, None)


def test_parse_question_closed_and_rejects_junk():
    q = parse_question(question_item(closed_date=1700000200, closed_reason="Duplicate"))
    assert q.closed_reason == "Duplicate"
    assert q.closed_date == datetime(2023, 11, 14, 22, 16, 40, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_question({"title": "no id"})
