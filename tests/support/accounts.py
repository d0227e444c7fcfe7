"""Accounts in tests: users made as `stackq_user` makes them, committed on the test module's
own stack (tests/support/stack.py), and a visitor signing in through the form."""

import re

import webtest
from sqlalchemy import text

from stackq.accounts.users import add_user, issue_token
from stackq.models import new_transaction
from tests.support.apps import stackq_app
from tests.support.searches import form_token

SECRET = "test-secret-" + "s" * 40
# [app:main] settings of a stack with accounts on.
AUTH_ON = {"stackq.auth.enabled": "true", "stackq.session.secret": SECRET}
PASSWORD = "correct horse battery staple"
SESSION_COOKIE = "stackq_session"
SIGN_IN_LINK = re.compile(r'href="([^"]*/login\?next=[^"]*)"')


def make_user(stack, name="alice", password=PASSWORD):
    with new_transaction(stack.session_factory) as dbsession:
        add_user(dbsession, name, password)


def make_token(stack, name="alice"):
    with new_transaction(stack.session_factory) as dbsession:
        return issue_token(dbsession, name)[0]


def clean_accounts(stack):
    """No user, no token, no failed sign-in counted: `stack.clean()` empties Redis."""
    stack.clean()
    with stack.engine.begin() as connection:
        connection.execute(text("DELETE FROM api_tokens"))
        connection.execute(text("DELETE FROM users"))


def accounts_app(stack, cleanup, **settings):
    """The app on `stack` with accounts on (and `settings`), response cache on."""
    return stackq_app({**stack.raw_settings, **AUTH_ON, "stackq.cache.ttl": "60", **settings},
                      stack.engine, cleanup)


def sign_in(visitor, name="alice", password=PASSWORD, next_path="/", status=303, **kwargs):
    page = visitor.get("/login", {"next": next_path})
    token = form_token(page.text)
    return visitor.post("/login", {"username": name, "password": password, "next": next_path,
                                   "csrf_token": token}, status=status, **kwargs)


def new_browser(app, **environ):
    return webtest.TestApp(app, extra_environ={"REMOTE_ADDR": "192.0.2.10", **environ})
