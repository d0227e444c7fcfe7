"""PostgreSQL's index of question threads (migration 0014): `search_threads`, one narrow row
per question with what a search counts, filters and sorts by, and two weighted tsvectors:
`title_words` (title A, tags B: small, kept in the row) and `words` (the whole thread: title
A, tags B, body C, answers D), under a GIN index. Kept by triggers from `questions` and
`answers` in every writer's transaction; the database needs no function of ours.

Why one row per thread: a question matches when it or one of its answers does, and a search
counts its matches by site and tag. With a vector per question and per answer (migration
0010) that was a union of two index scans over the wide rows (bodies) of two tables and a
join for the counts; here it is one GIN scan of one narrow table, which holds the counts'
columns too.

A thread is made at commit, once per transaction that wrote its question or answers: row
triggers note the question (`search_threads_pending`) and a deferred trigger makes each
noted thread from the rows. Storing a question and its answers then writes its vector and
its GIN entries once, not once per row (a thread updated per answer cost a third of the
ingest rate). A refresh's score-only update writes the narrow columns at once. The
configuration is 0010's `stackq_search`.
"""

from .fulltext import PG_CONFIG

THREADS = "search_threads"
# Copied from the question: what a search filters, counts and sorts its matches by.
FACETS = {"site_id": "integer NOT NULL", "score": "integer NOT NULL",
          "creation_date": "timestamp without time zone",
          "last_activity_date": "timestamp without time zone", "is_answered": "boolean",
          "answer_count": "integer", "accepted_answer_id": "integer",
          "tags": "text NOT NULL DEFAULT ''"}
# A lexeme every thread has and no query can make (the parser never puts a space inside
# one): "the threads without these words" is then one GIN scan, `mark & !words`.
THREAD_MARK = "stackq thread"
# Its site and each of its tags as lexemes of the same kind: `site:` and `tag:` are then
# words of the same GIN scan (exact: `tag:c` is not `tag:c++`), not a test of every row.
SITE_LEXEME, TAG_LEXEME = "stackq site {}", "stackq tag {}"

# A thread's own lexemes (SQL in a function of `site` and `tags`).
MARKS = (f"""array_to_tsvector(ARRAY['{THREAD_MARK}', '{SITE_LEXEME.format("' || site || '")}']
                           || ARRAY(SELECT '{TAG_LEXEME.format("' || t.tag || '")}'
                                      FROM unnest(string_to_array(tags, ' ')) AS t(tag)
                                     WHERE t.tag <> ''))""")


def make_threads(words_function):
    """The statement making each thread noted in the transaction, its vector from
    `words_function` (of the question's id, site, title, tags and body)."""
    return f"""WITH noted AS (DELETE FROM search_threads_pending WHERE transaction = txid_current()
                 RETURNING question)
  INSERT INTO {THREADS} AS t (id, {', '.join(FACETS)}, title_words, words)
  SELECT q.id, {', '.join(f'q.{c}' for c in FACETS)}, stackq_title_words(q.title, q.tags),
         {words_function}(q.id, q.site_id, q.title, q.tags, q.body_text)
    FROM questions AS q WHERE q.id IN (SELECT question FROM noted) ORDER BY q.id
  ON CONFLICT (id) DO UPDATE SET ({', '.join(FACETS)}, title_words, words)
    = ({', '.join(f'excluded.{c}' for c in FACETS)}, excluded.title_words, excluded.words);"""


