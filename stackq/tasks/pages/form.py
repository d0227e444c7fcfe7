"""The form of /tasks/new: what was typed, read into a harvest task's body, each bad value named.

Whole numbers are read here (a form sends text); everything else is the tasks API's own
check (stackq/tasks/validation.py), so the form and `POST /api/tasks` refuse the same things.
"""

from ...stackexchange.policy import KEYLESS_LAST_PAGE
from ..kinds import DEFAULT_KIND, MAX_DELAY
from ..validation import InvalidTask, validate_task

FIELDS = ("q", "site", "pages", "delay", "answers")
EMPTY = {"q": "", "site": "stackoverflow", "pages": "1", "delay": "", "answers": ""}


def most_pages(kinds):
    """Pages a harvest may ask for with an API key (its kind's schema says)."""
    return kinds[DEFAULT_KIND].params["pages"]["maximum"]


def page_limit(kinds, has_key):
    return most_pages(kinds) if has_key else min(most_pages(kinds), KEYLESS_LAST_PAGE)


def whole_number(text, low, high, what):
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text), None
    return None, f"{what} from {low} to {high}, not “{text}”"


def read_form(post):
    """What was typed, as it will be shown again (stripped; empty pages/site defaulted)."""
    form = {name: post.get(name, "").strip() for name in FIELDS}
    form["site"] = form["site"] or EMPTY["site"]
    return form


def harvest_task(dbsession, kinds, form, has_key):
    """(kind, params, delay) of the form's task, or ({field: message}) errors; never both."""
    errors = {}
    if not form["q"]:
        errors["q"] = "type what to search for"
    limit = page_limit(kinds, has_key)
    pages, errors["pages"] = whole_number(form["pages"] or "1", 1, limit, "a whole number")
    if limit < most_pages(kinds) and errors["pages"]:
        errors["pages"] += f" (up to {most_pages(kinds)} with an API key)"
    delay, errors["delay"] = whole_number(form["delay"] or "0", 0, MAX_DELAY, "whole seconds")
    errors = {field: message for field, message in errors.items() if message}
    if errors:
        return None, errors
    body = {"kind": "harvest", "q": form["q"], "site": form["site"], "pages": pages,
            "delay": delay}
    if form["answers"]:  # a checkbox: sent only when ticked
        body["answers"] = True
    try:
        return validate_task(dbsession, kinds, body, has_key), {}
    except InvalidTask as invalid:
        return None, {problem["field"]: problem["message"] for problem in invalid.errors}
