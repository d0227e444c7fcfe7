"""The full-text index's schema on each database, and the plain text it is made of.

SQLite: an FTS5 table over the view `search_documents` (external content: the text is not
stored twice), kept in step by triggers on `questions` and `answers`, so every writer's
transaction carries its index change. A body is HTML: the view hands FTS5 its text through
`stackq_plain()`, a function every connection the app opens registers (`get_engine`).

PostgreSQL: `questions.search_vector`, a weighted tsvector (title A, tags B, body and answers
C) under a GIN index, set by a trigger on `questions` and refreshed by statement triggers on
`answers`. The configuration `stackq_search` is `simple` (no language: Russian, CJK and
English alike), through `unaccent` when the server has it.
"""

import html
import re

# Marks put around matched words by snippet() / ts_headline: private-use characters, taken
# out of every indexed text first, so a body cannot forge one.
MARK_START, MARK_END = "\ue000", "\ue001"
SQLITE_FUNCTION = "stackq_plain"
PG_CONFIG = "stackq_search"

_TAG = re.compile(r"<[^>]*>")
_MARKS = str.maketrans("", "", MARK_START + MARK_END)


def plain_text(body):
    """A sanitised body's words: tags dropped, entities decoded, marks removed, one line."""
    if not body:
        return ""
    return " ".join(html.unescape(_TAG.sub(" ", body)).translate(_MARKS).split())


def register_sqlite_functions(dbapi_connection):
    """What the index's triggers and view call, on one sqlite3 connection."""
    dbapi_connection.create_function(SQLITE_FUNCTION, 1, plain_text, deterministic=True)


# A question's document, the same text when it is indexed and when it is taken out again
# (FTS5's external content needs the old values to delete them).
SQLITE_VIEW = """
CREATE VIEW search_documents AS
SELECT q.id AS id, q.title AS title, q.tags AS tags, stackq_plain(q.body) AS body,
       (SELECT group_concat(stackq_plain(a.body), ' ')
          FROM (SELECT body FROM answers WHERE question_id = q.id ORDER BY id) AS a) AS answers
  FROM questions AS q
"""
SQLITE_TABLE = """
CREATE VIRTUAL TABLE search_index USING fts5(
    title, tags, body, answers,
    content='search_documents', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2')
"""


def _take_out(question, also="TRUE"):
    return ("INSERT INTO search_index(search_index, rowid, title, tags, body, answers) "
            "SELECT 'delete', id, title, tags, body, answers FROM search_documents "
            f"WHERE id = {question} AND {also};")


def _put_in(question, also="TRUE"):
    return ("INSERT INTO search_index(rowid, title, tags, body, answers) "
            "SELECT id, title, tags, body, answers FROM search_documents "
            f"WHERE id = {question} AND {also};")


_QUESTION_CHANGED = ("old.title IS NOT new.title OR old.tags IS NOT new.tags "
                     "OR old.body IS NOT new.body")
_ANSWER_CHANGED = "old.body IS NOT new.body OR old.question_id IS NOT new.question_id"
_MOVED = "new.question_id IS NOT old.question_id"  # an answer moved: two documents change
# A question's document is taken out before a change of it or of its answers and put back
# after. Deleting a question takes it out before its answers go (cascade): the answers'
# triggers then find no question and do nothing.
SQLITE_TRIGGERS = {
    "search_question_added": f"AFTER INSERT ON questions BEGIN {_put_in('new.id')} END",
    "search_question_changing": (f"BEFORE UPDATE ON questions WHEN {_QUESTION_CHANGED} "
                                 f"BEGIN {_take_out('old.id')} END"),
    "search_question_changed": (f"AFTER UPDATE ON questions WHEN {_QUESTION_CHANGED} "
                                f"BEGIN {_put_in('new.id')} END"),
    "search_question_deleting": f"BEFORE DELETE ON questions BEGIN {_take_out('old.id')} END",
    "search_answer_adding": f"BEFORE INSERT ON answers BEGIN {_take_out('new.question_id')} END",
    "search_answer_added": f"AFTER INSERT ON answers BEGIN {_put_in('new.question_id')} END",
    "search_answer_changing": (f"BEFORE UPDATE ON answers WHEN {_ANSWER_CHANGED} BEGIN "
                               f"{_take_out('old.question_id')} "
                               f"{_take_out('new.question_id', _MOVED)} END"),
    "search_answer_changed": (f"AFTER UPDATE ON answers WHEN {_ANSWER_CHANGED} BEGIN "
                              f"{_put_in('old.question_id')} "
                              f"{_put_in('new.question_id', _MOVED)} END"),
    "search_answer_deleting": f"BEFORE DELETE ON answers BEGIN {_take_out('old.question_id')} END",
    "search_answer_deleted": f"AFTER DELETE ON answers BEGIN {_put_in('old.question_id')} END",
}


