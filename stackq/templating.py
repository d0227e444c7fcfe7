"""Jinja2 templates (autoescaped) and the filters they use."""


def format_datetime(moment):
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "never"


def format_number(number):
    return f"{number:,}" if number is not None else "?"


def format_duration(seconds):
    """3 h 20 min, 10 min, 45 s: how often something happens."""
    if seconds is None:
        return "never"
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    return " ".join(part for part in (f"{hours} h" if hours else "",
                                      f"{minutes} min" if minutes else "") if part)


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("jinja2.filters", "\n".join([
        "datetime = stackq.templating:format_datetime",
        "number = stackq.templating:format_number",
        "duration = stackq.templating:format_duration",
    ]))
    config.include("pyramid_jinja2")
