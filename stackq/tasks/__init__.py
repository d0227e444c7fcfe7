"""The task queue: tasks as database rows, kinds with params schemas, the worker loop
(run by `refresh_queries`), and the OpenAPI document of its JSON API.

Views: stackq/views/api_tasks.py (the API), stackq/views/api_docs.py (document, docs page).
"""

from ..infra.registry import TASKS_OPENAPI
from .api.openapi import document


def includeme(config):
    # Built once: the kinds are registered at import time.
    config.registry[TASKS_OPENAPI] = document()
    # Swagger UI's files, straight from the pip package (nothing copied into stackq).
    config.add_static_view("api/docs/static", "openapi_ui_bundles:swagger_ui/vendor",
                           cache_max_age=3600)
