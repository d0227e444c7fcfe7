"""Search on PostgreSQL: `questions.search_vector` under its GIN index (models/fulltext.py).

Each word and phrase is a bound parameter of `phraseto_tsquery`, combined with tsquery's
operators in SQL: no text can be tsquery syntax.
"""

import html
import re

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START, PG_CONFIG

CONTAINS = "strpos"
SORT_KEYS = {"votes": "m.score DESC", "newest": "m.creation_date DESC",
             "active": "m.last_activity_date DESC"}
HEADLINE = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=24, "
            "MinWords=8, FragmentDelimiter=\" … \"")
TITLE_HEADLINE = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
MARKS = MARK_START + MARK_END
NO_MARKS = str.maketrans("", "", MARKS)
# A body's text for ts_headline: tags gone (entities stay: highlight.py decodes them).
PLAIN = "regexp_replace(coalesce({0}, ''), '<[^>]*>', ' ', 'g')"


class Words:
    """The tsquery expressions (SQL text with parameters) of a SearchQuery's words."""

    def __init__(self, query):
        self.params = {}
        groups = ["(" + " || ".join(self.phrase(p.text) for p in group) + ")"
                  for group in query.required]
        groups += [self.phrase(tag) for tag in query.tags if any(c.isalnum() for c in tag)]
        excluded = " || ".join(self.phrase(p.text) for p in query.excluded)
        self.match = " && ".join(groups) or None
        self.excluded = f"({excluded})" if excluded else None
        self.ranked = bool(query.required)
        self.highlight = self.match is not None and self.ranked

    def phrase(self, value):
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f"phraseto_tsquery('{PG_CONFIG}', :{name})"


def matches_statement(words, filters, sort, top_tags):
    """As sqlite.matches_statement."""
    conditions = list(filters)
    rank = "0"
    if words.match:
        conditions.append(f"q.search_vector @@ ({words.match})")
        rank = f"ts_rank(q.search_vector, {words.match})"
    if words.excluded:
        conditions.append(f"NOT (q.search_vector @@ {words.excluded})")
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    order = ("m.rank DESC" if sort == "relevance" and words.ranked
             else SORT_KEYS.get(sort, "m.score DESC"))
    return f"""
WITH m AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags, q.score, q.creation_date, q.last_activity_date,
         {rank} AS rank
    FROM questions AS q {where})
SELECT 'site', s.api_site_parameter::text, count(*), NULL::bigint
  FROM m JOIN sites AS s ON s.id = m.site_id GROUP BY s.api_site_parameter
UNION ALL
(SELECT 'tag', t.value, count(*), NULL::bigint
   FROM m, unnest(string_to_array(m.tags, ' ')) AS t(value)
  WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
(SELECT 'hit', m.id::text, NULL::bigint, row_number() OVER (ORDER BY {order}, m.id DESC)
   FROM m ORDER BY {order}, m.id DESC LIMIT :limit OFFSET :offset)
"""


def highlights(dbsession, words, ids):
    """As sqlite.highlights: ts_headline on the page's questions alone."""
    body = PLAIN.format("q.body")
    answers = (f"(SELECT string_agg({PLAIN.format('a.body')}, ' ' ORDER BY a.id) "
               "FROM answers AS a WHERE a.question_id = q.id)")
    statement = text(f"""
SELECT q.id,
       ts_headline('{PG_CONFIG}', translate(q.title, :marks, ''), {words.match}, :title_options),
       ts_headline('{PG_CONFIG}', translate({body} || ' ' || coalesce({answers}, ''), :marks, ''),
                   {words.match}, :options)
  FROM questions AS q WHERE q.id IN :ids
""").bindparams(bindparam("ids", expanding=True))
    params = dict(words.params, ids=list(ids), marks=MARKS, options=HEADLINE,
                  title_options=TITLE_HEADLINE)
    return {question: (title, decoded(snippet))
            for question, title, snippet in dbsession.execute(statement, params)}


def decoded(marked):
    """ts_headline's text of HTML with its entities decoded, the marks kept as they were (an
    entity cannot become one)."""
    parts = re.split(f"([{MARKS}])", marked or "")
    return "".join(part if part in (MARK_START, MARK_END)
                   else html.unescape(part).translate(NO_MARKS) for part in parts)
