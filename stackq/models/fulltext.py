"""The full-text index's schema on each database, and the plain text it is made of.

A question and each of its answers are indexed apart, each from its own row, so storing an
answer indexes that answer alone (a question's whole text is never indexed again). A body
is HTML: its words are `body_text`, a column stackq writes beside `body` when it stores one
(`plain_text`), so the database needs no function of ours and any writer can write.

SQLite: two FTS5 tables with external content, `search_questions` (title, tags, body_text
of `questions`) and `search_answers` (body_text of `answers`), kept in step by triggers in
every writer's transaction.

PostgreSQL (migration 0010 to 0014; then fulltext_pg.py's `search_threads`):
`questions.search_vector` (title A, tags B, body C) and `answers.search_vector` (body C),
each set by a row trigger from its own row, under GIN indexes. The configuration
`stackq_search` is `simple` (no language: Russian, CJK and English alike), through
`unaccent` when the server has it.

Both: `ix_questions_search_facets`, a covering index of the columns a search counts, filters
and sorts its matches by, so neither engine reads the wide rows (bodies) of its matches.
"""

import html
import re

# Marks put around matched words by snippet() / ts_headline: private-use characters, taken
# out of every indexed text first, so a body cannot forge one.
MARK_START, MARK_END = "\ue000", "\ue001"
PG_CONFIG = "stackq_search"
TOKENIZER = "unicode61 remove_diacritics 2"

_TAG = re.compile(r"<[^>]*>")
_MARKS = str.maketrans("", "", MARK_START + MARK_END)


def plain_text(body):
    """A sanitised body's words: tags dropped, entities decoded, marks removed, one line;
    None for no body."""
    if body is None:
        return None
    return " ".join(html.unescape(_TAG.sub(" ", body)).translate(_MARKS).split())


# What a search reads of each match: the facets index covers them.
FACET_COLUMNS = ("site_id", "score", "creation_date", "last_activity_date", "is_answered",
                 "answer_count", "accepted_answer_id", "tags")
SQLITE_FACETS_INDEX = (f"CREATE INDEX ix_questions_search_facets ON questions "
                       f"(id, {', '.join(FACET_COLUMNS)})")
PG_FACETS_INDEX = (f"CREATE INDEX ix_questions_search_facets ON questions (id) "
                   f"INCLUDE ({', '.join(FACET_COLUMNS)})")

# An answer's question, read from the index of its id alone (not its row and body).
SQLITE_ANSWERS_INDEX = "CREATE INDEX ix_answers_search_question ON answers (id, question_id)"

SQLITE_TABLES = {
    "search_questions": ("questions", ("title", "tags", "body_text")),
    "search_answers": ("answers", ("body_text",)),
}
WATCHED = {"questions": "old.title IS NOT new.title OR old.tags IS NOT new.tags "
                         "OR old.body_text IS NOT new.body_text",
            "answers": "old.body_text IS NOT new.body_text"}


def _sqlite_triggers(index, table, columns):
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    put_in = f"INSERT INTO {index}(rowid, {names}) VALUES (new.id, {new});"
    take_out = (f"INSERT INTO {index}({index}, rowid, {names}) "
                f"VALUES ('delete', old.id, {old});")
    # A score-only update (every refresh) changes no indexed text and costs nothing.
    return {f"{index}_added": f"AFTER INSERT ON {table} BEGIN {put_in} END",
            f"{index}_changed": (f"AFTER UPDATE ON {table} WHEN {WATCHED[table]} "
                                 f"BEGIN {take_out} {put_in} END"),
            f"{index}_deleted": f"AFTER DELETE ON {table} BEGIN {take_out} END"}


SQLITE_TRIGGERS = {name: body for index, (table, columns) in SQLITE_TABLES.items()
                   for name, body in _sqlite_triggers(index, table, columns).items()}


def sqlite_create(execute):
    """Create the SQLite indexes (empty) and their triggers."""
    for index, (table, columns) in SQLITE_TABLES.items():
        execute(f"CREATE VIRTUAL TABLE {index} USING fts5({', '.join(columns)}, "
                f"content='{table}', content_rowid='id', tokenize='{TOKENIZER}')")
    for name, body in SQLITE_TRIGGERS.items():
        execute(f"CREATE TRIGGER {name} {body}")
    execute(SQLITE_FACETS_INDEX)
    execute(SQLITE_ANSWERS_INDEX)


