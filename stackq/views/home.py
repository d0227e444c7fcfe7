"""The start page: every saved search."""

from pyramid.view import view_config
from sqlalchemy import func, select

from ..models import SavedSearch, SearchResult
from ..services.refresh_cycle import last_run
from ..services.refresh_state import outlook_now


@view_config(route_name="home", renderer="stackq:templates/home.jinja2", request_method="GET")
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
    settings = request.registry.settings["stackq.settings"]
    return {"searches": rows, "last_refresh": last_run(request.dbsession),
            "refresh": outlook_now(request.dbsession, request.api, settings)}
