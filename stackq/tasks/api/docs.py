"""The API's OpenAPI document and its readable docs page (Swagger UI, served by the app)."""

from pyramid.view import view_config

from ...infra.registry import TASKS_OPENAPI


@view_config(route_name="api_openapi", request_method="GET", renderer="json")
def openapi_document(request):
    return request.registry[TASKS_OPENAPI]


@view_config(route_name="api_docs", request_method="GET",
             renderer="stackq.tasks.api:templates/api_docs.jinja2")
def api_docs(request):
    return {}
