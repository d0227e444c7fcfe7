"""A saved search's stored results as CSV, XLSX or JSON: the views and `stackq_export`."""


def includeme(config):
    from ..searches.resources import SEARCH_PATH, SavedSearchContext

    config.add_route("query_export", SEARCH_PATH + "/export.{format:csv|xlsx|json}",
                     factory=SavedSearchContext)
    config.scan(".views")
