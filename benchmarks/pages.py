"""Results pages vs a bare Pyramid view, page 20 vs page 1, and the question page (a question
with about 10 answers, uncached and cached) vs the results page, on real servers.

Run: .venv/bin/python benchmarks/pages.py   (needs wrk: apt-get install wrk)
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks.harness import create_search, get, stackq_server, wrk  # noqa: E402


def question_with_answers(emulator, q, wanted=10):
    """The id of a question on the search's first upstream page with about `wanted` answers."""
    top = emulator.search("stackoverflow", q=q)[:100]
    return min(top, key=lambda item: abs(item["answer_count"] - wanted))


def stored_pages(server, emulator, q="python"):
    """(results page 1, page 20, a question page: all stored, answers too), its answers."""
    results = create_search(server.url, q)
    page_1 = f"{results}?page=1&per_page=25"
    page_20 = f"{results}?page=20&per_page=25"
    for url in (page_1, page_20):
        get(url)  # stores the upstream page, so the runs below read the database only
    item = question_with_answers(emulator, q)
    question = f"{server.url}/questions/stackoverflow/{item['question_id']}"
    get(question)  # fetches and stores its answers
    return (page_1, page_20, question), item["answer_count"]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the measures this many times (a shared machine's "
                             "load changes from one second to the next); medians are printed")
    args = parser.parse_args()
    measure = dict(seconds=args.seconds, connections=args.connections)
    with stackq_server({"STACKQ_CACHE_TTL": "0"}) as (server, emulator):
        (page_1, page_20, question), answers = stored_pages(server, emulator)
        rounds = [[wrk(url, **measure)
                   for url in (server.url + "/_bench/bare", page_1, page_20, question)]
                  for _ in range(args.rounds)]
    with stackq_server({"STACKQ_CACHE_TTL": "600"}) as (server, emulator):
        (_, _, question), _ = stored_pages(server, emulator)
        cached = [wrk(question, **measure) for _ in range(args.rounds)]
    bare, first, twentieth, asked = (statistics.median(r[i] for r in rounds) for i in range(4))
    print(f"bare Pyramid view        {bare:9.1f} req/s")
    print(f"stored page 1 (25 rows)  {first:9.1f} req/s")
    print(f"stored page 20 (25 rows) {twentieth:9.1f} req/s")
    print(f"question page ({answers} answers, uncached) {asked:9.1f} req/s")
    print(f"question page (cached)   {statistics.median(cached):9.1f} req/s")
    print(f"stored page 1 / bare view  = {statistics.median(r[1] / r[0] for r in rounds):.3f}"
          f"   (median of {args.rounds} rounds; target >= 0.20)")
    print(f"page 20 time / page 1 time = {statistics.median(r[1] / r[2] for r in rounds):.3f}"
          "   (target <= 1.5)")
    print(f"question page / page 1     = {statistics.median(r[3] / r[1] for r in rounds):.3f}"
          "   (uncached both; target >= 0.8)")
    print(f"question page / bare view  = {statistics.median(r[3] / r[0] for r in rounds):.3f}"
          f"   (uncached); cached: {statistics.median(cached) / bare:.3f}")


if __name__ == "__main__":
    main()
