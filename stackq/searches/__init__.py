"""Saved searches: the form, creating one, its results pages (upstream order fetched on
demand, or sorted in the database), and storing what the API answered."""


def includeme(config):
    from .resources import SEARCH_PATH, SavedSearchContext

    config.add_route("query_new", "/queries/new")
    config.add_route("queries", "/queries")
    config.add_route("query", SEARCH_PATH, factory=SavedSearchContext)
    config.add_template_filter("result_rows", "stackq.searches.result_rows:result_rows")
    config.scan(".views")
