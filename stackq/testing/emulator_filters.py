"""The emulator's filters, as the API's: a filter is the set of fields an answer keeps.

A field is `.name` for the wrapper (`.backoff`, `.total`) or `type.name` for an item's
(`question.body`). Built-ins: `default`, `withbody`, `none`, `total`. `/filters/create`
answers an opaque string that encodes the field set itself, so every mirror (every
emulator) reads a string made on another, as the real API's strings are global. Any other
string is a 400 bad_parameter. The error_* fields are no part of this: an error answer
is never filtered.
"""

import base64
import binascii
import re
import zlib
from typing import NamedTuple

from .emulator_answers import ANSWER_KEYS
from .emulator_data import QUESTION_KEYS
from .emulator_query import bad_parameter

# The wrapper's fields in the order they go out (captures: items, has_more, quota_max,
# quota_remaining, then backoff when set).
WRAPPER = ("items", "has_more", "quota_max", "quota_remaining", "backoff", "page",
           "page_size", "total", "type", "error_id", "error_message", "error_name")
_DEFAULT = frozenset({".items", ".has_more", ".quota_max", ".quota_remaining", ".backoff",
                      ".error_id", ".error_message", ".error_name"}
                     | {f"question.{key}" for key in QUESTION_KEYS}
                     | {f"answer.{key}" for key in ANSWER_KEYS})
BUILT_IN = {
    "default": _DEFAULT,
    "withbody": _DEFAULT | {"question.body", "answer.body"},
    "none": frozenset(),
    "total": frozenset({".total"}),
}
FILTERED_TYPES = ("question", "answer")  # item types whose fields a filter picks; others stay whole
_FIELD = re.compile(r"^(\.[a-z_]+|[a-z_]+\.[a-z_]+)$")
_MAGIC = "stackq-emulator-filter"


class Filter(NamedTuple):
    fields: frozenset
    unsafe: bool = False

    def apply(self, wrapper, item_type):
        """What of `wrapper` (every wrapper field this answer has) the filter leaves."""
        out = {key: wrapper[key] for key in WRAPPER if key in wrapper and f".{key}" in self.fields}
        if "items" in out and item_type in FILTERED_TYPES:
            out["items"] = [{key: value for key, value in item.items()
                             if f"{item_type}.{key}" in self.fields} for item in out["items"]]
        return out


def encode(fields, unsafe):
    """The opaque string of a field set: the same on every emulator, for ever."""
    payload = "|".join([_MAGIC, "unsafe" if unsafe else "safe", *sorted(fields)])
    return "!" + base64.urlsafe_b64encode(zlib.compress(payload.encode(), 9)).decode().rstrip("=")


def resolve(name):
    """The Filter a `filter=` value names; bad_parameter("filter") if none."""
    name = name or "default"
    if name in BUILT_IN:
        return Filter(BUILT_IN[name])
    try:
        raw = name.removeprefix("!")
        payload = zlib.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))).decode()
    except (ValueError, binascii.Error, zlib.error, UnicodeDecodeError):
        raise bad_parameter("filter") from None
    magic, kind, *fields = payload.split("|")
    if not name.startswith("!") or magic != _MAGIC or kind not in ("safe", "unsafe"):
        raise bad_parameter("filter")
    return Filter(frozenset(fields), kind == "unsafe")


def create(params):
    """The item of a /filters/create answer: `filter`, `filter_type`, `included_fields`."""
    base = params.get("base") or "default"
    if base not in BUILT_IN:
        raise bad_parameter("base")
    unsafe = (params.get("unsafe") or "false").lower()
    if unsafe not in ("true", "false"):
        raise bad_parameter("unsafe")
    include, exclude = _fields(params, "include"), _fields(params, "exclude")
    fields = (BUILT_IN[base] | include) - exclude
    return {"filter": encode(fields, unsafe == "true"),
            "filter_type": "unsafe" if unsafe == "true" else "safe",
            "included_fields": sorted(fields)}


def _fields(params, name):
    fields = {f.strip() for f in (params.get(name) or "").split(";") if f.strip()}
    for field in fields:
        if not _FIELD.match(field) or field.startswith(".") and field[1:] not in WRAPPER:
            raise bad_parameter(name)
    return fields