# A lexeme after each part (title, tags, body, each answer), so no phrase runs from one part
# into the next. `<` in a title or a body's text (plain text) is not a tag: the parser must
# not take the words after it for one. (`\\:` is a colon that is not a bound parameter.)
GAP = "stackq gap"
THREAD_FUNCTIONS = f"""
CREATE FUNCTION stackq_text_words(words text, weight "char") RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT setweight(to_tsvector('{PG_CONFIG}', translate(coalesce(words, ''), '<>&', '   ')),
                   weight) || $m$'{GAP}'\\:1$m$::tsvector
$$;
CREATE AGGREGATE stackq_words_agg(tsvector) (SFUNC = tsvector_concat, STYPE = tsvector,
                                             INITCOND = '');
CREATE FUNCTION stackq_title_words(title text, tags text) RETURNS tsvector
LANGUAGE sql STABLE AS $$
  SELECT stackq_text_words(title, 'A') || stackq_text_words(tags, 'B')
$$;
CREATE FUNCTION stackq_thread_words(question integer, site integer, title text, tags text,
                                    body text)
RETURNS tsvector LANGUAGE sql STABLE AS $$
  SELECT stackq_title_words(title, tags) || stackq_text_words(body, 'C')
      || coalesce((SELECT stackq_words_agg(stackq_text_words(a.body_text, 'D') ORDER BY a.id)
                     FROM answers AS a WHERE a.question_id = question), '')
      || {MARKS}
$$;
CREATE FUNCTION stackq_note_thread(question integer) RETURNS void LANGUAGE sql AS $$
  INSERT INTO search_threads_pending (question) VALUES (question)
$$;
CREATE FUNCTION stackq_thread_of_question() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
     OR NEW.tags IS DISTINCT FROM OLD.tags OR NEW.site_id IS DISTINCT FROM OLD.site_id
     OR NEW.body_text IS DISTINCT FROM OLD.body_text THEN
    PERFORM stackq_note_thread(NEW.id);
  ELSIF ({', '.join(f'NEW.{c}' for c in FACETS)})
        IS DISTINCT FROM ({', '.join(f'OLD.{c}' for c in FACETS)}) THEN
    -- A refresh's new score: the row is narrow, the vectors are not touched.
    UPDATE {THREADS} SET ({', '.join(FACETS)}) = ({', '.join(f'NEW.{c}' for c in FACETS)})
     WHERE id = NEW.id;
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION stackq_thread_of_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM stackq_note_thread(OLD.question_id);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM stackq_note_thread(NEW.question_id);
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION stackq_apply_threads() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {make_threads("stackq_thread_words")}
  RETURN NULL;
END $$;
"""
_FUNCTION_NAMES = ("stackq_thread_of_answer()", "stackq_thread_of_question()",
                   "stackq_apply_threads()", "stackq_note_thread(integer)",
                   "stackq_thread_words(integer, integer, text, text, text)",
                   "stackq_title_words(text, text)")
_QUESTION_TEXT_CHANGED = ("WHEN (OLD.title IS DISTINCT FROM NEW.title "
                          "OR OLD.tags IS DISTINCT FROM NEW.tags "
                          "OR OLD.site_id IS DISTINCT FROM NEW.site_id "
                          "OR OLD.body_text IS DISTINCT FROM NEW.body_text)")
_ANSWER_CHANGED = ("WHEN (OLD.body_text IS DISTINCT FROM NEW.body_text "
                   "OR OLD.question_id IS DISTINCT FROM NEW.question_id)")
