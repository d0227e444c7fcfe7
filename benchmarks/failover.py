"""API calls answered ÷ sent while Redis Sentinel switches the master, and the seconds until
the API limiter is shared again.

    .venv/bin/python benchmarks/failover.py [--interval 0.02]

One process (the access layer on a `redis+sentinel://` URL: limiter, answer cache) calls an
emulated mirror every `interval` seconds from 4 threads, through a master, a replica and three
sentinels of its own (down-after-milliseconds 1000). The master is switched twice: SENTINEL
FAILOVER (demoted alive), then kill -9. For each switch it prints the calls answered ÷ sent in
the 15 s after it, the seconds until the sentinels named the new master, the seconds until
the limiter, fallen back when it met the move, shared its limits through Redis again, and the
rate violations at the mirror.
"""

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from stackq.infra.redis_client import redis_from_settings  # noqa: E402
from stackq.infra.registry import SETTINGS  # noqa: E402
from stackq.infra.settings import load_settings  # noqa: E402
from stackq.stackexchange import ApiAccess  # noqa: E402
from stackq.testing.emulator import Emulator  # noqa: E402
from tests.support.sentinels import sentinel_set, wait_for_new_master  # noqa: E402

AFTER = 15.0  # seconds of calls counted after each switch


class Callers:
    def __init__(self, access, interval, threads=4):
        self.access, self.interval = access, interval
        self.log = []  # (time sent, answered)
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self):
        while not self.stopping.is_set():
            sent = time.monotonic()
            try:
                self.access.fetch("info", site="stackoverflow", max_age=0, max_wait=2)
                self.log.append((sent, True))
            except Exception:  # counted: a call not answered
                self.log.append((sent, False))
            time.sleep(self.interval)

    def ratio(self, start, end):
        calls = [ok for sent, ok in self.log if start <= sent < end]
        return sum(calls), len(calls)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(10)


def shared_after(limiter, start, timeout=AFTER):
    """Seconds from `start` until the limiter, having fallen back, shares its limits again."""
    fell_back = False
    while time.monotonic() - start < timeout:
        fell_back = fell_back or limiter.mode != "shared"
        if fell_back and limiter.mode == "shared":
            return f"{time.monotonic() - start:.1f} s"
        time.sleep(0.02)
    return "-" if not fell_back else "over 15 s"


def switch(name, sentinels, old, callers, access, act):
    start = time.monotonic()
    act()
    new, named = wait_for_new_master(sentinels, old, timeout=30)
    shared = shared_after(access.limiter, start)
    time.sleep(max(0.0, start + AFTER - time.monotonic()))
    answered, sent = callers.ratio(start, start + AFTER)
    print(f"{name:18} answered {answered}/{sent} = {answered / max(sent, 1):.3f}"
          f"   new master named after {named:.1f} s   limiter shared again after {shared}")
    return new


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=0.02)
    args = parser.parse_args()
    emulator = Emulator().start()
    emulator.configure(quota=10**9)
    with tempfile.TemporaryDirectory() as directory, sentinel_set(Path(directory)) as sentinels:
        settings = load_settings({"redis.url": sentinels.url, "sqlalchemy.url": "sqlite://"},
                                 here=directory, environ={})[SETTINGS]
        access = ApiAccess([emulator.base_url], redis=redis_from_settings(settings),
                           namespace=f"stackq-bench:{uuid.uuid4().hex[:8]}")
        callers = Callers(access, args.interval)
        time.sleep(2)
        first = sentinels.master_port
        second = switch("SENTINEL FAILOVER", sentinels, first, callers, access,
                        sentinels.failover)
        sentinels.wait_ready(second, first, timeout=30)
        switch("kill -9", sentinels, second, callers, access, lambda: sentinels.kill(second))
        callers.stop()
        access.reset()
    stats = emulator.stats()
    emulator.stop()
    print(f"violations at the mirror: {stats['violations']}  (requests: {stats['requests']})")


if __name__ == "__main__":
    main()
