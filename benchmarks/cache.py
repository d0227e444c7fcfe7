"""The response cache on one real server: a cached results page against a bare Pyramid view
and against the same page rendered for every request.

Run: .venv/bin/python benchmarks/cache.py   (needs wrk: apt-get install wrk)

"Uncached" is the same URL requested with `Cache-Control: no-cache`, which the
cache answers by rendering (X-Cache: BYPASS) without looking anything up or
storing. The bare view marks itself no-store, so the cache never serves it.
Redis is a redis-server of the benchmark's own, over TCP as in production. With
--redis-only a second server, whose local layer is off (STACKQ_CACHE_LOCAL_TTL=0),
shows what a hit costs when every hit reads Redis.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.harness import create_search, response_header, stackq_server, wrk  # noqa: E402
from tests.support.redis import RedisServer  # noqa: E402

NO_CACHE = "Cache-Control: no-cache"


def expect(url, state, headers=None):
    got = response_header(url, "X-Cache", headers)
    if got != state:
        raise SystemExit(f"{url}: X-Cache is {got!r}, expected {state}")


def measure(env, rounds, measure_args):
    """Median (bare, cached, uncached) req/s on one fresh server.

    The three are measured in turn, `rounds` times, so that a load that comes
    and goes on the machine falls on all three alike.
    """
    runs = {"bare": [], "cached": [], "uncached": []}
    with stackq_server(env) as (server, _):
        page = create_search(server.url, "python") + "?page=1&per_page=25"
        response_header(page, "X-Cache")  # fetches page 1 upstream and stores it
        expect(page, "HIT")
        expect(page, "BYPASS", {"Cache-Control": "no-cache"})
        for _ in range(rounds):
            runs["bare"].append(wrk(server.url + "/_bench/bare", **measure_args))
            runs["cached"].append(wrk(page, **measure_args))
            runs["uncached"].append(wrk(page, headers=[NO_CACHE], **measure_args))
        expect(page, "HIT")  # still served from the cache after the runs
    return tuple(statistics.median(runs[name]) for name in ("bare", "cached", "uncached"))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--redis-only", action="store_true",
                        help="also measure hits without the process-local layer")
    args = parser.parse_args()
    measure_args = dict(seconds=args.seconds, connections=args.connections)
    # Redis over TCP, as in production (the embedded one answers on a unix socket).
    redis_server = RedisServer().start()
    try:
        report(args, measure_args, {"STACKQ_CACHE_TTL": "60", "STACKQ_REDIS_URL": redis_server.url})
    finally:
        redis_server.stop()


def report(args, measure_args, env):
    bare, cached, uncached = measure(env, args.rounds, measure_args)
    print(f"wrk: {args.connections} connections, {args.rounds} rounds of {args.seconds} s each,"
          " medians; one pserve (gevent); Redis over TCP")
    print(f"bare Pyramid view              {bare:9.1f} req/s")
    print(f"results page, cached (HIT)     {cached:9.1f} req/s")
    print(f"results page, uncached         {uncached:9.1f} req/s")
    print(f"cached / bare view      = {cached / bare:6.3f}   (target >= 0.85)")
    print(f"cached / uncached       = {cached / uncached:6.3f}   (target >= 5)")
    if args.redis_only:
        bare, cached, _ = measure({**env, "STACKQ_CACHE_LOCAL_TTL": "0"}, args.rounds,
                                  measure_args)
        print(f"without the local layer (every hit reads Redis), another server:"
              f" bare {bare:.1f}, cached {cached:.1f} req/s")
        print(f"redis-only cached / bare view = {cached / bare:6.3f}")


if __name__ == "__main__":
    main()
