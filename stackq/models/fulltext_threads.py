"""SQLite's index of question threads (migration 0013): a question's text and all its
answers' as one document of words, and each site's and tag's number of questions, both kept
by triggers. What a search finds its candidates and counts with (archive/search/sqlite.py);
the index of questions and answers apart is fulltext.py's.
"""

import contextlib

from sqlalchemy import bindparam, text

from .fulltext import TOKENIZER, WATCHED

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


def _always(question_id):
    return "1"


def _thread_put(question_id, words, guard=_always):
    return (f"INSERT INTO {SQLITE_THREADS}(rowid, words) SELECT {question_id}, {words} "
            f"WHERE {guard(question_id)};")


def _thread_take(question_id, words, guard=_always):
    return (f"INSERT INTO {SQLITE_THREADS}({SQLITE_THREADS}, rowid, words) "
            f"SELECT 'delete', {question_id}, {words} WHERE {guard(question_id)};")


def _answer_thread(question_id, answers_before, words_before="''", only_if="1",
                   guard=_always):
    """Statements replacing the thread of question `question_id` (an expression) once one of
    its answers changed: before, its answers were those of `answers_before` (a condition on
    `a`) and the words `words_before`."""
    before = _thread_words("q", f"a.question_id = q.id AND {answers_before}")
    now = _thread_words("q", "a.question_id = q.id")
    where = f"FROM questions AS q WHERE q.id = {question_id} AND {only_if} AND {guard('q.id')}"
    return (f"INSERT INTO {SQLITE_THREADS}({SQLITE_THREADS}, rowid, words) "
            f"SELECT 'delete', q.id, {before} || ' ' || {words_before} {where}; "
            f"INSERT INTO {SQLITE_THREADS}(rowid, words) SELECT q.id, {now} {where};")


def _thread_triggers(guard=_always):
    """The triggers keeping each question's thread, each statement only where `guard` (of the
    question's id) holds.
    Only AFTER triggers on answers: an upsert's BEFORE INSERT trigger fires even when the row
    turns out to exist (then its UPDATE runs, not the AFTER INSERT). A question's thread goes
    BEFORE it is deleted, while its answers are still there to say its words; the answers'
    own triggers then find no question (deleted with it) and do nothing."""
    return {
        "search_threads_question_added": (
            "AFTER INSERT ON questions BEGIN "
            + _thread_put("new.id", _thread_words("new", "a.question_id = new.id"), guard)
            + " END"),
        "search_threads_question_changed": (
            f"AFTER UPDATE ON questions WHEN {WATCHED['questions']} BEGIN "
            + _thread_take("old.id", _thread_words("old", "a.question_id = old.id"), guard)
            + _thread_put("new.id", _thread_words("new", "a.question_id = new.id"), guard)
            + " END"),
        "search_threads_question_deleted": (
            "BEFORE DELETE ON questions BEGIN "
            + _thread_take("old.id", _thread_words("old", "a.question_id = old.id"), guard)
            + " END"),
        "search_threads_answer_added": (
            "AFTER INSERT ON answers BEGIN "
            + _answer_thread("new.question_id", "a.id <> new.id", guard=guard) + " END"),
        "search_threads_answer_changed": (
            "AFTER UPDATE ON answers WHEN old.body_text IS NOT new.body_text "
            "OR old.question_id IS NOT new.question_id BEGIN "
            + _answer_thread("old.question_id", "a.id <> new.id",
                             "coalesce(old.body_text, '')", guard=guard)
            + " " + _answer_thread("new.question_id", "a.id <> new.id",
                                   only_if="new.question_id IS NOT old.question_id",
                                   guard=guard) + " END"),
        "search_threads_answer_deleted": (
            "AFTER DELETE ON answers BEGIN "
            + _answer_thread("old.question_id", "1", "coalesce(old.body_text, '')",
                             guard=guard) + " END"),
    }


SQLITE_THREAD_TRIGGERS = _thread_triggers()  # migration 0013's

# Migration 0015: a thread can be held out of the index while a batch of its rows is written,
# then put back once. Storing a question's answers row by row rebuilt its thread (taken out
# with the old words, put back with the new) for each answer: with two answers, the question's
# own text was tokenized five times. While a thread is held the row triggers leave it alone;
# taking the hold takes it out, letting go puts it back with everything written.
HELD = "search_threads_held"


def _not_held(question_id):
    return f"NOT EXISTS (SELECT 1 FROM {HELD} WHERE question = {question_id})"


def _whole_thread(question_id, take=False):
    """A statement putting the thread of question `question_id` into the index as its rows
    are now, or (`take`) taking it out."""
    into, delete = (f"{SQLITE_THREADS}, rowid, words", "'delete', ") if take else (
        "rowid, words", "")
    return (f"INSERT INTO {SQLITE_THREADS}({into}) SELECT {delete}q.id, "
            f"{_thread_words('q', 'a.question_id = q.id')} "
            f"FROM questions AS q WHERE q.id = {question_id};")


SQLITE_HOLD_TRIGGERS = {
    "search_threads_hold_taken": (
        f"AFTER INSERT ON {HELD} BEGIN {_whole_thread('new.question', take=True)} END"),
    "search_threads_hold_released": (
        f"AFTER DELETE ON {HELD} BEGIN {_whole_thread('old.question')} END"),
}


def sqlite_hold_threads(execute, held=True):
    """Migration 0015: the table of held threads and the triggers that respect it (`held`
    False, its downgrade: 0013's triggers)."""
    for name in SQLITE_THREAD_TRIGGERS | SQLITE_HOLD_TRIGGERS:
        execute(f"DROP TRIGGER IF EXISTS {name}")
    if held:
        execute(f"CREATE TABLE {HELD} (question INTEGER PRIMARY KEY)")
        triggers = _thread_triggers(_not_held) | SQLITE_HOLD_TRIGGERS
    else:
        execute(f"DROP TABLE IF EXISTS {HELD}")
        triggers = SQLITE_THREAD_TRIGGERS
    for name, body in triggers.items():
        execute(f"CREATE TRIGGER {name} {body}")


@contextlib.contextmanager
def threads_held(dbsession, question_ids):
    """On SQLite, the threads of the questions `question_ids()` gives (primary keys; asked
    on SQLite alone) held out of the index while the block writes their rows, then put back
    once. (PostgreSQL makes a thread once at commit, however many of its rows were
    written.) A block that raises lets the transaction roll back, holds and all."""
    if dbsession.get_bind().dialect.name != "sqlite":
        yield
        return
    ids = sorted(set(question_ids()))
    if not ids:
        yield
        return
    in_ids = bindparam("ids", expanding=True)
    # A hold already taken (an enclosing block's) is that block's to let go.
    ids = sorted(set(ids) - set(dbsession.scalars(
        text(f"SELECT question FROM {HELD} WHERE question IN :ids").bindparams(in_ids),
        {"ids": ids})))
    if ids:
        dbsession.execute(text(f"INSERT INTO {HELD} (question) VALUES (:id)"),
                          [{"id": question} for question in ids])
    yield
    if ids:
        dbsession.execute(text(f"DELETE FROM {HELD} WHERE question IN :ids").bindparams(in_ids),
                          {"ids": ids})

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
