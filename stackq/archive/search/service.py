"""Search what is stored: the matches of a SearchQuery, a page of them highlighted, and
counts by site and tag over all of them. Never calls the API.

The engine's own module (sqlite.py, postgresql.py) turns the words into its index's query;
the filters are plain columns. One statement finds every match once (the index first, then
the questions' columns) and returns the counts and the page's ids; a second highlights
that page alone.
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text

from ...models import Question, Site, tag_names
from . import postgresql, sqlite
from .highlight import has_mark, lead, marked_html

SORTS = ("relevance", "votes", "newest", "active")
TOP_TAGS = 10


@dataclass
class Hit:
    site: str
    question_id: int
    title: str  # HTML: escaped, matches in <mark>
    snippet: str  # HTML: escaped, matches in <mark>
    tags: tuple
    score: int
    answer_count: int
    creation_date: datetime
    is_answered: bool
    url: str

    def json(self):
        return {"site": self.site, "question_id": self.question_id, "title": self.title,
                "snippet": self.snippet, "tags": list(self.tags), "score": self.score,
                "answer_count": self.answer_count,
                "creation_date": self.creation_date.isoformat() + "Z", "url": self.url}


@dataclass
class Results:
    total: int = 0
    hits: list = field(default_factory=list)
    sites: dict = field(default_factory=dict)  # api_site_parameter -> matches
    tags: dict = field(default_factory=dict)  # the TOP_TAGS tags -> matches


def engine_of(dbsession):
    return sqlite if dbsession.get_bind().dialect.name == "sqlite" else postgresql


def search(dbsession, query, sort="relevance", page=1, per_page=25):
    """The Results of `query` (a SearchQuery): its `page` of `per_page` hits in `sort` order."""
    if query.empty:
        return Results()
    engine = engine_of(dbsession)
    words = engine.Words(query)
    filters, params = where_filters(query, engine.CONTAINS)
    params.update(words.params, limit=per_page, offset=(page - 1) * per_page)
    engine.prepare(dbsession)
    complement = engine.prefers_complement(dbsession, words, filters, sort, params)
    statement = engine.matches_statement(words, filters, sort, TOP_TAGS, complement)
    results, page_ids = Results(), []
    for kind, key, count, order in dbsession.execute(text(statement), params):
        if kind == "site":
            results.sites[key] = count
        elif kind == "tag":
            results.tags[key] = count
        else:
            page_ids.append((order, int(key)))
    results.total = sum(results.sites.values())
    results.tags = dict(sorted(results.tags.items(), key=lambda kv: (-kv[1], kv[0])))
    results.sites = dict(sorted(results.sites.items(), key=lambda kv: (-kv[1], kv[0])))
    # Each engine gives a hit's place as a number: ties go to the newer row (higher id).
    ids = [question for _, question in sorted(page_ids, key=lambda hit: (hit[0], -hit[1]))]
    results.hits = hits(dbsession, engine, words, ids)
    return results


def where_filters(query, contains):
    """SQL conditions on `q` (questions) for the query's filters, with their parameters;
    `contains` is the engine's name for SQL's position of a text in another."""
    conditions, params = [], {}
    for number, tag in enumerate(query.tags):
        conditions.append(f"{contains}(' ' || q.tags || ' ', :tag{number}) > 0")
        params[f"tag{number}"] = f" {tag} "
    for number, site in enumerate(query.sites):
        conditions.append(f"q.site_id = (SELECT id FROM sites WHERE api_site_parameter = "
                          f":site{number})")
        params[f"site{number}"] = site
    if query.answered:
        conditions.append("q.is_answered")
    if query.accepted:
        conditions.append("q.accepted_answer_id IS NOT NULL")
    if query.min_score is not None:
        conditions.append("q.score >= :min_score")
        params["min_score"] = query.min_score
    if query.min_answers is not None:
        conditions.append("q.answer_count = 0" if query.min_answers == 0
                          else "q.answer_count >= :min_answers")
        params["min_answers"] = query.min_answers
    if query.created_from is not None:
        conditions.append("q.creation_date >= :created_from")
        params["created_from"] = query.created_from
    if query.created_before is not None:
        conditions.append("q.creation_date < :created_before")
        params["created_before"] = query.created_before
    return conditions, params


def hits(dbsession, engine, words, ids):
    """The Hits of question `ids`, in that order, highlighted."""
    if not ids:
        return []
    rows = dbsession.execute(
        select(Question, Site.api_site_parameter).join(Site, Site.id == Question.site_id)
        .where(Question.id.in_(ids))).all()
    marked = engine.highlights(dbsession, words, ids) if words.highlight else {}
    found = {question.id: (question, site) for question, site in rows}
    out = []
    for question_pk in ids:
        if question_pk not in found:
            continue  # deleted between the two statements
        question, site = found[question_pk]
        title, snippet = marked.get(question_pk, (None, None))
        out.append(Hit(
            site=site, question_id=question.question_id,
            title=marked_html(title) if has_mark(title) else marked_html(question.title),
            snippet=(marked_html(snippet) if has_mark(snippet) else lead(question.body)),
            tags=tag_names(question.tags), score=question.score,
            answer_count=question.answer_count, creation_date=question.creation_date,
            is_answered=question.is_answered,
            url=f"/questions/{site}/{question.question_id}"))
    return out
