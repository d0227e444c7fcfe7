"""A task's page through its life, in WebTest on a database of its own: the tasks' rows are
written by the queue's own functions, as a worker writes them (claim, record, finish)."""

import os

import pytest
import webtest

from stackq import main
from stackq.infra import registry
from stackq.tasks import claim
from tests.support.reading import page_forms
from tests.support.tasks import clean_tasks, load_task

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORKER = "test-worker"


@pytest.fixture(scope="module")
def app(stack):
    # Every request commits, as on a server; the response cache is on (it must skip these).
    app = main({"here": ROOT}, **dict(stack.raw_settings, **{"stackq.cache.ttl": "60"}))
    yield app
    app.registry[registry.EVENTS].stop(timeout=0)


@pytest.fixture
def browser(app, stack, upstream):
    clean_tasks(stack)
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "example.com"})


class Worker:
    """The worker's side, through stackq.tasks.claim."""

    def __init__(self, stack):
        self.factory = stack.session_factory
        claim.heartbeat(self.factory, WORKER)
        self.task = claim.claim_next(self.factory, WORKER)
        assert self.task is not None

    def record(self, line, progress=None, checkpoint=None):
        assert claim.record(self.factory, self.task.id, WORKER, line, progress, checkpoint)

    def finish(self, state, **kwargs):
        assert claim.finish(self.factory, self.task.id, WORKER, state, **kwargs) is not None


def start_harvest(browser, pages="4"):
    form = page_forms(browser.get("/tasks/new"))[0]
    form["q"], form["pages"] = "python", pages
    answer = form.submit()
    assert answer.status_int == 303
    return answer.location.removeprefix("http://example.com")


def bar(page):
    return (float(page.html.select_one("progress")["value"]),
            page.html.select_one(".task-pages").text, page.html.select_one(".task-percent").text)


def log_lines(page):
    return [item.text.split(" ", 1)[1] for item in page.html.select(".task-log li")]


def test_a_harvest_page_from_start_to_the_completed_form(browser, stack):
    location = start_harvest(browser)
    page = browser.get(location)
    assert page.html.find("meta", attrs={"http-equiv": "refresh"})["content"] == "2"
    assert bar(page) == (0.0, "0 of 4 pages", "0 %")
    assert page.html.select_one(".task-state").text == (
        "waiting for a worker (refresh_queries) to start it")

    worker = Worker(stack)
    worker.record("started by test-worker")
    page = browser.get(location)
    assert page.html.select_one(".task-state").text == "running"
    for done in (1, 2, 3):
        worker.record(f"page {done} stored ({done}/4): 100 questions, 90 new, 10 updated",
                      progress=done / 4, checkpoint={"pages": done})
        page = browser.get(location)
        assert bar(page) == (done / 4, f"{done} of 4 pages", f"{done * 25} %")
        assert "X-Cache" not in page.headers
    assert log_lines(page)[-1] == "page 3 stored (3/4): 100 questions, 90 new, 10 updated"
    worker.record("waiting 1.5 s for the API")
    assert browser.get(location).html.select_one(".task-state").text == (
        "waiting for a free API slot")

    worker.finish("done", result={"pages": 4, "new": 360, "updated": 40, "query_id": 77},
                  line="done")
    answer = browser.get(location, status=303)
    task_id = int(location.rsplit("/", 1)[1])
    assert answer.location == f"http://example.com/tasks/new?completed={task_id}"
    form = answer.follow()
    assert form.headers["Cache-Control"] == "no-store"
    number = load_task(stack, task_id).number
    assert form.html.h1.text == f"Task #{number} completed"
    assert form.html.select_one(".task-result").text == (
        "4 pages stored: 360 new and 40 updated questions.")
    assert form.html.select_one("a.task-results-link")["href"] == "http://example.com/queries/77"
    assert page_forms(form)[0]["q"].value == "" and page_forms(form)[0]["pages"].value == "1"
    whole = browser.get(f"{location}?log=1")
    assert whole.html.h1.contents[0].strip() == f"Task #{number} completed"
    assert log_lines(whole)[-1] == "done"
    assert bar(whole) == (1.0, "4 of 4 pages", "100 %")


def test_the_page_shows_the_last_lines_and_links_the_whole_log(browser, stack):
    location = start_harvest(browser, pages="1")
    worker = Worker(stack)
    for n in range(1, 31):
        worker.record(f"line {n}")
    page = browser.get(location)
    assert log_lines(page) == [f"line {n}" for n in range(11, 31)]  # newest at the bottom
    assert page.html.select_one(".task-log")["start"] == "11"
    link = page.html.select_one("a.task-whole-log")
    assert link.text == "The whole log (30 lines)"
    whole = browser.get(link["href"].removeprefix("http://example.com"))
    assert log_lines(whole) == [f"line {n}" for n in range(1, 31)]
    assert whole.html.find("meta", attrs={"http-equiv": "refresh"})  # still live


def test_a_failed_task_is_headed_so_with_the_reason(browser, stack):
    location = start_harvest(browser)
    worker = Worker(stack)
    worker.record("page 1 stored", progress=0.25)
    worker.finish("failed", error="the Stack Exchange API failed (HTTP 503)",
                  line="failed: the Stack Exchange API failed (HTTP 503)")
    form = browser.get(location, status=303).follow()
    assert form.html.h1.text.endswith(" failed")
    assert form.html.select_one(".task-reason").text == "the Stack Exchange API failed (HTTP 503)"
    assert not form.html.select(".task-result")


def test_cancel_a_running_task_from_its_page(browser, stack):
    location = start_harvest(browser)
    worker = Worker(stack)
    worker.record("page 1 stored", progress=0.5)
    page = browser.get(location)
    page = page_forms(page)[0].submit().follow()  # Cancel
    assert page.html.select_one(".task-state").text == (
        "stopping after the current page (cancel requested)")
    assert not page.html.select("form.task-cancel")
    assert log_lines(page)[-1] == "cancel requested: it stops after the current page"
    worker.finish("cancelled", line="cancelled")
    form = browser.get(location, status=303).follow()
    assert form.html.h1.text.endswith(" cancelled")
    assert form.html.select_one(".task-reason").text == "Cancelled while running, at 50 %."


def test_a_task_waiting_behind_another_says_so(browser, stack):
    first = start_harvest(browser)
    second = start_harvest(browser)
    Worker(stack)
    number = load_task(stack, int(first.rsplit("/", 1)[1])).number
    state = browser.get(second).html.select_one(".task-state").text
    assert state == f"waiting for task #{number} to finish"
