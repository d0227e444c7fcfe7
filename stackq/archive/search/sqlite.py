"""Search on SQLite: the FTS5 tables `search_questions`, `search_answers`
and `search_threads` (models/fulltext.py, models/fulltext_threads.py).

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

from ...models.fulltext import MARK_END, MARK_START
from ...models.fulltext_threads import SQLITE_THREADS, THREAD_MARK

CONTAINS = "instr"
# bm25 weights of title, tags, body: the title counts most, then the tags.
QUESTION_RANK = "bm25(search_questions, 10.0, 4.0, 1.0)"
FACETS_INDEX = "ix_questions_search_facets"  # covers what the statement reads of a match
ANSWERS_INDEX = "ix_answers_search_question"  # an answer's question, without its row
SNIPPET_TOKENS = 24
TIER = 1_000_000  # sort keys of the ranked tiers: far apart, bm25 stays well inside one
# Each tag of the rows `{rows}` with their number (models/sqlite_functions.py).
TAG_COUNTS = "json_each((SELECT stackq_tag_counts(group_concat({rows}.tags, ' ')) FROM {rows}))"
# Each site of the rows with their number, counted as the tags are: grouping the rows by site
# in SQL sorted every match (a fifth of a common word's time).
SITE_COUNTS = ("json_each((SELECT stackq_tag_counts(group_concat({rows}.site_id, ' ')) "
               "FROM {rows}))")
SORT_KEYS = {"votes": "-q.score", "newest": "-julianday(q.creation_date)",
             "active": "-julianday(q.last_activity_date)"}


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
        self.excludes_words = bool(one_word)
        # Phrases alone (each group checked below, nothing else asked): their words in the
        # threads would be a second, longer list of the same candidates.
        phrases_only = not one_word and len(required) == len(query.required) and all(
            any(len(tokens(p.text)) > 1 for p in group) for group in query.required)
        if required and not phrases_only:
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
        self.title_all = (self.param("{title tags} : (" + self.params[self.all] + ")")
                          if query.required else None)
        # Every question without the words (a thread-only query's complement).
        self.complement = (self.param(f'"{THREAD_MARK}" NOT ({self.params[self.thread]})')
                           if self.thread else None)
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


def thread_matches(param):
    return f"SELECT rowid AS id FROM {SQLITE_THREADS} WHERE {SQLITE_THREADS} MATCH :{param}"


def prefers_complement(dbsession, words, filters, sort, params):
    """Whether the query's counts are better taken from the questions that do not match:
    only words (no phrase to check, nothing excluded, no filter), ranked, and more than
    half the archive. (Then a question whose title has the words is a match: the ranked
    tiers need no list of the matches.)"""
    if not (words.thread and not words.groups and not words.excluded
            and not words.excludes_words and not filters and sort == "relevance"):
        return False
    half = (dbsession.scalar(text("SELECT sum(questions) FROM search_site_totals")) or 0) // 2
    # Counted up to one past half the archive: the commonest words' lists are read half-way.
    matches = dbsession.scalar(text(
        f"SELECT count(*) FROM ({thread_matches(words.thread)} LIMIT :past_half)"),
        dict(params, past_half=half + 1))
    return matches > half


def listed(questions):
    """`questions` (`q`) as the threads' matches list them (CROSS JOIN: FTS5 drives)."""
    return f"{SQLITE_THREADS} AS f CROSS JOIN {questions} ON q.id = f.rowid"


def matches_statement(words, filters, sort, top_tags, complement=False):
    """One statement: ('site', name, count, None) rows, the top tags as ('tag', name, count,
    None), and the page's ('hit', id, None, sort key) rows, in the order (sort key, -id).
    The matches' columns come from the facets index, never from the questions' wide rows.
    `complement` (prefers_complement): the counts are the site's and tag's totals minus those
    of the questions that do not match, and the matches are never listed."""
    conditions = [f"f.{SQLITE_THREADS} MATCH :{words.thread}"] if words.thread else []
    conditions += [group_condition(param, answers) for param, answers in words.groups]
    conditions += filters
    if words.excluded:
        conditions += [f"q.id NOT IN ({in_questions(words.excluded)})",
                       f"q.id NOT IN ({in_answers(words.excluded)})"]
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    ranked = sort == "relevance" and words.ranked
    questions = f"questions AS q INDEXED BY {FACETS_INDEX}"
    source = listed(questions) if words.thread else questions
    # A match's place in a page by column (`o`), made as it is listed; none when ranked.
    place = "NULL" if ranked else SORT_KEYS.get(sort, SORT_KEYS["votes"])
    matches = f"""m AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags, {place} AS o
    FROM {source} {where})"""
    if complement:
        counts = complement_counts(words, top_tags)
        matches = f"""x AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags FROM {listed(questions)}
   WHERE f.{SQLITE_THREADS} MATCH :{words.complement})"""
    else:
        counts = direct_counts(top_tags)
    if ranked:
        narrowed = bool(filters or words.excluded or words.excludes_words)
        page = common_page(words) if complement else ranked_page(words, narrowed)
    else:
        page = """SELECT * FROM (
  SELECT 'hit', m.id, NULL, m.o FROM m ORDER BY m.o, m.id DESC LIMIT :limit OFFSET :offset)"""
    return f"WITH {matches}\n{counts}\nUNION ALL\n{page}"