_DEFERRED = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
_APPLY = "EXECUTE FUNCTION stackq_apply_threads()"
_TRIGGERS = {
    "search_thread_noted_question": "AFTER INSERT OR UPDATE ON questions FOR EACH ROW "
                                    "EXECUTE FUNCTION stackq_thread_of_question()",
    "search_thread_noted_answer": "AFTER INSERT OR DELETE ON answers FOR EACH ROW "
                                  "EXECUTE FUNCTION stackq_thread_of_answer()",
    "search_thread_noted_changed_answer": f"AFTER UPDATE ON answers FOR EACH ROW "
                                          f"{_ANSWER_CHANGED} "
                                          "EXECUTE FUNCTION stackq_thread_of_answer()",
    # At commit: each thread noted in the transaction is made once, however many of its
    # rows were written (a question and its answers, stored together, are one write).
    # Triggers of one row fire in the order of their names: with SET CONSTRAINTS IMMEDIATE
    # a row's `noted` must come before its `written`.
    "search_thread_written_question": f"AFTER INSERT ON questions {_DEFERRED} {_APPLY}",
    "search_thread_rewritten_question": f"AFTER UPDATE ON questions {_DEFERRED} "
                                        f"{_QUESTION_TEXT_CHANGED} {_APPLY}",
    "search_thread_written_answer": f"AFTER INSERT OR DELETE ON answers {_DEFERRED} {_APPLY}",
    "search_thread_rewritten_answer": f"AFTER UPDATE ON answers {_DEFERRED} {_ANSWER_CHANGED} "
                                      f"{_APPLY}",
}
_PENDING = ("CREATE UNLOGGED TABLE search_threads_pending (transaction bigint NOT NULL "
            "DEFAULT txid_current(), question integer NOT NULL)",
            "CREATE INDEX ix_search_threads_pending ON search_threads_pending (transaction)")
# Built once the rows are in: faster than row by row.
INDEXES = (f"CREATE INDEX IF NOT EXISTS ix_{THREADS}_words ON {THREADS} USING gin (words)",)


def create(execute):
    """The table (empty), its functions and triggers; no GIN index yet (INDEXES)."""
    columns = ", ".join(f"{name} {kind}" for name, kind in FACETS.items())
    execute(f"CREATE TABLE {THREADS} (id integer PRIMARY KEY "
            f"REFERENCES questions (id) ON DELETE CASCADE, {columns}, "
            "title_words tsvector NOT NULL, words tsvector NOT NULL)")
    for statement in _PENDING:
        execute(statement)
    execute(THREAD_FUNCTIONS)
    _create_triggers(execute, _TRIGGERS)


def _create_triggers(execute, triggers):
    """Each of `triggers` ({name: body}); a deferred one is a constraint trigger."""
    for name, body in triggers.items():
        execute(f"CREATE {'CONSTRAINT ' if 'DEFERRED' in body else ''}TRIGGER {name} {body}")


def _drop_triggers(execute, triggers):
    for name, body in triggers.items():
        table = body.split(" ON ")[1].split()[0]
        execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")


def fill(execute, first_id, last_id):
    """The threads of questions first_id..last_id (the triggers keep them after)."""
    execute(f"INSERT INTO {THREADS} (id, {', '.join(FACETS)}, title_words, words) "
            f"SELECT q.id, {', '.join(f'q.{c}' for c in FACETS)}, "
            "stackq_title_words(q.title, q.tags), "
            "stackq_thread_words(q.id, q.site_id, q.title, q.tags, q.body_text) "
            "FROM questions AS q "
            f"WHERE q.id BETWEEN {int(first_id)} AND {int(last_id)}")


# How many questions each site ('s', its id) and tag ('t') has: what a search's counts start
# from when nearly every question matches (less the few that do not). Kept exactly, without
# two writers ever waiting on each other in a cycle: a thread's row trigger notes its change
# in `search_totals_pending` (inserts only: no row is shared), and at commit a deferred
# trigger adds up the transaction's notes and applies them in (kind, key) order, so every
# writer takes the totals' row locks in one order, last.
TOTALS = (
    'CREATE TABLE search_totals (kind "char" NOT NULL, key text NOT NULL, '
    "questions integer NOT NULL, PRIMARY KEY (kind, key))",
    "CREATE UNLOGGED TABLE search_totals_pending (transaction bigint NOT NULL "
    'DEFAULT txid_current(), kind "char" NOT NULL, key text NOT NULL, '
    "questions integer NOT NULL)",
    "CREATE INDEX ix_search_totals_pending ON search_totals_pending (transaction)",
)
# The totals' notes of the transaction, added up and applied.
APPLY_TOTALS = """WITH noted AS (DELETE FROM search_totals_pending
                  WHERE transaction = txid_current() RETURNING kind, key, questions)
  INSERT INTO search_totals (kind, key, questions)
  SELECT kind, key, sum(questions) FROM noted GROUP BY kind, key
  HAVING sum(questions) <> 0 ORDER BY kind, key
  ON CONFLICT (kind, key) DO UPDATE SET questions = search_totals.questions
                                                    + excluded.questions;"""
