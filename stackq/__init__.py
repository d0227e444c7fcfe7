"""stackq: search and watch Stack Exchange sites, self-hosted."""

from pyramid.config import Configurator

from .settings import SettingsError, load_settings


def main(global_config, **settings):
    """Build the stackq WSGI application."""
    try:
        settings = load_settings(settings, here=global_config.get("here"))
    except SettingsError as error:
        raise SystemExit(f"stackq: {error}") from None
    with Configurator(settings=settings) as config:
        config.include(".templating")
        config.include(".security")
        config.include(".models")
        config.include(".stackexchange")
        config.include(".routes")
        config.scan(".views")
        return config.make_wsgi_app()
