"""The emulator's limits and faults: rate, back-off, quota, injected errors."""

import threading
import time

import pytest

from tests.support.emulator_calls import SO, call


@pytest.fixture
def emu(upstream):
    """The session's emulator, reset for this test."""
    return upstream


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
