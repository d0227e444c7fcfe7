"""The start page: every saved search."""

from pyramid.view import view_config
from sqlalchemy import func, select

from ..cache import CachedPage
from ..models import SavedSearch, SearchResult
from ..services.refresh_cycle import last_run


# Lists every search: any search's change makes it stale.
@view_config(route_name="home", renderer="stackq:templates/home.jinja2", request_method="GET",
             cached=CachedPage())
def home(request):
    stored = (
        select(SearchResult.search_id, func.count().label("stored"))
        .group_by(SearchResult.search_id)
        .subquery()
    )
    rows = request.dbsession.execute(
        select(SavedSearch, func.coalesce(stored.c.stored, 0))
        .outerjoin(stored, stored.c.search_id == SavedSearch.id)
        .order_by(SavedSearch.id.desc())
    ).all()
    return {"searches": rows, "last_refresh": last_run(request.dbsession)}
