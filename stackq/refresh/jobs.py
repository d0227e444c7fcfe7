"""The work of a refresh cycle, one job at a time: fetched (network only), then stored in
one transaction that diffs every search it touched.

- `ChangesJob`: ask one search what changed, `sort=activity&order=desc&min=<the newest
  activity it has seen, less an overlap>`; more pages only while `has_more`.
- `RereadJob`: re-read up to 100 stored questions of a site with `/questions/{ids}`; one not
  returned was deleted upstream, and is removed from every search that showed it.
- `AnswersJob`: ask again for the answers of up to 100 stored questions whose answer count
  moved since their answers were stored (`/questions/{ids}/answers`, the archive).
- `TotalJob`: count one search's results again (stackexchange/totals.py).
"""

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..archive.fetch import fetch_answers
from ..archive.store import store_answers
from ..models import (
    Question,
    SavedSearch,
    SearchPosition,
    SearchResult,
    ShownQuestion,
)
from ..models.changes import changed_searches, listings_changed
from ..models.upsert import upsert
from ..searches.ingest import UPSTREAM_PAGE_SIZE, store_questions
from ..searches.saved import SEARCH_METHOD, fetch_total
from ..stackexchange.filters import BODIES
from .diff import diff_shown, in_search, remember_diff, shown_before, shown_rows
from .rank import rerank

# Asked again below the newest activity seen: answers and edits committed upstream a moment
# out of order are not missed. Questions seen twice cost nothing.
OVERLAP = timedelta(minutes=5)
# A fresh answer, never the answer cache. Jobs fetch through a background caller
# (calls.cycle_api): behind people browsing, waiting for a free slot until the cycle's end.
FRESH = {"max_age": 0}


class OutOfBudget(Exception):
    """The cycle has spent what the quota allows it (never the reserve)."""


def unix(moment):
    return calendar.timegm(moment.timetuple())


@dataclass
class ChangesJob:
    search: SavedSearch
    since: datetime | None  # None: nothing stored yet, ask for the first page only
    refreshes = 1  # counted as a search refreshed

    def __str__(self):
        return f"what changed in saved search {self.search.id}"

    def fetch(self, api):
        """(answers, complete): complete when the last answer said there is no more."""
        params = {"sort": "activity", "order": "desc", "pagesize": UPSTREAM_PAGE_SIZE,
                  "filter": BODIES, **FRESH}
        if self.since is not None:
            params["min"] = unix(self.since - OVERLAP)
        answers = []
        while True:
            try:
                answers.append(api.fetch(SEARCH_METHOD, site=self.search.site.api_site_parameter,
                                         q=self.search.q or None,
                                         tagged=self.search.tagged or None,
                                         page=len(answers) + 1, **params))
            except OutOfBudget:
                if not answers:
                    raise
                return answers, False
            if not answers[-1].has_more or self.since is None:
                return answers, not answers[-1].has_more

    def store(self, dbsession, fetched, now):
        answers, complete = fetched
        search = dbsession.get(SavedSearch, self.search.id)
        if search is None:
            return []
        before = shown_before(dbsession, search.id)
        pks = []
        for answer in answers:
            pks += store_questions(dbsession, search.site_id, answer.items, now)
        if pks:
            upsert(dbsession, SearchResult,
                   [{"search_id": search.id, "question_id": pk} for pk in dict.fromkeys(pks)],
                   ["search_id", "question_id"])
        after = shown_rows(dbsession, in_search(search.id))
        diff = settle(dbsession, search, before, after, now)
        if complete:
            # Everything active after this is stored now: the next cycle asks from here.
            # (Its own answers only: a re-read may have moved a shared question past it.)
            seen = [t for t in (search.seen_activity, self.since,
                                *(after[pk].activity for pk in pks)) if t is not None]
            search.seen_activity = max(seen, default=None)
        search.refreshed_at = now
        return [(search, diff)]


def settle(dbsession, search, before, after, now, removed=()):
    """The search shows `after` now (seen `now`): its diff (in its history too), its orders
    re-ranked, its total moved."""
    diff = diff_shown(before, after, removed)
    if rerank(dbsession, search.id, before, after) or diff.total:
        changed_searches(dbsession).add(search.id)
    remember_diff(dbsession, search.id, before, after, diff, now)
    if search.total is not None and search.total_at is not None:
        # Questions created since the total was counted are new upstream too. (Deletions
        # are found late, maybe after a count that already left them out: the next count,
        # within full_every, has them.)
        search.total += sum(1 for pk in diff.new if after[pk].creation > search.total_at)
    return diff


def since_of(dbsession, search):
    """Where the search's next question "what changed?" starts (the API's clock)."""
    if search.seen_activity is not None:
        return search.seen_activity
    return dbsession.scalar(select(func.max(Question.last_activity_date))
                            .where(in_search(search.id)))


@dataclass
class RereadJob:
    site_id: int
    site: str
    pairs: list = field(default_factory=list)  # (row id, API question id)
    refreshes = 0

    def __str__(self):
        return f"re-read of {len(self.pairs)} questions of {self.site}"

    def fetch(self, api):
        ids = ";".join(str(question_id) for _, question_id in self.pairs)
        return api.fetch(f"questions/{ids}", site=self.site, pagesize=UPSTREAM_PAGE_SIZE,
                         filter=BODIES, **FRESH)

    def store(self, dbsession, answer, now):
        asked = dict(self.pairs)
        returned = {item.get("question_id") for item in answer.items}
        gone = [pk for pk, question_id in asked.items() if question_id not in returned]
        searches = dbsession.scalars(
            select(SavedSearch).where(SavedSearch.id.in_(
                select(SearchResult.search_id).where(SearchResult.question_id.in_(list(asked)))))
            .order_by(SavedSearch.id)).all()
        before = {search.id: shown_before(dbsession, search.id) for search in searches}
        store_questions(dbsession, self.site_id, answer.items, now)
        if gone:
            delete_questions(dbsession, gone)
        diffs = []
        for search in searches:
            after = shown_rows(dbsession, in_search(search.id))
            diffs.append((search, settle(dbsession, search, before[search.id], after, now, gone)))
        return diffs


def delete_questions(dbsession, pks):
    """Questions deleted upstream: gone from every search, then from the database."""
    for table, column in ((SearchPosition, SearchPosition.question_id),
                          (SearchResult, SearchResult.question_id),
                          (ShownQuestion, ShownQuestion.question_id),
                          (Question, Question.id)):
        dbsession.execute(delete(table).where(column.in_(pks)))


@dataclass
class AnswersJob:
    site_id: int
    site: str
    question_ids: list = field(default_factory=list)  # API ids, at most 100
    refreshes = 0

    def __str__(self):
        return f"answers of {len(self.question_ids)} questions of {self.site}"

    def fetch(self, api):
        return fetch_answers(api, self.site, self.question_ids, **FRESH)

    def store(self, dbsession, items, now):
        store_answers(dbsession, self.site_id, self.question_ids, items, now)
        listings_changed(dbsession)  # their cached question pages go with the listings
        return []


@dataclass
class TotalJob:
    search: SavedSearch
    refreshes = 0

    def __str__(self):
        return f"total of saved search {self.search.id}"

    def fetch(self, api):
        return fetch_total(api, self.search, **FRESH)

    def store(self, dbsession, total, now):
        search = dbsession.get(SavedSearch, self.search.id)
        if search is not None:
            search.total, search.total_at = total, now
            changed_searches(dbsession).add(search.id)
        return []
