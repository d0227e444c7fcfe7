"""What a saved search showed, and what changed since: the diff behind every notice.

Counts are per search and against what *that* search showed before (docs/architecture.md,
live notices): each search
keeps a fingerprint of every question it showed (`ShownQuestion`), because a question shared
by two searches is updated by the first one's refresh and must still count as changed for
the second.
"""

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import delete, select

from ..models import (
    Question,
    SearchResult,
    ShownQuestion,
    tag_names,
)
from ..models.upsert import upsert
from ..watch.changes import record_events, watched

# What a reader sees of a question on a results page: a difference in any of these is
# "changed". (Not stored_at, which moves whenever the row is written.)
FINGERPRINT_COLUMNS = (
    Question.title, Question.score, Question.answer_count, Question.view_count,
    Question.is_answered, Question.accepted_answer_id, Question.closed_reason,
    Question.last_activity_date, Question.last_edit_date, Question.closed_date,
)


@dataclass(frozen=True)
class Shown:
    """A question as a search shows it: its fingerprint and its upstream sort keys."""

    fingerprint: str
    activity: datetime | None = None
    creation: datetime | None = None
    votes: int | None = None
    question_id: int | None = None  # the API's id: the sorts' tie-break
    watched: str | None = None  # what a change history compares (watch.changes.watched)


@dataclass
class SearchDiff:
    new: set = field(default_factory=set)
    changed: set = field(default_factory=set)
    removed: set = field(default_factory=set)

    @property
    def total(self):
        return len(self.new) + len(self.changed) + len(self.removed)

    def counts(self):
        return {"new": len(self.new), "changed": len(self.changed), "removed": len(self.removed)}


def fingerprint(values, tags):
    """A short stable digest of a question's visible fields and tags."""
    text = "\x1f".join("" if v is None else str(v) for v in (*values, ";".join(tags)))
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def shown_rows(dbsession, where):
    """{question row id: Shown} from the questions table, for rows matching `where`."""
    rows = dbsession.execute(
        select(Question.id, Question.creation_date, Question.question_id,
               *FINGERPRINT_COLUMNS, Question.tags).where(where)
    ).all()
    return {
        row[0]: Shown(fingerprint(row[3:-1], tag_names(row.tags)),
                      activity=row.last_activity_date,
                      creation=row.creation_date, votes=row.score, question_id=row.question_id,
                      watched=watched(row))
        for row in rows
    }


def in_search(search_id):
    """A `where` for the questions among the search's stored results."""
    return Question.id.in_(
        select(SearchResult.question_id).where(SearchResult.search_id == search_id))


def shown_before(dbsession, search_id, among=None):
    """What the search shows now (of the question row ids `among`, if given): its remembered
    fingerprints, else its rows as stored."""
    where, remembered_where = in_search(search_id), ShownQuestion.search_id == search_id
    if among is not None:
        where &= Question.id.in_(among)
        remembered_where &= ShownQuestion.question_id.in_(among)
    current = shown_rows(dbsession, where)
    remembered = {pk: (digest, seen) for pk, digest, seen in dbsession.execute(
        select(ShownQuestion.question_id, ShownQuestion.fingerprint, ShownQuestion.watched)
        .where(remembered_where)).all()}

    def as_remembered(pk, shown):
        digest, seen = remembered.get(pk, (shown.fingerprint, shown.watched))
        return replace(shown, fingerprint=digest, watched=seen or shown.watched)

    return {pk: as_remembered(pk, shown) for pk, shown in current.items()}


def remember_shown(dbsession, chunk=1000):
    """Remember, for every stored result not yet remembered, the question as stored now.

    Run before a cycle: results stored since the last one (pages opened by visitors) get
    their "before", so a question shared with a search refreshed earlier in the cycle still
    counts as changed. Returns how many were remembered.
    """
    missing = (
        select(SearchResult.search_id, SearchResult.question_id)
        .outerjoin(ShownQuestion, (ShownQuestion.search_id == SearchResult.search_id)
                   & (ShownQuestion.question_id == SearchResult.question_id))
        .where(ShownQuestion.question_id.is_(None))
    )
    pairs = dbsession.execute(missing).all()
    if not pairs:
        return 0
    shown = shown_rows(dbsession, Question.id.in_(missing.with_only_columns(
        SearchResult.question_id)))
    rows = [{"search_id": search_id, "question_id": pk, "fingerprint": shown[pk].fingerprint,
             "watched": shown[pk].watched} for search_id, pk in pairs]
    for start in range(0, len(rows), chunk):
        upsert(dbsession, ShownQuestion, rows[start:start + chunk], ["search_id", "question_id"])
    return len(rows)


def diff_shown(before, after, removed=()):
    """New, changed and removed between what a search showed and what it shows now.

    Every stored result is compared, so a question changed through another search (or the
    re-read) counts for each search that shows it; removed are those proven deleted.
    """
    return SearchDiff(
        new=set(after) - set(before),
        changed={pk for pk in set(after) & set(before)
                 if before[pk].fingerprint != after[pk].fingerprint},
        removed=set(removed) & set(before),
    )


def change_notice(search, diff, at):
    """The `query_updated` fields telling open pages what `diff` changed, or None if nothing."""
    if not diff.total:
        return None
    return {"query_id": search.id, "q": search.q, "site": search.site.api_site_parameter,
            "at": at, **diff.counts()}


def remember_diff(dbsession, search_id, before, after, diff, at):
    """The search now shows `after`: record in its history what changed since `before` (seen
    `at`), remember what is new or changed, forget the removed."""
    record_events(dbsession, search_id, before, after, diff, at)
    if diff.removed:
        dbsession.execute(delete(ShownQuestion).where(
            ShownQuestion.search_id == search_id, ShownQuestion.question_id.in_(diff.removed)))
    touched = diff.new | diff.changed
    rows = [{"search_id": search_id, "question_id": pk, "fingerprint": after[pk].fingerprint,
             "watched": after[pk].watched} for pk in sorted(touched)]
    for start in range(0, len(rows), 1000):
        upsert(dbsession, ShownQuestion, rows[start:start + 1000], ["search_id", "question_id"])