TOTALS_FUNCTIONS = f"""
CREATE FUNCTION stackq_note_totals(site integer, tags text, step integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO search_totals_pending (kind, key, questions)
  SELECT 's', site::text, step
  UNION ALL
  SELECT 't', t.value, step FROM unnest(string_to_array(tags, ' ')) AS t(value)
   WHERE t.value <> ''
$$;
CREATE FUNCTION stackq_thread_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM stackq_note_totals(OLD.site_id, OLD.tags, -1);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM stackq_note_totals(NEW.site_id, NEW.tags, 1);
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION stackq_apply_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  {APPLY_TOTALS}
  RETURN NULL;
END $$;
CREATE FUNCTION stackq_clear_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM search_totals;
  RETURN NULL;
END $$;
"""
_CHANGED = "WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id OR OLD.tags IS DISTINCT FROM NEW.tags)"
_TOTALS_TRIGGERS = {
    "search_totals_noted": f"AFTER INSERT OR DELETE ON {THREADS} FOR EACH ROW "
                           "EXECUTE FUNCTION stackq_thread_totals()",
    "search_totals_renoted": f"AFTER UPDATE ON {THREADS} FOR EACH ROW {_CHANGED} "
                             "EXECUTE FUNCTION stackq_thread_totals()",
    "search_totals_written": f"AFTER INSERT OR DELETE ON {THREADS} DEFERRABLE INITIALLY "
                             "DEFERRED FOR EACH ROW EXECUTE FUNCTION stackq_apply_totals()",
    "search_totals_rewritten": f"AFTER UPDATE ON {THREADS} DEFERRABLE INITIALLY DEFERRED "
                               f"FOR EACH ROW {_CHANGED} EXECUTE FUNCTION stackq_apply_totals()",
    "search_totals_cleared": f"AFTER TRUNCATE ON {THREADS} FOR EACH STATEMENT "
                             "EXECUTE FUNCTION stackq_clear_totals()",
}
_TOTALS_FUNCTION_NAMES = ("stackq_clear_totals()", "stackq_apply_totals()",
                          "stackq_thread_totals()", "stackq_note_totals(integer, text, integer)")


def create_totals(execute):
    """The totals, counted from the threads there are, and the triggers keeping them."""
    for statement in TOTALS:
        execute(statement)
    execute(f"INSERT INTO search_totals SELECT 's', site_id::text, count(*) FROM {THREADS} "
            "GROUP BY site_id UNION ALL SELECT 't', t.value, count(*) FROM "
            f"{THREADS} AS q, unnest(string_to_array(q.tags, ' ')) AS t(value) "
            "WHERE t.value <> '' GROUP BY t.value")
    execute(TOTALS_FUNCTIONS)
    _create_triggers(execute, _TOTALS_TRIGGERS)


def drop(execute):
    execute("DROP TABLE IF EXISTS search_totals, search_totals_pending")
    _drop_triggers(execute, _TOTALS_TRIGGERS)
    for function in _TOTALS_FUNCTION_NAMES:
        execute(f"DROP FUNCTION IF EXISTS {function}")
    _drop_triggers(execute, _TRIGGERS)
    execute(f"DROP TABLE IF EXISTS {THREADS}, search_threads_pending")
    for function in _FUNCTION_NAMES:
        execute(f"DROP FUNCTION IF EXISTS {function}")
    execute("DROP AGGREGATE IF EXISTS stackq_words_agg(tsvector)")
    execute('DROP FUNCTION IF EXISTS stackq_text_words(text, "char")')
