"""Kinds of task, registered by name: a params schema (JSON Schema) and a run function.

The same schemas validate `POST /api/tasks` bodies and make the OpenAPI document.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..harvest.task import run_harvest_task
from ..refresh.task import run_refresh_task

# Without a key the API serves no page past 25 (DESIGN.md).
KEYLESS_MAX_PAGES = 25
MAX_PAGES = 100
MAX_DELAY = 3600


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    params: dict  # JSON Schema of the kind's own fields
    required: tuple
    run: Callable  # run(context, params) -> result (JSON-able)


KINDS = {}


def register(kind):
    KINDS[kind.name] = kind
    return kind


register(Kind(
    name="harvest",
    summary="Fetch pages of one search (100 questions a page) into its saved search.",
    params={
        "q": {"type": "string", "minLength": 1, "maxLength": 500,
              "description": "the search text"},
        "site": {"type": "string", "minLength": 1, "maxLength": 200,
                 "description": "a site's API name (e.g. stackoverflow) or its domain"},
        "tagged": {"type": ["string", "null"], "maxLength": 500,
                   "description": "tags, `;`-separated (any of them)"},
        "sort": {"type": "string", "enum": ["activity", "creation", "votes"],
                 "default": "activity"},
        "pages": {"type": "integer", "minimum": 1, "maximum": MAX_PAGES, "default": 1,
                  "description": f"upstream pages of 100; at most {KEYLESS_MAX_PAGES} "
                                 "without an API key"},
    },
    required=("q", "site"),
    run=run_harvest_task,
))

register(Kind(
    name="refresh",
    summary="Refresh one saved search now, as a refresh cycle would.",
    params={"query_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                         "description": "the saved search's id"}},
    required=("query_id",),
    run=run_refresh_task,
))


def common_fields():
    """Fields every kind takes besides its own."""
    return {
        "delay": {"type": "integer", "minimum": 0, "maximum": MAX_DELAY, "default": 0,
                  "description": "seconds to wait before the task may start"},
    }


def body_schema(kind):
    """The JSON Schema of a `POST /api/tasks` body for `kind`."""
    properties = dict(common_fields(), **kind.params)
    # `kind` tells the bodies apart; only a harvest may leave it out (the default).
    properties["kind"] = {"const": kind.name}
    required = list(kind.required) + ([] if kind.name == "harvest" else ["kind"])
    return {"title": f"{kind.name} task", "description": kind.summary, "type": "object",
            "properties": properties, "required": required, "additionalProperties": False}