def sqlite_create(execute):
    """Create the SQLite index (empty) with its view and triggers."""
    execute(SQLITE_VIEW)
    execute(SQLITE_TABLE)
    for name, body in SQLITE_TRIGGERS.items():
        execute(f"CREATE TRIGGER {name} {body}")


def sqlite_fill(execute, first_id, last_id):
    """Index the questions with ids first_id..last_id (the triggers keep them after)."""
    execute("INSERT INTO search_index(rowid, title, tags, body, answers) "
            "SELECT id, title, tags, body, answers FROM search_documents "
            f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)}")


def sqlite_drop(execute):
    for name in SQLITE_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    execute("DROP TABLE IF EXISTS search_index")
    execute("DROP VIEW IF EXISTS search_documents")


# PostgreSQL: the vector of one question, from its columns and its answers' bodies. The
# parser drops HTML tags and entities by itself; `<` in a title (plain text) is not a tag.
PG_VECTOR_FUNCTION = f"""
CREATE FUNCTION stackq_search_vector(title text, tags text, body text, question integer)
RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT setweight(to_tsvector('{PG_CONFIG}', translate(coalesce(title, ''), '<>&', '   ')), 'A')
      || setweight(to_tsvector('{PG_CONFIG}', coalesce(tags, '')), 'B')
      || setweight(to_tsvector('{PG_CONFIG}', coalesce(body, '') || ' ' || coalesce(
           (SELECT string_agg(a.body, ' ' ORDER BY a.id) FROM answers AS a
             WHERE a.question_id = question), '')), 'C')
$$
"""
PG_TRIGGER_FUNCTIONS = """
CREATE FUNCTION stackq_search_question() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
     OR NEW.tags IS DISTINCT FROM OLD.tags OR NEW.body IS DISTINCT FROM OLD.body
     OR NEW.search_vector IS NULL THEN
    NEW.search_vector := stackq_search_vector(NEW.title, NEW.tags, NEW.body, NEW.id);
  END IF;
  RETURN NEW;
END $$;
CREATE FUNCTION stackq_search_answers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE questions AS q
     SET search_vector = stackq_search_vector(q.title, q.tags, q.body, q.id)
   WHERE q.id IN (SELECT question_id FROM changed_answers);
  RETURN NULL;
END $$;
"""
PG_TRIGGERS = (
    "CREATE TRIGGER search_question BEFORE INSERT OR UPDATE ON questions "
    "FOR EACH ROW EXECUTE FUNCTION stackq_search_question()",
    "CREATE TRIGGER search_answers_added AFTER INSERT ON answers "
    "REFERENCING NEW TABLE AS changed_answers "
    "FOR EACH STATEMENT EXECUTE FUNCTION stackq_search_answers()",
    "CREATE TRIGGER search_answers_changed AFTER UPDATE ON answers "
    "REFERENCING NEW TABLE AS changed_answers "
    "FOR EACH STATEMENT EXECUTE FUNCTION stackq_search_answers()",
    "CREATE TRIGGER search_answers_deleted AFTER DELETE ON answers "
    "REFERENCING OLD TABLE AS changed_answers "
    "FOR EACH STATEMENT EXECUTE FUNCTION stackq_search_answers()",
)


def pg_create(execute, with_unaccent):
    """The configuration, the column (empty), its functions and triggers; no GIN index yet
    (built once the column is filled: faster than updating it row by row)."""
    execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)")
    if with_unaccent:
        execute(f"ALTER TEXT SEARCH CONFIGURATION {PG_CONFIG} ALTER MAPPING FOR "
                "hword, hword_part, word WITH unaccent, simple")
    execute("ALTER TABLE questions ADD COLUMN search_vector tsvector")
    execute(PG_VECTOR_FUNCTION)
    execute(PG_TRIGGER_FUNCTIONS)
    for statement in PG_TRIGGERS:
        execute(statement)


def pg_fill(execute, first_id, last_id):
    execute("UPDATE questions SET search_vector = stackq_search_vector(title, tags, body, id) "
            f"WHERE id BETWEEN {int(first_id)} AND {int(last_id)}")


PG_INDEX = ("CREATE INDEX IF NOT EXISTS ix_questions_search_vector ON questions "
            "USING gin (search_vector)")


def pg_drop(execute):
    execute("DROP INDEX IF EXISTS ix_questions_search_vector")
    for table, name in (("questions", "search_question"), ("answers", "search_answers_added"),
                        ("answers", "search_answers_changed"),
                        ("answers", "search_answers_deleted")):
        execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    execute("DROP FUNCTION IF EXISTS stackq_search_answers()")
    execute("DROP FUNCTION IF EXISTS stackq_search_question()")
    execute("DROP FUNCTION IF EXISTS stackq_search_vector(text, text, text, integer)")
    execute("ALTER TABLE questions DROP COLUMN IF EXISTS search_vector")
    execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")
