"""The form of /tasks/new: what was typed, read into a harvest task's body, each bad value named.

Whole numbers are read here (a form sends text); everything else is the tasks API's own
check (stackq/tasks/validation.py), so the form and `POST /api/tasks` refuse the same things.
"""

from ..kinds import KEYLESS_MAX_PAGES, MAX_DELAY, MAX_PAGES
from ..validation import InvalidTask, validate_task

FIELDS = ("q", "site", "pages", "delay")
EMPTY = {"q": "", "site": "stackoverflow", "pages": "1", "delay": ""}


def page_limit(has_key):
    return MAX_PAGES if has_key else KEYLESS_MAX_PAGES


def whole_number(text, low, high, what):
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text), None
    return None, f"{what} from {low} to {high}, not “{text}”"


def read_form(post):
    """What was typed, as it will be shown again (stripped; empty pages/site defaulted)."""
    form = {name: post.get(name, "").strip() for name in FIELDS}
    form["site"] = form["site"] or EMPTY["site"]
    return form


def harvest_task(dbsession, form, has_key):
    """(kind, params, delay) of the form's task, or ({field: message}) errors; never both."""
    errors = {}
    if not form["q"]:
        errors["q"] = "type what to search for"
    limit = page_limit(has_key)
    pages, errors["pages"] = whole_number(form["pages"] or "1", 1, limit, "a whole number")
    if limit < MAX_PAGES and errors["pages"]:
        errors["pages"] += f" (up to {MAX_PAGES} with an API key)"
    delay, errors["delay"] = whole_number(form["delay"] or "0", 0, MAX_DELAY, "whole seconds")
    errors = {field: message for field, message in errors.items() if message}
    if errors:
        return None, errors
    body = {"kind": "harvest", "q": form["q"], "site": form["site"], "pages": pages,
            "delay": delay}
    try:
        return validate_task(dbsession, body, has_key), {}
    except InvalidTask as invalid:
        return None, {problem["field"]: problem["message"] for problem in invalid.errors}
