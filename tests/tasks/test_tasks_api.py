"""The JSON API of the task queue, through the app (WebTest), answers checked against
the OpenAPI document the app serves."""

import json

import pytest
import webtest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from stackq.infra.clock import utcnow
from stackq.models import Task, TaskLine

JSON = "application/json"
HARVEST = {"kind": "harvest", "q": "asyncio", "site": "stackoverflow", "pages": 2}


@pytest.fixture(scope="module")
def document(app):
    return webtest_json(app, "/api/openapi.json")


def webtest_json(app, path):
    return webtest.TestApp(app).get(path).json


def conforms(document, name, body):
    """`body` against components.schemas[name] of the served document."""
    registry = Registry().with_resource(
        "urn:stackq-api", Resource.from_contents(document, default_specification=DRAFT202012))
    validator = Draft202012Validator({"$ref": f"urn:stackq-api#/components/schemas/{name}"},
                                     registry=registry)
    errors = [error.message for error in validator.iter_errors(body)]
    assert errors == [], errors
    return body


def post(testapp, body, status=202, **kwargs):
    return testapp.post("/api/tasks", json.dumps(body), content_type=JSON, status=status,
                        **kwargs)


@pytest.fixture
def search_id(testapp, csrf):
    answer = testapp.post("/queries", {"q": "python", "site": "stackoverflow",
                                       "csrf_token": csrf})
    return int(answer.location.rsplit("/", 1)[1])


def test_post_queues_a_harvest_and_says_where_it_is(testapp, document, dbsession):
    answer = post(testapp, dict(HARVEST, site="math.stackexchange.com", delay=30))
    task = conforms(document, "Task", answer.json)
    assert answer.location == f"http://example.com/api/tasks/{task['id']}"
    assert (task["kind"], task["state"], task["delay"], task["progress"]) == (
        "harvest", "pending", 30, 0)
    # The site is stored by its API name; defaults are filled in.
    assert task["params"] == {"q": "asyncio", "site": "math", "pages": 2, "sort": "activity"}
    row = dbsession.get(Task, task["id"])
    assert (row.run_after - row.created_at).total_seconds() == 30
    shown = conforms(document, "TaskDetail", testapp.get(answer.location).json)
    assert shown["log"] == {"offset": 0, "total": 0, "lines": []}


def test_kind_defaults_to_harvest(testapp):
    body = {key: value for key, value in HARVEST.items() if key != "kind"}
    assert post(testapp, body).json["kind"] == "harvest"


def test_history_numbers_count_up_and_the_queue_is_in_run_order(testapp, document, search_id):
    later = post(testapp, dict(HARVEST, delay=600)).json
    first = post(testapp, {"kind": "refresh", "query_id": search_id}).json
    second = post(testapp, dict(HARVEST, q="gevent")).json
    assert [later["number"] + 1, later["number"] + 2] == [first["number"], second["number"]]
    queue = conforms(document, "TaskList", testapp.get("/api/tasks").json)["tasks"]
    # Run order: by the time each may start (created + delay), then by id.
    assert [t["id"] for t in queue] == [first["id"], second["id"], later["id"]]
    assert set(queue[0]) >= {"id", "number", "kind", "created_at", "run_after", "params",
                             "delay", "state"}


def test_the_running_task_leads_the_queue(testapp, dbsession):
    pending = post(testapp, HARVEST).json
    running = post(testapp, dict(HARVEST, q="redis")).json
    dbsession.get(Task, running["id"]).state = "running"
    dbsession.flush()
    queue = testapp.get("/api/tasks").json["tasks"]
    assert [(t["id"], t["state"]) for t in queue] == [(running["id"], "running"),
                                                      (pending["id"], "pending")]


def test_cancel_a_pending_task(testapp, document):
    task = post(testapp, HARVEST).json
    cancelled = conforms(document, "Task", testapp.delete(f"/api/tasks/{task['id']}",
                                                          status=202).json)
    assert cancelled["state"] == "cancelled" and cancelled["finished_at"]
    assert testapp.get("/api/tasks").json["tasks"] == []
    again = testapp.delete(f"/api/tasks/{task['id']}", status=409).json
    assert again["errors"][0]["field"] == "id"
    log = testapp.get(f"/api/tasks/{task['id']}").json["log"]["lines"]
    assert [line["line"] for line in log] == ["cancelled before it started"]


