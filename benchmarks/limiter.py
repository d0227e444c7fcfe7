"""How close the shared limiter gets to the allowed rate, and that it never goes over.

    .venv/bin/python benchmarks/limiter.py [--rate 20] [--seconds 20]

4 processes x 8 threads call `stackq.stackexchange.fetch` as fast as they can against 2
emulated mirrors at max_rate R each (the emulators ban above R in any 1-second window and
count violations), then the same against 1 mirror. Prints achieved / allowed over the
steady part of each run (the first 2 s, holding the initial burst, and the last second
are left out; calls timed by the workers as they end) and the violations.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from stackq.testing.emulator import Emulator  # noqa: E402
from tests.access_worker import results, start_workers  # noqa: E402
from tests.serverproc import free_port  # noqa: E402
from tests.support.redis import own_redis  # noqa: E402

PROCESSES, THREADS = 4, 8
SKIP_START, SKIP_END = 2.0, 1.0


def slope(times):
    """Calls per second: least-squares slope of the running count over time.

    Calls come in waves (each slot frees one window after the call before it was
    answered), so counting calls between two instants would round to whole waves.
    """
    n = len(times)
    mean_t, mean_k = sum(times) / n, (n - 1) / 2
    cov = sum((t - mean_t) * (k - mean_k) for k, t in enumerate(times))
    return cov / sum((t - mean_t) ** 2 for t in times)


def run(mirrors, rate, seconds, redis_url):
    emulators = [Emulator().start() for _ in range(mirrors)]
    try:
        for emu in emulators:
            emu.configure(max_rate=rate, quota=10**9)
        env = {
            "STACKQ_API_URLS": " ".join(emu.base_url for emu in emulators),
            "STACKQ_REDIS_URL": redis_url,
            "STACKQ_API_MAX_RATE": str(rate),
            "STACKQ_API_CACHE_TTL": "0",  # every call distinct anyway; measure the limiter
            "STACKQ_API_MAX_WAIT": "60",
            "STACKQ_API_TIMEOUT": "5",
        }
        start_in = 2.0
        started = time.time() + start_in
        procs = start_workers(PROCESSES, env, "--threads", THREADS, "--seconds", seconds,
                              "--times", start_in=start_in)
        out = results(procs, timeout=seconds + 60)
        times = sorted(t for r in out for t in r["times"])
        steady = [t for t in times if started + SKIP_START <= t <= started + seconds - SKIP_END]
        allowed = rate * mirrors
        achieved = slope(steady)
        violations = sum(emu.stats()["violations"] for emu in emulators)
        errors = sum(sum(r["errors"].values()) for r in out)
        label = f"{mirrors} mirror{'s' if mirrors > 1 else ''}:"
        print(f"{label:11} achieved {achieved:6.2f}/s of {allowed:5.1f}/s allowed"
              f" = {achieved / allowed:.3f}, violations {violations}, errors {errors},"
              f" calls {len(times)}", flush=True)
        return achieved
    finally:
        for emu in emulators:
            emu.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="max_rate R per mirror")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(f"limiter: {PROCESSES} processes x {THREADS} threads, max_rate {args.rate:g}/s"
          f" per mirror, {args.seconds:g} s per run", flush=True)
    port = free_port()
    with own_redis(port):
        redis_url = f"redis://127.0.0.1:{port}/0"
        two = run(2, args.rate, args.seconds, redis_url)
        one = run(1, args.rate, args.seconds, redis_url)
    print(f"2 mirrors / 1 mirror throughput: {two / one:.2f}x")


if __name__ == "__main__":
    main()
