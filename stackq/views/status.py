"""What the API access layer sees: mirrors, quota, back-off."""

from pyramid.view import view_config


@view_config(route_name="status", renderer="stackq:templates/status.jinja2", request_method="GET")
def status(request):
    request.response.cache_control = "no-store"
    return {"mirrors": request.api.status()}
