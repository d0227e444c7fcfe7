"""Search on SQLite: the FTS5 tables `search_questions` and `search_answers`
(models/fulltext.py).

Every word and phrase goes into a MATCH expression quoted (a `"` doubled), so no text can
be FTS5 syntax: `NOT`, `*`, `:` or a stray quote in a query are words like any other.

A question matches a group of words (`a OR b`, or a single word or phrase) when it or one of
its answers does; it is a match when it matches every group and no excluded phrase. Each
group is one MATCH on each table: the FTS match first, then the joins.
"""

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START

CONTAINS = "instr"
# bm25 weights of title, tags, body: the title counts most, then the tags; an answer's body
# counts as the question's.
QUESTION_RANK = "bm25(search_questions, 10.0, 4.0, 1.0)"
ANSWER_RANK = "bm25(search_answers)"
FACETS_INDEX = "ix_questions_search_facets"  # covers what the statement reads of a match
SNIPPET_TOKENS = 24
SORT_KEYS = {"votes": "-m.score", "newest": "-julianday(m.creation_date)",
             "active": "-julianday(m.last_activity_date)"}


def quoted(phrase):
    return _quoted_text(phrase.text)


class Words:
    """The FTS5 expressions of a SearchQuery's words and tags, each a bound parameter."""

    def __init__(self, query):
        self.params = {}
        # (parameter, whether answers are searched too): the words' groups, then the tags
        # (they narrow by the index; service.where_filters keeps exact ones: `c++`, not `c`).
        self.groups = [(self.param(" OR ".join(quoted(p) for p in group)), True)
                       for group in query.required]
        self.groups += [(self.param("tags : " + _quoted_text(tag)), False)
                        for tag in query.tags if _has_word(tag)]
        excluded = " OR ".join(quoted(p) for p in query.excluded)
        self.excluded = self.param(excluded) if excluded else None
        self.match = self.groups[0][0] if self.groups else None
        # Every phrase looked for: what the page's highlighting marks.
        self.any = (self.param(" OR ".join(quoted(p) for g in query.required for p in g))
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


def group_hits(number, param, with_answers, ranked):
    """(group, question id, rank) of the questions (and answers) matching one group."""
    question_rank = QUESTION_RANK if ranked else "0"
    answer_rank = ANSWER_RANK if ranked else "0"
    statement = (f"SELECT {number} AS g, rowid AS id, {question_rank} AS rank "
                 f"FROM search_questions WHERE search_questions MATCH :{param}")
    if with_answers:
        statement += (f" UNION ALL SELECT {number}, a.question_id, f.rank FROM "
                      f"(SELECT rowid AS id, {answer_rank} AS rank FROM search_answers "
                      f"WHERE search_answers MATCH :{param}) AS f "
                      "JOIN answers AS a ON a.id = f.id")
    return statement


def excluded_ids(param):
    return (f"SELECT rowid FROM search_questions WHERE search_questions MATCH :{param} "
            "UNION SELECT a.question_id FROM answers AS a WHERE a.id IN "
            f"(SELECT rowid FROM search_answers WHERE search_answers MATCH :{param})")


def matches_statement(words, filters, sort, top_tags):
    """One statement: ('site', name, count, None) rows, the top tags as ('tag', name, count,
    None), and the page's ('hit', id, None, position) rows."""
    by_rank = sort == "relevance" and words.ranked
    conditions = list(filters)
    if words.excluded:
        conditions.append(f"q.id NOT IN ({excluded_ids(words.excluded)})")
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    if words.groups:
        hits = " UNION ALL ".join(group_hits(number, param, with_answers, by_rank)
                                  for number, (param, with_answers) in enumerate(words.groups))
        having = f"HAVING count(DISTINCT g) = {len(words.groups)}" if len(words.groups) > 1 else ""
        source = (f"(SELECT id, sum(rank) AS rank FROM ({hits}) GROUP BY id {having}) AS f "
                  f"JOIN questions AS q INDEXED BY {FACETS_INDEX} ON q.id = f.id")
        rank = "f.rank"
    else:
        source, rank = f"questions AS q INDEXED BY {FACETS_INDEX}", "0"
    order = "m.rank" if by_rank else SORT_KEYS.get(sort, "-m.score")
    return f"""
WITH m AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags, q.score, q.creation_date, q.last_activity_date,
         {rank} AS rank
    FROM {source} {where})
SELECT 'site', s.api_site_parameter, count(*), NULL FROM m JOIN sites AS s ON s.id = m.site_id
 GROUP BY s.api_site_parameter
UNION ALL
SELECT * FROM (
  SELECT 'tag', t.value, count(*), NULL
    FROM m, json_each('[' || replace(json_quote(m.tags), ' ', '","') || ']') AS t
   WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
SELECT * FROM (
  SELECT 'hit', m.id, NULL, row_number() OVER (ORDER BY {order}, m.id DESC)
    FROM m ORDER BY {order}, m.id DESC LIMIT :limit OFFSET :offset)
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
