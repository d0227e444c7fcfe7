"""Keeping saved searches fresh within the daily quota: the cycle `refresh_queries` runs,
its plan, its jobs, the `refresh` task kind and the results page's "Refresh now"."""


def includeme(config):
    from ..searches.resources import SEARCH_PATH, SavedSearchContext
    from .task import REFRESH, cancel_refreshes

    config.add_task_kind(REFRESH)
    config.add_search_deletion(cancel_refreshes)
    config.add_route("query_refresh", SEARCH_PATH + "/refresh", factory=SavedSearchContext)
    config.scan(".views")
