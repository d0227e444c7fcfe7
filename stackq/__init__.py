"""stackq: search and watch Stack Exchange sites, self-hosted."""

from .infra.settings import SettingsError, load_settings


def main(global_config, **settings):
    """Build the stackq WSGI application."""
    # Imported here, not at the top: `pserve` imports this package to find the
    # gevent server, which must patch the process before Pyramid is imported.
    from pyramid.config import Configurator

    try:
        settings = load_settings(settings, here=global_config.get("here"))
    except SettingsError as error:
        raise SystemExit(f"stackq: {error}") from None
    with Configurator(settings=settings) as config:
        config.include(".infra.settings")
        config.include(".web.templating")
        config.include(".web.csrf")
        config.include(".models")
        config.include(".infra.redis_client")
        config.include(".infra.pubsub")
        config.include(".notify")
        config.include(".server.gc_tuning")
        config.include(".cache")
        config.include(".stackexchange")
        config.include(".tasks")
        config.include(".web.routes")
        config.scan(".web.errors")
        config.scan(".searches.views")
        config.scan(".dashboard.home")
        config.scan(".dashboard.status")
        config.scan(".export.views")
        config.scan(".refresh.views")
        config.scan(".tasks.api.views")
        config.scan(".tasks.api.docs")
        config.scan(".tasks.pages.views")
        config.include(".web.request_factory")
        config.include(".server.priority")
        return config.make_wsgi_app()
