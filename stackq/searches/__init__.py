"""Saved searches: the form, creating one, its results pages (upstream order fetched on
demand, or sorted in the database), and storing what the API answered."""


def includeme(config):
    config.add_route("query_new", "/queries/new")
    config.add_route("queries", "/queries")
    # At most 18 digits: every such id fits the database's 64-bit integers (a longer one
    # is no page, not an overflow).
    config.add_route("query", r"/queries/{id:\d{1,18}}")
    config.add_template_filter("result_rows", "stackq.searches.result_rows:result_rows")
    config.scan(".views")
