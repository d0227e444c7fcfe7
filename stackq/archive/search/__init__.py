"""Full-text search over every stored question and its answers: `/search`, `/api/search`.

The index lives in the database (models/fulltext.py, migration 0010); this package parses
the search box's language (query.py), asks the engine's index (sqlite.py, postgresql.py)
and highlights the page shown (highlight.py).
"""

from ...infra.registry import OPENAPI_PATHS
from .openapi import PATHS, SCHEMAS


def includeme(config):
    config.add_route("search", "/search")
    config.add_route("api_search", "/api/search")
    config.registry.setdefault(OPENAPI_PATHS, []).append((PATHS, SCHEMAS))
    config.scan(".views")
