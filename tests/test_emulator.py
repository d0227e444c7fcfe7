"""The Stack Exchange API emulator, over real HTTP as every client sees it."""

import gzip
import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zlib
from typing import NamedTuple
from urllib.parse import urlencode

import pytest

from stackq.testing.emulator import HOSTILE_QUESTION_IDS, HOSTILE_TITLES, Emulator
from stackq.testing.emulator_data import generate_site

# Key order of a default-filter question, as in the captured real answers.
CAPTURED_ORDER = ["tags", "owner", "is_answered", "view_count", "closed_date",
                  "accepted_answer_id", "answer_count", "score", "last_activity_date",
                  "creation_date", "last_edit_date", "question_id", "content_license", "link",
                  "closed_reason", "title"]
OWNER_ORDER = ["account_id", "reputation", "user_id", "user_type", "accept_rate", "profile_image",
               "display_name", "link"]
SO = "stackoverflow"


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    raw: bytes  # decompressed

    def json(self):
        return json.loads(self.raw)


def call(emu, path, headers=None, timeout=5, **params):
    """GET /2.3/path with no Accept-Encoding unless given; the body decompressed."""
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=timeout)
    try:
        conn.putrequest("GET", f"/2.3/{path}?{urlencode(params)}", skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    encoding = response.getheader("Content-Encoding")
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    return Answer(response.status, response.headers, body)


def ids(items):
    return [item["question_id"] for item in items]


def control(emu, name, body=None):
    """One /_emulator/ call: (status, JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{emu.host}:{emu.port}/_emulator/{name}", data=data,
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def emulator_server():
    emu = Emulator(host="127.0.0.1", port=0).start()
    yield emu
    emu.stop()


@pytest.fixture
def emu(emulator_server):
    emulator_server.reset()
    return emulator_server


def test_answers_are_gzipped_even_unasked(emu):
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    conn.putrequest("GET", "/2.3/info?site=stackoverflow", skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Content-Type") == "application/json; charset=utf-8"
    assert body[:2] == b"\x1f\x8b"
    assert json.loads(gzip.decompress(body))["items"][0]["total_questions"] == 3000


@pytest.mark.parametrize("accept, expected", [
    ("deflate", "deflate"), ("gzip, deflate", "gzip"), ("identity", "gzip"), ("br", "gzip"),
])
def test_deflate_only_when_asked_for_instead_of_gzip(emu, accept, expected):
    answer = call(emu, "info", headers={"Accept-Encoding": accept}, site=SO)
    assert answer.headers["Content-Encoding"] == expected
    assert answer.json()["items"]


def test_default_wrapper_keys_order_and_items_shape(emu):
    answer = call(emu, "search/advanced", site=SO, q="python")
    body = answer.json()
    assert answer.status == 200
    assert list(body) == ["items", "has_more", "quota_max", "quota_remaining"]
    assert (body["has_more"], body["quota_max"], body["quota_remaining"]) == (True, 300, 299)
    assert len(body["items"]) == 30
    for item in body["items"]:
        assert list(item) == [key for key in CAPTURED_ORDER if key in item]
        assert {"tags", "owner", "question_id", "link", "title", "score"} <= set(item)
        assert item["link"].startswith(f"https://stackoverflow.com/questions/{item['question_id']}/")
        assert item["last_activity_date"] >= item["creation_date"] >= 1230768000
        if item["owner"]["user_type"] == "registered":
            assert list(item["owner"]) == [k for k in OWNER_ORDER if k in item["owner"]]


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


def test_sites_info_and_simulated_errors(emu):
    sites = call(emu, "sites", pagesize=500).json()["items"]
    by_param = {site["api_site_parameter"]: site for site in sites}
    assert {"stackoverflow", "superuser", "serverfault", "math"} <= set(by_param)
    assert by_param["math"]["site_url"] == "https://math.stackexchange.com"
    assert by_param["unix"]["name"] == "Unix &amp; Linux"
    info = call(emu, "info", site="math").json()["items"][0]
    assert info["total_questions"] == len(emu.search("math"))
    error = call(emu, "errors/403")
    assert (error.status, error.json()["error_name"]) == (400, "access_denied")


def test_rate_above_max_bans_the_ip_and_counts_one_violation(emu):
    emu.configure(max_rate=5, ban_seconds=1)
    answers = [call(emu, "info", site=SO) for _ in range(6)]
    assert [a.status for a in answers] == [200] * 5 + [400]
    assert answers[-1].json()["error_name"] == "throttle_violation"
    assert "more requests available in 1 seconds" in answers[-1].json()["error_message"]
    banned = call(emu, "info", site=SO)
    assert banned.status == 400 and banned.json()["error_id"] == 502
    assert emu.stats()["violations"] == 1
    time.sleep(1.05)
    assert call(emu, "info", site=SO).status == 200


def test_the_rate_window_is_exact(emu):
    emu.configure(max_rate=5)
    for _ in range(5):
        assert call(emu, "info", site=SO).status == 200
    time.sleep(1.01)  # the first five are now just out of the window
    for _ in range(5):
        assert call(emu, "info", site=SO).status == 200
    assert emu.stats()["violations"] == 0
    assert call(emu, "info", site=SO).status == 400  # the sixth within one second
    assert emu.stats()["violations"] == 1


def test_backoff_is_announced_and_breaking_it_is_a_violation(emu):
    emu.configure(backoff={"search/advanced": 1})
    body = call(emu, "search/advanced", site=SO, q="python").json()
    assert list(body)[-1] == "backoff" and body["backoff"] == 1
    early = call(emu, "search/advanced", site=SO, q="python")
    assert early.status == 400
    assert early.json() == {"error_id": 502, "error_message": "Violation of backoff parameter",
                            "error_name": "throttle_violation"}
    assert "backoff" not in call(emu, "info", site=SO).json()  # other methods are free
    assert emu.stats()["violations"] == 1
    time.sleep(1.05)
    assert call(emu, "search/advanced", site=SO, q="python").status == 200


def test_backoff_every_nth_answer_of_each_method_and_each_kind_of_violation_counted(emu):
    emu.configure(backoff_every=3, backoff_seconds=1, max_rate=8, ban_seconds=1)
    bodies = [call(emu, "info", site=SO).json() for _ in range(3)]
    assert ["backoff" in body for body in bodies] == [False, False, True]
    assert bodies[-1]["backoff"] == 1
    assert call(emu, "info", site=SO).json()["error_message"] == "Violation of backoff parameter"
    # Another method has a count of its own.
    assert ["backoff" in call(emu, "sites", pagesize=1).json() for _ in range(2)] == [False] * 2
    # Requests 7 to 9 within a second: the 9th breaks max_rate 8.
    assert [call(emu, "errors/400").status for _ in range(3)] == [400] * 3
    stats = emu.stats()
    assert (stats["backoffs"], stats["backoff_violations"]) == ({"info": 1}, {"info": 1})
    assert (stats["rate_violations"], stats["bans"]) == ({"errors": 1}, 1)
    assert stats["violations"] == 2


def test_backoff_starts_when_its_answer_is_produced_not_when_the_call_arrived(emu):
    """A call already on its way is no violation; one sent after the answer was produced is."""
    emu.configure(backoff={"info": 1}, latency=0.3)
    answers = {}

    def ask(name):
        answers[name] = call(emu, "info", site=SO, n=name)

    first = threading.Thread(target=ask, args=("first",))
    first.start()
    time.sleep(0.1)
    ask("on its way")  # arrived before the first answer was produced
    first.join()
    late = call(emu, "info", site=SO)
    assert [answers["first"].status, answers["on its way"].status, late.status] == [200, 200, 400]
    assert answers["first"].json()["backoff"] == 1
    stats = emu.stats()
    assert (stats["backoff_violations"], stats["peak_in_flight"]) == ({"info": 1}, {"info": 2})


def test_a_backoff_violation_can_be_injected(emu):
    emu.set_fault("backoff_violation", count=1)
    injected = call(emu, "search/advanced", site=SO, q="python")
    assert injected.status == 400
    assert injected.json()["error_message"] == "Violation of backoff parameter"
    assert call(emu, "search/advanced", site=SO, q="python").status == 200
    assert emu.stats()["violations"] == 0  # injected, not earned


def test_quota_decrements_per_key_and_runs_out(emu):
    remaining = [call(emu, "info", site=SO).json()["quota_remaining"] for _ in range(2)]
    assert remaining == [299, 298]
    keyed = call(emu, "info", site=SO, key="appkey").json()
    assert (keyed["quota_max"], keyed["quota_remaining"]) == (10000, 9999)
    emu.configure(quota=3)
    assert call(emu, "info", site=SO).json()["quota_remaining"] == 0
    spent = call(emu, "info", site=SO)
    assert spent.status == 400 and spent.json()["error_name"] == "throttle_violation"
    seconds = int(spent.json()["error_message"].split(" in ")[1].split()[0])
    assert abs(seconds - (86400 - time.time() % 86400)) <= 2


@pytest.mark.parametrize("mode, status, error_id", [
    ("500", 500, 500), ("503", 400, 503), ("throttle", 400, 502),
])
def test_faults_that_answer_with_an_error(emu, mode, status, error_id):
    emu.set_fault(mode, count=2)
    for _ in range(2):
        answer = call(emu, "search/advanced", site=SO, q="python")
        assert (answer.status, answer.json()["error_id"]) == (status, error_id)
        assert list(answer.json()) == ["error_id", "error_message", "error_name"]
    assert call(emu, "search/advanced", site=SO, q="python").status == 200
    assert emu.stats()["requests"] == 3


def test_garbage_fault_is_a_200_that_is_not_json_until_cleared(emu):
    emu.set_fault("garbage")
    for _ in range(3):
        answer = call(emu, "info", site=SO)
        assert answer.status == 200 and answer.headers["Content-Encoding"] == "gzip"
        with pytest.raises(ValueError):
            answer.json()
    emu.set_fault(None)
    assert call(emu, "info", site=SO).json()["items"]


def test_reset_fault_drops_the_connection(emu):
    emu.set_fault("reset", count=1)
    with pytest.raises(ConnectionError):
        call(emu, "info", site=SO)
    assert call(emu, "info", site=SO).status == 200


def test_timeout_fault_outlasts_the_client(emu):
    emu.set_fault("timeout", count=1)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        call(emu, "info", site=SO, timeout=0.3)
    assert time.monotonic() - started < 2
    assert call(emu, "info", site=SO).status == 200


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


def test_control_endpoints(emu):
    assert control(emu, "fault", {"mode": "503", "count": 1}) == (200, {"mode": "503", "count": 1})
    assert call(emu, "info", site=SO).json()["error_id"] == 503
    status, config = control(emu, "configure", {"quota": 2, "backoff": {"/questions/{ids}": 3}})
    assert status == 200 and config["quota"] == 2 and config["backoff"] == {"questions": 3}
    assert call(emu, "info", site=SO).json()["quota_remaining"] == 1
    status, changes = control(emu, "mutate", {"site": SO, "q": "asyncio", "new": 1})
    assert status == 200 and changes["new"][0] == ids(emu.search(SO, q="asyncio"))[0]
    emu.set_fault("500")  # control calls never hit faults, nor count as requests
    status, stats = control(emu, "stats")
    assert status == 200 and stats == emu.stats()
    assert (stats["requests"], stats["by_method"], stats["by_ip"]) == (
        2, {"info": 2}, {"127.0.0.1": 2})
    assert control(emu, "fault", {"mode": "nonsense"})[0] == 400
    assert control(emu, "nowhere", {})[0] == 404
    assert control(emu, "reset", {})[0] == 200
    assert emu.stats()["requests"] == 0 and changes["new"][0] not in ids(emu.search(SO))
    assert call(emu, "info", site=SO).status == 200


def test_stop_is_prompt_with_a_timeout_in_flight_and_leaks_no_threads():
    before = set(threading.enumerate())
    emu = Emulator(port=0).start()
    idle = http.client.HTTPConnection(emu.host, emu.port, timeout=5)
    idle.request("GET", "/2.3/info?site=stackoverflow")
    idle.getresponse().read()  # a kept-alive connection left open
    emu.set_fault("timeout")
    outcome = []

    def held_request():
        try:
            outcome.append(call(emu, "info", site=SO, timeout=10))
        except (OSError, http.client.HTTPException) as error:
            outcome.append(error)

    client = threading.Thread(target=held_request)
    client.start()
    while emu.stats()["requests"] < 2:
        time.sleep(0.01)
    started = time.monotonic()
    emu.stop()
    client.join(5)
    idle.close()
    assert time.monotonic() - started < 2
    assert isinstance(outcome[0], ConnectionError)  # closed unanswered, not after 10 s
    assert set(threading.enumerate()) <= before


def test_standalone_module_serves_and_terminates():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "stackq.testing.emulator", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert select.select([process.stdout], [], [], 20)[0], "no base URL printed"
        assert process.stdout.readline().strip() == f"http://127.0.0.1:{port}/2.3"
        emu = type("Remote", (), {"host": "127.0.0.1", "port": port})()
        assert call(emu, "info", site=SO).json()["items"][0]["total_questions"] == 3000
    finally:
        process.terminate()
        assert process.wait(10) == 0
