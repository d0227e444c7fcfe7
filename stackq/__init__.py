"""stackq: search and watch Stack Exchange sites, self-hosted."""

from .settings import SettingsError, load_settings


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
        config.include(".settings")
        config.include(".templating")
        config.include(".security")
        config.include(".models")
        config.include(".redis_client")
        config.include(".pubsub")
        config.include(".notify")
        config.include(".gc_tuning")
        config.include(".cache")
        config.include(".stackexchange")
        config.include(".tasks")
        config.include(".routes")
        config.scan(".views")
        config.include(".request_factory")
        config.include(".priority")
        return config.make_wsgi_app()
