"""The start page: every saved search."""

from pyramid.view import view_config

from ..cache import CachedPage
from ..refresh.runs import last_run
from ..refresh.state import outlook_now
from ..searches.saved import list_searches


# Lists every search: any search's change makes it stale. It reads no query parameter.
@view_config(route_name="home", renderer="stackq.dashboard:templates/home.jinja2",
             request_method="GET",
             cached=CachedPage())
def home(request):
    return {"searches": list_searches(request.dbsession),
            "last_refresh": last_run(request.dbsession),
            "refresh": outlook_now(request.dbsession, request.api.status(),
                                   request.settings)}
