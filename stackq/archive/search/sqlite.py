"""Search on SQLite: the FTS5 table `search_index` (models/fulltext.py).

Every word and phrase goes into the MATCH expression quoted (a `"` doubled), so no text can
be FTS5 syntax: `NOT`, `*`, `:` or a stray quote in a query are words like any other.
"""

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START

CONTAINS = "instr"
# bm25 weights of title, tags, body, answers: the title counts most, then the tags.
RANK = "bm25(search_index, 10.0, 4.0, 1.0, 1.0)"
SNIPPET_TOKENS = 24
SORT_KEYS = {"votes": "-m.score", "newest": "-julianday(m.creation_date)",
             "active": "-julianday(m.last_activity_date)"}


def quoted(phrase):
    return _quoted_text(phrase.text)


class Words:
    """The FTS5 expressions of a SearchQuery's words and tags."""

    def __init__(self, query):
        groups = ["(" + " OR ".join(quoted(p) for p in group) + ")" for group in query.required]
        # Narrows by the index; service.where_filters then keeps exact tags (`c++`, not `c`).
        groups += ["tags : " + _quoted_text(tag) for tag in query.tags if _has_word(tag)]
        excluded = " OR ".join(quoted(p) for p in query.excluded)
        self.match = " AND ".join(groups) or None
        self.excluded = excluded or None
        if self.match and self.excluded:
            self.match = f"({self.match}) NOT ({self.excluded})"
            self.excluded = None
        self.ranked = bool(query.required)
        self.highlight = self.match is not None and self.ranked
        self.params = {"match": self.match, "excluded": self.excluded}


def _has_word(tag):
    return any(ch.isalnum() for ch in tag)


def _quoted_text(value):
    return '"' + value.replace('"', '""') + '"'


def matches_statement(words, filters, sort, top_tags):
    """One statement: ('site', name, count, None) rows, the top tags as ('tag', name, count,
    None), and the page's ('hit', id, None, position) rows."""
    if words.match:
        source = (f"(SELECT rowid AS id, {RANK} AS rank FROM search_index "
                  "WHERE search_index MATCH :match) AS f JOIN questions AS q ON q.id = f.id")
        rank = "f.rank"
    else:
        source, rank = "questions AS q", "0"
    conditions = list(filters)
    if words.excluded:
        conditions.append("q.id NOT IN (SELECT rowid FROM search_index "
                          "WHERE search_index MATCH :excluded)")
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    order = "m.rank" if sort == "relevance" and words.ranked else SORT_KEYS.get(sort, "-m.score")
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
    for the page's questions only."""
    statement = text(f"""
SELECT rowid, highlight(search_index, 0, :start, :end),
       snippet(search_index, 2, :start, :end, ' … ', {SNIPPET_TOKENS}),
       snippet(search_index, 3, :start, :end, ' … ', {SNIPPET_TOKENS})
  FROM search_index WHERE search_index MATCH :match AND rowid IN :ids
""").bindparams(bindparam("ids", expanding=True))
    found = {}
    for question, title, body, answers in dbsession.execute(
            statement, {"match": words.match, "ids": list(ids), "start": MARK_START,
                        "end": MARK_END}):
        found[question] = (title, body if MARK_START in (body or "") else answers)
    return found
