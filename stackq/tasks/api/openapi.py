"""The OpenAPI 3.1 document of `/api/tasks` (made from the registered kinds' schemas) and of
`DELETE /api/queries/{id}`."""

from ..kinds import MAX_DELAY, body_schema
from ..validation import JSON_TYPE

STATES = ["pending", "running", "done", "failed", "cancelled"]
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = {"type": ["string", "null"], "format": "date-time"}


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema):
    return {"content": {JSON_TYPE: {"schema": schema}}}


def answer(description, schema, headers=None):
    response = {"description": description, **json_content(schema)}
    if headers:
        response["headers"] = headers
    return response


SUMMARY_FIELDS = {
    "id": {"type": "integer"},
    "number": {"type": "integer", "minimum": 1, "description": "place in the history"},
    "kind": {"type": "string"},
    "state": {"type": "string", "enum": STATES},
    "created_at": TIME,
    "run_after": TIME,
    "delay": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY},
    "params": {"type": "object"},
    "progress": {"type": "number", "minimum": 0, "maximum": 1},
}
TASK_FIELDS = dict(SUMMARY_FIELDS, **{
    "result": {"type": ["object", "null"]},
    "error": {"type": ["string", "null"]},
    "started_at": MAYBE_TIME,
    "finished_at": MAYBE_TIME,
    "waited_seconds": {"type": ["number", "null"],
                       "description": "from creation to the first start"},
    "ran_seconds": {"type": ["number", "null"], "description": "from the first start to the end"},
    "attempts": {"type": "integer", "minimum": 0,
                 "description": "runs stopped before the end (worker killed or stopped, "
                                "or waiting for the daily quota to renew)"},
    "cancel_requested": {"type": "boolean"},
})
LOG = {"type": "object", "required": ["lines", "offset", "total"], "properties": {
    "offset": {"type": "integer", "minimum": 0},
    "total": {"type": "integer", "minimum": 0},
    "lines": {"type": "array", "items": {
        "type": "object", "required": ["at", "line"],
        "properties": {"at": TIME, "line": {"type": "string"}}}},
}}
ERRORS = {"type": "object", "required": ["errors"], "properties": {"errors": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}}}


def schemas(kinds):
    found = {f"{name.capitalize()}Task": body_schema(kind) for name, kind in kinds.items()}
    found.update({
        "TaskSummary": {"type": "object", "required": sorted(SUMMARY_FIELDS),
                        "properties": SUMMARY_FIELDS},
        "Task": {"type": "object", "required": sorted(TASK_FIELDS), "properties": TASK_FIELDS},
        "TaskDetail": {"allOf": [ref("Task"), {"type": "object", "required": ["log"],
                                               "properties": {"log": LOG}}]},
        "TaskList": {"type": "object", "required": ["tasks"], "properties": {
            "tasks": {"type": "array", "items": ref("TaskSummary")}}},
        "TaskPage": {"type": "object", "required": ["tasks", "page", "per_page", "total"],
                     "properties": {"tasks": {"type": "array", "items": ref("Task")},
                                    "page": {"type": "integer"},
                                    "per_page": {"type": "integer"},
                                    "total": {"type": "integer"}}},
        "Errors": ERRORS,
    })
    return found


def query_int(name, description, minimum, maximum, default):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "integer", "minimum": minimum, "maximum": maximum,
                       "default": default}}


