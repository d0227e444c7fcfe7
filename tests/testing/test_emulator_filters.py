"""The emulator's filters, as the API's: built-ins, /filters/create, and back-offs they hide."""

import html
import time

import pytest

from stackq.testing.emulator_data import HOSTILE_TITLES
from tests.support.emulator_calls import SO, call

WRAPPER_KEYS = ["items", "has_more", "quota_max", "quota_remaining"]


@pytest.fixture
def emu(mirrors):
    return mirrors[0]


def created(emu, **params):
    answer = call(emu, "filters/create", **params)
    assert answer.status == 200, answer.raw
    return answer.json()


def test_built_in_filters_keep_their_own_fields(emu):
    count = len(emu.search(SO, q="asyncio"))
    default = call(emu, "search/advanced", site=SO, q="asyncio").json()
    assert list(default) == WRAPPER_KEYS and "body" not in default["items"][0]
    assert call(emu, "search/advanced", site=SO, q="asyncio",
                filter="default").json().keys() == default.keys()
    item = call(emu, "search/advanced", site=SO, q="asyncio",
                filter="withbody").json()["items"][0]
    assert list(item) == list(default["items"][0]) + ["body"]
    assert call(emu, "search/advanced", site=SO, q="asyncio", filter="none").json() == {}
    assert call(emu, "search/advanced", site=SO, q="asyncio",
                filter="total").json() == {"total": count}


def test_filters_create_adds_and_removes_fields_from_its_base(emu):
    body = created(emu, base="total", include=".backoff;.quota_remaining;.has_more")
    assert list(body) == WRAPPER_KEYS
    [made] = body["items"]
    assert made["filter_type"] == "safe"
    assert made["included_fields"] == [".backoff", ".has_more", ".quota_remaining", ".total"]
    emu.configure(backoff={"search/advanced": 2})
    total = call(emu, "search/advanced", site=SO, q="asyncio", filter=made["filter"]).json()
    assert total == {"has_more": True, "quota_remaining": total["quota_remaining"], "backoff": 2,
                     "total": len(emu.search(SO, q="asyncio"))}
    emu.configure(backoff=None)
    emu.reset()
    [slim] = created(emu, base="default", include=".total",
                     exclude="question.title;question.owner")["items"]
    page = call(emu, "search/advanced", site=SO, q="asyncio", filter=slim["filter"]).json()
    assert list(page) == WRAPPER_KEYS + ["total"]
    assert "title" not in page["items"][0] and "owner" not in page["items"][0]
    assert "question_id" in page["items"][0]


def test_a_filter_made_on_one_mirror_works_on_every_other_and_for_ever(mirrors):
    first, second = mirrors
    spec = {"base": "withbody", "include": ".total", "exclude": ".quota_max"}
    [made] = created(first, **spec)["items"]
    assert created(second, **spec)["items"][0]["filter"] == made["filter"]
    first.reset()  # an emulator keeps nothing of the filters it made
    for emu in (first, second):
        body = call(emu, "search/advanced", site=SO, q="asyncio", filter=made["filter"]).json()
        assert "total" in body and "quota_max" not in body and "body" in body["items"][0]


def test_unsafe_filters_send_strings_as_they_are(emu):
    [made] = created(emu, base="default", unsafe="true")["items"]
    assert made["filter_type"] == "unsafe"
    safe, unsafe = (call(emu, "questions/79900023", site=SO, **extra).json()["items"][0]["title"]
                    for extra in ({}, {"filter": made["filter"]}))
    assert unsafe == HOSTILE_TITLES["script"] and safe == html.escape(unsafe)


@pytest.mark.parametrize("params, message", [
    ({"filter": "nosuchfilter"}, "filter"),
    ({"filter": "!9_bDDxJY5"}, "filter"),  # a real API string: this API never made it
    ({"filter": "!"}, "filter"),
])
def test_an_unknown_filter_is_a_bad_parameter(emu, params, message):
    answer = call(emu, "search/advanced", site=SO, q="asyncio", **params)
    assert answer.status == 400
    assert answer.json() == {"error_id": 400, "error_message": message,
                             "error_name": "bad_parameter"}


@pytest.mark.parametrize("params, message", [
    ({"base": "everything"}, "base"),
    ({"include": ".nosuchfield"}, "include"),
    ({"exclude": "question body"}, "exclude"),
    ({"unsafe": "maybe"}, "unsafe"),
])
def test_filters_create_refuses_what_it_cannot_make(emu, params, message):
    answer = call(emu, "filters/create", **params)
    assert (answer.status, answer.json()["error_message"]) == (400, message)


def test_a_back_off_the_filter_hides_is_still_enforced(emu):
    emu.configure(backoff={"search/advanced": 1})
    count = len(emu.search(SO, q="asyncio"))
    assert call(emu, "search/advanced", site=SO, q="asyncio",
                filter="total").json() == {"total": count}
    early = call(emu, "search/advanced", site=SO, q="asyncio", filter="none")
    # error_* fields survive any filter
    assert (early.status, early.json()["error_message"]) == (400, "Violation of backoff parameter")
    stats = emu.stats()
    assert stats["backoffs"] == stats["hidden_backoffs"] == {"search/advanced": 1}
    assert stats["hidden_backoff_violations"] == {"search/advanced": 1}
    assert stats["violations"] == 1
    time.sleep(1.05)
    shown = call(emu, "search/advanced", site=SO, q="asyncio").json()
    assert shown["backoff"] == 1 and emu.stats()["hidden_backoffs"] == {"search/advanced": 1}
