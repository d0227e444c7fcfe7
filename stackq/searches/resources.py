"""The saved search a route's `{id}` names: the context of the views under /queries/{id}.

`config.add_route(name, SEARCH_PATH + "/…", factory=SavedSearchContext)`: the view finds
the search in `request.context`, and a search that does not exist is a 404 with one message
wherever it is asked for.
"""

from pyramid.decorator import reify
from pyramid.httpexceptions import HTTPNotFound

from .saved import get_search, read_search

__all__ = ["SEARCH_PATH", "SavedSearchContext"]

# At most 18 digits: every such id fits the database's 64-bit integers (a longer one is no
# page, not an overflow).
SEARCH_PATH = r"/queries/{id:\d{1,18}}"


class SavedSearchContext:
    """The route factory (and context) of a page of one saved search.

    Nothing is read until the view asks, so a page reads its search in the statement it
    needs (the results page reads the search and whether its upstream page is stored in
    one): `search` is the ORM object, `shown(upstream_page)` the results page's read. Each
    raises HTTPNotFound when there is no such search; a view asks before it reads its
    parameters, so that a missing search is a 404 whatever else is asked of it.
    """

    def __init__(self, request):
        self.request = request
        self.id = int(request.matchdict["id"])

    def not_found(self):
        return HTTPNotFound(f"there is no saved search {self.id}")

    @reify
    def search(self):
        """The saved search (a SavedSearch), read once."""
        search = get_search(self.request.dbsession, self.id)
        if search is None:
            raise self.not_found()
        return search

    def shown(self, upstream_page=None):
        """The search as its results page shows it (`read_search`: one statement)."""
        search = read_search(self.request.dbsession, self.id, upstream_page)
        if search is None:
            raise self.not_found()
        return search
