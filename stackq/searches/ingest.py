"""Store API answers: questions (with their tags and bodies), owners, and a search's upstream
order."""

import logging

from sqlalchemy import delete

from ..infra.clock import naive_utc, utcnow
from ..models import FetchedPage, Owner, Question, SearchPosition, SearchResult, joined_tags
from ..models.fulltext import plain_text
from ..models.upsert import fitted, stored_link, upsert
from ..stackexchange.items import parse_each, parse_question

log = logging.getLogger(__name__)

# Upstream pages are always fetched 100 rows at a time (the API's maximum), so
# every display page of 25, 50 or 100 rows lies inside exactly one of them.
UPSTREAM_PAGE_SIZE = 100


def store_questions(dbsession, site_id, items, now=None):
    """Upsert parsed API question items; returns their row ids in item order. An item that is
    no question is skipped (logged): the rest of its page is stored."""
    now = now or utcnow()
    # One row per question, in the order the API gave (a dict keeps first positions).
    parsed = parse_each(items, parse_question, log, "a question")
    questions = list({q.question_id: q for q in parsed}.values())
    if not questions:
        return []
    owner_ids = store_owners(dbsession, site_id, [q.owner for q in questions if q.owner])
    rows = [question_row(site_id, q, owner_ids, now) for q in questions]
    if all(q.body is not None for q in questions):
        # Read with their bodies (sanitised in parse_question); an answer without them
        # (an older caller's filter) leaves the stored bodies as they are.
        for row, q in zip(rows, questions, strict=True):
            row["body"] = q.body
            row["body_text"] = plain_text(q.body)  # what the search index reads
    result = upsert(
        dbsession, Question, rows, ["site_id", "question_id"], returning=["id", "question_id"]
    )
    pk_by_question_id = {question_id: pk for pk, question_id in result}
    return [pk_by_question_id[q.question_id] for q in questions]


def owner_key(owner):
    # Deleted users have no user_id; their display name ("user12345") is all there is.
    key = f"u:{owner.user_id}" if owner.user_id is not None else f"d:{owner.display_name}"
    return fitted(Owner.owner_key, key)


def store_owners(dbsession, site_id, owners):
    rows = {
        owner_key(o): {
            "site_id": site_id,
            "owner_key": owner_key(o),
            "user_id": o.user_id,
            "display_name": fitted(Owner.display_name, o.display_name),
            "user_type": fitted(Owner.user_type, o.user_type),
            "reputation": o.reputation,
            "link": stored_link(Owner.link, o.link),
        }
        for o in owners
    }
    if not rows:
        return {}
    result = upsert(
        dbsession, Owner, list(rows.values()), ["site_id", "owner_key"],
        returning=["id", "owner_key"],
    )
    return {key: pk for pk, key in result}


def question_row(site_id, q, owner_ids, now):
    return {
        "site_id": site_id,
        "question_id": q.question_id,
        # The API's own are far shorter; longer would fail the page (upsert.fitted).
        "title": fitted(Question.title, q.title),
        "link": stored_link(Question.link, q.link) or "",
        "score": q.score,
        "answer_count": q.answer_count,
        "view_count": q.view_count,
        "is_answered": q.is_answered,
        "accepted_answer_id": q.accepted_answer_id,
        "closed_reason": fitted(Question.closed_reason, q.closed_reason),
        "content_license": fitted(Question.content_license, q.content_license),
        "creation_date": naive_utc(q.creation_date),
        "last_activity_date": naive_utc(q.last_activity_date),
        "last_edit_date": naive_utc(q.last_edit_date),
        "closed_date": naive_utc(q.closed_date),
        "owner_id": owner_ids.get(owner_key(q.owner)) if q.owner else None,
        "stored_at": now,
        "tags": joined_tags(q.tags),
    }


def store_page(dbsession, search, sort, direction, page, response, now=None):
    """Store one upstream page of `search` in (sort, direction) and its place in the order."""
    now = now or utcnow()
    pks = store_questions(dbsession, search.site_id, response.items, now)
    first = (page - 1) * UPSTREAM_PAGE_SIZE + 1
    slot = (
        (SearchPosition.search_id == search.id)
        & (SearchPosition.sort == sort)
        & (SearchPosition.direction == direction)
    )
    # The page's slice of the order is replaced whole: rows that left it must go.
    dbsession.execute(
        delete(SearchPosition).where(
            slot, SearchPosition.position.between(first, first + UPSTREAM_PAGE_SIZE - 1)
        )
    )
    if pks:
        positions = [
            {"search_id": search.id, "sort": sort, "direction": direction,
             "position": first + i, "question_id": pk}
            for i, pk in enumerate(pks)
        ]
        upsert(dbsession, SearchPosition, positions,
               ["search_id", "sort", "direction", "position"])
        upsert(dbsession, SearchResult,
               [{"search_id": search.id, "question_id": pk} for pk in pks],
               ["search_id", "question_id"])
    upsert(
        dbsession,
        FetchedPage,
        [{"search_id": search.id, "sort": sort, "direction": direction, "page": page,
          "fetched_at": now, "has_more": response.has_more, "item_count": len(pks)}],
        ["search_id", "sort", "direction", "page"],
    )
    return pks
