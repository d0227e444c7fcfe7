"""Reading a change history: one indexed query for a page of events or a feed, and the words
each event is told in."""

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, true

from ..models import Owner, Question, SavedSearch, SearchEvent, Site, tag_names
from ..models.watch import CHANGED, NEW

FEED_SIZE = 50
PAGE_SIZE = 50


@dataclass(frozen=True)
class Event:
    """One event as pages and feeds show it."""

    id: int
    search_id: int
    q: str
    tagged: str
    site_name: str
    kind: str
    api_id: int
    title: str
    changes: list  # [[field, from, to], ...]
    seen_at: datetime
    link: str  # the original question
    tags: list
    author: str | None
    site: str  # the site's API name, as the stored copy's address has it
    stored: bool  # the question's row is in the archive (a removed one's may be gone)
    entry: str | None = None  # its Atom entry's text, when it was written at record time

    @property
    def headline(self):
        """"New: …", "Score 12 → 40: …": what happened, then the title."""
        return f"{what_happened(self.kind, self.changes)}: {self.title}"

    @property
    def details(self):
        """One line per change: "Score: 12 → 40", "Accepted answer", "Reopened"."""
        return [describe(name, old, new) for name, old, new in self.changes]


def what_happened(kind, changes):
    if kind != CHANGED:
        return "New" if kind == NEW else "Removed"
    found = {name: (old, new) for name, old, new in changes}
    if "accepted" in found:
        return "Accepted answer" if found["accepted"][1] else "Answer no longer accepted"
    if "closed" in found:
        return "Closed" if found["closed"][1] else "Reopened"
    for name, label in (("score", "Score"), ("answers", "Answers")):
        if name in found:
            return f"{label} {found[name][0]} → {found[name][1]}"
    return "Title edited"


def describe(name, old, new):
    if name == "accepted":
        return "Accepted answer" if new else "Answer no longer accepted"
    if name == "closed":
        return "Closed" if new else "Reopened"
    label = {"score": "Score", "answers": "Answers", "title": "Title"}[name]
    return f"{label}: {old} → {new}"


def read_events(dbsession, search_id=None, limit=FEED_SIZE, offset=0):
    """The newest events of a search (of every search when None), newest first."""
    where = true() if search_id is None else SearchEvent.search_id == search_id
    # Columns, not ORM objects: a feed is read often, and loading entities took 4 times as long.
    rows = dbsession.execute(
        select(SearchEvent.id, SearchEvent.search_id, SavedSearch.q, SavedSearch.tagged,
               Site.name, SearchEvent.kind, SearchEvent.api_id, SearchEvent.title,
               SearchEvent.changes, SearchEvent.seen_at, Question.link, Site.site_url,
               Question.tags, Owner.display_name, Site.api_site_parameter, Question.id)
        .join(SavedSearch, SavedSearch.id == SearchEvent.search_id)
        .join(Site, Site.id == SavedSearch.site_id)
        .outerjoin(Question, Question.id == SearchEvent.question_id)
        .outerjoin(Owner, Owner.id == Question.owner_id)
        .where(where).order_by(SearchEvent.id.desc()).limit(limit).offset(offset)).all()
    return [as_event(*row) for row in rows]


def as_event(event_id, search_id, q, tagged, site_name, kind, api_id, title, changes, seen_at,
             link, site_url, tags, author, site, row_id):
    # A removed question's row may be gone: its link is made from the site and its id.
    return Event(event_id, search_id, q, tagged, site_name, kind, api_id, title,
                 json.loads(changes), seen_at, link or f"{site_url}/questions/{api_id}",
                 tag_names(tags or ""), author, site, row_id is not None)


@dataclass(slots=True)  # not frozen: fifty made per feed, and a frozen one's init is slower
class FeedEvent:
    """An event as a feed reads it: its entry's text, and what its id and links are made of."""

    id: int
    search_id: int
    api_id: int
    seen_at: datetime
    entry: str
    link: str
    site: str
    stored: bool


# What a feed's head says of its search: (q, tagged, site name, created at).
HEADING = (SavedSearch.q, SavedSearch.tagged, Site.name.label("site_name"),
           SavedSearch.created_at)


def feed_query(of_one_search):
    """The feed's statement, built once: a statement's cache key is then memoized, and its
    building and keying were a third of a feed's database time. A search's rows carry its
    heading too: one statement for the feed."""
    query = (
        select(SearchEvent.id, SearchEvent.search_id, SearchEvent.api_id, SearchEvent.seen_at,
               SearchEvent.entry, Question.link, Site.site_url, Site.api_site_parameter,
               Question.id.label("row_id"), *HEADING)
        .join(SavedSearch, SavedSearch.id == SearchEvent.search_id)
        .join(Site, Site.id == SavedSearch.site_id)
        .outerjoin(Question, Question.id == SearchEvent.question_id))
    if of_one_search:
        query = query.where(SearchEvent.search_id == bindparam("search_id"))
    return query.order_by(SearchEvent.id.desc()).limit(bindparam("limit"))


FEED_OF_ONE, FEED_OF_ALL = feed_query(True), feed_query(False)
FEED_HEADING = (select(*HEADING).join(Site, Site.id == SavedSearch.site_id)
                .where(SavedSearch.id == bindparam("search_id")))


def feed_events(dbsession, search_id=None, limit=FEED_SIZE):
    """(heading, events) of a search's feed (of every search's: `search_id` None, and the
    heading None): the newest events, newest first, with their entries' text as recorded and
    what links need. The heading is (q, tagged, site name, created at), None when there is
    no such search. Events recorded before entries were written (`entry` empty) are read
    whole, as a history page reads them."""
    query = FEED_OF_ALL if search_id is None else FEED_OF_ONE
    connection = dbsession.connection()
    rows = connection.execute(query, {"search_id": search_id, "limit": limit}).all()
    heading = None
    if search_id is not None:
        heading = tuple(rows[0][-len(HEADING):]) if rows else connection.execute(
            FEED_HEADING, {"search_id": search_id}).first()
    # By position: a Row's attributes cost a lookup each, fifty rows a feed.
    if any(row[4] is None for row in rows):
        return heading, read_events(dbsession, search_id, limit)
    return heading, [FeedEvent(row[0], row[1], row[2], row[3], row[4],
                               row[5] or f"{row[6]}/questions/{row[2]}", row[7],
                               row[8] is not None) for row in rows]


def events_page(dbsession, search_id, page, per_page=PAGE_SIZE):
    """(the events of page `page`, whether a later page holds more)."""
    events = read_events(dbsession, search_id, per_page + 1, (page - 1) * per_page)
    return events[:per_page], len(events) > per_page
