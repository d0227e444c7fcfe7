"""Users and API tokens: the service both the sign-in views and `stackq_user` call."""

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select

from ..infra.clock import utcnow
from ..models import ApiToken, User
from .passwords import hash_password, needs_rehash, password_matches

NAME = re.compile(r"[A-Za-z0-9._@-]{1,150}\Z")
TOKEN_PREFIX = "stackq_"


class AccountError(ValueError):
    """A request about accounts that cannot be done (taken name, no such user); says why."""


def check_name(name):
    if not NAME.match(name or ""):
        raise AccountError(f"{name!r} is not a user name: 1 to 150 letters, digits or . _ @ -")
    return name


def find_user(dbsession, name):
    return dbsession.scalars(select(User).where(User.name == name)).one_or_none()


def new_password_hash(password):
    if not password:
        raise AccountError("the password is empty")
    return hash_password(password)


def add_user(dbsession, name, password):
    if find_user(dbsession, check_name(name)) is not None:
        raise AccountError(f"there is a user {name} already")
    user = User(name=name, password_hash=new_password_hash(password), created_at=utcnow())
    dbsession.add(user)
    dbsession.flush()
    return user


def existing_user(dbsession, name):
    user = find_user(dbsession, name)
    if user is None:
        raise AccountError(f"there is no user {name}")
    return user


def change_password(dbsession, name, password):
    """Give the user a new password; every session of theirs ends (its fingerprint was made
    from the old hash), their API tokens stay."""
    existing_user(dbsession, name).password_hash = new_password_hash(password)
    dbsession.flush()


def remove_user(dbsession, name):
    """Remove the user and their tokens; their sessions end at their next request."""
    dbsession.delete(existing_user(dbsession, name))
    dbsession.flush()


def all_users(dbsession):
    return dbsession.scalars(select(User).order_by(User.name)).all()


def authenticate(dbsession, name, password):
    """The user `name` if `password` is theirs, else None. An unknown name costs what a wrong
    password does (one query, one argon2 verification)."""
    user = find_user(dbsession, name) if NAME.match(name or "") else None
    if not password_matches(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def token_hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(dbsession, name):
    """A new API token for `name`: (the token, shown once, never stored; its row)."""
    user = existing_user(dbsession, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=token_hash(token), created_at=utcnow())
    dbsession.add(row)
    dbsession.flush()
    return token, row


def revoke_token(dbsession, name, token_id):
    user = existing_user(dbsession, name)
    row = dbsession.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise AccountError(f"{name} has no token {token_id}")
    dbsession.delete(row)
    dbsession.flush()


def user_for_token(dbsession, token):
    """The user `token` belongs to, or None (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = dbsession.scalars(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token))).one_or_none()
    return row.user if row is not None else None


def session_fingerprint(secret, user):
    """What a session cookie holds of the user's password hash, signed with the site's secret:
    a new password (or the name removed and added again) ends every older session."""
    digest = hmac.new(secret.encode(), f"{user.id}:{user.password_hash}".encode(), "sha256")
    return digest.hexdigest()[:32]
