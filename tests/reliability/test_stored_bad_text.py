"""A task row holding a lone surrogate (stored before the JSON API refused them: JSON may
spell "\\ud800", which is no character) breaks no page showing it: each shows U+FFFD instead.

The API refusing such text is in bad_json_cases.py ("a lone surrogate in the words").
"""

import pytest
from sqlalchemy.orm import Session

from stackq.infra.clock import utcnow
from stackq.tasks.queue import add_task

BAD = {"q": "sur\ud800x", "site": "stackoverflow", "tagged": "py\udfff"}
SHOWN = "sur\ufffdx"


@pytest.fixture(scope="module")
def bad_tasks(own_engine):
    """(pending id, failed id): one of each, as a lone surrogate had left them."""
    with Session(own_engine) as session:
        pending = add_task(session, "harvest", BAD, delay=3600)
        failed = add_task(session, "harvest", BAD)
        failed.state, failed.finished_at = "failed", utcnow()
        failed.error = "UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800'"
        failed.result = {"q": BAD["q"]}
        session.commit()
        return pending.id, failed.id


PAGES = ["/tasks", "/tasks?page=1", "/tasks/{failed}?log=1",
         "/tasks/new?completed={failed}", "/tasks/{pending}", "/api/tasks",
         "/api/tasks/results", "/api/tasks/{failed}", "/api/tasks/{pending}"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_showing_a_bad_row_answers(saved, bad_tasks, page):
    visitor, _ = saved
    pending, failed = bad_tasks
    path, _, query = page.format(pending=pending, failed=failed).partition("?")
    answer = visitor.request("GET", path, query=query)
    assert answer.status == 200, answer.body
    shown = answer.body.encode().decode("unicode_escape") if "/api/" in path else answer.body
    assert SHOWN in shown
