"""A `POST /api/tasks` body checked against its kind's schema, then against the database.

Every problem names its field: `{"field": "pages", "message": "..."}`.
"""

import json

from jsonschema import Draft202012Validator

from .kinds import DEFAULT_KIND, body_schema

MAX_BODY = 16 * 1024
JSON_TYPE = "application/json"


class InvalidTask(ValueError):
    """A body the API refuses: the HTTP status and a list of {field, message}."""

    def __init__(self, status, errors):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.status = status
        self.errors = errors


def problem(field, message):
    return {"field": field, "message": message}


def read_body(content_type, body_file, content_length):
    """The JSON object sent, or InvalidTask (415 not JSON, 413 too big, 400 not parseable,
    422 naming each field that holds text no page could show: `text_fault`)."""
    if content_type != JSON_TYPE:
        raise InvalidTask(415, [problem("Content-Type", f"send {JSON_TYPE}, not "
                                                        f"{content_type or 'nothing'}")])
    if content_length is not None and content_length > MAX_BODY:
        raise InvalidTask(413, [problem("body", f"at most {MAX_BODY} bytes")])
    raw = body_file.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise InvalidTask(413, [problem("body", f"at most {MAX_BODY} bytes")])
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise InvalidTask(400, [problem("body", f"not valid JSON: {error}")]) from None
    if not isinstance(body, dict):
        raise InvalidTask(400, [problem("body", "a JSON object, e.g. "
                                                '{"kind": "harvest", "q": "asyncio", '
                                                '"site": "stackoverflow"}')])
    errors = [problem(field, message) for field, message in unstorable_text(body)]
    if errors:
        raise InvalidTask(422, errors)
    return body


def text_fault(value):
    """Why JSON `value` holds text stackq cannot store or show, else None.

    JSON may spell a lone surrogate (`"\\ud800"`), which is no Unicode character: json.loads
    gives a str that every encoder refuses later (the task's run, its page, its log). NUL is
    refused by PostgreSQL. Both are refused here, at the door.
    """
    if isinstance(value, str):
        if "\0" in value:
            return "holds a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "is not valid Unicode (a lone surrogate)"
        return None
    parts = [*value, *value.values()] if isinstance(value, dict) else value
    if isinstance(parts, list):
        return next(filter(None, map(text_fault, parts)), None)
    return None


def unstorable_text(body):
    """(field, message) for each field of `body` whose name or value is unstorable text."""
    for name, value in body.items():
        fault = text_fault(name)
        if fault is not None:
            yield "body", f"a field name {fault}"
        elif (fault := text_fault(value)) is not None:
            yield name, fault


def schema_errors(kind, body):
    validator = Draft202012Validator(body_schema(kind))
    errors = []
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = [name for name in kind.required if name not in body]
            errors += [problem(name, "missing") for name in missing]
        elif error.validator == "additionalProperties":
            extra = sorted(set(body) - set(body_schema(kind)["properties"]))
            errors += [problem(name, f"not a field of a {kind.name} task") for name in extra]
        else:
            field = ".".join(str(part) for part in error.path) or "body"
            errors.append(problem(field, error.message))
    return errors


def validate_task(dbsession, kinds, body, has_key):
    """(kind name, params, delay) of a valid body for one of `kinds`; InvalidTask (422)
    naming each bad field."""
    kind_name = body.get("kind", DEFAULT_KIND)
    if not isinstance(kind_name, str) or kind_name not in kinds:
        raise InvalidTask(422, [problem("kind", f"one of {', '.join(sorted(kinds))}, "
                                                f"not {kind_name!r}")])
    kind = kinds[kind_name]
    errors = schema_errors(kind, body)
    if errors:
        raise InvalidTask(422, errors)
    params = {name: body[name] for name in kind.params if name in body}
    for name, schema in kind.params.items():
        if schema.get("type") == "integer" and name in params:
            params[name] = int(params[name])  # JSON Schema counts 2.0 as an integer
    errors = kind.check(dbsession, params, has_key)
    if errors:
        raise InvalidTask(422, errors)
    return kind_name, params, int(body.get("delay", 0))
