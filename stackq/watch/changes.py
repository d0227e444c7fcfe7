"""Recording a search's change history: what a refresh or harvest saw change, in its own
transaction, and forgetting it after `stackq.watch.keep_days`.

Changes are computed once, when the data is stored (the refresher diffs every search
anyway), so reading a history or a feed is one indexed query, never a diff.
"""

import json
from datetime import timedelta

from sqlalchemy import delete, insert, select
from zope.sqlalchemy import mark_changed

from ..models import SearchEvent, ShownQuestion
from ..models.changes import record_rows
from ..models.watch import CHANGED, NEW, REMOVED
from .entries import with_entries

# What a history tells of a question, in the order `watched` stores it.
WATCHED = ("title", "score", "answers", "accepted", "closed")


def watched(row):
    """The JSON of what a history compares, from a questions row (title, score, answer count,
    whether an answer is accepted, whether closed)."""
    return json.dumps([row.title, row.score, row.answer_count,
                       row.accepted_answer_id is not None, row.closed_reason is not None],
                      ensure_ascii=False, separators=(",", ":"))


def what_changed(before, after):
    """[[field, from, to], ...] of the WATCHED fields that differ between two `watched`s."""
    if before is None or after is None:
        return []
    return [[name, old, new] for name, old, new in zip(WATCHED, json.loads(before),
                                                       json.loads(after), strict=True)
            if old != new]


def record_events(dbsession, search_id, before, after, diff, at):
    """Record the search's events of `diff` (before/after: {question row id: Shown}).

    A change to none of the WATCHED fields (views, activity, an edit of the body) is in the
    notice's count but not in the history: a feed reader would show an empty entry.
    """
    # A search's first fill is where it starts, not news: a feed would open with its
    # hundreds of questions, each "New".
    first_fill = not before and not shows_anything(dbsession, search_id)
    rows = [] if first_fill else [event(NEW, pk, after[pk]) for pk in sorted(diff.new)]
    for pk in sorted(diff.changed):
        changes = what_changed(before[pk].watched, after[pk].watched)
        if changes:
            rows.append(event(CHANGED, pk, after[pk], json.dumps(changes, ensure_ascii=False)))
    # A removed question may be gone from the database already: only its remembered title.
    rows += [event(REMOVED, None, before[pk]) for pk in sorted(diff.removed)]
    if not rows:
        return 0
    rows = with_entries(dbsession, search_id,
                        [{**row, "search_id": search_id, "seen_at": at} for row in rows])
    dbsession.execute(insert(SearchEvent), rows)
    mark_changed(dbsession)
    record_rows(dbsession, SearchEvent.__table__, rows)  # its feed and history pages drop
    return len(rows)


def shows_anything(dbsession, search_id):
    return dbsession.scalar(select(ShownQuestion.question_id)
                            .where(ShownQuestion.search_id == search_id).limit(1)) is not None


def event(kind, pk, shown, changes="[]"):
    """An event row of the question `shown` (its title as `watched` holds it)."""
    title = json.loads(shown.watched)[0] if shown.watched else ""
    return {"kind": kind, "question_id": pk, "api_id": shown.question_id, "title": title,
            "changes": changes}


def prune_events(dbsession, now, keep_days):
    """Forget events seen more than `keep_days` before `now`; how many."""
    result = dbsession.execute(delete(SearchEvent).where(
        SearchEvent.seen_at < now - timedelta(days=keep_days)))
    mark_changed(dbsession)
    return result.rowcount
