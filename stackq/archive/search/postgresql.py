"""Search on PostgreSQL: `search_threads` (models/fulltext_pg.py), a narrow row per question
with its thread's words under a GIN index.

Each word and phrase is a bound parameter of `phraseto_tsquery`, combined with tsquery's
operators in SQL: no text can be tsquery syntax. A question matches a group of words
(`a OR b`, or one word or phrase) when its thread (its text or one of its answers') does,
as on SQLite; the whole query, excluded words included, is one tsquery for one GIN scan.
"""

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START, PG_CONFIG
from ...models.fulltext_pg import THREAD_MARK, THREADS

CONTAINS = "strpos"
SORT_KEYS = {"votes": "score DESC", "newest": "creation_date DESC",
             "active": "last_activity_date DESC"}
# A ranked tier (title and tags; the rest of the thread) of more matches than this is
# newest first: ranking tens of thousands of threads costs more than the page is worth,
# and words that common say little of which is more relevant.
RANKED_MAX = 2000
HEADLINE = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=24, "
            "MinWords=8, FragmentDelimiter=\" … \"")
TITLE_HEADLINE = f"HighlightAll=true, StartSel={MARK_START}, StopSel={MARK_END}"
MARKS = MARK_START + MARK_END
# ts_headline takes `<...>` in a text for a tag and leaves it out: a body's `<` and `>` go in
# as private-use stand-ins (words end there as they would) and come back after.
ANGLES, STAND_INS = "<>", "\ue002\ue003"
ANGLES_BACK = str.maketrans(STAND_INS, ANGLES)


class Words:
    """The tsquery expressions (SQL text with parameters) of a SearchQuery's words."""

    def __init__(self, query):
        self.params = {}
        groups = ["(" + " || ".join(self.phrase(p.text) for p in group) + ")"
                  for group in query.required]
        # Tags narrow by their words; service.where_filters keeps exact ones (`c++`).
        tags = [self.phrase(tag) for tag in query.tags if any(c.isalnum() for c in tag)]
        excluded = " || ".join(self.phrase(p.text) for p in query.excluded)
        self.match = " && ".join(groups + tags) or None
        if excluded:
            self.params["mark"] = f"'{THREAD_MARK}'"
            self.match = f"({self.match or 'CAST(:mark AS tsquery)'}) && !!({excluded})"
        self.all = " && ".join(groups) or None  # what ranks
        self.any = " || ".join(groups) or None  # what the page's highlighting marks
        self.ranked = bool(query.required)
        self.highlight = self.ranked

    def phrase(self, value):
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f"phraseto_tsquery('{PG_CONFIG}', :{name})"


# For the search's transaction only: JIT compiled the statement for tens of ms each time;
# a sequential scan reads every thread's words (toasted), where the GIN index reads none.
PLANNER_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL enable_seqscan = off")


def prepare(dbsession):
    for statement in PLANNER_SETTINGS:
        dbsession.execute(text(statement))


def prefers_complement(dbsession, words, filters, sort, params):
    """Not yet on PostgreSQL: the counts are taken from the matches."""
    return False


def matches_statement(words, filters, sort, top_tags, complement=False):
    """As sqlite.matches_statement: ('site', …), ('tag', …) and the page's ('hit', id, None,
    place) rows, from one GIN scan of the narrow threads (never the questions' rows)."""
    conditions = [f"q.words @@ ({words.match})"] if words.match else []
    conditions += filters
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    in_title = f"q.title_words @@ ({words.all})" if words.ranked else "false"
    if sort == "relevance" and words.ranked:
        page = ranked_page(words)
    else:
        order = f"{SORT_KEYS.get(sort, 'score DESC')}, id DESC"
        page = (f"SELECT id, row_number() OVER (ORDER BY {order}) FROM (SELECT * FROM m "
                f"ORDER BY {order} LIMIT :offset + :limit) AS x")
    return f"""
WITH m AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags, q.score, q.creation_date, q.last_activity_date,
         {in_title} AS in_title
    FROM {THREADS} AS q {where}),
n AS MATERIALIZED (SELECT count(*) FILTER (WHERE in_title) AS titled,
                          count(*) FILTER (WHERE NOT in_title) AS untitled FROM m)
SELECT 'site', s.api_site_parameter::text, c.matches, NULL::bigint
  FROM (SELECT site_id, count(*) AS matches FROM m GROUP BY site_id) AS c
  JOIN sites AS s ON s.id = c.site_id
UNION ALL
(SELECT 'tag', t.value, count(*), NULL::bigint
   FROM m, unnest(string_to_array(m.tags, ' ')) AS t(value)
  WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
(SELECT 'hit', p.id::text, NULL::bigint, p.place FROM ({page}) AS p(id, place)
  ORDER BY p.place LIMIT :limit OFFSET :offset)
"""


def ranked_page(words):
    """The matches in relevance order: first those whose title or tags hold every group
    (ranked by those words), then the rest (ranked by the whole thread's, where the
    question's body weighs more than its answers); a tier of more than RANKED_MAX newest
    first.
    The second tier is read only when the first is short of the page."""
    def tier(number, which, size, vector, runs):
        ranked = f"(SELECT {size} FROM n) <= {RANKED_MAX}"
        return f"""
  SELECT t.id, {number}, ts_rank(t.{vector}, ({words.all})) FROM {THREADS} AS t
   WHERE t.id IN (SELECT id FROM m WHERE {which}) AND {runs} AND {ranked}
  UNION ALL
  SELECT v.id, {number}, NULL::real FROM (
    SELECT id FROM m WHERE {which} ORDER BY id DESC LIMIT :offset + :limit) AS v
   WHERE {runs} AND NOT {ranked}"""
    short = "(SELECT titled FROM n) < :offset + :limit"
    order = "tier, rank DESC NULLS LAST, id DESC"
    return f"""
SELECT id, row_number() OVER (ORDER BY {order}) FROM (
  {tier(1, "in_title", "titled", "title_words", "true")}
  UNION ALL
  {tier(2, "NOT in_title", "untitled", "words", short)}
) AS r(id, tier, rank) ORDER BY {order}"""


def highlights(dbsession, words, ids):
    """As sqlite.highlights: ts_headline on the page's questions alone."""
    answers = ("(SELECT string_agg(a.body_text, ' ' ORDER BY a.id) "
               "FROM answers AS a WHERE a.question_id = q.id)")
    statement = text(f"""
SELECT q.id,
       ts_headline('{PG_CONFIG}', translate(q.title, :marks, ''), {words.any}, :title_options),
       ts_headline('{PG_CONFIG}',
                   translate(coalesce(q.body_text, '') || ' ' || coalesce({answers}, ''),
                             :angles_and_marks, :stand_ins),
                   {words.any}, :options)
  FROM questions AS q WHERE q.id IN :ids
""").bindparams(bindparam("ids", expanding=True))
    params = dict(words.params, ids=list(ids), marks=MARKS, options=HEADLINE,
                  title_options=TITLE_HEADLINE, angles_and_marks=ANGLES + MARKS,
                  stand_ins=STAND_INS)
    return {question: (title, (snippet or "").translate(ANGLES_BACK))
            for question, title, snippet in dbsession.execute(statement, params)}
