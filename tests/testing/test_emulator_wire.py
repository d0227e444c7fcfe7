"""The emulator over real HTTP: encodings, answer shapes, control endpoints, stopping."""

import gzip
import http.client
import json
import select
import socket
import subprocess
import sys
import threading
import time

import pytest

from stackq.testing.emulator import Emulator
from tests.support.emulator_calls import SO, call, control, ids

# Key order of a default-filter question, as in the captured real answers.
CAPTURED_ORDER = ["tags", "owner", "is_answered", "view_count", "closed_date",
                  "accepted_answer_id", "answer_count", "score", "last_activity_date",
                  "creation_date", "last_edit_date", "question_id", "content_license", "link",
                  "closed_reason", "title"]
OWNER_ORDER = ["account_id", "reputation", "user_id", "user_type", "accept_rate", "profile_image",
               "display_name", "link"]


@pytest.fixture
def emu(upstream):
    """The session's emulator, reset for this test."""
    return upstream


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
