"""Counts by site and tag, and the votes order, of a search's matches on SQLite: the search
as it is (`search()`: the matches joined to the facets index in SQL) against facet columns a
process would keep in memory (numpy arrays of each question's site, score and tags, and each
answer's question), the matches' ids read from FTS5 as one `group_concat(rowid)`.

A measurement for a decision, not stackq's code: columns kept per process need memory in
each web worker and a change log to stay exact as questions are stored and refreshed. The
columns' figure leaves out the page (ranking tiers and highlights, about 10 ms), which the
search's includes. Uses the archive benchmarks/search.py keeps (built if missing).

Run: .venv/bin/pip install numpy; .venv/bin/python benchmarks/facet_columns.py [--questions N]
"""

import argparse
import os
import sqlite3
import sys
import time
from functools import partial

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks.search_archive import Archive, kept_archive  # noqa: E402
from stackq import models  # noqa: E402
from stackq.archive.search.query import parse_query  # noqa: E402
from stackq.archive.search.service import search  # noqa: E402
from stackq.models.sqlite_functions import register  # noqa: E402

# (query, sort) by shape: words in a quarter to nine tenths of the threads, and phrases.
QUERIES = (("bemipe", "relevance"), ("sacho", "votes"), ("rufi", "relevance"),
           ("belomi", "relevance"), ('"stron tanearar"', "relevance"),
           ('"bemizi onne"', "relevance"), ('"lomi rufilo"', "relevance"))


class Columns:
    """Each question's site, score and tags (CSR: one row per tag of each question), and
    each answer's question, as arrays indexed by primary key."""

    def __init__(self, np, db):
        self.np = np
        rows = db.execute("SELECT id, site_id, score, tags FROM questions").fetchall()
        size = max(row[0] for row in rows) + 1
        self.site, self.score = np.zeros(size, np.int32), np.zeros(size, np.int64)
        names, tag_of, row_of = {}, [], []
        for question, site, score, tags in rows:
            self.site[question], self.score[question] = site, score
            for tag in (tags or "").split():
                tag_of.append(names.setdefault(tag, len(names)))
                row_of.append(question)
        self.tag_of, self.row_of = np.array(tag_of, np.int32), np.array(row_of, np.int64)
        self.tag_names = list(names)
        answers = db.execute("SELECT id, question_id FROM answers").fetchall()
        self.question_of = np.zeros(max(a for a, _ in answers) + 1, np.int64)
        for answer, question in answers:
            self.question_of[answer] = question

    def nbytes(self):
        return sum(a.nbytes for a in (self.site, self.score, self.tag_of, self.row_of,
                                      self.question_of))

    def counts(self, ids, sort):
        np = self.np
        sites = np.bincount(self.site[ids])
        matched = np.zeros(len(self.site), bool)
        matched[ids] = True
        tags = np.bincount(self.tag_of[matched[self.row_of]], minlength=len(self.tag_names))
        top = sorted((-int(tags[t]), self.tag_names[t]) for t in np.argsort(-tags)[:10])
        page = ids[np.argsort(-self.score[ids], kind="stable")[:25]] if sort == "votes" else None
        return {int(s): int(n) for s, n in enumerate(sites) if n}, top, page


def ids_of(np, db, table, match):
    found = db.execute(f"SELECT group_concat(rowid) FROM {table} WHERE {table} MATCH ?",
                       (match,)).fetchone()[0]
    return np.array(found.split(","), np.int64) if found else np.zeros(0, np.int64)


def matches(np, db, columns, q):
    """The ids of the questions matching `q`: a word in the threads' index; a phrase in the
    questions' or in one answer's text (answers mapped to their questions)."""
    if q.startswith('"'):
        answers = ids_of(np, db, "search_answers", q)
        return np.union1d(ids_of(np, db, "search_questions", q), columns.question_of[answers])
    return ids_of(np, db, "search_threads", f'"{q}"')


def searched(session, q, sort):
    found = search(session, parse_query(q), sort, 1, 25)
    session.rollback()
    return found


def counted(np, db, columns, q, sort):
    return columns.counts(matches(np, db, columns, q), sort)


def best_ms(run, times=5):
    best = float("inf")
    for _ in range(times):
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best * 1000, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200_000)
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError:
        sys.exit("facet_columns.py needs numpy: .venv/bin/pip install numpy")
    url = kept_archive("sqlite", Archive(), args.questions, False, print)
    engine = models.get_engine({"sqlalchemy.url": url})
    db = sqlite3.connect(url.removeprefix("sqlite:///"))
    register(db)
    began = time.perf_counter()
    columns = Columns(np, db)
    print(f"columns: loaded in {time.perf_counter() - began:.2f} s, "
          f"{columns.nbytes() / 1e6:.1f} MB")
    print(f"{'query':20} {'sort':9} {'matches':>8} {'search ms':>10} {'columns ms':>11} ratio")
    with models.get_session_factory(engine)() as session:
        for q, sort in QUERIES:
            search_ms, results = best_ms(partial(searched, session, q, sort))
            columns_ms, (sites, top, _) = best_ms(partial(counted, np, db, columns, q, sort))
            # The same counts both ways, or the comparison means nothing.
            assert sum(sites.values()) == results.total, (q, sites, results.total)
            assert {tag: -count for count, tag in top} == results.tags, (q, top, results.tags)
            print(f"{q:20} {sort:9} {results.total:8,} {search_ms:10.1f} {columns_ms:11.1f} "
                  f"{search_ms / columns_ms:5.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
