"""The task queue: tasks as database rows, the kinds the features register, the worker loop
(run by `refresh_queries`), the JSON API (`api/`) and the task pages (`pages/`)."""

from ..infra.registry import OPENAPI_PATHS, TASKS_OPENAPI, settings_of

# After every kind is registered (add_task_kind's actions run at order 0).
AFTER_KINDS = 10


def build_openapi(registry):
    from .api.openapi import document
    from .kinds import kinds_of

    registry[TASKS_OPENAPI] = document(kinds_of(registry), registry.get(OPENAPI_PATHS, ()),
                                       settings_of(registry).auth_enabled)


def includeme(config):
    config.include(".kinds")
    config.action(None, build_openapi, (config.registry,), order=AFTER_KINDS)
    # The JSON API (results before {id}), its OpenAPI document and docs page.
    config.add_route("api_tasks", "/api/tasks")
    config.add_route("api_task_results", "/api/tasks/results")
    config.add_route("api_task", "/api/tasks/{id}")
    config.add_route("api_openapi", "/api/openapi.json")
    config.add_route("api_docs", "/api/docs")
    # Swagger UI's files, straight from the pip package (nothing copied into stackq).
    config.add_static_view("api/docs/static", "openapi_ui_bundles:swagger_ui/vendor",
                           cache_max_age=3600)
    # The pages: start a harvest, watch a task live, cancel it, the queue and history.
    config.add_route("task_new", "/tasks/new")
    config.add_route("tasks", "/tasks")
    config.add_route("task", r"/tasks/{id:\d{1,18}}")
    config.add_route("task_cancel", r"/tasks/{id:\d{1,18}}/cancel")
    config.scan(".api")
    config.scan(".pages")
