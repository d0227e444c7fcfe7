"""SQLite's index of question threads (migration 0013): a question's text and all its
answers' as one document of words, and each site's and tag's number of questions, both kept
by triggers. What a search finds its candidates and counts with (archive/search/sqlite.py);
the index of questions and answers apart is fulltext.py's.
"""

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
        f"AFTER UPDATE ON questions WHEN {WATCHED['questions']} BEGIN "
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
