"""Saved searches: the form, creating one, its results pages (upstream order fetched on
demand, or sorted in the database), and storing what the API answered."""


def includeme(config):
    from .manage import add_search_deletion
    from .resources import SEARCH_PATH, SavedSearchContext

    config.add_directive("add_search_deletion", add_search_deletion)

    config.add_route("query_new", "/queries/new")
    config.add_route("queries", "/queries")
    config.add_route("query", SEARCH_PATH, factory=SavedSearchContext)
    for action in ("pause", "resume", "delete"):
        config.add_route(f"query_{action}", f"{SEARCH_PATH}/{action}", factory=SavedSearchContext)
    config.add_route("api_query", "/api" + SEARCH_PATH, factory=SavedSearchContext)
    config.add_template_filter("result_rows", "stackq.searches.result_rows:result_rows")
    config.scan(".views")
    config.scan(".manage_views")
