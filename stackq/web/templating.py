"""Jinja2 templates (autoescaped) and the filters they use."""

from datetime import datetime

from pyramid_jinja2 import EXTRAS_CONFIG_PHASE

from ..infra.registry import SITE_LINKS


def format_datetime(moment):
    """`2024-05-01 13:45`, or "never". A results page formats two a row."""
    if not moment:
        return "never"
    if type(moment) is datetime and moment.tzinfo is None and moment.year >= 1000:
        return moment.isoformat(" ", "minutes")  # the same text, a quarter of strftime's time
    return moment.strftime("%Y-%m-%d %H:%M")


def format_number(number):
    return f"{number:,}" if number is not None else "?"


# What every page's layout links to: (name, route or static asset).
SITE_ROUTES = ("home", "query_new", "tasks", "status", "search")
SITE_ASSETS = {"css": "stackq.web:static/stackq.css",
               "notify_css": "stackq.web:static/notify.css",
               "notify_js": "stackq.web:static/notify.js",
               "csrf_form_js": "stackq.web:static/csrf_form.js"}
MAX_HOSTS = 100  # forged Host headers must not grow the table without end


def site_links(request):
    """The links of the layout and of pages' scripts, built once per host the site is asked
    for (not per page)."""
    built = request.registry.setdefault(SITE_LINKS, {})
    links = built.get(request.application_url)
    if links is None:
        if len(built) >= MAX_HOSTS:
            built.clear()
        links = {name: request.route_url(name) for name in SITE_ROUTES}
        links.update({name: request.static_url(asset) for name, asset in SITE_ASSETS.items()})
        links.update(ws_path=request.route_path("ws"), query_path=request.route_path("query", id=0))
        built[request.application_url] = links
    return links


def format_duration(seconds, to="minute", unknown="never"):
    """A duration in its two largest units, to the minute or to the second; `unknown` for None.

    `to="minute"`, how often something happens: `3 h 20 min`, `10 min`, `45 s` (under half a
    minute). `to="second"`, how long something took or will take: `2 h 5 min`, `3 min 20 s`,
    `12 s`, `4.2 s` (a fraction under ten seconds).
    """
    if to not in ("minute", "second"):
        raise ValueError(f"to must be 'minute' or 'second', not {to!r}")
    if seconds is None:
        return unknown
    if to == "second" and seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f} s"
    step = 60 if to == "minute" and round(seconds / 60) >= 1 else 1
    whole = round(seconds / step) * step
    if whole < 60:
        return f"{whole} s"
    parts = [(whole // 3600, "h"), (whole // 60 % 60, "min"), (whole % 60, "s")]
    first = 0 if parts[0][0] else 1
    return " ".join(f"{count} {unit}" for count, unit in parts[first:first + 2] if count)


def add_template_filter(config, name, function):
    """`config.add_template_filter(name, function)`: a Jinja2 filter of the package that
    includes it (a dotted name or the function), once the templates' environment exists."""
    function = config.maybe_dotted(function)

    def register():
        config.get_jinja2_environment().filters[name] = function

    config.action(("stackq.template_filter", name), register, order=EXTRAS_CONFIG_PHASE)


def includeme(config):
    config.add_request_method(site_links, "site_links", reify=True)
    config.include("pyramid_jinja2")
    config.add_directive("add_template_filter", add_template_filter)
    config.add_template_filter("datetime", format_datetime)
    config.add_template_filter("number", format_number)
    config.add_template_filter("duration", format_duration)
