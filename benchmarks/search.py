"""Full-text search over a deterministic archive, on SQLite and on PostgreSQL.

The archive (default 200,000 questions, bodies of 1–2 KB, 2 answers each, words drawn from a
Zipf law over 30,000 made-up words; search_archive.py) is bulk-built once with the ingest's
own rows and the real triggers, and kept under /tmp for later runs (`--rebuild`). Then 200
queries of mixed shape (a rare word, a common word, two words, a phrase, a negation, with
`tag:`, with `site:`, sorted by votes) run through `search()` for a page of 25 with snippets
and facets, twice: the second pass is timed (the first, printed too, reads what the machine
did not keep cached). Prints per database: p50/p95/p99 ms and each shape's p95, the index's
size ÷ the text's (the index: all the search adds, the bodies' plain text `body_text`
included), and the ingest rate with the index ÷ without, through the real ingest path
(`store_questions`, `store_answers`, 100 questions a transaction) on the first
`--ingest-sample` questions, into a database with the index and one whose index was dropped
(it keeps bare `body_text` columns, which the ingest path writes: plain_text's share of the
time is printed).

Run: .venv/bin/python benchmarks/search.py [--questions 200000] [--ingest-sample 5000]
     [--databases sqlite postgresql] [--rebuild]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sqlalchemy import text  # noqa: E402

from benchmarks.search_archive import (  # noqa: E402
    SITES,
    Archive,
    ingest,
    kept_archive,
    migrated,
    scratch_database,
)
from stackq import models  # noqa: E402
from stackq.archive.search.query import parse_query  # noqa: E402
from stackq.archive.search.service import search  # noqa: E402
from stackq.models.fulltext import plain_text  # noqa: E402

SHAPES = ("rare", "common", "two words", "phrase", "negation", "tag", "site", "votes")


def queries(archive, stored, count=200):
    rng = random.Random(11)
    common, medium, rare = archive.words[:30], archive.words[100:2000], archive.words[8000:]
    out = []
    for number in range(count):
        shape = SHAPES[number % len(SHAPES)]
        if shape == "rare":
            q = rng.choice(rare)
        elif shape == "common":
            q = rng.choice(common)
        elif shape == "two words":
            q = f"{rng.choice(medium)} {rng.choice(medium)}"
        elif shape == "phrase":
            body = archive.question(rng.randrange(stored))[0]["body"]
            sample = body.split("</p>")[0].removeprefix("<p>").split()
            at = rng.randrange(len(sample) - 2)
            q = f'"{sample[at]} {sample[at + 1]}"'
        elif shape == "negation":
            q = f"{rng.choice(medium)} -{rng.choice(common)}"
        elif shape == "tag":
            q = f"{rng.choice(medium)} tag:{rng.choice(archive.tags[:40])}"
        elif shape == "site":
            q = f"{rng.choice(medium)} site:{rng.choice(SITES)}"
        else:
            q = rng.choice(medium)
        out.append((shape, q, "votes" if shape == "votes" else "relevance"))
    return out


def timed_queries(engine, archive, stored):
    """({shape: [ms of each query]}, {shape: [matches of each query]}, [ms of each query in
    the first pass]): the queries run twice, the second pass timed per shape. The first
    reads from disk what the machine did not keep cached (a machine that reclaims idle page
    cache, as some do, drops a kept archive between runs): its times are the cold figures."""
    factory = models.get_session_factory(engine)
    times, totals, cold = {}, {}, []
    with factory() as session:
        for _, q, sort in queries(archive, stored):
            began = time.perf_counter()
            search(session, parse_query(q), sort, 1, 25)
            cold.append((time.perf_counter() - began) * 1000)
            session.rollback()
        for shape, q, sort in queries(archive, stored):
            began = time.perf_counter()
            results = search(session, parse_query(q), sort, 1, 25)
            times.setdefault(shape, []).append((time.perf_counter() - began) * 1000)
            totals.setdefault(shape, []).append(results.total)
            session.rollback()
    return times, totals, cold


PG_ADDED = "sum(coalesce(pg_column_size(body_text), 0))"


def sizes(engine):
    """(index bytes, text bytes): the index is all the search adds, the bodies' plain text
    (body_text) included."""
    with engine.connect() as db:
        if engine.dialect.name == "sqlite":
            text_bytes = db.scalar(text(
                "SELECT (SELECT sum(length(CAST(title AS BLOB)) + length(CAST(tags AS BLOB)) "
                "+ length(CAST(body AS BLOB))) FROM questions) + "
                "(SELECT sum(length(CAST(body AS BLOB))) FROM answers)"))
            index = db.scalar(text(
                "SELECT (SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_%' "
                "OR name = 'ix_questions_search_facets') + "
                "(SELECT sum(length(CAST(body_text AS BLOB))) FROM questions) + "
                "(SELECT sum(length(CAST(body_text AS BLOB))) FROM answers)"))
        else:
            text_bytes = db.scalar(text(
                "SELECT (SELECT sum(octet_length(title) + octet_length(tags) "
                "+ octet_length(body)) FROM questions) + "
                "(SELECT sum(octet_length(body)) FROM answers)"))
            index = db.scalar(text(
                "SELECT pg_total_relation_size('search_threads') + "
                f"(SELECT {PG_ADDED} FROM questions) + (SELECT {PG_ADDED} FROM answers)"))
    return index, text_bytes


def plain_text_seconds(archive, count):
    """Seconds plain_text takes over the bodies of questions 0..count-1 and their answers."""
    bodies = [body for n in range(count) for body in bodies_of(*archive.question(n))]
    began = time.perf_counter()
    for body in bodies:
        plain_text(body)
    return time.perf_counter() - began


def bodies_of(question, answers):
    return [question["body"], *(answer["body"] for answer in answers)]


def run(kind, archive, count, sample, directory, rebuild):
    print(f"\n{kind}: {count:,} questions", flush=True)
    url = kept_archive(kind, archive, count, rebuild, lambda line: print(line, flush=True))
    engine = models.get_engine({"sqlalchemy.url": url})
    times, totals, cold = timed_queries(engine, archive, count)
    index, text_bytes = sizes(engine)
    engine.dispose()
    without, with_index = ingest_seconds(kind, archive, sample, directory)
    plain = plain_text_seconds(archive, sample)
    every = [ms for shape in times.values() for ms in shape]
    q, first = statistics.quantiles(every, n=100), statistics.quantiles(cold, n=100)
    print(f"  queries: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, "
          f"max {max(every):.1f} ms (first pass, cold: p50 {first[49]:.1f}, "
          f"p95 {first[94]:.1f}, p99 {first[98]:.1f})")
    print(f"  over 50 ms: {sum(ms > 50 for ms in every)} of {len(every)} queries; over 150 ms: "
          f"{sum(ms > 150 for ms in every)} (p95 < 50 allows 9, p99 < 150 allows 1)")
    print("  p95 by shape: " + ", ".join(
        f"{shape} {statistics.quantiles(ms, n=20)[18]:.0f}" for shape, ms in times.items()))
    print("  median matches by shape: " + ", ".join(
        f"{shape} {int(statistics.median(found)):,}" for shape, found in totals.items()))
    print(f"  index ÷ text: {index / text_bytes:.2f} ({index / 2**20:.0f} MiB ÷ "
          f"{text_bytes / 2**20:.0f} MiB)")
    print(f"  ingest with the index ÷ without: {without / with_index:.2f} "
          f"({sample / with_index:.0f} ÷ {sample / without:.0f} questions/s, first {sample:,}; "
          f"both write body_text: {plain / with_index:.1%} of the time with the index)")


def ingest_seconds(kind, archive, sample, directory):
    """Seconds the real ingest path takes to store the first `sample` questions into a
    fresh database without the index, then into one with it."""
    with scratch_database(kind, directory, "plain") as plain_url, \
            scratch_database(kind, directory, "indexed") as url:
        plain = migrated(plain_url, with_index=False)
        without = ingest(plain, archive, 0, sample)
        plain.dispose()
        engine = migrated(url)
        with_index = ingest(engine, archive, 0, sample)
        engine.dispose()
    return without, with_index


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200_000)
    parser.add_argument("--ingest-sample", type=int, default=5_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    parser.add_argument("--rebuild", action="store_true",
                        help="build the archive again even if one is kept")
    args = parser.parse_args()
    archive = Archive()
    sample = min(args.ingest_sample, args.questions)
    with tempfile.TemporaryDirectory(prefix="stackq-search-bench-") as directory:
        for kind in args.databases:
            run(kind, archive, args.questions, sample, directory, args.rebuild)


if __name__ == "__main__":
    main()
