"""Cancelling from the task page tells open pages as the API's DELETE does: one `task`
notice on the events channel, once committed (through the app, on a stack of its own)."""

import pytest
import webtest

from stackq import main
from stackq.infra import registry
from stackq.models import Task
from tests.support import tasks as tasks_support
from tests.support.apps import ROOT
from tests.support.events import published
from tests.support.tasks import queue_task, task_notices

clean = tasks_support.clean
HARVEST = {"q": "redis", "site": "stackoverflow", "pages": 2, "sort": "activity"}


@pytest.fixture
def browser(clean):
    """A visitor on an app that commits (no test transaction) to the stack's database."""
    wsgi_app = main({"here": ROOT}, **clean.raw_settings)
    yield webtest.TestApp(wsgi_app)
    wsgi_app.registry[registry.EVENTS].stop()  # its Redis goes with this module


def cancel_from_page(browser, task_id):
    form = browser.get("/tasks/new")
    token = form.html.find("meta", attrs={"name": "csrf-token"})["content"]
    return browser.post(f"/tasks/{task_id}/cancel", {"csrf_token": token}, status=303)


def test_cancelling_a_waiting_task_from_its_page_is_announced(clean, events, browser):
    task_id = queue_task(clean, "harvest", HARVEST, delay=60)
    cancel_from_page(browser, task_id)
    sent = task_notices(events, "cancelled", timeout=5)
    assert [(n["task_id"], n["state"], n["line"]) for n in sent] == [
        (task_id, "cancelled", "cancelled")]


def test_asking_a_running_task_to_stop_from_its_page_is_announced(clean, events, browser):
    task_id = queue_task(clean, "harvest", HARVEST)
    with clean.session_factory.begin() as dbsession:
        dbsession.get(Task, task_id).state = "running"
    cancel_from_page(browser, task_id)
    sent = list(published(events, "task", 2))
    assert [(n["task_id"], n["state"], n["line"]) for n in sent] == [
        (task_id, "running", "cancel requested")]


def test_a_finished_task_cancelled_from_its_page_says_nothing(clean, events, browser):
    task_id = queue_task(clean, "harvest", HARVEST, delay=60)
    with clean.session_factory.begin() as dbsession:
        dbsession.get(Task, task_id).state = "done"
    cancel_from_page(browser, task_id)
    assert list(published(events, "task", 1)) == []
