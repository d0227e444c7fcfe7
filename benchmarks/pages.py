"""Results pages vs a bare Pyramid view, and page 20 vs page 1, on one real server.

Run: .venv/bin/python benchmarks/pages.py   (needs wrk: apt-get install wrk)
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.harness import create_search, get, stackq_server, wrk  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the three measures this many times (a shared machine's "
                             "load changes from one second to the next); medians are printed")
    args = parser.parse_args()
    with stackq_server({"STACKQ_CACHE_TTL": "0"}) as (server, _):
        results = create_search(server.url, "python")
        page_1 = f"{results}?page=1&per_page=25"
        page_20 = f"{results}?page=20&per_page=25"
        for url in (page_1, page_20):
            get(url)  # stores the upstream page, so the runs below read the database only
        measure = dict(seconds=args.seconds, connections=args.connections)
        rounds = [[wrk(url, **measure) for url in (server.url + "/_bench/bare", page_1, page_20)]
                  for _ in range(args.rounds)]
    bare, first, twentieth = (statistics.median(r[i] for r in rounds) for i in range(3))
    print(f"bare Pyramid view        {bare:9.1f} req/s")
    print(f"stored page 1 (25 rows)  {first:9.1f} req/s")
    print(f"stored page 20 (25 rows) {twentieth:9.1f} req/s")
    print(f"stored page 1 / bare view  = {statistics.median(r[1] / r[0] for r in rounds):.3f}"
          f"   (median of {args.rounds} rounds; target >= 0.20)")
    print(f"page 20 time / page 1 time = {statistics.median(r[1] / r[2] for r in rounds):.3f}"
          "   (target <= 1.5)")


if __name__ == "__main__":
    main()
