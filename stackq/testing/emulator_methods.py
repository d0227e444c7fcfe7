"""The emulator's API methods: the answer body of each, and of each fault."""

import math
from functools import partial

from .emulator_answers import body_html, public_answer, run_answers
from .emulator_filters import create, resolve
from .emulator_query import (
    ApiError,
    Query,
    bad_parameter,
    public_question,
    public_site,
)

METHODS = ("search/advanced", "search", "questions", "questions/answers", "sites", "info",
           "errors", "filters/create")
WITH_IDS = ("questions", "questions/answers", "errors")
_RANGE = ("fromdate", "todate", "min", "max", "sort", "order")
_PARAMS = {  # what each question method reads; the API ignores anything else
    "search/advanced": ("q", "accepted", "answers", "closed", "nottagged", "tagged", "title",
                        "user", "views") + _RANGE,
    "search": ("intitle", "tagged", "nottagged") + _RANGE,
    "questions": _RANGE,
}
ERROR_NAMES = {
    400: "bad_parameter", 401: "access_token_required", 402: "invalid_access_token",
    403: "access_denied", 404: "no_method", 405: "key_required", 406: "access_token_compromised",
    407: "write_failed", 409: "duplicate_request", 500: "internal_error",
    502: "throttle_violation", 503: "temporarily_unavailable",
}
GARBAGE = (b"<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>"
           b"<h1>Service Unavailable</h1><p>The server is temporarily unable to serve your request."
           b"</p></body></html>")


def method_name(path):
    """'search/advanced' stays; 'questions/1;2' and '/questions/{ids}' become 'questions',
    'questions/1;2/answers' 'questions/answers'."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) == 3 and parts[0] == "questions" and parts[2] == "answers":
        return "questions/answers"
    if len(parts) == 2 and parts[0] in ("questions", "errors") or parts and parts[-1][0] == "{":
        parts = parts[:1]
    return "/".join(parts)


def throttled(seconds):
    wait = max(1, math.ceil(seconds))
    return ApiError(502, "throttle_violation",
                    f"too many requests from this IP, more requests available in {wait} seconds")


def no_method():
    return ApiError(404, "no_method", "no method found with this name")


def fault_body(mode, ban_seconds):
    """(HTTP status, body) of a fault that answers at all."""
    if mode == "500":
        return 500, ApiError(500, "internal_error", "An internal error occurred").body()
    if mode == "503":
        message = "The service is temporarily unavailable"
        return 400, ApiError(503, "temporarily_unavailable", message).body()
    if mode == "throttle":
        return 400, throttled(ban_seconds).body()
    if mode == "backoff_violation":
        return 400, ApiError(502, "throttle_violation", "Violation of backoff parameter").body()
    if mode == "no_method":  # a method this mirror lacks, e.g. behind a proxy
        return 400, no_method().body()
    return 200, GARBAGE


def answer(method, path, params, sites, site_param):
    """(every wrapper field of the answer but quota and backoff, its item type, its Filter);
    raises ApiError.

    sites maps api_site_parameter to (site item, questions); site_param resolves the site parameter.
    """
    if method not in METHODS:
        raise no_method()
    arg = path.strip("/").split("/")[1 if method == "questions/answers" else -1]
    if method in WITH_IDS and not all(part.isdigit() for part in arg.split(";")):
        raise no_method()
    chosen = resolve(params.get("filter"))
    page = _number(params, "page", 1, low=1)
    pagesize = _number(params, "pagesize", 30, low=0, high=None if method == "sites" else 100)
    if page > 25 and not (params.get("key") or params.get("access_token")):
        raise ApiError(403, "access_denied", "page above 25 requires access token or app key")
    if method == "errors":
        if int(arg) not in ERROR_NAMES:
            raise bad_parameter("id")
        raise ApiError(int(arg), ERROR_NAMES[int(arg)], f"simulated error {arg}")
    if method == "filters/create":  # needs no site
        items, encode, kind = [create(params)], dict, "filter"
    elif method == "sites":
        items, encode, kind = [site for site, _ in sites.values()], public_site, "site"
    else:
        questions = sites[site_param(params.get("site"))][1]
        if method == "info":
            items, encode, kind = [_info(questions)], dict, "info"
        elif method == "questions/answers":
            items, kind = run_answers(questions, arg.split(";"), params), "answer"
            encode = partial(public_answer, body="answer.body" in chosen.fields,
                             encode=not chosen.unsafe)
        else:
            items, kind = _query(method, arg, params).run(questions), "question"
            encode = partial(public_question, encode=not chosen.unsafe,
                             body=body_html if "question.body" in chosen.fields else None)
    chunk = items[(page - 1) * pagesize:page * pagesize]
    wrapper = {"items": [encode(it) for it in chunk], "has_more": page * pagesize < len(items),
               "page": page, "page_size": pagesize, "total": len(items), "type": kind}
    return wrapper, kind, chosen


def _query(method, arg, params):
    given = {k: params[k] for k in _PARAMS[method] if k in params}
    if method == "search" and not (given.get("tagged") or given.get("intitle")):
        raise bad_parameter("one of tagged or intitle must be set")
    if method == "search" and not given.get("tagged"):
        given.pop("nottagged", None)  # the API reads nottagged only beside tagged
    if method != "questions":
        return Query.from_params(given)
    ids = arg.split(";")
    if len(ids) > 100:
        raise bad_parameter("ids")
    query = Query.from_params(given, sorts=("activity", "creation", "votes"))
    query.ids = {int(i) for i in ids}
    return query


def _number(params, name, default, low, high=None):
    try:
        value = int(params.get(name) or default)
    except ValueError:
        raise bad_parameter(name) from None
    if value < low or high is not None and value > high:
        raise bad_parameter(name)
    return value


def _info(questions):
    answers = sum(q["answer_count"] for q in questions)
    return {"new_active_users": 42,
            "total_users": len({q["owner"].get("user_id") for q in questions}),
            "badges_per_minute": 2.71, "total_badges": 4 * len(questions),
            "total_votes": 3 * answers, "total_comments": 2 * answers,
            "answers_per_minute": 3.14, "questions_per_minute": 1.62, "total_answers": answers,
            "total_accepted": sum("accepted_answer_id" in q for q in questions),
            "total_unanswered": sum(not q["is_answered"] for q in questions),
            "total_questions": len(questions), "api_revision": "2026.11.1.0"}
