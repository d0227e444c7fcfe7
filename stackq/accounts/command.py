"""`stackq_user development.ini add|password|remove|list|token|revoke NAME`: users and API tokens.

`add NAME` asks for the password twice (or reads one line from standard input with
`--password-stdin`), as does `password NAME`, which gives the user a new one and ends every
session of theirs (their tokens stay); `token NAME` prints a new API token once, as the last
word of its output (only its hash is stored); `revoke NAME ID` ends one token; `list` shows
users and their tokens' ids. Passwords and tokens are never logged.
Exit codes: 0 done, 1 usage, settings, database, or an impossible request (no such user).
"""

import getpass
import sys

from pyramid.paster import get_appsettings
from sqlalchemy.exc import SQLAlchemyError

from ..infra.cli import USAGE, Parser, database_failed
from ..infra.registry import SETTINGS
from ..infra.settings import SettingsError, load_settings
from ..models import get_engine, get_session_factory
from .users import (
    AccountError,
    add_user,
    all_users,
    change_password,
    issue_token,
    remove_user,
    revoke_token,
)


def parse_args(argv):
    parser = Parser(prog="stackq_user", description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the ini file, e.g. production.ini")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a user (asks for the password)")
    password = actions.add_parser(
        "password", help="give a user a new password, ending every session of theirs")
    for action in (add, password):
        action.add_argument("name")
        action.add_argument("--password-stdin", action="store_true",
                            help="read the password from one line of standard input")
    actions.add_parser("remove", help="remove a user and their tokens").add_argument("name")
    actions.add_parser("list", help="users and their tokens")
    actions.add_parser("token", help="print a new API token for a user").add_argument("name")
    revoke = actions.add_parser("revoke", help="end one API token of a user")
    revoke.add_argument("name")
    revoke.add_argument("token_id", type=int, help="the token's id (see list)")
    return parser.parse_args(argv[1:])


def fail(text):
    print(f"stackq_user: {text}", file=sys.stderr)
    return USAGE


def read_password(from_stdin):
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        raise AccountError("the two passwords differ")
    return password


def act(dbsession, args):
    """Do what `args` asks; the lines to print."""
    if args.action == "add":
        user = add_user(dbsession, args.name, read_password(args.password_stdin))
        return [f"user {user.name} added"]
    if args.action == "password":
        change_password(dbsession, args.name, read_password(args.password_stdin))
        return [f"password of {args.name} changed; every session of theirs has ended"]
    if args.action == "remove":
        remove_user(dbsession, args.name)
        return [f"user {args.name} removed, with their tokens"]
    if args.action == "token":
        token, row = issue_token(dbsession, args.name)
        return [f"API token {row.id} for {args.name}; it is shown once, send it as"
                f" 'Authorization: Bearer TOKEN':", token]
    if args.action == "revoke":
        revoke_token(dbsession, args.name, args.token_id)
        return [f"API token {args.token_id} of {args.name} revoked"]
    lines = []
    for user in all_users(dbsession):
        tokens = ", ".join(f"{t.id} (made {t.created_at:%Y-%m-%d})" for t in user.tokens)
        lines.append(f"{user.name}\tsince {user.created_at:%Y-%m-%d}\ttokens: {tokens or 'none'}")
    return lines or ["no users"]


def main(argv=sys.argv):
    args = parse_args(argv)
    try:
        raw = get_appsettings(args.config_uri)
        settings = load_settings(raw, here=raw.get("here"))[SETTINGS]
    except (FileNotFoundError, SettingsError) as error:
        return fail(str(error))
    engine = get_engine({"sqlalchemy.url": settings.sqlalchemy_url})
    try:
        with get_session_factory(engine)() as dbsession:
            lines = act(dbsession, args)
            dbsession.commit()
    except AccountError as error:
        return fail(str(error))
    except SQLAlchemyError as error:
        return fail(database_failed(error, args.config_uri))
    except (EOFError, KeyboardInterrupt):
        return fail("no password given")
    finally:
        engine.dispose()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
