"""What every request passes: security headers, the guard, CSRF, templates, error pages.

Imports nothing at import time (the server imports `web.limits` before the process is
patched for gevent).
"""


def includeme(config):
    config.include(".templating")
    config.include(".csrf")  # with the security headers and the guard, its tweens
    config.include(".request_factory")
    config.add_static_view("static", "stackq.web:static", cache_max_age=3600)
    config.scan(".errors")
