"""Migration 0011 makes `users` and `api_tokens` as the models have them (a token goes with its
user), and takes them away again."""

import alembic.command
from sqlalchemy import inspect

from stackq.accounts.users import add_user, issue_token, remove_user
from stackq.models import ApiToken, get_session_factory
from tests.support.database import migrate


def test_upgrade_makes_users_and_tokens_and_downgrade_drops_them(migration_engine):
    migrate(migration_engine, alembic.command.upgrade, "0011")
    with get_session_factory(migration_engine)() as dbsession:
        add_user(dbsession, "alice", "pw")
        issue_token(dbsession, "alice")
        dbsession.commit()
        remove_user(dbsession, "alice")
        dbsession.commit()
        assert dbsession.query(ApiToken).count() == 0

    migrate(migration_engine, alembic.command.downgrade, "0010")
    assert not {"users", "api_tokens"} & set(inspect(migration_engine).get_table_names())
