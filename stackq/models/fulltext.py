"""The full-text index's schema on each database, and the plain text it is made of.

A question and each of its answers are indexed apart, each from its own row, so storing an
answer indexes that answer alone (a question's whole text is never indexed again). A body
is HTML: its words are `body_text`, a column stackq writes beside `body` when it stores one
(`plain_text`), so the database needs no function of ours and any writer can write.

SQLite: two FTS5 tables with external content, `search_questions` (title, tags, body_text
of `questions`) and `search_answers` (body_text of `answers`), kept in step by triggers in
every writer's transaction.

PostgreSQL: `questions.search_vector` (title A, tags B, body C) and `answers.search_vector`
(body C), each set by a row trigger from its own row, under GIN indexes. The configuration
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
_WATCHED = {"questions": "old.title IS NOT new.title OR old.tags IS NOT new.tags "
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
            f"{index}_changed": (f"AFTER UPDATE ON {table} WHEN {_WATCHED[table]} "
                                 f"BEGIN {take_out} {put_in} END"),
            f"{index}_deleted": f"AFTER DELETE ON {table} BEGIN {take_out} END"}


SQLITE_TRIGGERS = {name: body for index, (table, columns) in SQLITE_TABLES.items()
                   for name, body in _sqlite_triggers(index, table, columns).items()}


# SQLite: a question's thread (its text and all its answers') as one document of
# `search_threads`, its rowid the question's id: which questions have every group of words is
# then one MATCH, answered inside FTS5 from its lists of ids (no answer is looked up for its
# question, no list of ids is built per group). Words only (detail=none: no positions, a
# fifth of the size); phrases are checked on the candidates with the tables above.
# Contentless: nothing is stored twice; taking a document out needs its words again, which
# the triggers rebuild from the rows (any order of the words will do without positions).
SQLITE_THREADS = "search_threads"
# A word every thread has and no query can ask for (query.py takes it out): "every question
# but those with these words" is then one MATCH too (`MARK NOT words`).
THREAD_MARK = "\ue004"
SQLITE_THREADS_CREATE = (f"CREATE VIRTUAL TABLE {SQLITE_THREADS} USING fts5(words, "
                         f"content='', detail=none, columnsize=0, tokenize='{TOKENIZER}')")


def _thread_words(question, answers_where):
    """SQL for a thread's words: `question` a row of questions (old, new, q), its answers
    those of `answers_where` (a condition on `a`)."""
    return (f"'{THREAD_MARK} ' || coalesce({question}.title, '') || ' ' "
            f"|| coalesce({question}.tags, '') || ' ' "
            f"|| coalesce({question}.body_text, '') || ' ' || coalesce((SELECT "
            f"group_concat(a.body_text, ' ') FROM answers AS a WHERE {answers_where}), '')")


def _thread_put(question_id, words):
    return f"INSERT INTO {SQLITE_THREADS}(rowid, words) VALUES ({question_id}, {words});"


def _thread_take(question_id, words):
    return (f"INSERT INTO {SQLITE_THREADS}({SQLITE_THREADS}, rowid, words) "
            f"VALUES ('delete', {question_id}, {words});")


def _answer_thread(question_id, answers_before, words_before="''", only_if="1"):
    """Statements replacing the thread of question `question_id` (an expression) once one of
    its answers changed: before, its answers were those of `answers_before` (a condition on
    `a`) and the words `words_before`."""
    before = _thread_words("q", f"a.question_id = q.id AND {answers_before}")
    now = _thread_words("q", "a.question_id = q.id")
    where = f"FROM questions AS q WHERE q.id = {question_id} AND {only_if}"
    return (f"INSERT INTO {SQLITE_THREADS}({SQLITE_THREADS}, rowid, words) "
            f"SELECT 'delete', q.id, {before} || ' ' || {words_before} {where}; "
            f"INSERT INTO {SQLITE_THREADS}(rowid, words) SELECT q.id, {now} {where};")


# Only AFTER triggers on answers: an upsert's BEFORE INSERT trigger fires even when the row
# turns out to exist (then its UPDATE runs, not the AFTER INSERT). A question's thread goes
# BEFORE it is deleted, while its answers are still there to say its words; the answers'
# own triggers then find no question (deleted with it) and do nothing.
SQLITE_THREAD_TRIGGERS = {
    "search_threads_question_added": (
        "AFTER INSERT ON questions BEGIN "
        + _thread_put("new.id", _thread_words("new", "a.question_id = new.id")) + " END"),
    "search_threads_question_changed": (
        f"AFTER UPDATE ON questions WHEN {_WATCHED['questions']} BEGIN "
        + _thread_take("old.id", _thread_words("old", "a.question_id = old.id"))
        + _thread_put("new.id", _thread_words("new", "a.question_id = new.id")) + " END"),
    "search_threads_question_deleted": (
        "BEFORE DELETE ON questions BEGIN "
        + _thread_take("old.id", _thread_words("old", "a.question_id = old.id")) + " END"),
    "search_threads_answer_added": (
        "AFTER INSERT ON answers BEGIN " + _answer_thread("new.question_id", "a.id <> new.id")
        + " END"),
    "search_threads_answer_changed": (
        "AFTER UPDATE ON answers WHEN old.body_text IS NOT new.body_text "
        "OR old.question_id IS NOT new.question_id BEGIN "
        + _answer_thread("old.question_id", "a.id <> new.id", "coalesce(old.body_text, '')")
        + " " + _answer_thread("new.question_id", "a.id <> new.id",
                               only_if="new.question_id IS NOT old.question_id") + " END"),
    "search_threads_answer_deleted": (
        "AFTER DELETE ON answers BEGIN "
        + _answer_thread("old.question_id", "1", "coalesce(old.body_text, '')") + " END"),
}


# How many questions each site and each tag has, kept by triggers: what a search's counts by
# site and tag start from when nearly every question matches (minus the few that do not).
SQLITE_TOTALS = {
    "search_site_totals": "CREATE TABLE search_site_totals (site_id INTEGER PRIMARY KEY, "
                          "questions INTEGER NOT NULL)",
    "search_tag_totals": "CREATE TABLE search_tag_totals (tag TEXT PRIMARY KEY, "
                         "questions INTEGER NOT NULL) WITHOUT ROWID",
}
SQLITE_TAG_VALUES = "json_each('[' || replace(json_quote({row}.tags), ' ', '\",\"') || ']')"


def _totals_add(row, step):
    tags = SQLITE_TAG_VALUES.format(row=row)
    return (f"INSERT INTO search_site_totals (site_id, questions) VALUES ({row}.site_id, {step}) "
            f"ON CONFLICT (site_id) DO UPDATE SET questions = questions + {step}; "
            f"INSERT INTO search_tag_totals (tag, questions) SELECT t.value, {step} FROM {tags} "
            f"AS t WHERE t.value <> '' ON CONFLICT (tag) DO UPDATE SET questions = questions "
            f"+ {step};")


SQLITE_TOTALS_TRIGGERS = {
    "search_totals_added": f"AFTER INSERT ON questions BEGIN {_totals_add('new', 1)} END",
    "search_totals_changed": (
        "AFTER UPDATE ON questions WHEN old.site_id IS NOT new.site_id "
        f"OR old.tags IS NOT new.tags BEGIN {_totals_add('old', -1)} {_totals_add('new', 1)} END"),
    "search_totals_deleted": f"AFTER DELETE ON questions BEGIN {_totals_add('old', -1)} END",
}


def sqlite_create_threads(execute):
    """Create the threads' index (empty) and its triggers."""
    execute(SQLITE_THREADS_CREATE)
    for statement in SQLITE_TOTALS.values():
        execute(statement)
    for name, body in (SQLITE_THREAD_TRIGGERS | SQLITE_TOTALS_TRIGGERS).items():
        execute(f"CREATE TRIGGER {name} {body}")