TASK_ID = {"name": "id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1}}
QUERY_ID = {"name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}}
BAD = answer("a parameter is not valid", ref("Errors"))
MISSING = answer("no such task", ref("Errors"))
BEARER = {"type": "http", "scheme": "bearer",
          "description": "a token from `stackq_user INI token NAME` (or a signed-in session); "
                         "with `stackq.auth.read = login` reading needs one too"}
UNSIGNED = answer("accounts are on (`stackq.auth.enabled`) and no valid token or session came "
                  "with the request; `WWW-Authenticate: Bearer`", ref("Errors"))


def document(kinds, extras=(), tokens=False):
    """The document for the registered `kinds` (name -> Kind), with the (paths, schemas) of
    `extras`: other features' routes under /api/ (the archive's search); with `tokens`
    (accounts on: `stackq.auth.enabled`) every change takes a bearer token and may answer 401."""
    bodies = [ref(f"{name.capitalize()}Task") for name in kinds]
    found = {
        "openapi": "3.1.0",
        "info": {"title": "stackq tasks", "version": "1",
                 "description": "Queue harvests and refreshes; one task runs at a time."},
        "paths": {
            "/api/tasks": {
                "get": {"summary": "The running task and the pending queue, in run order",
                        "operationId": "listQueue",
                        "responses": {"200": answer("the queue", ref("TaskList"))}},
                "post": {
                    "summary": "Queue a task (`kind` defaults to harvest)",
                    "operationId": "addTask",
                    "requestBody": {"required": True, **json_content({"oneOf": bodies})},
                    "responses": {
                        "202": answer("queued", ref("Task"), headers={"Location": {
                            "description": "the task's address",
                            "schema": {"type": "string"}}}),
                        "400": answer("the body is not a JSON object", ref("Errors")),
                        "403": answer("the X-CSRF-Token sent is not the visitor's",
                                      ref("Errors")),
                        "413": answer("the body is too large", ref("Errors")),
                        "415": answer("the body is not application/json", ref("Errors")),
                        "422": answer("fields are not valid; each is named", ref("Errors")),
                        "429": answer("this client already has as many tasks queued or "
                                      "running as `stackq.tasks.max_queued_per_client` "
                                      "allows", ref("Errors"), headers={"Retry-After": {
                                          "description": "seconds before trying again",
                                          "schema": {"type": "integer"}}}),
                    }},
            },
            "/api/tasks/results": {"get": {
                "summary": "Finished tasks, newest first", "operationId": "listResults",
                "parameters": [query_int("page", "page of results", 1, 100000, 1),
                               query_int("per_page", "tasks a page", 1, 100, 20)],
                "responses": {"200": answer("a page of finished tasks", ref("TaskPage")),
                              "400": BAD}}},
            "/api/tasks/{id}": {
                "get": {"summary": "One task: state, progress, log (paged), result, timings",
                        "operationId": "getTask",
                        "parameters": [TASK_ID,
                                       query_int("log_offset", "first log line", 0, 10**9, 0),
                                       query_int("log_limit", "log lines", 1, 1000, 100)],
                        "responses": {"200": answer("the task", ref("TaskDetail")),
                                      "400": BAD, "404": MISSING}},
                "delete": {"summary": "Cancel a pending task, or stop a running one after "
                                      "its current page",
                           "operationId": "cancelTask", "parameters": [TASK_ID],
                           "responses": {"202": answer("cancelled, or asked to stop",
                                                       ref("Task")),
                                         "400": BAD, "404": MISSING,
                                         "409": answer("the task has already ended",
                                                       ref("Errors"))}},
            },
            "/api/queries/{id}": {
                "delete": {"summary": "Delete a saved search: its results, their order and its "
                                      "history go, its waiting refresh tasks are cancelled; "
                                      "the questions it stored stay in the archive",
                           "operationId": "deleteQuery", "parameters": [QUERY_ID],
                           "responses": {"204": {"description": "deleted"},
                                         "403": answer("the X-CSRF-Token sent is not the "
                                                       "visitor's", ref("Errors")),
                                         "404": answer("no such saved search",
                                                       ref("Errors"))}},
            },
        },
        "components": {"schemas": schemas(kinds)},
        "tags": [{"name": "tasks", "description": "the queue: one task runs at a time"},
                 {"name": "queries", "description": "saved searches"}],
    }
    for paths, more_schemas in extras:
        found["paths"].update(paths)
        found["components"]["schemas"].update(more_schemas)
    for address, path in found["paths"].items():
        for method, operation in path.items():
            operation["tags"] = [address.split("/")[2]]
            if tokens and method != "get":
                operation["security"] = [{"bearer": []}]
                operation["responses"]["401"] = UNSIGNED
    if tokens:
        found["components"]["securitySchemes"] = {"bearer": BEARER}
    return found
