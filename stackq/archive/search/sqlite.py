"""Search on SQLite: the FTS5 tables `search_questions` and `search_answers`
(models/fulltext.py).

Every word and phrase goes into a MATCH expression quoted (a `"` doubled), so no text can
be FTS5 syntax: `NOT`, `*`, `:` or a stray quote in a query are words like any other.

A question matches a group of words (`a OR b`, or a single word or phrase) when it or one of
its answers does; it is a match when it matches every group and no excluded phrase. The
candidates are one MATCH on `search_threads` (a question and its answers as one document of
words): every group's words, none of an excluded word. Only a phrase of several words is then
checked on the candidates, with the tables of questions and answers (positions).
"""

import re

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START, SQLITE_THREADS

CONTAINS = "instr"
# bm25 weights of title, tags, body: the title counts most, then the tags.
QUESTION_RANK = "bm25(search_questions, 10.0, 4.0, 1.0)"
FACETS_INDEX = "ix_questions_search_facets"  # covers what the statement reads of a match
ANSWERS_INDEX = "ix_answers_search_question"  # an answer's question, without its row
SNIPPET_TOKENS = 24
SORT_KEYS = {"votes": "-m.score", "newest": "-julianday(m.creation_date)",
             "active": "-julianday(m.last_activity_date)"}


# What unicode61 takes for one word: letters, digits and private-use characters.
_TOKEN = re.compile(r"(?:[^\W_]|[\ue000-\uf8ff])+")


def quoted(phrase):
    return _quoted_text(phrase.text)


def tokens(value):
    return _TOKEN.findall(value)


def thread_words(phrase_text):
    """The threads' expression of a phrase: all its words (no positions there)."""
    return " AND ".join(_quoted_text(token) for token in tokens(phrase_text))


class Words:
    """The FTS5 expressions of a SearchQuery's words and tags, each a bound parameter."""

    def __init__(self, query):
        self.params = {}
        # The threads' expression: every group's words (the tags' too: they narrow, and
        # service.where_filters keeps exact ones: `c++`, not `c`), no excluded word.
        required = ["(" + " OR ".join(f"({thread_words(p.text)})" for p in group) + ")"
                    for group in query.required]
        required += [f"({thread_words(tag)})" for tag in query.tags if tokens(tag)]
        one_word = [p for p in query.excluded if len(tokens(p.text)) == 1]
        self.thread = None
        if required:
            without = " OR ".join(f"({thread_words(p.text)})" for p in one_word)
            self.thread = self.param(" AND ".join(required)
                                     + (f" NOT ({without})" if without else ""))
        # (parameter, whether answers are searched too) of the groups checked on the
        # candidates: all of them without a thread expression, else those with a phrase.
        self.groups = [(self.param(" OR ".join(quoted(p) for p in group)), True)
                       for group in query.required
                       if self.thread is None or any(len(tokens(p.text)) > 1 for p in group)]
        checked = query.excluded if self.thread is None else [
            p for p in query.excluded if p not in one_word]
        excluded = " OR ".join(quoted(p) for p in checked)
        self.excluded = self.param(excluded) if excluded else None
        # Every phrase looked for: what the page's highlighting marks.
        self.any = (self.param(" OR ".join(quoted(p) for g in query.required for p in g))
                    if query.required else None)
        # What ranks: the questions whose own text has every group (the rest come after).
        self.all = (self.param(" AND ".join(
            "(" + " OR ".join(quoted(p) for p in g) + ")" for g in query.required))
            if query.required else None)
        self.ranked = bool(query.required)
        self.highlight = self.ranked

    def param(self, expression):
        name = f"w{len(self.params)}"
        self.params[name] = expression
        return name


def _has_word(tag):
    return any(ch.isalnum() for ch in tag)


def _quoted_text(value):
    return '"' + value.replace('"', '""') + '"'


def prepare(dbsession):
    """Nothing to set on SQLite (postgresql.prepare sets its planner's)."""


def in_answers(param):
    """The ids of the questions one of whose answers matches `param`."""
    return (f"SELECT a.question_id FROM answers AS a INDEXED BY {ANSWERS_INDEX} WHERE a.id IN "
            f"(SELECT rowid FROM search_answers WHERE search_answers MATCH :{param})")


