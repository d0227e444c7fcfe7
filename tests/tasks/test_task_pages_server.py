"""The task pages without JavaScript, on a real server with a real worker (`refresh_queries
--tasks-only`): the page reloads itself, its bar grows, and it ends on the form."""

import time

import pytest

from tests.support.task_pages import (
    FLOW_KIND,
    Visitor,
    fresh_flow,
    meta_refresh,
    progress_of,
    running_flow,
    task_id_of,
)
from tests.support.tasks import load_task
from tests.support.waiting import wait_until

RELOAD = "1"  # stackq.tasks.page_refresh of this server


@pytest.fixture(scope="module")
def running(tmp_path_factory, emulator):
    with running_flow(tmp_path_factory.mktemp("task-pages"), emulator.base_url, max_rate=2,
                      page_refresh=RELOAD) as flow:
        yield flow


@pytest.fixture
def flow(running, upstream):
    return fresh_flow(running)


def reload_until_redirected(visitor, location, timeout=30):
    """Open the task's page again and again, as its meta refresh makes a browser do;
    (each page seen, the redirect's answer)."""
    pages, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = visitor.open(location, follow=False)
        if answer.status != 200:
            return pages, answer
        pages.append(answer.html)
        time.sleep(0.15)
    raise AssertionError(f"the task did not finish in {timeout} s: {pages[-1].text}")


def test_the_page_reloads_itself_its_bar_grows_and_it_ends_on_the_completed_form(flow):
    visitor = Visitor(flow.url)
    location = visitor.start_flow_task(flow)
    task_id = task_id_of(location)
    pages, end = reload_until_redirected(visitor, location)
    assert {meta_refresh(page) for page in pages} == {RELOAD}
    values = [progress_of(page) for page in pages]
    assert values == sorted(values), values
    assert len({value for value in values if 0 < value < 1}) >= 2, values
    states = [page.select_one(".task-state").text for page in pages]
    assert "running" in states
    assert end.status == 303
    assert end.location == f"{flow.url}/tasks/new?completed={task_id}"

    form = visitor.open(end.location).html
    task = load_task(flow.stack, task_id)
    assert (task.kind, task.state) == (FLOW_KIND, "done")
    assert form.h1.text == f"Task #{task.number} completed"
    assert "“python” on stackoverflow" in form.select_one(".task-what").text
    link = form.select_one("a.task-results-link")
    assert link["href"] == f"{flow.url}/queries/{flow.search_id}"
    assert "questions" in form.select_one(".task-result").text
    assert form.select_one("#q")["value"] == ""
    log = visitor.open(f"/tasks/{task_id}?log=1")
    assert log.status == 200 and "done" in log.html.select_one(".task-log").text


def test_a_failed_task_ends_on_the_form_saying_why(flow, upstream):
    visitor = Visitor(flow.url)
    upstream.set_fault("500")
    location = visitor.start_flow_task(flow)
    _, end = reload_until_redirected(visitor, location)
    form = visitor.open(end.location).html
    task = load_task(flow.stack, task_id_of(location))
    assert form.h1.text == f"Task #{task.number} failed"
    reason = form.select_one(".task-reason").text
    assert reason == task.error and "500" in reason


def test_cancel_from_the_page_of_a_running_task(flow):
    visitor = Visitor(flow.url)
    location = visitor.start_flow_task(flow)
    task_id = task_id_of(location)
    wait_until(lambda: load_task(flow.stack, task_id).state == "running", 20, "the task to run")
    page = visitor.open(location).html
    cancel = page.select_one("form.task-cancel")
    answer = visitor.open(cancel["action"], {"csrf_token": cancel.input["value"]}, follow=False)
    assert (answer.status, answer.location) == (303, f"{flow.url}/tasks/{task_id}")
    _, end = reload_until_redirected(visitor, location)
    form = visitor.open(end.location).html
    assert form.h1.text == f"Task #{load_task(flow.stack, task_id).number} cancelled"
    assert form.select_one(".task-reason").text.startswith("Cancelled while running")
