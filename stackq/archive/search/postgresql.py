"""Search on PostgreSQL: `search_threads` (models/fulltext_pg.py), a narrow row per question
with its thread's words under a GIN index.

Each word and phrase is a bound parameter of `phraseto_tsquery`, combined with tsquery's
operators in SQL: no text can be tsquery syntax. A question matches a group of words
(`a OR b`, or one word or phrase) when its thread (its text or one of its answers') does,
as on SQLite; the whole query, excluded words included, is one tsquery for one GIN scan.
"""

import re

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START, PG_CONFIG
from ...models.fulltext_pg import SITE_LEXEME, TAG_LEXEME, THREAD_MARK, THREADS

CONTAINS = "strpos"
MARK = "CAST(:mark AS tsquery)"  # every thread has it (fulltext_pg.THREAD_MARK)
_ONE_WORD = re.compile(r"[^\W_]+")
SORT_KEYS = {"votes": "score DESC", "newest": "creation_date DESC",
             "active": "last_activity_date DESC"}
# A ranked tier of more matches than this is newest first: ranking tens of thousands of
# threads costs more than the page is worth, and words that common say little of which is
# more relevant. The first tier ranks small vectors kept in the row (title, tags); the
# second, whole threads read from TOAST (about 25 µs each).
RANKED_MAX = {"title": 2000, "thread": 500}
HEADLINE = (f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=24, "
            "MinWords=8, FragmentDelimiter=\" … \"")
# Characters before and after the anchor word that a snippet is made from: two fragments of
# at most 24 words fit, and ts_headline parses 700 characters, not a body's 1,500 or two
# answers' 3,000.
WINDOW = (250, 450)
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
        # Tags and sites are lexemes of their own in the threads' words.
        tags = [self.lexeme(TAG_LEXEME.format(tag)) for tag in query.tags]
        tags += [self.site(site) for site in query.sites]
        excluded = " || ".join(self.phrase(p.text) for p in query.excluded)
        self.params["mark"] = f"'{THREAD_MARK}'"
        self.match = " && ".join(groups + tags) or None
        if excluded:
            self.match = f"({self.match or MARK}) && !!({excluded})"
        # Words alone (no phrase to check, nothing excluded, no tag): the threads without
        # them are one GIN scan (`mark && !!words`) with nothing to check on the rows.
        self.words_only = bool(groups) and not tags and not excluded and all(
            _ONE_WORD.fullmatch(p.text) for group in query.required for p in group)
        self.all = " && ".join(groups) or None  # what ranks
        self.any = " || ".join(groups) or None  # what the page's highlighting marks
        self.ranked = bool(query.required)
        self.highlight = self.ranked
        # A word the page's snippets are cut around (highlights): the first one looked for.
        first = [w for g in query.required for p in g for w in _ONE_WORD.findall(p.text)][:1]
        self.params["anchor"] = first[0].lower() if first else ""

    def phrase(self, value):
        return f"phraseto_tsquery('{PG_CONFIG}', :{self.param(value)})"

    def lexeme(self, value):
        """A tsquery of one lexeme as it is, whatever it holds (quoted; `'`, `\\` escaped)."""
        quoted = "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return f"CAST(:{self.param(quoted)} AS tsquery)"

    def site(self, name):
        """A tsquery of the lexeme of site `name` (no site of that name: NULL, no match)."""
        before, after = SITE_LEXEME.split("{}")
        site_id = f"(SELECT id FROM sites WHERE api_site_parameter = :{self.param(name)})"
        return f"CAST('''{before}' || {site_id} || '{after}''' AS tsquery)"

    def param(self, value):
        name = f"w{len(self.params)}"
        self.params[name] = value
        return name


# For the search's transaction only: JIT compiled the statement for tens of ms each time;
# a sequential scan reads every thread's words (toasted), where the GIN index reads none.
PLANNER_SETTINGS = ("SET LOCAL jit = off", "SET LOCAL enable_seqscan = off")


