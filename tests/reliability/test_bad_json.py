"""Bad input to the task queue's JSON API (bodies, encodings, content types, query
parameters): a 4xx JSON answer naming the field at fault, never a 5xx, no traceback in the
log, nothing stored or queued."""

import json

import pytest

from tests.reliability.bad_json_cases import CASES, JSON, Q
from tests.reliability.traces import leaves_no_trace


@pytest.fixture(scope="module")
def task_id(saved):
    """One queued task, for the parameters of a task's own page."""
    visitor, _ = saved
    answer = visitor.request("POST", "/api/tasks", body=json.dumps(Q).encode(),
                             content_type=JSON)
    assert answer.status == 202, answer.body
    return json.loads(answer.body)["id"]


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
def test_bad_json_input_is_a_4xx_naming_the_field(saved, task_id, own_engine, caplog, case):
    visitor, _ = saved
    path, _, query_string = case.path.replace("{task}", str(task_id)).partition("?")
    with leaves_no_trace(own_engine, caplog):
        answer = visitor.request(case.method, path, query=query_string, body=case.body,
                                 content_type=case.content_type)
    assert answer.status == case.status, answer.body
    assert answer.headers["Content-Type"].startswith(JSON)
    named = [error["field"] for error in json.loads(answer.body)["errors"]]
    assert sorted(named) == sorted([case.field, *case.also]), named