def in_questions(param):
    return f"SELECT rowid FROM search_questions WHERE search_questions MATCH :{param}"


def group_condition(param, with_answers):
    """A question matches a group: it does, or one of its answers does (SQLite reads the two
    lists of ids as one, by rowid: a MULTI-INDEX OR)."""
    if not with_answers:
        return f"q.id IN ({in_questions(param)})"
    return f"(q.id IN ({in_questions(param)}) OR q.id IN ({in_answers(param)}))"


def matches_statement(words, filters, sort, top_tags):
    """One statement: ('site', name, count, None) rows, the top tags as ('tag', name, count,
    None), and the page's ('hit', id, None, sort key) rows, in the order (sort key, -id).
    The matches' columns come from the facets index, never from the questions' wide rows."""
    conditions = [f"q.id IN (SELECT rowid FROM {SQLITE_THREADS} WHERE {SQLITE_THREADS} "
                  f"MATCH :{words.thread})"] if words.thread else []
    conditions += [group_condition(param, answers) for param, answers in words.groups]
    conditions += filters
    if words.excluded:
        conditions += [f"q.id NOT IN ({in_questions(words.excluded)})",
                       f"q.id NOT IN ({in_answers(words.excluded)})"]
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    if sort == "relevance" and words.ranked:
        # bm25 of the questions whose own text matches every group, computed once (as a
        # table: joined as a subquery, SQLite runs the MATCH again for each row); a question
        # that needs its answers to match comes after.
        ranks = (f", r AS MATERIALIZED (SELECT rowid AS id, {QUESTION_RANK} AS rank "
                 f"FROM search_questions WHERE search_questions MATCH :{words.all})")
        # IN and NOT IN look ids up in a list built once; a join of the two CTEs would scan
        # one for each row of the other.
        ranked = ("(SELECT id, rank FROM r WHERE id IN (SELECT id FROM m) UNION ALL "
                  "SELECT id, 0 FROM m WHERE id NOT IN (SELECT id FROM r)) AS m")
        order = "m.rank"
    else:
        ranks, ranked, order = "", "m", SORT_KEYS.get(sort, "-m.score")
    return f"""
WITH m AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags, q.score, q.creation_date, q.last_activity_date
    FROM questions AS q INDEXED BY {FACETS_INDEX} {where}){ranks}
SELECT 'site', s.api_site_parameter, count(*), NULL FROM m JOIN sites AS s ON s.id = m.site_id
 GROUP BY s.api_site_parameter
UNION ALL
SELECT * FROM (
  SELECT 'tag', t.value, count(*), NULL
    FROM m, json_each('[' || replace(json_quote(m.tags), ' ', '","') || ']') AS t
   WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
SELECT * FROM (
  SELECT 'hit', m.id, NULL, {order}
    FROM {ranked} ORDER BY {order}, m.id DESC LIMIT :limit OFFSET :offset)
"""


def highlights(dbsession, words, ids):
    """{question id: (title, snippet)} with MARK_START/MARK_END around the matched words,
    for the page's questions only: the body's snippet, or else the first answer's that has
    a matched word."""
    marks = {"match": words.params[words.any], "start": MARK_START, "end": MARK_END,
             "ids": list(ids)}
    questions = text(f"""
SELECT rowid, highlight(search_questions, 0, :start, :end),
       snippet(search_questions, 2, :start, :end, ' … ', {SNIPPET_TOKENS})
  FROM search_questions WHERE search_questions MATCH :match AND rowid IN :ids
""").bindparams(bindparam("ids", expanding=True))
    answers = text(f"""
SELECT a.question_id, snippet(search_answers, 0, :start, :end, ' … ', {SNIPPET_TOKENS})
  FROM search_answers JOIN answers AS a ON a.id = search_answers.rowid
 WHERE search_answers MATCH :match
   AND search_answers.rowid IN (SELECT id FROM answers WHERE question_id IN :ids)
 ORDER BY a.id
""").bindparams(bindparam("ids", expanding=True))
    found = {question: (title, body) for question, title, body
             in dbsession.execute(questions, marks)}
    for question, snippet in dbsession.execute(answers, marks):
        title, body = found.get(question, (None, None))
        if MARK_START not in (body or ""):
            found[question] = (title, snippet)
    return found
