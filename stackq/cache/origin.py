"""Opt-in caching: a view says its answers may be kept, and what makes them stale.

As warehouse's `origin_cache`: nothing is cached unless its view says so, with
`cached=CachedPage(...)` in its `view_config`. The page names the saved search
its entry depends on (`search`, from the route's match), or none, for pages that
list every search; and which query parameters it reads (`query`): the key holds
those and no other, so junk parameters (`?n=1&p=<4 KB>`, `?n=2…`) make no new
entry each. A route whose views do not opt in is never looked up and never stored.
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from pyramid.interfaces import IRoutesMapper

from .store import LISTINGS, search_generation

ROUTES = "stackq.cache.routes"  # registry: route name -> CachedPage


def parameters(*names):
    """`query=parameters("tab", "q")`: the page reads these query parameters, as given (a
    page that fills in defaults passes its own function instead, as the results page does)."""
    def query(request):
        return urlencode(sorted((name, value) for name in names
                                for value in request.GET.getall(name)))

    return query


@dataclass(frozen=True)
class CachedPage:
    # matchdict -> the id of the saved search the page shows; None: a page listing searches
    search: object = None
    # request -> the query string the page depends on, normalized (may raise HTTPBadRequest);
    # by default it reads none
    query: object = parameters()

    def generation_key(self, match):
        """The counter whose change makes this page stale."""
        return LISTINGS if self.search is None else search_generation(self.search(match))


def search_in_path(name):
    """`search=search_in_path("id")`: the page shows the search `/…/{id}` names."""
    return lambda match: int(match[name])


def cached_view(view, info):
    """View deriver: records the routes whose views opted in; the view runs unchanged."""
    page = info.options.get("cached")
    if page is not None:
        info.registry.setdefault(ROUTES, {})[info.options["route_name"]] = page
    return view


cached_view.options = ("cached",)


def cached_page(registry, request):
    """(CachedPage, matchdict) of the route `request` reaches if its view opted in, else None."""
    pages = registry.get(ROUTES)
    if not pages:
        return None
    found = registry.getUtility(IRoutesMapper)(request)
    route = found["route"]
    page = pages.get(route.name) if route is not None else None
    return (page, found["match"]) if page is not None else None
