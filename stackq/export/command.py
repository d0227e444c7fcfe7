"""`stackq_export development.ini QUERY_ID --format csv -o FILE`: a saved search's stored results.

The file is written under a temporary name beside FILE and renamed when complete, so a
crash never leaves a half-written report. `-o -` writes to stdout (csv, json, jsonl).
Exit codes: 0 written, 1 usage, settings or no such search. SIGTERM or SIGINT stops it at
once (no file written; the output cut short with `-o -`): exit 0 after SIGTERM, 130 after
Ctrl-C.
"""

import os
import sys

from pyramid.paster import get_appsettings
from sqlalchemy.exc import SQLAlchemyError

from ..infra.cli import USAGE, Parser, StopSignal, database_failed, raise_on_stop_signals
from ..infra.files import written_whole
from ..infra.registry import SETTINGS
from ..infra.settings import SettingsError, load_settings
from ..models import SavedSearch, get_engine, get_session_factory
from ..searches.saved import ORDERS, SORTS
from .report import FORMATS, write_export


def parse_args(argv):
    parser = Parser(prog="stackq_export", description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the ini file, e.g. development.ini")
    parser.add_argument("query_id", type=int, help="the saved search's id (/queries/ID)")
    parser.add_argument("--format", "-f", required=True, choices=sorted(FORMATS))
    parser.add_argument("-o", "--output", required=True, metavar="FILE",
                        help="the file to write, or - for stdout")
    parser.add_argument("--sort", choices=SORTS,
                        help="the results page's sort (default: stackq.default_sort)")
    parser.add_argument("--order", choices=ORDERS,
                        help="asc or desc (default: asc for title, else desc)")
    args = parser.parse_args(argv[1:])
    if args.output == "-" and not FORMATS[args.format].streams:
        parser.error(f"{args.format} cannot be written to stdout: give -o FILE")
    return args


def fail(text):
    print(f"stackq_export: {text}", file=sys.stderr)
    return USAGE


def main(argv=sys.argv):
    raise_on_stop_signals()
    args = parse_args(argv)
    try:
        return export(args)
    except StopSignal as stop:
        what = f"{args.output} not written"
        if args.output == "-":
            what = "the output is cut short"
            drop_stdout()  # the reader may not be reading: flushing it could block for ever
        print(f"stackq_export: stopped by {stop}; {what}", file=sys.stderr)
        return stop.exit_code


def export(args):
    try:
        raw = get_appsettings(args.config_uri)
        settings = load_settings(raw, here=raw.get("here"))[SETTINGS]
    except (FileNotFoundError, SettingsError) as error:
        return fail(str(error))
    sort = args.sort or settings.default_sort
    order = args.order or ("asc" if sort == "title" else "desc")
    engine = get_engine({"sqlalchemy.url": settings.sqlalchemy_url})
    try:
        with get_session_factory(engine)() as dbsession:
            search = dbsession.get(SavedSearch, args.query_id)
            if search is None:
                return fail(f"there is no saved search {args.query_id}")
            if args.output == "-":
                return to_stdout(dbsession, search, args.format, sort, order)
            with written_whole(args.output) as out:
                count = write_export(dbsession, search, args.format, out, sort, order)
    except SQLAlchemyError as error:
        return fail(database_failed(error, args.config_uri))
    finally:
        engine.dispose()
    print(f"{count} results of saved search {args.query_id} written to {args.output} "
          f"({args.format}, by {sort} {order})", file=sys.stderr)
    return 0


def to_stdout(dbsession, search, fmt, sort, order):
    try:
        write_export(dbsession, search, fmt, sys.stdout.buffer, sort, order)
        sys.stdout.buffer.flush()
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly.
        drop_stdout()
        return USAGE
    return 0


def drop_stdout():
    """What is still buffered for stdout goes nowhere: Python flushes it on the way out, which
    would complain of a broken pipe, or wait on a reader that does not read."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())
