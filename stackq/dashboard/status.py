"""What the API access layer sees (each mirror's rate, back-off, ban and quota; cache hits),
and the last refresh cycle."""

from pyramid.view import view_config

from ..refresh.runs import last_run
from ..refresh.state import outlook_now


@view_config(route_name="status", renderer="stackq.dashboard:templates/status.jinja2",
             request_method="GET")
def status(request):
    # Live numbers: never kept by a cache or a browser.
    request.response.cache_control = "no-store"
    # The access layer's status is several Redis round trips: read once, for the mirrors
    # and for the plan's quota alike.
    api = request.api.status()
    return {"api": api, "last_refresh": last_run(request.dbsession),
            "refresh": outlook_now(request.dbsession, api, request.settings)}
