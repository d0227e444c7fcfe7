"""Full-text search over a deterministic archive, on SQLite and on PostgreSQL.

Builds an archive (default 200,000 questions, bodies of 1–2 KB, 2 answers each, words drawn
from a Zipf law over 30,000 made-up words) through the real ingest path (`store_questions`,
`store_answers`, 100 questions a transaction), then runs 200 queries of mixed shape (a rare
word, a common word, two words, a phrase, a negation, with `tag:`, with `site:`, sorted by
votes) through `search()` for a page of 25 with snippets and facets. Prints per database:
p50/p95/p99 ms, the index's size ÷ the text's (the index: all the search adds, the bodies'
plain text `body_text` included), and the ingest rate with the index ÷ without (the same
first questions stored into a database whose index was dropped; it keeps bare `body_text`
columns, which the ingest path writes: plain_text's share of the time is printed).

Run: .venv/bin/python benchmarks/search.py [--questions 200000] [--databases sqlite postgresql]
"""

import argparse
import contextlib
import itertools
import os
import random
import statistics
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import alembic.command  # noqa: E402
import alembic.config  # noqa: E402
import transaction  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from stackq import models  # noqa: E402
from stackq.archive.search.query import parse_query  # noqa: E402
from stackq.archive.search.service import search  # noqa: E402
from stackq.archive.store import store_answers  # noqa: E402
from stackq.models import Site  # noqa: E402
from stackq.models.fulltext import plain_text  # noqa: E402
from stackq.models.initialize_db import bundled_sites, load_sites  # noqa: E402
from stackq.searches.ingest import store_questions  # noqa: E402

INI = os.path.join(ROOT, "development.ini")
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
SITES = ("stackoverflow", "superuser", "serverfault", "askubuntu", "unix")
VOCABULARY, TAGS, BATCH = 30_000, 300, 100
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu", "fi",
             "be", "cho", "str", "ex", "on", "ar", "il")
SHAPES = ("rare", "common", "two words", "phrase", "negation", "tag", "site", "votes")


def words(count):
    rng = random.Random(7)
    out, seen = [], set()
    while len(out) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out


