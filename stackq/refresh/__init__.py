"""Keeping saved searches fresh within the daily quota: the cycle `refresh_queries` runs,
its plan, its jobs, the `refresh` task kind and the results page's "Refresh now"."""


def includeme(config):
    from .task import REFRESH

    config.add_task_kind(REFRESH)
    config.add_route("query_refresh", r"/queries/{id:\d{1,18}}/refresh")
    config.scan(".views")
