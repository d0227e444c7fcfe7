"""The task pages through the app (WebTest): the form, starting, a waiting task's page,
cancelling it, unknown ids, the queue and history, and that no page is ever cached."""

import dataclasses
import re

import pytest

from stackq.infra import registry
from stackq.infra.settings import SettingsError, load_settings
from stackq.models import Task
from stackq.tasks.queue import add_task, cancel_task
from tests.support.apps import cached_app, visitor
from tests.support.reading import page_forms

START = {"q": "asyncio", "site": "stackoverflow", "pages": "3", "delay": "30"}


def token(page):
    return page.html.find("meta", attrs={"name": "csrf-token"})["content"]


def start(testapp, **fields):
    form = testapp.get("/tasks/new")
    return testapp.post("/tasks", dict(START, csrf_token=token(form), **fields), status="*")


def path(url):
    return url.removeprefix("http://example.com")


def field_error(page, name):
    return page.html.select_one(f"#{name}-error").text.strip()


def test_the_form_has_its_fields_a_token_and_start_and_is_never_stored(testapp):
    page = testapp.get("/tasks/new")
    assert page.headers["Cache-Control"] == "no-store"
    assert "X-Cache" not in page.headers
    form = page.html.select_one("form.task-form")
    assert form["method"] == "post" and form["action"] == "http://example.com/tasks"
    names = [field["name"] for field in form.select("input")]
    assert names == ["csrf_token", "q", "site", "pages", "delay", "answers"]
    assert form.select_one("input[name=csrf_token]")["value"] == token(page)
    assert form.select_one("button[type=submit]").text == "Start"
    assert page.html.h1.text == "New harvest task"
    assert "1 to 25" in form.select_one("label[for=pages]").text  # no API key here
    nav = {link.text: link["href"] for link in page.html.select("nav[aria-label=Main] a")}
    assert nav["Tasks"] == "http://example.com/tasks"


def test_start_queues_a_harvest_and_answers_with_its_live_page(testapp, dbsession):
    answer = start(testapp)
    assert answer.status_int == 303
    task = dbsession.get(Task, int(answer.location.rsplit("/", 1)[1]))
    assert answer.location == f"http://example.com/tasks/{task.id}"
    assert (task.kind, task.params, task.delay, task.state) == (
        "harvest", {"q": "asyncio", "site": "stackoverflow", "pages": 3, "sort": "activity"},
        30, "pending")
    page = testapp.get(path(answer.location))
    assert page.headers["Cache-Control"] == "no-store"
    assert page.html.h1.contents[0].strip() == f"Task #{task.number}"
    assert page.html.select_one(".task-state").text in (
        "waiting to start in 30 s", "waiting to start in 29 s")
    refresh = page.html.find("meta", attrs={"http-equiv": "refresh"})
    assert refresh["content"] == "2"  # stackq.tasks.page_refresh
    bar = page.html.select_one("progress")
    assert (bar["value"], bar["max"]) == ("0.0", "1")
    assert page.html.select_one(".task-pages").text == "0 of 3 pages"
    assert page.html.select_one(".task-percent").text == "0 %"
    cancel = page.html.select_one("form.task-cancel")
    assert cancel["action"] == f"http://example.com/tasks/{task.id}/cancel"
    assert cancel.select_one("input[name=csrf_token]")["value"] == token(page)
    script = page.html.select("script[src]")[-1]  # after notify.js, whose notices it reads
    assert script["src"].startswith("http://example.com/static/task_page.js")
    assert not page.html.select("script:not([src])"), "no inline script"
    assert not page.html.select("[style]"), "no inline style"


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"q": "  "}, "q", "type what to search for"),
    ({"pages": "0"}, "pages", "a whole number from 1 to 25, not “0” (up to 100 with an API key)"),
    ({"pages": "26"}, "pages", "from 1 to 25, not “26”"),
    ({"pages": "three"}, "pages", "not “three”"),
    ({"delay": "-5"}, "delay", "whole seconds from 0 to 3600, not “-5”"),
    ({"delay": "3601"}, "delay", "whole seconds from 0 to 3600"),
    ({"site": "nosuchsite"}, "site", "nosuchsite"),
])
def test_a_bad_value_shows_the_form_again_with_the_message_beside_it(
        testapp, dbsession, fields, field, message):
    answer = start(testapp, **fields)
    assert answer.status_int == 400
    assert answer.headers["Cache-Control"] == "no-store"
    assert message in field_error(answer, field)
    assert answer.html.select_one(f"#{field}")["aria-invalid"] == "true"
    typed = dict(START, **fields)
    for name in ("q", "pages", "delay"):
        assert answer.html.select_one(f"#{name}")["value"] == typed[name].strip()
    others = {"q", "site", "pages", "delay"} - {field}
    assert all(field_error(answer, name) == "" for name in others)
    assert dbsession.query(Task).count() == 0


def test_with_an_api_key_a_harvest_may_take_up_to_100_pages(testapp, app, monkeypatch):
    settings = app.registry.settings
    monkeypatch.setitem(settings, registry.SETTINGS,
                        dataclasses.replace(settings[registry.SETTINGS], api_key="k3y"))
    assert "1 to 100" in testapp.get("/tasks/new").html.select_one("label[for=pages]").text
    assert start(testapp, pages="100").status_int == 303
    assert "from 1 to 100" in field_error(start(testapp, pages="101"), "pages")


def test_start_without_the_token_is_refused(testapp, dbsession):
    answer = testapp.post("/tasks", START, status=403)
    assert "security token" in answer.text
    assert dbsession.query(Task).count() == 0


