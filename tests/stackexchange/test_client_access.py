"""ApiAccess without Redis (one process keeps the limits) against two emulated mirrors."""

from __future__ import annotations

import threading
import time

import pytest

from stackq.infra.settings import Rate
from stackq.stackexchange.access import BACKOFF_MARGIN, ApiAccess
from stackq.stackexchange.client import StackExchangeClient
from stackq.stackexchange.errors import RateLimited, ThrottleViolation


@pytest.fixture
def emu(mirrors):
    return mirrors[0]


@pytest.fixture
def emu2(mirrors):
    return mirrors[1]


def test_backoff_honoured(emu):
    emu.configure(backoff={"search/advanced": 1})
    access = ApiAccess([emu.base_url], timeout=5)
    first = access.fetch("search/advanced", site="stackoverflow", q="python")
    assert first.backoff == 1
    assert "search/advanced" in access.status().mirrors[0].backoff
    started = time.monotonic()
    access.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert time.monotonic() - started >= 1.0
    assert emu.stats()["violations"] == 0
    # Without ApiAccess the same second call is refused, so the check above means something.
    with pytest.raises(ThrottleViolation) as info:
        StackExchangeClient(emu.base_url).call("search/advanced", site="stackoverflow", q="x")
    assert info.value.retry_after is None


def test_backoff_is_per_method_and_bounded(emu):
    emu.configure(backoff={"search/advanced": 5})
    access = ApiAccess([emu.base_url], timeout=5, max_wait=0.5)
    access.fetch("search/advanced", site="stackoverflow", q="python")
    # Another method is not held back (max_wait=0.5 would refuse a 5 s wait).
    assert access.fetch("info", site="stackoverflow").items
    with pytest.raises(RateLimited) as info:
        access.fetch("search/advanced", site="stackoverflow", q="python", page=2)
    assert 4 < info.value.retry_after <= 5 + BACKOFF_MARGIN
    assert emu.stats()["by_method"]["search/advanced"] == 1  # refused locally, never sent
    assert access.status().mirrors[0].quota_remaining == 298


def test_backoff_serialises_concurrent_callers(emu):
    emu.configure(backoff={"questions": 1})
    access = ApiAccess([emu.base_url], timeout=5)
    access.fetch("questions/231767", site="stackoverflow")
    errors = []

    def worker(qid):
        try:
            access.fetch(f"questions/{qid}", site="stackoverflow")
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(qid,)) for qid in (79900011, 79900023)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert emu.stats()["violations"] == 0
    assert emu.stats()["by_method"]["questions"] == 3


def test_calls_spread_over_mirrors(emu, emu2):
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5)
    mirrors = {access.fetch("info", site="stackoverflow", n=n).mirror for n in range(6)}
    assert mirrors == {emu.base_url, emu2.base_url}
    assert emu.stats()["requests"] + emu2.stats()["requests"] == 6
    # The limiter picks the mirror with the emptier window: 3 and 3.
    assert emu.stats()["requests"] == emu2.stats()["requests"] == 3


def test_identical_calls_in_flight_are_made_once(emu):
    access = ApiAccess([emu.base_url], timeout=5, max_rate=Rate(1, 1))
    access.fetch("info", site="stackoverflow", n="fill")  # the next slot is ~1 s away
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(access.fetch("info", site="stackoverflow")))
        for _ in range(10)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(results) == 10 and len({id(r) for r in results}) == 1
    assert emu.stats()["requests"] == 2


def test_backoff_uses_another_free_mirror(emu, emu2):
    emu.configure(backoff={"search/advanced": 5})
    emu2.configure(backoff={"search/advanced": 5})
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=0)
    seen = {
        access.fetch("search/advanced", site="stackoverflow", q="python", page=n).mirror
        for n in (1, 2)
    }
    # The first mirror is backing off, so the second call goes to the other one at once.
    assert seen == {emu.base_url, emu2.base_url}
    with pytest.raises(RateLimited):
        access.fetch("search/advanced", site="stackoverflow", q="python", page=3)
    assert emu.stats()["violations"] == emu2.stats()["violations"] == 0


def test_throttle_fails_over_and_blocks_mirror(emu, emu2):
    emu.configure(ban_seconds=30)
    emu.set_fault("throttle")
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=1)
    assert {access.fetch("info", site="stackoverflow", n=n).mirror for n in range(4)} == {
        emu2.base_url
    }
    assert emu.stats()["requests"] == 1  # the blocked mirror is left alone
    banned = access.status().mirrors[0]
    assert banned.banned_for > 20 and banned.ban_reason == "throttled"


def test_throttle_everywhere_reraises_then_rate_limits(emu, emu2):
    for server in (emu, emu2):
        server.configure(ban_seconds=30)
        server.set_fault("throttle")
    access = ApiAccess([emu.base_url, emu2.base_url], timeout=5, max_wait=1)
    with pytest.raises(ThrottleViolation):
        access.fetch("info", site="stackoverflow")
    assert emu.stats()["requests"] == emu2.stats()["requests"] == 1
    with pytest.raises(RateLimited) as info:
        access.fetch("info", site="stackoverflow")
    assert info.value.retry_after > 20
