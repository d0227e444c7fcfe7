"""Alembic environment: the database comes from the app's settings (ini + env)."""

from alembic import context
from pyramid.paster import get_appsettings, setup_logging
from sqlalchemy import engine_from_config

from stackq.infra.settings import load_settings
from stackq.models.meta import Base

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging"):
    setup_logging(config.config_file_name)

settings = config.attributes.get("settings")
if settings is None:
    settings = load_settings(get_appsettings(config.config_file_name))
target_metadata = Base.metadata


def run_migrations_offline():
    context.configure(url=settings["sqlalchemy.url"], target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = config.attributes.get("engine") or engine_from_config(settings, "sqlalchemy.")
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