def test_cancel_from_the_page_of_a_waiting_task(testapp, dbsession):
    page = testapp.get(path(start(testapp).location))
    answer = page_forms(page)[0].submit()  # Cancel, with its token
    assert answer.status_int == 303 and answer.location == page.request.url
    task = dbsession.query(Task).one()
    assert task.state == "cancelled"
    finished = testapp.get(path(answer.location), status=303)
    assert finished.location == f"http://example.com/tasks/new?completed={task.id}"
    form = testapp.get(path(finished.location))
    assert form.html.h1.text == f"Task #{task.number} cancelled"
    assert form.html.select_one(".task-reason").text == "Cancelled before it started."
    assert form.html.select_one("#q")["value"] == ""  # above an empty form
    # The finished task itself stays readable.
    shown = testapp.get(f"/tasks/{task.id}?log=1")
    assert shown.html.h1.contents[0].strip() == f"Task #{task.number} cancelled"
    assert "cancelled before it started" in shown.html.select_one(".task-log").text
    assert not shown.html.find("meta", attrs={"http-equiv": "refresh"})
    assert not shown.html.select("form.task-cancel")
    # Cancelling again is no error: it ended, and its page says so.
    again = testapp.post(f"/tasks/{task.id}/cancel", {"csrf_token": token(form)}, status=303)
    assert again.location == f"http://example.com/tasks/{task.id}"


@pytest.mark.parametrize(("url", "status"), [
    ("/tasks/999999", 404), ("/tasks/99999999999999", 404), ("/tasks/new?completed=999999", 404),
    ("/tasks/new?completed=abc", 400), ("/tasks/abc", 404), ("/tasks?page=0", 400),
])
def test_an_unknown_task_is_a_page_saying_so(testapp, url, status):
    page = testapp.get(url, status=status)
    assert page.content_type == "text/html"
    assert page.html.select_one("nav[aria-label=Main]")  # in the site's layout
    if status == 404 and "999999" in url:
        assert "There is no task 999999" in page.html.select_one(".error").text


def test_the_form_of_a_task_not_finished_goes_to_its_page(testapp, dbsession):
    task = add_task(dbsession, "harvest", {"q": "x", "site": "stackoverflow", "pages": 1})
    answer = testapp.get(f"/tasks/new?completed={task.id}", status=303)
    assert answer.location == f"http://example.com/tasks/{task.id}"


def test_the_task_list_shows_the_queue_and_the_history(testapp, dbsession):
    later = add_task(dbsession, "harvest", {"q": "gevent", "site": "math", "pages": 2,
                                            "sort": "activity"}, delay=600)
    ended = add_task(dbsession, "refresh", {"query_id": 7})
    cancel_task(dbsession, ended.id)
    page = testapp.get("/tasks")
    assert page.headers["Cache-Control"] == "no-store"
    queue = page.html.select(".task-queue tbody tr")
    assert [int(row["data-task-id"]) for row in queue] == [later.id]
    cells = [cell.text.strip() for cell in queue[0].select("td")]
    assert cells[:3] == [f"#{later.number}", "harvest", "“gevent” on math, 2 pages"]
    assert re.fullmatch(r"pending, starts in (9|10) min", cells[3]), cells[3]
    assert cells[5:] == ["—", "—"]  # waited, took
    history = page.html.select(".task-history tbody tr")
    assert [row["data-task-id"] for row in history] == [str(ended.id)]
    assert [c.text.strip() for c in history[0].select("td")][:4] == [
        f"#{ended.number}", "refresh", "saved search 7", "cancelled"]
    assert history[0].a["href"] == f"http://example.com/tasks/{ended.id}?log=1"
    headers = [th.text for th in page.html.select(".task-queue thead th")]
    assert headers == ["Task", "Kind", "What", "State", "Added", "Waited", "Took"]


def test_no_task_page_is_ever_served_from_the_response_cache(
        app_settings, dbengine, redis_url, request, tm, dbsession, upstream):
    browser = visitor(cached_app(app_settings, dbengine, redis_url, request.addfinalizer),
                      tm, dbsession)
    task = add_task(dbsession, "harvest", {"q": "x", "site": "stackoverflow", "pages": 1},
                    delay=60)
    done = add_task(dbsession, "refresh", {"query_id": 1})
    cancel_task(dbsession, done.id)
    assert browser.get("/").headers["X-Cache"] in ("MISS", "HIT")  # the cache is on
    for url in ("/tasks/new", f"/tasks/{task.id}", "/tasks", f"/tasks/{done.id}?log=1",
                f"/tasks/new?completed={done.id}"):
        for _ in range(2):
            page = browser.get(url)
            assert "X-Cache" not in page.headers, url
            assert page.headers["Cache-Control"] == "no-store", url


def test_the_reload_interval_is_a_setting_checked_at_start():
    assert load_settings({}, environ={})[registry.SETTINGS].tasks_page_refresh == 2
    env = {"STACKQ_TASKS_PAGE_REFRESH": "5"}
    assert load_settings({}, environ=env)[registry.SETTINGS].tasks_page_refresh == 5
    with pytest.raises(SettingsError, match="stackq.tasks.page_refresh = '0'"):
        load_settings({"stackq.tasks.page_refresh": "0"}, environ={})


def test_the_answers_box_asks_the_harvest_for_answers(testapp, dbsession):
    box = testapp.get("/tasks/new").html.select_one("input[name=answers]")
    assert box["type"] == "checkbox" and not box.has_attr("checked")
    answer = start(testapp, answers="on")
    task = dbsession.get(Task, int(answer.location.rsplit("/", 1)[1]))
    assert task.params["answers"] is True