def direct_counts(top_tags):
    return f"""
SELECT 'site', s.api_site_parameter, c.value, NULL FROM {SITE_COUNTS.format(rows="m")} AS c
  JOIN sites AS s ON s.id = CAST(c.key AS INTEGER)
UNION ALL
SELECT * FROM (
  SELECT 'tag', t.key, t.value, NULL FROM {TAG_COUNTS.format(rows="m")} AS t
   ORDER BY t.value DESC, t.key LIMIT {int(top_tags)})"""


def complement_counts(words, top_tags):
    """The counts of the matches as every question's less the non-matches' (x): x counted
    by site once (a count per site, correlated, read x once per site)."""
    return f"""
SELECT 'site', s.api_site_parameter, n.matching, NULL FROM (
  SELECT t.site_id, t.questions - coalesce(c.missing, 0) AS matching
    FROM search_site_totals AS t LEFT JOIN (
      SELECT site_id, count(*) AS missing FROM x GROUP BY site_id) AS c
      ON c.site_id = t.site_id) AS n JOIN sites AS s ON s.id = n.site_id
 WHERE n.matching > 0
UNION ALL
SELECT * FROM (
  SELECT 'tag', t.tag, t.questions - coalesce(n.missing, 0) AS matching, NULL
    FROM search_tag_totals AS t LEFT JOIN (
      SELECT v.key AS tag, v.value AS missing FROM {TAG_COUNTS.format(rows="x")} AS v
    ) AS n ON n.tag = t.tag
   WHERE matching > 0 ORDER BY matching DESC, t.tag LIMIT {int(top_tags)})"""


def common_page(words):
    """The page in relevance order of words in more than half the archive (prefers_complement).
    Such words tell nothing of relevance (bm25 gives a word in most documents no weight), so
    of the tiers only two are kept, each newest first: the questions whose title or tags
    hold every word, then the rest. FTS5 reads each in rowid order and stops at the page."""
    title = (f"SELECT rowid FROM search_questions WHERE search_questions MATCH "
             f":{words.title_all}")
    return f"""SELECT * FROM (
  WITH t1 AS MATERIALIZED ({title} ORDER BY rowid DESC LIMIT :offset + :limit)
  SELECT 'hit', rowid, NULL, {TIER} FROM t1
  UNION ALL
  SELECT * FROM (
    SELECT 'hit', rowid, NULL, {2 * TIER} FROM {SQLITE_THREADS}
     WHERE {SQLITE_THREADS} MATCH :{words.thread} AND (SELECT count(*) FROM t1) < :offset + :limit
       AND rowid NOT IN ({title}) ORDER BY rowid DESC LIMIT :offset + :limit)
  ORDER BY 4, 2 DESC LIMIT :limit OFFSET :offset)"""


def ranked_page(words, narrowed=True):
    """The page in relevance order of the matches (`m`). First the questions whose title or
    tags hold every group (by bm25), then those whose own text does (by bm25), then those
    that need their answers (newest first). A tier is read only when those before it are too
    few for the page. Not `narrowed` (no filter, nothing excluded): the first two are in `m`."""
    # `+rowid`: the list is looked up for each match; as a constraint FTS5 would run its
    # MATCH again for each id in the list.
    within = "AND +rowid IN (SELECT id FROM m)" if narrowed else ""
    short = "(SELECT count(*) FROM t1) < :offset + :limit"
    return f"""SELECT * FROM (
  WITH t1 AS MATERIALIZED (
    SELECT rowid AS id, {QUESTION_RANK} AS rank FROM search_questions
     WHERE search_questions MATCH :{words.title_all} {within}),
  t2 AS MATERIALIZED (
    SELECT rowid AS id, {QUESTION_RANK} AS rank FROM search_questions
     WHERE search_questions MATCH :{words.all} AND {short} {within}
       AND rowid NOT IN (SELECT id FROM t1))
  SELECT 'hit', id, NULL, {TIER} + rank FROM t1
  UNION ALL
  SELECT 'hit', id, NULL, {2 * TIER} + rank FROM t2
  UNION ALL
  SELECT 'hit', r.id, NULL, {3 * TIER} FROM m AS r
   WHERE {short} AND (SELECT count(*) FROM t1) + (SELECT count(*) FROM t2) < :offset + :limit
     AND r.id NOT IN (SELECT id FROM t1) AND r.id NOT IN (SELECT id FROM t2)
  ORDER BY 4, 2 DESC LIMIT :limit OFFSET :offset)"""


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
    # The answers only of the hits whose own text has no match to show.
    unmarked = [question for question in ids
                if MARK_START not in (found.get(question, (None, None))[1] or "")]
    if unmarked:
        for question, snippet in dbsession.execute(answers, dict(marks, ids=unmarked)):
            title, body = found.get(question, (None, None))
            if MARK_START not in (body or ""):
                found[question] = (title, snippet)
    return found
