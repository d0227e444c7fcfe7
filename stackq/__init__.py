"""stackq: search and watch Stack Exchange sites, self-hosted."""

from .infra.settings import SettingsError, load_settings


def main(global_config, **settings):
    """Build the stackq WSGI application: one include per package, each wiring itself."""
    # Imported here, not at the top: `pserve` imports this package to find the
    # gevent server, which must patch the process before Pyramid is imported.
    from pyramid.config import Configurator

    try:
        settings = load_settings(settings, here=global_config.get("here"))
    except SettingsError as error:
        raise SystemExit(f"stackq: {error}") from None
    with Configurator(settings=settings) as config:
        config.include(".infra")  # request.settings, request.redis, the events channel
        config.include(".web")  # templates, CSRF, security headers, the guard, error pages
        config.include(".models")  # request.dbsession, what each commit changed
        config.include(".accounts")  # who may change things (stackq.auth.enabled)
        config.include(".server")  # what the server asks the app: quick requests, GC
        config.include(".notify")  # /ws
        config.include(".cache")  # the response cache
        config.include(".stackexchange")  # request.api
        config.include(".searches")  # /queries/...
        config.include(".watch")  # /queries/{id}/changes, the Atom feeds
        config.include(".archive")  # /questions/{site}/{id}
        config.include(".dashboard")  # / and /status
        config.include(".export")  # /queries/{id}/export.*
        config.include(".tasks")  # /tasks, /api/tasks, config.add_task_kind
        config.include(".harvest")  # the harvest task kind
        config.include(".refresh")  # the refresh task kind, "Refresh now"
        return config.make_wsgi_app()
