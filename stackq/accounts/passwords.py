"""Passwords as argon2id hashes (argon2-cffi's defaults: RFC 9106's low-memory choice)."""

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..infra.blocking import off_the_loop

HASHER = PasswordHasher()
MAX_PASSWORD = 1024  # characters: argon2 takes any length, a 1 MB "password" costs its hashing


def hash_password(password):
    return HASHER.hash(password)


@functools.cache
def stand_in_hash():
    """A hash no password is checked against for real: a name that does not exist costs the
    same argon2 verification as a wrong password, so timing does not tell names apart."""
    return HASHER.hash("stackq: no such user")


def verify(password_hash, password):
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_matches(password_hash, password):
    """Whether `password` is the one `password_hash` was made from; `password_hash` None (no
    such user) checks against the stand-in, as long, and is False."""
    matched = off_the_loop(verify, password_hash or stand_in_hash(), password)
    return matched and password_hash is not None


def needs_rehash(password_hash):
    """Whether the hash was made with weaker parameters than today's (rehash at sign-in)."""
    return HASHER.check_needs_rehash(password_hash)
