def includeme(config):
    config.add_static_view("static", "stackq.web:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.add_route("query_new", "/queries/new")
    config.add_route("queries", "/queries")
    # At most 18 digits: every such id fits the database's 64-bit integers (a longer one
    # is no page, not an overflow).
    config.add_route("query", r"/queries/{id:\d{1,18}}")
    config.add_route("query_export", r"/queries/{id:\d{1,18}}/export.{format:csv|xlsx|json}")
    config.add_route("status", "/status")

    # Tasks: the JSON API (results before {id}), its OpenAPI document and docs page, and
    # the results page's "Refresh now" (stackq/views/api_tasks.py, api_docs.py, refresh_now.py).
    config.add_route("api_tasks", "/api/tasks")
    config.add_route("api_task_results", "/api/tasks/results")
    config.add_route("api_task", "/api/tasks/{id}")
    config.add_route("api_openapi", "/api/openapi.json")
    config.add_route("api_docs", "/api/docs")
    config.add_route("query_refresh", r"/queries/{id:\d{1,18}}/refresh")

    # Task pages: start a harvest, watch it live, cancel it, the queue and history
    # (stackq/views/task_pages.py).
    config.add_route("task_new", "/tasks/new")
    config.add_route("tasks", "/tasks")
    config.add_route("task", r"/tasks/{id:\d{1,18}}")
    config.add_route("task_cancel", r"/tasks/{id:\d{1,18}}/cancel")
