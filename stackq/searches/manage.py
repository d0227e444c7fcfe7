"""What the owner of a saved search decides: pause it, resume it, delete it.

A paused search costs no API call: the refresher leaves it out of its plan, so its share of
the quota goes to the others (refresh/state.py), and its "Refresh now" says it is paused
(refresh/task.py). Deleting a search removes every row that belongs to it (each table with a
foreign key to `saved_searches`: its results, positions, stored pages, what it last showed,
and any table added later, a change history included) but never a question: the archive
keeps them. Other features act in the same transaction through
`config.add_search_deletion(hook)` (the refresher cancels its waiting refresh tasks).
Either change is a change of the `SavedSearch` row, so once it commits the after-commit hook
(models/changes.py) drops the search's cached pages and every page listing searches.
"""

from sqlalchemy import delete

from ..infra.registry import SEARCH_DELETED
from ..models import SavedSearch
from ..models.meta import Base


class SearchDeleted(LookupError):
    """The saved search was deleted while something (a harvest) was storing into it."""

    def __init__(self, search_id):
        super().__init__(f"saved search {search_id} was deleted meanwhile: nothing more is "
                         "stored for it")


def set_paused(dbsession, search, paused):
    """Pause (or resume) `search` (a SavedSearch): the refresher skips a paused one."""
    search.paused = paused
    dbsession.flush()  # recorded now: its pages and the listings go once this commits


def rows_of_search():
    """(table, column) of every table whose rows belong to one saved search, from the
    foreign keys to it: a table added later is removed with its search without a word here."""
    return [(table, fk.parent) for table in reversed(Base.metadata.sorted_tables)
            for fk in table.foreign_keys if fk.column.table is SavedSearch.__table__]


def delete_search(dbsession, search, hooks=()):
    """Delete `search` and every row of it, keeping its questions; `hooks(dbsession,
    search_id)` run first, in this transaction."""
    search_id = search.id
    for hook in hooks:
        hook(dbsession, search_id)
    for table, column in rows_of_search():
        dbsession.execute(delete(table).where(column == search_id))
    dbsession.delete(search)
    dbsession.flush()


def deletion_hooks(registry):
    """The hooks features registered for a deleted search, in the order they were added."""
    return registry.get(SEARCH_DELETED, ())


def add_search_deletion(config, hook):
    """`config.add_search_deletion(hook)`: `hook(dbsession, search_id)` runs in the
    transaction that deletes a saved search, before its rows go."""
    config.registry.setdefault(SEARCH_DELETED, []).append(hook)
