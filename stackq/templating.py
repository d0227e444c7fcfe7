"""Jinja2 templates (autoescaped) and the filters they use."""


def format_datetime(moment):
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def format_number(number):
    return f"{number:,}" if number is not None else "?"


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.filters", "\n".join([
        "datetime = stackq.templating:format_datetime",
        "number = stackq.templating:format_number",
    ]))
    config.include("pyramid_jinja2")
