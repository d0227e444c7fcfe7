def includeme(config):
    config.add_static_view("static", "stackq:static", cache_max_age=3600)
    config.add_route("home", "/")
    config.add_route("query_new", "/queries/new")
    config.add_route("queries", "/queries")
    config.add_route("query", r"/queries/{id:\d+}")
    config.add_route("query_export", r"/queries/{id:\d+}/export.{format:csv|xlsx|json}")
    config.add_route("status", "/status")