def prepare(dbsession):
    for statement in PLANNER_SETTINGS:
        dbsession.execute(text(statement))


def prefers_complement(dbsession, words, filters, sort, params):
    """Whether the query's counts are better taken from the threads that do not match:
    words alone, no filter, relevance order, and more than half the archive by the
    planner's estimate (from its statistics of the words: no thread is read). Exact either
    way; only the cost differs."""
    if not (words.words_only and not filters and sort == "relevance"):
        return False
    plan = dbsession.execute(text(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {THREADS} AS q "
                                  f"WHERE q.words @@ ({words.match})"), params).scalar()
    archive = dbsession.scalar(text("SELECT sum(questions) FROM search_totals WHERE kind = 's'"))
    return 2 * plan[0]["Plan"]["Plan Rows"] > (archive or 0)


def matches_statement(words, filters, sort, top_tags, complement=False):
    """As sqlite.matches_statement: ('site', …), ('tag', …) and the page's ('hit', id, None,
    place) rows, from one GIN scan of the narrow threads (never the questions' rows)."""
    if complement:
        return complement_statement(words, top_tags)
    conditions = [f"q.words @@ ({words.match})"] if words.match else []
    conditions += filters
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    ranked = sort == "relevance" and words.ranked
    # Which tier a match is in: read by ranked_page alone.
    in_title = f"q.title_words @@ ({words.all})" if ranked else "false"
    if ranked:
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
(SELECT 'tag', t.value, count(*), NULL::bigint FROM ({tags_of("m")}) AS t(value)
  WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
(SELECT 'hit', p.id::text, NULL::bigint, p.place FROM ({page}) AS p(id, place)
  ORDER BY p.place LIMIT :limit OFFSET :offset)
"""


def tags_of(matches):
    """Each tag of each row of `matches` as a row: a set-returning function in the select
    list (a ProjectSet) is half the cost of a lateral one joined to every row."""
    return f"SELECT unnest(string_to_array(tags, ' ')) FROM {matches}"


def complement_statement(words, top_tags):
    """matches_statement of words in more than half the archive (prefers_complement): the
    counts are every site's and tag's less those of the threads without the words (x), and
    the page is common_page's."""
    return f"""
WITH x AS MATERIALIZED (
  SELECT q.id, q.site_id, q.tags FROM {THREADS} AS q
   WHERE q.words @@ ({MARK} && !!({words.match})))
SELECT 'site', s.api_site_parameter::text, t.questions - coalesce(c.missing, 0), NULL::bigint
  FROM search_totals AS t JOIN sites AS s ON s.id::text = t.key
  LEFT JOIN (SELECT site_id, count(*) AS missing FROM x GROUP BY site_id) AS c
    ON c.site_id = s.id
 WHERE t.kind = 's' AND t.questions - coalesce(c.missing, 0) > 0
UNION ALL
(SELECT 'tag', t.key, t.questions - coalesce(c.missing, 0), NULL::bigint
   FROM search_totals AS t LEFT JOIN (
     SELECT v.value AS tag, count(*) AS missing FROM ({tags_of("x")}) AS v(value)
      WHERE v.value <> '' GROUP BY v.value) AS c ON c.tag = t.key
  WHERE t.kind = 't' AND t.questions - coalesce(c.missing, 0) > 0
  ORDER BY 3 DESC, t.key LIMIT {int(top_tags)})
UNION ALL
(SELECT 'hit', p.id::text, NULL::bigint, p.place FROM ({common_page(words)}) AS p(id, place)
  ORDER BY p.place LIMIT :limit OFFSET :offset)
"""


def common_page(words):
    """The page of words in more than half the archive: as on SQLite (sqlite.common_page),
    two tiers, each newest first, the threads whose title or tags hold every word, then the
    rest; each read backwards along the primary key, stopping at the page."""
    title = f"q.title_words @@ ({words.all})"
    return f"""
SELECT id, row_number() OVER (ORDER BY tier, id DESC) FROM (
  SELECT id, 1 FROM (SELECT q.id FROM {THREADS} AS q WHERE {title}
                      ORDER BY q.id DESC LIMIT :offset + :limit) AS t1
  UNION ALL
  SELECT id, 2 FROM (
    SELECT q.id FROM {THREADS} AS q WHERE NOT {title} AND q.words @@ ({words.match})
       AND (SELECT count(*) FROM (SELECT 1 FROM {THREADS} AS q WHERE {title}
                                   LIMIT :offset + :limit) AS n) < :offset + :limit
     ORDER BY q.id DESC LIMIT :offset + :limit) AS t2
) AS r(id, tier)"""


def ranked_page(words):
    """The matches in relevance order: first those whose title or tags hold every group
    (ranked by those words), then the rest (ranked by the whole thread's, where the
    question's body weighs more than its answers); a tier of more than RANKED_MAX
    newest first.
    The second tier is read only when the first is short of the page."""
    def tier(number, which, size, kind, runs):
        ranked = f"(SELECT {size} FROM n) <= {RANKED_MAX[kind]}"
        vector = "title_words" if kind == "title" else "words"
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
  {tier(1, "in_title", "titled", "title", "true")}
  UNION ALL
  {tier(2, "NOT in_title", "untitled", "thread", short)}
) AS r(id, tier, rank) ORDER BY {order}"""


def highlights(dbsession, words, ids):
    """As sqlite.highlights: ts_headline on the page's questions alone, on the body when it
    has a match, else on the answers. Which part holds a match is read from the thread's
    words by weight (body C, answers D), without parsing anything; ts_headline, which parses
    all it is given (about 0.2 ms a KB), is given the WINDOW around the first place of the
    anchor word, or the whole part where that window shows no match (the anchor inside a
    longer word, or a match of another word only)."""
    found = _highlighted(dbsession, words, ids, windowed=True)
    again = [question for question, (_, snippet) in found.items()
             if snippet is not None and MARK_START not in snippet]
    if again:
        found.update(_highlighted(dbsession, words, again, windowed=False))
    return {question: (title, (snippet or "").translate(ANGLES_BACK))
            for question, (title, snippet) in found.items()}


def _highlighted(dbsession, words, ids, windowed):
    answers = ("(SELECT string_agg(a.body_text, ' ' ORDER BY a.id) FROM answers AS a "
               "WHERE a.question_id = q.id)")
    cut = (f"CASE WHEN p.at > 0 THEN substr(p.x, greatest(1, p.at - {WINDOW[0]}), "
           f"{sum(WINDOW)}) ELSE p.x END" if windowed else "p.x")
    # OFFSET 0: each part is read once, not once per place the expression appears.
    statement = text(f"""
SELECT q.id,
       ts_headline('{PG_CONFIG}', translate(q.title, :marks, ''), {words.any}, :title_options),
       ts_headline('{PG_CONFIG}', translate({cut}, :angles_and_marks, :stand_ins),
                   {words.any}, :options)
  FROM questions AS q JOIN {THREADS} AS t ON t.id = q.id
 CROSS JOIN LATERAL (
   SELECT x, strpos(lower(x), :anchor) AS at FROM (
     SELECT CASE WHEN ts_filter(t.words, '{{c}}') @@ ({words.any}) THEN coalesce(q.body_text, '')
                 WHEN ts_filter(t.words, '{{d}}') @@ ({words.any}) THEN coalesce({answers}, '')
            END AS x OFFSET 0) AS part) AS p
 WHERE q.id IN :ids
""").bindparams(bindparam("ids", expanding=True))
    params = dict(words.params, ids=list(ids), marks=MARKS, options=HEADLINE,
                  title_options=TITLE_HEADLINE, angles_and_marks=ANGLES + MARKS,
                  stand_ins=STAND_INS)
    return {question: (title, snippet)
            for question, title, snippet in dbsession.execute(statement, params)}