class Archive:
    """The deterministic questions: question n is the same on every run and database."""

    def __init__(self):
        self.words = words(VOCABULARY)
        self.weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(VOCABULARY)))
        self.tags = [f"tag{n}" for n in range(TAGS)]
        self.tag_weights = list(itertools.accumulate(1 / (rank + 1) for rank in range(TAGS)))

    def text(self, rng, size):
        chosen = rng.choices(self.words, cum_weights=self.weights, k=size // 7)
        return " ".join(chosen)

    def question(self, n):
        rng = random.Random(n)
        body_size = rng.randint(1000, 2000)
        body = self.text(rng, body_size)
        half = len(body) // 2
        qid = 1_000_000 + n
        created = 1_300_000_000 + n * 600
        return {
            "question_id": qid, "title": self.text(rng, 60).capitalize(),
            "tags": sorted(set(rng.choices(self.tags, cum_weights=self.tag_weights,
                                           k=rng.randint(1, 4)))),
            "body": f"<p>{body[:half]}</p>\n<pre><code>{body[half:half + 80]}</code></pre>\n"
                    f"<p>{body[half + 80:]}</p>",
            "score": int(rng.expovariate(0.2)) - 2, "answer_count": 2, "view_count": 10,
            "is_answered": rng.random() < 0.6, "creation_date": created,
            "last_activity_date": created + rng.randint(0, 10**7),
            "link": f"https://example.com/questions/{qid}/q",
        }, [{"answer_id": 10_000_000 + 2 * n + k, "question_id": qid, "score": k,
             "is_accepted": False, "creation_date": created + 3600,
             "body": f"<p>{self.text(rng, rng.randint(1000, 2000))}</p>"} for k in range(2)]

    def site_of(self, n):
        return SITES[n % len(SITES)]


def ingest(engine, archive, first, last):
    """Store questions first..last-1 (and their answers); seconds taken (storing only, not
    making them up)."""
    factory = models.get_session_factory(engine)
    spent = 0.0
    for start in range(first, last, BATCH):
        batch = {}
        for n in range(start, min(start + BATCH, last)):
            batch.setdefault(archive.site_of(n), []).append(archive.question(n))
        began = time.perf_counter()
        with transaction.manager:
            session = models.get_tm_session(factory, transaction.manager)
            sites = dict(session.execute(select(Site.api_site_parameter, Site.id)).all())
            for site, pairs in batch.items():
                store_questions(session, sites[site], [q for q, _ in pairs])
                store_answers(session, sites[site], [q["question_id"] for q, _ in pairs],
                              [a for _, answers in pairs for a in answers])
        spent += time.perf_counter() - began
    return spent


@contextlib.contextmanager
def database(kind, directory, name):
    if kind == "sqlite":
        yield f"sqlite:///{directory}/{name}.sqlite"
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    db = f"stackq_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{db}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + db
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def prepared(url, with_index):
    engine = models.get_engine({"sqlalchemy.url": url})
    config = alembic.config.Config(INI)
    config.attributes.update(settings={"sqlalchemy.url": url}, engine=engine,
                             skip_logging=True)
    alembic.command.upgrade(config, "head")
    if not with_index:
        # No index: what migration 0010 made goes, but the bodies' text columns come back
        # bare, since the ingest path writes them (plain_text's share is printed apart).
        alembic.command.downgrade(config, "0009")
        with engine.begin() as db:
            for table in ("questions", "answers"):
                db.execute(text(f"ALTER TABLE {table} ADD COLUMN body_text TEXT"))
    with transaction.manager:
        load_sites(models.get_tm_session(models.get_session_factory(engine),
                                         transaction.manager), bundled_sites())
    return engine


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
    factory = models.get_session_factory(engine)
    times, totals = [], {}
    with factory() as session:
        for _, q, sort in queries(archive, stored)[:16]:  # warm the caches
            search(session, parse_query(q), sort)
        for shape, q, sort in queries(archive, stored):
            began = time.perf_counter()
            results = search(session, parse_query(q), sort, 1, 25)
            times.append((time.perf_counter() - began) * 1000)
            totals.setdefault(shape, []).append(results.total)
            session.rollback()
    return times, totals


PG_ADDED = "sum(pg_column_size(search_vector) + coalesce(pg_column_size(body_text), 0))"


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
                "SELECT pg_relation_size('ix_questions_search_vector') "
                "+ pg_relation_size('ix_answers_search_vector') "
                "+ pg_relation_size('ix_questions_search_facets') + "
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


def run(kind, archive, count, sample, directory):
    with database(kind, directory, "plain") as plain_url, \
            database(kind, directory, "indexed") as url:
        plain = prepared(plain_url, with_index=False)
        without = ingest(plain, archive, 0, sample)
        plain.dispose()
        engine = prepared(url, with_index=True)
        with_index = ingest(engine, archive, 0, sample)
        began = time.perf_counter()
        ingest(engine, archive, sample, count)
        rest = time.perf_counter() - began
        if kind == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
                db.execute(text("VACUUM ANALYZE"))
        times, totals = timed_queries(engine, archive, count)
        plain = plain_text_seconds(archive, sample)
        index, text_bytes = sizes(engine)
        engine.dispose()
    q = statistics.quantiles(times, n=100)
    print(f"\n{kind}: {count:,} questions ({rest + with_index:.0f} s to store)")
    print(f"  queries: p50 {q[49]:.1f} ms, p95 {q[94]:.1f} ms, p99 {q[98]:.1f} ms, "
          f"max {max(times):.1f} ms")
    print("  median matches by shape: " + ", ".join(
        f"{shape} {int(statistics.median(found)):,}" for shape, found in totals.items()))
    print(f"  index ÷ text: {index / text_bytes:.2f} ({index / 2**20:.0f} MiB ÷ "
          f"{text_bytes / 2**20:.0f} MiB)")
    print(f"  ingest with the index ÷ without: {without / with_index:.2f} "
          f"({sample / with_index:.0f} ÷ {sample / without:.0f} questions/s, first {sample:,}; "
          f"both write body_text: {plain / with_index:.1%} of the time with the index)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200_000)
    parser.add_argument("--ingest-sample", type=int, default=5_000)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    archive = Archive()
    sample = min(args.ingest_sample, args.questions)
    with tempfile.TemporaryDirectory(prefix="stackq-search-bench-") as directory:
        for kind in args.databases:
            run(kind, archive, args.questions, sample, directory)


if __name__ == "__main__":
    main()
