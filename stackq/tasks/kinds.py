"""Kinds of task: a name, a params schema (JSON Schema), a run function and a check.

Each feature declares its own kinds and registers them with `config.add_task_kind(kind)`
(harvest/task.py, refresh/task.py); the queue knows them only through the registry, so it
imports no feature. The same schemas validate `POST /api/tasks` bodies and make the OpenAPI
document.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..infra.registry import TASK_KINDS

MAX_DELAY = 3600


def no_check(dbsession, params, has_key):
    return []


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    params: dict  # JSON Schema of the kind's own fields
    required: tuple
    run: Callable  # run(context, params) -> result (JSON-able)
    # check(dbsession, params, has_key) -> [problem]: what the schema cannot say (a site
    # that exists, a page limit without an API key); may fill in defaults in `params`.
    check: Callable = no_check


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
    required = list(kind.required) + ([] if kind.name == DEFAULT_KIND else ["kind"])
    return {"title": f"{kind.name} task", "description": kind.summary, "type": "object",
            "properties": properties, "required": required, "additionalProperties": False}


DEFAULT_KIND = "harvest"  # what a body without `kind` asks for


def kinds_of(registry):
    """The kinds registered in the app, by name, in the order they were registered."""
    return registry[TASK_KINDS]


def add_task_kind(config, kind):
    """`config.add_task_kind(kind)`: the worker runs it, the API takes it, the docs show it."""
    def register():
        kinds_of(config.registry)[kind.name] = kind

    config.action(("stackq.task_kind", kind.name), register)


def includeme(config):
    config.registry[TASK_KINDS] = {}
    config.add_directive("add_task_kind", add_task_kind)
