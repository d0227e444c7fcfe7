"""Search on PostgreSQL: `questions.search_vector` and `answers.search_vector` under their
GIN indexes (models/fulltext.py).

Each word and phrase is a bound parameter of `phraseto_tsquery`, combined with tsquery's
operators in SQL: no text can be tsquery syntax. A question matches a group of words
(`a OR b`, or one word or phrase) when it or one of its answers does, as on SQLite.
"""

from sqlalchemy import bindparam, text

from ...models.fulltext import MARK_END, MARK_START, PG_CONFIG

CONTAINS = "strpos"
SORT_KEYS = {"votes": "m.score DESC", "newest": "m.creation_date DESC",
             "active": "m.last_activity_date DESC"}
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
        # (tsquery, whether answers are searched too): the words' groups, then the tags.
        self.groups = [("(" + " || ".join(self.phrase(p.text) for p in group) + ")", True)
                       for group in query.required]
        self.groups += [(self.phrase(tag), False) for tag in query.tags
                        if any(c.isalnum() for c in tag)]
        excluded = " || ".join(self.phrase(p.text) for p in query.excluded)
        self.excluded = f"({excluded})" if excluded else None
        self.match = " && ".join(g for g, _ in self.groups) or None
        self.any = " || ".join(g for g, answers in self.groups if answers) or None
        self.all = " && ".join(g for g, answers in self.groups if answers) or None
        self.ranked = bool(query.required)
        self.highlight = self.ranked

    def phrase(self, value):
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f"phraseto_tsquery('{PG_CONFIG}', :{name})"


# For the search's transaction only: JIT compiled the large statement for tens of ms each
# time. (enable_seqscan = off halved a common word's time but let the planner pick a nested
# loop over 27 million pairs for `word -common`: left to the planner.)
PLANNER_SETTINGS = ("SET LOCAL jit = off",)


def prepare(dbsession):
    for statement in PLANNER_SETTINGS:
        dbsession.execute(text(statement))


def matching(tsquery, with_answers):
    """The ids of the questions matching `tsquery`, by their own text or (`with_answers`)
    by one of their answers'."""
    ids = f"SELECT id FROM questions WHERE search_vector @@ {tsquery}"
    if with_answers:
        ids += f" UNION SELECT question_id FROM answers WHERE search_vector @@ {tsquery}"
    return ids


def prefers_complement(dbsession, words, filters, sort, params):
    """Never on PostgreSQL: GIN has no cheap list of the rows without a word."""
    return False


def matches_statement(words, filters, sort, top_tags, complement=False):
    """As sqlite.matches_statement. The matches' columns come from the facets index (an
    index-only scan), never from the questions' wide rows."""
    conditions = [f"q.id IN ({matching(tsquery, answers)})" for tsquery, answers in words.groups]
    conditions += filters
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    columns = "q.id, q.site_id, q.tags, q.score, q.creation_date, q.last_activity_date"
    matches = f"SELECT {columns} FROM questions AS q {where}"
    if words.excluded:
        # Checked on the candidates' own vectors, once they are found: a list of every
        # question with a common excluded word (the usual `-word`) is most of the archive,
        # and joined in the same query the planner once chose a 27-million-row nested loop.
        matches = (f"WITH c AS MATERIALIZED ({matches}) SELECT * FROM c "
                   f"WHERE NOT EXISTS (SELECT 1 FROM questions AS x WHERE x.id = c.id "
                   f"AND x.search_vector @@ {words.excluded}) "
                   f"AND NOT EXISTS (SELECT 1 FROM answers AS a WHERE a.question_id = c.id "
                   f"AND a.search_vector @@ {words.excluded})")
    if sort == "relevance" and words.ranked:
        # As on SQLite, in tiers: the matches whose title or tags (weights A, B) have every
        # group, then those whose own text has, by ts_rank; those that need their answers
        # to match come last.
        ranks = (f", r AS MATERIALIZED (SELECT id, ts_rank(search_vector, ({words.all})) AS rank, "
                 f"ts_filter(search_vector, '{{a,b}}') @@ ({words.all}) AS in_title "
                 f"FROM questions WHERE search_vector @@ ({words.all}) "
                 "AND id IN (SELECT id FROM m))")
        ranked = "m LEFT JOIN r ON r.id = m.id"
        order = "r.in_title DESC NULLS LAST, coalesce(r.rank, 0) DESC"
    else:
        ranks, ranked, order = "", "m", SORT_KEYS.get(sort, "m.score DESC")
    return f"""
WITH m AS MATERIALIZED ({matches}){ranks}
SELECT 'site', s.api_site_parameter::text, count(*), NULL::bigint
  FROM m JOIN sites AS s ON s.id = m.site_id GROUP BY s.api_site_parameter
UNION ALL
(SELECT 'tag', t.value, count(*), NULL::bigint
   FROM m, unnest(string_to_array(m.tags, ' ')) AS t(value)
  WHERE t.value <> '' GROUP BY t.value ORDER BY count(*) DESC, t.value LIMIT {int(top_tags)})
UNION ALL
(SELECT 'hit', m.id::text, NULL::bigint, row_number() OVER (ORDER BY {order}, m.id DESC)
   FROM {ranked} ORDER BY {order}, m.id DESC LIMIT :limit OFFSET :offset)
"""


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
