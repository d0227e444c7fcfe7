"""How close the shared limiter gets to each bound, and that it never breaks a limit.

    .venv/bin/python benchmarks/limiter.py [--rate 20] [--seconds 5]

4 processes x 8 threads call `stackq.stackexchange.fetch` (one method) as fast as they can
against 1, then 2 emulated mirrors (each bans above max_rate R in any 1-second window and
counts every violation), in five configurations: no latency (the rate R is the bound);
emulator latencies of 20, 100 and 250 ms (the bound is min(R, cap / latency) per mirror,
cap = stackq.api.max_in_flight = 1); 20 ms with `backoff: 1` on every 5th answer (the
bound is 5 calls per 5 x latency + 1 s); and 20 ms with `backoff: 1` on every answer of
`search/advanced`, every other call a count of results (the total filter: a back-off its
filter hid would still be enforced), 3 times as long (the bound is 1 call per latency + 1 s).
Prints achieved / bound over the steady part of each run (calls timed by the workers as they
end; the first second and the last half second are left out) and the violations of each kind
at the emulators (back-offs shown, back-offs hidden by a filter, rate).
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from stackq.testing.emulator import Emulator  # noqa: E402
from tests.support.access_worker import results, start_workers  # noqa: E402
from tests.support.redis import own_redis  # noqa: E402
from tests.support.serverproc import free_port  # noqa: E402

PROCESSES, THREADS, CAP = 4, 8, 1
SKIP_START, SKIP_END = 1.0, 0.5
BACKOFF_EVERY, BACKOFF_SECONDS = 5, 1
# (name, emulator latency in seconds, every how many answers carry a back-off (0: none),
# whether half the calls are counts of search/advanced results)
RUNS = (("no latency", 0.0, 0, False), ("latency 20 ms", 0.02, 0, False),
        ("latency 100 ms", 0.1, 0, False), ("latency 250 ms", 0.25, 0, False),
        ("back-off, 20 ms", 0.02, BACKOFF_EVERY, False),
        ("back-off on every answer, counts included, 20 ms", 0.02, 1, True))
COUNTS_LONGER = 3  # a call a second per mirror: the run needs more of them


def slope(times):
    """Calls per second: least-squares slope of the running count over time.

    Calls come in waves (each slot frees one window after the call before it was
    answered), so counting calls between two instants would round to whole waves.
    """
    n = len(times)
    mean_t, mean_k = sum(times) / n, (n - 1) / 2
    cov = sum((t - mean_t) * (k - mean_k) for k, t in enumerate(times))
    return cov / sum((t - mean_t) ** 2 for t in times)


def bound(rate, latency, every):
    """(calls per second one mirror can take at most, what sets it)."""
    if every:
        return every / (every * latency + BACKOFF_SECONDS), "back-off"
    if latency and CAP / latency < rate:
        return CAP / latency, "cap / latency"
    return rate, "rate"


def run(mirrors, rate, seconds, redis_url, latency, every, counts):
    emulators = [Emulator().start() for _ in range(mirrors)]
    calls = ("--method", "search/advanced", "--q", "python", "--totals") if counts else ()
    try:
        for emu in emulators:
            emu.configure(max_rate=rate, quota=10**9, latency=latency, backoff_every=every,
                          backoff_seconds=BACKOFF_SECONDS)
        env = {
            "STACKQ_API_URLS": " ".join(emu.base_url for emu in emulators),
            "STACKQ_REDIS_URL": redis_url,
            "STACKQ_API_MAX_RATE": str(rate),
            "STACKQ_API_MAX_IN_FLIGHT": str(CAP),
            "STACKQ_API_CACHE_TTL": "0",  # every call distinct anyway; measure the limiter
            "STACKQ_API_MAX_WAIT": "60",
            "STACKQ_API_TIMEOUT": "5",
        }
        start_in = 2.0
        started = time.time() + start_in
        procs = start_workers(PROCESSES, env, "--threads", THREADS, "--seconds", seconds,
                              "--times", *calls, start_in=start_in)
        out = results(procs, timeout=seconds + 120)
        times = sorted(t for r in out for t in r["times"])
        steady = [t for t in times if started + SKIP_START <= t <= started + seconds - SKIP_END]
        achieved = slope(steady) if len(steady) > 2 else 0.0
        per_mirror, what = bound(rate, latency, every)
        stats = [emu.stats() for emu in emulators]
        hidden = sum(sum(s["hidden_backoff_violations"].values()) for s in stats)
        backoffs = sum(sum(s["backoff_violations"].values()) for s in stats) - hidden
        hidden_sent = sum(sum(s["hidden_backoffs"].values()) for s in stats)
        rates = sum(sum(s["rate_violations"].values()) for s in stats)
        bans = sum(s["bans"] for s in stats)
        errors = sum(sum(r["errors"].values()) for r in out)
        print(f"  {mirrors} mirror{'s' if mirrors > 1 else ' '}: {achieved:6.2f}/s;"
              f" ÷ allowed rate {rate * mirrors:4.0f}/s = {achieved / (rate * mirrors):.3f};"
              f" ÷ bound ({what}) {per_mirror * mirrors:5.1f}/s ="
              f" {achieved / (per_mirror * mirrors):.3f}; violations: back-off {backoffs},"
              f" hidden back-off {hidden} (of {hidden_sent} hidden), rate {rates}, bans {bans};"
              f" errors {errors}; calls {len(times)}", flush=True)
        return achieved
    finally:
        for emu in emulators:
            emu.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="max_rate R per mirror")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--only", help="run only the runs whose name holds this text")
    args = parser.parse_args()
    print(f"limiter: {PROCESSES} processes x {THREADS} threads, max_rate {args.rate:g}/s and"
          f" max_in_flight {CAP} per mirror, {args.seconds:g} s per run", flush=True)
    port = free_port()
    with own_redis(port):
        redis_url = f"redis://127.0.0.1:{port}/0"
        for name, latency, every, counts in RUNS:
            if args.only and args.only not in name:
                continue
            print(name, flush=True)
            seconds = args.seconds * (COUNTS_LONGER if counts else 1)
            one = run(1, args.rate, seconds, redis_url, latency, every, counts)
            two = run(2, args.rate, seconds, redis_url, latency, every, counts)
            print(f"  2 mirrors / 1 mirror throughput: {two / one:.2f}x" if one else "", flush=True)


if __name__ == "__main__":
    main()