def sqlite_fill(execute, table, first_id, last_id):
    """Index the rows of `table` with ids first_id..last_id (the triggers keep them after)."""
    index, columns = next((i, c) for i, (t, c) in SQLITE_TABLES.items() if t == table)
    names = ", ".join(columns)
    execute(f"INSERT INTO {index}(rowid, {names}) SELECT id, {names} FROM {table} "
            f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)}")


def sqlite_drop(execute):
    execute("DROP INDEX IF EXISTS ix_questions_search_facets")
    execute("DROP INDEX IF EXISTS ix_answers_search_question")
    for name in SQLITE_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    for index in SQLITE_TABLES:
        execute(f"DROP TABLE IF EXISTS {index}")


# PostgreSQL. `<` in a title or a body's text (plain text) is not a tag: the parser must not
# take the words after it for one.
_PG_TITLE = (f"setweight(to_tsvector('{PG_CONFIG}', "
             "translate(coalesce(NEW.title, ''), '<>&', '   ')), 'A')")
_PG_TAGS = f"setweight(to_tsvector('{PG_CONFIG}', coalesce(NEW.tags, '')), 'B')"
_PG_BODY = (f"setweight(to_tsvector('{PG_CONFIG}', "
            "translate(coalesce(NEW.body_text, ''), '<>&', '   ')), 'C')")
PG_TRIGGER_FUNCTIONS = f"""
CREATE FUNCTION stackq_search_question() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
     OR NEW.tags IS DISTINCT FROM OLD.tags OR NEW.body_text IS DISTINCT FROM OLD.body_text
     OR NEW.search_vector IS NULL THEN
    NEW.search_vector := {_PG_TITLE} || {_PG_TAGS} || {_PG_BODY};
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION stackq_search_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.body_text IS DISTINCT FROM OLD.body_text
     OR NEW.search_vector IS NULL THEN
    NEW.search_vector := {_PG_BODY};
  END IF;
  RETURN NEW;
END $$;
"""
PG_TRIGGERS = (
    "CREATE TRIGGER search_question BEFORE INSERT OR UPDATE ON questions "
    "FOR EACH ROW EXECUTE FUNCTION stackq_search_question()",
    "CREATE TRIGGER search_answer BEFORE INSERT OR UPDATE ON answers "
    "FOR EACH ROW EXECUTE FUNCTION stackq_search_answer()",
)
PG_TABLES = ("questions", "answers")


def pg_create(execute, with_unaccent, configuration=True):
    """The configuration (unless `configuration` is False: it is there), the columns
    (empty), their functions and triggers; no GIN indexes yet (built once the columns are
    filled: faster than updating them row by row)."""
    if configuration:
        execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)")
    if configuration and with_unaccent:
        execute(f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ALTER MAPPING FOR "
                "hword, hword_part, word WITH unaccent, simple")
    for table in PG_TABLES:
        execute(f"ALTER TABLE {table} ADD COLUMN search_vector tsvector")
    execute(PG_TRIGGER_FUNCTIONS)
    for statement in PG_TRIGGERS:
        execute(statement)


def pg_fill(execute, table, first_id, last_id):
    # search_vector IS NULL makes the trigger set it.
    execute(f"UPDATE {table} SET search_vector = NULL "
            f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)}")


PG_INDEXES = tuple(f"CREATE INDEX IF NOT EXISTS ix_{table}_search_vector ON {table} "
                   "USING gin (search_vector)" for table in PG_TABLES) + (PG_FACETS_INDEX,)


def pg_drop(execute, configuration=True):
    """Take the index of 0010 away: its configuration too unless `configuration` is False."""
    execute("DROP INDEX IF EXISTS ix_questions_search_facets")
    for table, function in (("questions", "stackq_search_question"),
                            ("answers", "stackq_search_answer")):
        execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        execute(f"DROP TRIGGER IF EXISTS search_{function.rsplit('_', 1)[1]} ON {table}")
        execute(f"DROP FUNCTION IF EXISTS {function}()")
        execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
    if configuration:
        execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")
