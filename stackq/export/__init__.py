"""A saved search's stored results as CSV, XLSX or JSON: the views and `stackq_export`."""


def includeme(config):
    config.add_route("query_export", r"/queries/{id:\d{1,18}}/export.{format:csv|xlsx|json}")
    config.scan(".views")