def test_cancel_a_running_task_asks_it_to_stop(testapp, dbsession):
    task = post(testapp, HARVEST).json
    dbsession.get(Task, task["id"]).state = "running"
    dbsession.flush()
    answer = testapp.delete(f"/api/tasks/{task['id']}", status=202).json
    assert (answer["state"], answer["cancel_requested"]) == ("running", True)


def test_results_are_finished_tasks_newest_first_paginated(testapp, document):
    ids = [post(testapp, dict(HARVEST, q=f"topic{i}")).json["id"] for i in range(3)]
    for task_id in ids:
        testapp.delete(f"/api/tasks/{task_id}")
    page = conforms(document, "TaskPage", testapp.get("/api/tasks/results?per_page=2").json)
    assert ([t["id"] for t in page["tasks"]], page["total"]) == ([ids[2], ids[1]], 3)
    rest = testapp.get("/api/tasks/results?per_page=2&page=2").json
    assert [t["id"] for t in rest["tasks"]] == [ids[0]]


def test_log_is_paged(testapp, dbsession):
    task = post(testapp, HARVEST).json
    dbsession.add_all([TaskLine(task_id=task["id"], at=utcnow(), line=f"line {i}")
                       for i in range(5)])
    dbsession.flush()
    log = testapp.get(f"/api/tasks/{task['id']}?log_offset=1&log_limit=2").json["log"]
    assert (log["total"], [line["line"] for line in log["lines"]]) == (5, ["line 1", "line 2"])


@pytest.mark.parametrize("path", ["/api/tasks/999999", "/api/tasks/abc", "/api/tasks/0",
                                  "/api/nothing"])
def test_unknown_tasks_are_json_404s(testapp, path):
    answer = testapp.get(path, status=(400, 404))
    assert answer.content_type == JSON and answer.json["errors"]


def test_the_pages_csrf_token_is_accepted_and_a_wrong_one_refused(testapp, csrf):
    post(testapp, HARVEST, headers={"X-CSRF-Token": csrf})
    answer = post(testapp, HARVEST, headers={"X-CSRF-Token": "x" * 40}, status=403)
    assert answer.json["errors"][0]["field"] == "X-CSRF-Token"


def test_api_answers_never_come_from_the_response_cache(testapp):
    for path in ("/api/tasks", "/api/tasks/results", "/api/openapi.json", "/api/docs"):
        assert "X-Cache" not in testapp.get(path).headers


def test_openapi_document_is_valid_openapi_3_1_from_the_kinds(document):
    from openapi_spec_validator import validate

    validate(document)
    assert document["openapi"].startswith("3.1")
    bodies = document["paths"]["/api/tasks"]["post"]["requestBody"]["content"][JSON]
    assert len(bodies["schema"]["oneOf"]) == 2
    harvest = document["components"]["schemas"]["HarvestTask"]["properties"]
    assert harvest["pages"]["maximum"] == 100 and harvest["delay"]["maximum"] == 3600


def test_docs_page_serves_swagger_ui_from_the_app(testapp):
    page = testapp.get("/api/docs")
    sources = [tag.get("src") or tag.get("href") for tag in page.html.select("script, link")]
    assert all(source.startswith("http://example.com/") for source in sources), sources
    for source in sources:
        testapp.get(source.removeprefix("http://example.com"), status=200)


def test_refresh_now_button_queues_a_refresh(testapp, csrf, search_id):
    page = testapp.get(f"/queries/{search_id}")
    form = page.html.select_one("form.refresh-now")
    # The results page is cached for everyone: the form holds no visitor's token.
    assert form.select_one("input[name=csrf_token]")["value"] == ""
    answer = testapp.post(form["action"].removeprefix("http://example.com"),
                          {"csrf_token": csrf}, status=303)
    # To the task's live page; the API shows the same task.
    assert answer.location.startswith("http://example.com/tasks/")
    task = testapp.get(answer.location.replace("example.com/", "example.com/api/")
                       .removeprefix("http://example.com")).json
    assert (task["kind"], task["params"]) == ("refresh", {"query_id": search_id})


def test_refresh_now_without_a_token_asks_to_confirm(testapp, search_id):
    page = testapp.post(f"/queries/{search_id}/refresh", {"csrf_token": ""}, status=200)
    assert "Refresh" in page.html.h1.text
    assert page.html.select_one("input[name=csrf_token]")["value"]
    assert testapp.get("/api/tasks").json["tasks"] == []
