"""Reports of 10,000 and of 100,000 stored results: rows/s and the exporting process's peak RSS.

Every question has a body of 1 to 2 KB (HTML, as stored after sanitising), which a report
carries twice: as text (`body`) and as HTML (`body_html`).

Each report is one real `stackq_export` process; its peak RSS comes from the kernel
(wait4's ru_maxrss). Flat memory means the 100,000-row report peaks about where the
10,000-row one does (target: under 100 MB, ratio near 1.0).

Run: .venv/bin/python benchmarks/export.py [--rows 100000] [--database-url URL]
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
FORMATS = ("csv", "xlsx", "json", "jsonl")
CHUNK = 5000
WORDS = ("parse", "thread", "socket", "<code>dict</code>", "&amp;", "élan", "list", "query",
         "index", "cache", "<em>slow</em>", "returns", "None", "why", "loop")
TITLES = ("How to parse a {0} in Python?", "Why is my {0} slow?", "=SUM({0}) in a title",
          "<b>{0}</b> & \"quotes\" — ünïcödé")


def write_ini(directory, url):
    path = os.path.join(directory, "bench.ini")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"[app:main]\nuse = egg:stackq\nsqlalchemy.url = {url}\n\n"
                "[alembic]\nscript_location = stackq:alembic\n")
    return path


def fill(url, ini, rows, small):
    """`rows` questions; search 1 holds the first `small` of them, search 2 all of them.

    Run in a process of its own (`--fill`): the measuring process stays small, since the
    memory of the process a child is forked from counts in that child's peak RSS.
    """
    sys.path.insert(0, ROOT)
    import transaction
    from sqlalchemy import insert, select, text

    from stackq import models
    from stackq.infra.settings import database_url
    from stackq.models import (
        Owner,
        Question,
        SavedSearch,
        SearchPosition,
        SearchResult,
        Site,
    )
    from stackq.models.initialize_db import bundled_sites, load_sites, upgrade_schema

    settings = {"sqlalchemy.url": database_url()("sqlalchemy.url", url)}
    engine = models.get_engine(settings)
    upgrade_schema(ini, settings)
    with transaction.manager:
        dbsession = models.get_tm_session(models.get_session_factory(engine), transaction.manager)
        load_sites(dbsession, bundled_sites())
    rng = random.Random(1)
    start = datetime(2012, 1, 1)
    with engine.begin() as db:
        site_id = db.scalar(select(Site.id).where(Site.api_site_parameter == "stackoverflow"))
        db.execute(insert(Owner), [
            {"id": i, "site_id": site_id, "owner_key": f"u:{i}", "user_id": i,
             "display_name": f"User {i} Müller", "user_type": "registered", "reputation": i,
             "link": f"https://stackoverflow.com/users/{i}"} for i in range(1, 1001)])
        now = datetime(2026, 11, 1)
        for search_id, count in ((1, small), (2, rows)):
            db.execute(insert(SavedSearch), [{"id": search_id, "site_id": site_id,
                                              "q": f"bench {count}", "tagged": "",
                                              "total": count, "created_at": now}])
        for first in range(1, rows + 1, CHUNK):
            ids = range(first, min(first + CHUNK, rows + 1))
            db.execute(insert(Question), [question(i, site_id, rng, start, now) for i in ids])
            for search_id, count in ((1, small), (2, rows)):
                mine = [i for i in ids if i <= count]
                if mine:
                    db.execute(insert(SearchResult), [{"search_id": search_id, "question_id": i}
                                                      for i in mine])
                    db.execute(insert(SearchPosition), [
                        {"search_id": search_id, "sort": "activity", "direction": "desc",
                         "position": i, "question_id": i} for i in mine])
    if engine.dialect.name == "postgresql":
        # What autovacuum would do soon after such a load: without statistics the planner
        # takes the tables for tiny and picks scans for the report's joins.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(text("ANALYZE"))
    engine.dispose()


def question(i, site_id, rng, start, now):
    created = start + timedelta(minutes=i)
    return {"id": i, "site_id": site_id, "question_id": 10_000_000 + i,
            "title": rng.choice(TITLES).format(f"thing {i}"),
            "link": f"https://stackoverflow.com/questions/{10_000_000 + i}/thing-{i}",
            "score": rng.randint(-5, 500), "answer_count": rng.randint(0, 9),
            "view_count": rng.randint(5, 90_000), "is_answered": i % 3 == 0,
            "accepted_answer_id": 20_000_000 + i if i % 4 == 0 else None,
            "closed_reason": "Duplicate" if i % 25 == 0 else None, "content_license": None,
            "creation_date": created, "last_activity_date": now - timedelta(seconds=i),
            "last_edit_date": None, "closed_date": None, "owner_id": 1 + i % 1000,
            "stored_at": now, **body_of(rng),
            "tags": " ".join(f"tag-{1 + (i * 7 + k) % 40}" for k in range(3))}


def body_of(rng):
    """A stored body of 1 to 2 KB (paragraphs and a code block) and its text."""
    from stackq.models.fulltext import plain_text

    paragraphs, size = [], rng.randint(1000, 2000)
    while sum(map(len, paragraphs)) < size:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 40)))
        paragraphs.append(f"<p>{words}</p>" if len(paragraphs) % 3 else
                          f"<pre><code>for x in items:\n    print(x)  # {words[:60]}</code></pre>")
    body = "\n".join(paragraphs)
    return {"body": body, "body_text": plain_text(body)}


def measure(ini, search_id, fmt, directory):
    """(seconds, peak RSS in MB) of one `stackq_export` process."""
    target = os.path.join(directory, f"report-{search_id}.{fmt}")
    began = time.perf_counter()
    proc = subprocess.Popen([os.path.join(BIN, "stackq_export"), ini, str(search_id),
                             "--format", fmt, "-o", target],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONWARNINGS": "ignore"})
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - began
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stackq_export failed: {proc.stderr.read().decode()}")
    proc.stderr.close()
    os.unlink(target)
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--database-url", help="an empty database (default: a SQLite file)")
    parser.add_argument("--fill", nargs=2, metavar=("URL", "INI"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        return fill(*args.fill, args.rows, args.small)
    with tempfile.TemporaryDirectory(prefix="stackq-export-bench-") as directory:
        url = args.database_url or f"sqlite:///{directory}/bench.sqlite"
        ini = write_ini(directory, url)
        began = time.perf_counter()
        subprocess.run([sys.executable, "-W", "ignore", __file__, "--fill", url, ini,
                        "--rows", str(args.rows), "--small", str(args.small)], check=True)
        print(f"stored {args.rows:,} questions in {time.perf_counter() - began:.1f} s "
              f"({url.split(':')[0]})")
        print(f"{'format':6} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'peak RSS':>9}")
        for fmt in FORMATS:
            runs = {}
            for search_id, rows in ((1, args.small), (2, args.rows)):
                seconds, rss = runs[rows] = measure(ini, search_id, fmt, directory)
                print(f"{fmt:6} {rows:8,} {seconds:8.2f} {rows / seconds:9,.0f} {rss:6.1f} MB")
            (t_small, rss_small), (t_big, rss_big) = runs[args.small], runs[args.rows]
            marginal = (args.rows - args.small) / (t_big - t_small)
            print(f"{fmt:6} rows/s past start-up {marginal:,.0f}; peak RSS "
                  f"{args.rows:,} / {args.small:,} rows = {rss_big / rss_small:.2f}")


if __name__ == "__main__":
    main()