def sqlite_fill_threads(execute, first_id, last_id):
    """Index the threads of questions first_id..last_id (the triggers keep them after)."""
    execute(f"INSERT INTO {SQLITE_THREADS}(rowid, words) SELECT q.id, "
            f"{_thread_words('q', 'a.question_id = q.id')} FROM questions AS q "
            f"WHERE q.id BETWEEN {int(first_id)} AND {int(last_id)}")


def sqlite_fill_totals(execute):
    execute("INSERT INTO search_site_totals SELECT site_id, count(*) FROM questions "
            "GROUP BY site_id")
    execute(f"INSERT INTO search_tag_totals SELECT t.value, count(*) FROM questions AS q, "
            f"{SQLITE_TAG_VALUES.format(row='q')} AS t WHERE t.value <> '' GROUP BY t.value")


def sqlite_drop_threads(execute):
    for name in SQLITE_THREAD_TRIGGERS | SQLITE_TOTALS_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in (SQLITE_THREADS, *SQLITE_TOTALS):
        execute(f"DROP TABLE IF EXISTS {table}")


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


def pg_create(execute, with_unaccent):
    """The configuration, the columns (empty), their functions and triggers; no GIN indexes
    yet (built once the columns are filled: faster than updating them row by row)."""
    execute(f"CREATE TEXT SEARCH CONFIGURATION {PG_CONFIG} (COPY = simple)")
    if with_unaccent:
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


def pg_drop(execute):
    execute("DROP INDEX IF EXISTS ix_questions_search_facets")
    for table, function in (("questions", "stackq_search_question"),
                            ("answers", "stackq_search_answer")):
        execute(f"DROP INDEX IF EXISTS ix_{table}_search_vector")
        execute(f"DROP TRIGGER IF EXISTS search_{function.rsplit('_', 1)[1]} ON {table}")
        execute(f"DROP FUNCTION IF EXISTS {function}()")
        execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_vector")
    execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {PG_CONFIG}")
