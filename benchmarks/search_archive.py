"""The search benchmark's deterministic archive: made up, stored through the real ingest path
(for the ingest rate), or bulk-built once and kept (for the queries).

Through `store_questions` an archive grows by ~140 questions/s: 200,000 take over an hour.
The queries' archive is therefore built by bulk inserts of the same rows (the ingest's own
`question_row` / `answer_row` / `plain_text`) into the migrated schema, the real triggers
filling the index (on PostgreSQL the GIN index is built after the rows, as migration 0014
does). It is kept under /tmp (SQLite: a file; PostgreSQL: a database), named by the number of
questions, the schema (head revision and a digest of its sources) and BUILD, and reused by
later runs (`--rebuild` makes it again).
"""

import contextlib
import glob
import hashlib
import itertools
import os
import random
import time
import uuid
from datetime import UTC, datetime

import alembic.command
import alembic.config
import alembic.script
import transaction
from sqlalchemy import create_engine, insert, select, text

from stackq import models
from stackq.archive.store import answer_row, store_answers
from stackq.models import Answer, Question, Site
from stackq.models.fulltext import plain_text
from stackq.models.fulltext_pg import INDEXES as PG_INDEXES
from stackq.models.fulltext_threads import HELD
from stackq.models.initialize_db import bundled_sites, load_sites
from stackq.searches.ingest import question_row, store_questions
from stackq.stackexchange.items import parse_answer, parse_question

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INI = os.path.join(ROOT, "development.ini")
PG_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
KEPT = "/tmp/stackq-search-bench"
BUILD = 1  # bump when Archive's questions change: a kept archive of another build is not reused
SITES = ("stackoverflow", "superuser", "serverfault", "askubuntu", "unix")
VOCABULARY, TAGS, BATCH, BULK = 30_000, 300, 100, 2_000
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sa", "do", "gu", "fi",
             "be", "cho", "str", "ex", "on", "ar", "il")


def made_up_words(count):
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
        self.words = made_up_words(VOCABULARY)
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
    """Store questions first..last-1 (and their answers) through the real ingest path,
    100 a transaction; seconds taken (storing only, not making them up)."""
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


def migrated(url, with_index=True):
    """An engine on `url` with the schema at head and the bundled sites; `with_index` False:
    the search index taken out (the bodies' text columns and SQLite's table of held threads
    stay, bare: ingest writes them)."""
    engine = models.get_engine({"sqlalchemy.url": url})
    config = alembic_config(url, engine)
    alembic.command.upgrade(config, "head")
    if not with_index:
        alembic.command.downgrade(config, "0009")
        with engine.begin() as db:
            for table in ("questions", "answers"):
                db.execute(text(f"ALTER TABLE {table} ADD COLUMN body_text TEXT"))
            if engine.dialect.name == "sqlite":
                db.execute(text(f"CREATE TABLE {HELD} (question INTEGER PRIMARY KEY)"))
    with transaction.manager:
        load_sites(models.get_tm_session(models.get_session_factory(engine),
                                         transaction.manager), bundled_sites())
    return engine


def alembic_config(url, engine=None):
    config = alembic.config.Config(INI)
    config.attributes.update(settings={"sqlalchemy.url": url}, engine=engine,
                             skip_logging=True)
    return config


def schema_key():
    """The schema's head revision and a digest of what makes it (the migrations and the
    index's module), so an archive kept from a schema since edited is not reused."""
    head = alembic.script.ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    digest = hashlib.sha256()
    sources = sorted(glob.glob(os.path.join(ROOT, "stackq", "alembic", "versions", "*.py")))
    for path in [*sources, os.path.join(ROOT, "stackq", "models", "fulltext.py"),
                 os.path.join(ROOT, "stackq", "models", "fulltext_threads.py"),
                 os.path.join(ROOT, "stackq", "models", "fulltext_pg.py"),
                 os.path.join(ROOT, "stackq", "models", "fulltext_pg_commit.py")]:
        with open(path, "rb") as source:
            digest.update(source.read())
    return f"{head}_{digest.hexdigest()[:8]}"


@contextlib.contextmanager
def scratch_database(kind, directory, name):
    """A database for this run alone, dropped after."""
    if kind == "sqlite":
        yield f"sqlite:///{directory}/{name}.sqlite"
        return
    db = f"stackq_bench_{uuid.uuid4().hex[:8]}"
    admin("CREATE DATABASE " + db)
    try:
        yield pg_url(db)
    finally:
        admin(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def pg_url(db):
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + db


def admin(statement):
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result = connection.execute(text(statement))
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def kept_archive(kind, archive, count, rebuild, say):
    """The URL of the archive of `count` questions, built now unless kept from a run before."""
    name = f"stackq_bench_q{count}_{schema_key()}_b{BUILD}".lower()
    if kind == "sqlite":
        path = os.path.join(KEPT, name + ".sqlite")
        if os.path.exists(path) and not rebuild:
            say(f"  reusing the archive kept at {path} (--rebuild to make it again)")
            return f"sqlite:///{path}"
        os.makedirs(KEPT, exist_ok=True)
        building = path + ".building"
        with contextlib.suppress(FileNotFoundError):
            os.remove(building)
        seconds = bulk_build(f"sqlite:///{building}", archive, count)
        os.replace(building, path)
        say(f"  built in {seconds:.0f} s, kept at {path} for later runs")
        return f"sqlite:///{path}"
    exists = admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'")
    if exists and not rebuild:
        say(f"  reusing the archive kept in database {name} (--rebuild to make it again)")
        return pg_url(name)
    admin(f"DROP DATABASE IF EXISTS {name}_building WITH (FORCE)")
    admin(f"CREATE DATABASE {name}_building")
    seconds = bulk_build(pg_url(name + "_building"), archive, count)
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin(f"ALTER DATABASE {name}_building RENAME TO {name}")
    say(f"  built in {seconds:.0f} s, kept in database {name} for later runs")
    return pg_url(name)


def bulk_build(url, archive, count):
    """Questions 0..count-1 and their answers as the ingest stores them, by bulk inserts;
    seconds taken."""
    began = time.perf_counter()
    engine = migrated(url)
    postgresql = engine.dialect.name == "postgresql"
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as db:
        sites = dict(db.execute(select(Site.api_site_parameter, Site.id)).all())
        if postgresql:  # built once the vectors are in, as migration 0014 does
            db.execute(text("DROP INDEX ix_search_threads_words"))
        else:
            db.execute(text("PRAGMA synchronous = OFF"))
    for start in range(0, count, BULK):
        questions, answers = [], []
        for n in range(start, min(start + BULK, count)):
            item, answer_items = archive.question(n)
            site_id, parsed = sites[archive.site_of(n)], parse_question(item)
            row = question_row(site_id, parsed, {}, now)
            row.update(id=n + 1, body=parsed.body, body_text=plain_text(parsed.body),
                       answers_at=now)
            questions.append(row)
            answers += [answer_row(site_id, n + 1, parse_answer(a), {}, now)
                        for a in answer_items]
        with engine.begin() as db:
            db.execute(insert(Question), questions)
            db.execute(insert(Answer), answers)
    if postgresql:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as db:
            db.execute(text("SELECT setval(pg_get_serial_sequence('questions', 'id'), "
                            "(SELECT max(id) FROM questions))"))
            db.execute(text("SET maintenance_work_mem = '512MB'"))
            for statement in PG_INDEXES:
                db.execute(text(statement))
            db.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - began
