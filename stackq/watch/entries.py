"""Each event's Atom entry text, written with the event: a feed read adds only its host's id
and links (watch/feed.py), instead of rendering 50 entries on every request."""

import json

from sqlalchemy import select

from ..models import Owner, Question, SavedSearch, Site, tag_names
from .feed import entry_text
from .history import Event


def with_entries(dbsession, search_id, rows):
    """`rows` (search_events rows about to be inserted) with their `entry`: what the question
    and the search were when the event was seen, as a feed shows it."""
    q, tagged, site_name = dbsession.execute(
        select(SavedSearch.q, SavedSearch.tagged, Site.name)
        .join(Site, Site.id == SavedSearch.site_id).where(SavedSearch.id == search_id)).one()
    pks = [row["question_id"] for row in rows if row["question_id"] is not None]
    about = {pk: (tags, author) for pk, tags, author in dbsession.execute(
        select(Question.id, Question.tags, Owner.display_name)
        .outerjoin(Owner, Owner.id == Question.owner_id).where(Question.id.in_(pks)))}
    written = []
    for row in rows:
        tags, author = about.get(row["question_id"], ("", None))
        # Only what an entry says is read from it (entry_text): no id or link yet.
        event = Event(id=0, search_id=search_id, q=q, tagged=tagged, site_name=site_name,
                      kind=row["kind"], api_id=row["api_id"], title=row["title"],
                      changes=json.loads(row["changes"]), seen_at=row["seen_at"], link="",
                      tags=tag_names(tags or ""), author=author, site="", stored=False)
        written.append({**row, "entry": entry_text(event)})
    return written
