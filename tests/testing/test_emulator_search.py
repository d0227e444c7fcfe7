"""The emulator's data and searches: pages, sorts, filters, ids, parameters, mutations."""


import pytest

from stackq.testing.emulator import HOSTILE_QUESTION_IDS, HOSTILE_TITLES
from stackq.testing.emulator_data import generate_site
from tests.support.emulator_calls import SO, call, ids


@pytest.fixture
def emu(upstream):
    """The session's emulator, reset for this test."""
    return upstream


def test_data_is_large_and_matches_common_searches(emu):
    assert len(emu.search(SO, q="python")) >= 600
    assert len(emu.search(SO, q="asyncio")) >= 250
    assert len(emu.search(SO, q="sql")) >= 200
    assert len(emu.search(SO, tagged="python")) >= 600
    assert len(emu.search(SO, tagged="python;javascript;sql;linux")) > 2500
    assert any(item["score"] < 0 for item in emu.search(SO, q="python"))
    assert generate_site(0) == generate_site(0)  # fixed seed, same data every time


@pytest.mark.parametrize("site, criteria, pagesize", [
    (SO, {"q": "asyncio"}, 100),
    ("math.stackexchange.com", {"tagged": "calculus"}, 30),
])
def test_pages_add_up_to_the_emulators_order(emu, site, criteria, pagesize):
    expected = ids(emu.search(site, **criteria))
    seen, page = [], 1
    while True:
        body = call(emu, "search/advanced", site=site, page=page, pagesize=pagesize,
                    **criteria).json()
        seen += ids(body["items"])
        if not body["has_more"]:
            break
        assert len(body["items"]) == pagesize
        page += 1
    assert page == -(-len(expected) // pagesize) > 1
    assert seen == expected
    assert len(set(seen)) == len(seen)


@pytest.mark.parametrize("sort, field", [
    ("activity", "last_activity_date"), ("creation", "creation_date"), ("votes", "score"),
    ("relevance", None),
])
def test_each_sort_both_orders(emu, sort, field):
    desc = call(emu, "search/advanced", site=SO, q="pyramid", sort=sort, pagesize=100).json()
    asc = call(emu, "search/advanced", site=SO, q="pyramid", sort=sort, order="asc",
               pagesize=100).json()
    assert not desc["has_more"]
    assert ids(desc["items"]) == ids(emu.search(SO, q="pyramid", sort=sort))
    assert ids(asc["items"]) == ids(desc["items"])[::-1]
    if field:
        values = [item[field] for item in desc["items"]]
        assert values == sorted(values, reverse=True) and len(set(values)) > 1
    else:  # a title hit outranks a tag-only hit
        in_title = ["pyramid" in item["title"].lower() for item in desc["items"]]
        assert in_title == sorted(in_title, reverse=True) and True in in_title and False in in_title


def test_filters_narrow_the_result(emu):
    everything = emu.search(SO, q="python")
    start, end = sorted(item["creation_date"] for item in everything)[100:102]
    params = {"site": SO, "q": "python", "pagesize": 100}
    dated = call(emu, "search/advanced", fromdate=start, todate=end, **params).json()["items"]
    assert sorted(ids(dated)) == sorted(i["question_id"] for i in everything
                                        if start <= i["creation_date"] <= end)
    voted = call(emu, "search/advanced", sort="votes", min=5, max=10, **params).json()["items"]
    assert voted and all(5 <= item["score"] <= 10 for item in voted)
    answered = call(emu, "search/advanced", accepted="true", answers=2, views=100,
                    **params).json()["items"]
    assert answered and all("accepted_answer_id" in i and i["answer_count"] >= 2
                            and i["view_count"] >= 100 for i in answered)
    untagged = call(emu, "search/advanced", nottagged="asyncio", **params).json()["items"]
    assert untagged and not any("asyncio" in item["tags"] for item in untagged)


def test_filter_total_is_the_bare_count(emu):
    body = call(emu, "search/advanced", site=SO, q="asyncio", filter="total").json()
    assert body == {"total": len(emu.search(SO, q="asyncio"))}


def test_filter_withbody_adds_html_bodies_and_unknown_filters_are_refused(emu):
    item = call(emu, "search/advanced", site=SO, q="asyncio", filter="withbody").json()["items"][0]
    assert list(item)[-1] == "body" and item["body"].startswith("<p>")
    answer = call(emu, "search/advanced", site=SO, q="asyncio", filter="nosuchfilter")
    assert (answer.status, answer.json()["error_message"]) == (400, "filter")


def test_page_above_25_needs_a_key(emu):
    answer = call(emu, "search/advanced", site=SO, q="python", page=26)
    assert answer.status == 400
    message = "page above 25 requires access token or app key"
    assert answer.json() == {"error_id": 403, "error_message": message,
                             "error_name": "access_denied"}
    keyed = call(emu, "search/advanced", site=SO, q="python", page=26, key="k")
    assert keyed.status == 200
    assert ids(keyed.json()["items"]) == ids(emu.search(SO, q="python"))[750:780]


@pytest.mark.parametrize("params, message", [
    ({"site": SO, "pagesize": 101}, "pagesize"),
    ({"site": SO, "page": 0}, "page"),
    ({"site": SO, "sort": "hot"}, "sort"),
    ({"site": SO, "order": "up"}, "order"),
    ({"site": SO, "fromdate": "yesterday"}, "fromdate"),
    ({}, "site is required"),
    ({"site": "nosuchsite"}, "site"),
])
def test_bad_parameters_are_400_with_only_the_error_fields(emu, params, message):
    answer = call(emu, "search/advanced", q="python", **params)
    assert answer.status == 400
    assert answer.json() == {"error_id": 400, "error_message": message,
                             "error_name": "bad_parameter"}


def test_hostile_titles_and_owners_are_entity_encoded_once(emu):
    answer = call(emu, "search/advanced", site=SO, q="python", pagesize=100)
    text = answer.raw.decode("utf-8")
    assert "What does the &quot;yield&quot; keyword do in Python?" in text
    assert "Python&#39;s &amp; operator" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text and "<img" not in text
    assert "Python: ünïcödé — 日本語 ✓" in text  # UTF-8 on the wire, not \\u escapes
    assert "O&#39;Brien &amp; Co" in text and "&#x27;" not in text
    items = {item["question_id"]: item for item in answer.json()["items"]}
    assert set(HOSTILE_QUESTION_IDS.values()) <= set(items)
    assert items[HOSTILE_QUESTION_IDS["deleted_owner"]]["owner"] == {
        "user_type": "does_not_exist", "display_name": "user12345"}
    plain = {item["question_id"]: item["title"] for item in emu.search(SO, q="python")}
    assert all(plain[qid] == HOSTILE_TITLES[kind] for kind, qid in HOSTILE_QUESTION_IDS.items())


def test_questions_by_ids(emu):
    wanted = sorted(HOSTILE_QUESTION_IDS.values())[:3]
    body = call(emu, f"questions/{';'.join(map(str, wanted))}", site=SO).json()
    assert sorted(ids(body["items"])) == wanted
    assert call(emu, "questions/12;abc", site=SO).json()["error_name"] == "no_method"
    too_many = call(emu, f"questions/{';'.join(str(i) for i in range(1, 102))}", site=SO)
    assert too_many.json()["error_message"] == "ids"


def test_search_needs_intitle_or_tagged(emu):
    body = call(emu, "search", site=SO, intitle="django", pagesize=100).json()
    assert body["items"] and all("django" in item["title"].lower() for item in body["items"])
    assert call(emu, "search", site=SO).json()["error_name"] == "bad_parameter"


def test_mutate_shows_new_changed_and_removed(emu):
    before = {item["question_id"]: item for item in emu.search(SO, q="asyncio")}
    changes = emu.mutate(SO, "asyncio", new=2, changed=2, removed=2)
    assert [len(changes[k]) for k in ("new", "changed", "removed")] == [2, 2, 2]
    page = call(emu, "search/advanced", site=SO, q="asyncio", pagesize=100).json()["items"]
    # New questions are the newest, then the changed ones, each in the order they were made.
    assert ids(page)[:4] == changes["new"][::-1] + changes["changed"][::-1]
    shown = {item["question_id"]: item for item in page}
    for qid in changes["changed"]:
        assert shown[qid]["title"] != before[qid]["title"]
        assert shown[qid]["last_activity_date"] > before[qid]["last_activity_date"]
        assert shown[qid]["answer_count"] == before[qid]["answer_count"] + 1
    everything = ids(emu.search(SO, q="asyncio"))
    assert not set(changes["removed"]) & set(everything)
    assert set(changes["new"]) <= set(everything) and not set(changes["new"]) & set(before)
    total = call(emu, "search/advanced", site=SO, q="asyncio", filter="total").json()["total"]
    assert total == len(before)
    gone = call(emu, f"questions/{';'.join(map(str, changes['removed']))}", site=SO).json()
    assert gone["items"] == []
    emu.reset()
    assert emu.mutate(SO, "asyncio", new=2, changed=2, removed=2) == changes  # deterministic
