"""Pausing, resuming and deleting saved searches as a visitor does it, on a stack of the test
module's own (tests/support/stack.py): requests commit for real, so the after-commit hook
drops the cached pages as in production."""

import webtest

from stackq.models import SavedSearch
from tests.support.apps import stackq_app
from tests.support.searches import form_token
from tests.support.tasks import clean_tasks


def stack_web_app(stack, cleanup):
    """The app on `stack`, response cache on (build it once per module); `cleanup` as
    `stackq_app`'s (its event listener stopped before the stack's Redis goes)."""
    return stackq_app({**stack.raw_settings, "stackq.cache.ttl": "60"}, stack.engine, cleanup)


def new_visitor(app, stack):
    """A visitor with cookies of its own and its CSRF token (`.token`), on a stack emptied of
    searches and tasks."""
    clean_tasks(stack)
    visitor = webtest.TestApp(app)
    visitor.token = form_token(visitor.get("/queries/new").text)
    return visitor


def calls_for(upstream, q):
    """API requests the emulator has answered for text `q` (searches and totals)."""
    return upstream.stats()["by_q"].get(q, 0)


def pause(browser, search_id, back="results"):
    return browser.post(f"/queries/{search_id}/pause",
                        {"csrf_token": browser.token, "back": back}, status=303)


def resume(browser, search_id, back="results"):
    return browser.post(f"/queries/{search_id}/resume",
                        {"csrf_token": browser.token, "back": back}, status=303)


def is_paused(stack, search_id):
    with stack.session() as dbsession:
        return dbsession.get(SavedSearch, search_id).paused
