"""`stackq_harvest development.ini -s QUERY`: fetch many pages of one search into stackq.

Pages go into the saved search the web app shows, one committed transaction per page, so
`-r` (resume) continues after the last page stored, whatever stopped the run before.
SIGTERM or Ctrl-C once: a call waiting for an API slot gives up at once, a call under way
is answered and its page stored (given up after STOP_GRACE s), then the run ends; twice: at
once. It leaves the quota's reserve (stackq.refresh.quota_reserve) to people browsing, as
tasks do, unless told --use-reserve: the operator's own call, e.g. on a host nobody browses.
Exit codes: 0 done, 1 usage or settings, 2 upstream failure, 3 quota exhausted or down to its
reserve; after a stop 0 (SIGTERM) or 130 (Ctrl-C).
"""

import argparse
import logging
import signal
import sys
import threading

from pyramid.paster import bootstrap, setup_logging
from sqlalchemy.exc import SQLAlchemyError

from ..infra.cli import STOP_EXIT, USAGE, Parser, database_failed
from ..infra.registry import API, DBSESSION_FACTORY, settings_of
from ..refresh.reserve import ReserveReached
from ..searches.manage import SearchDeleted
from ..searches.saved import UPSTREAM_SORTS, SearchInputError
from ..stackexchange import QuotaExhausted, RateLimited, StackExchangeError
from ..stackexchange.access import Stopped
from ..stackexchange.policy import KEYLESS_LAST_PAGE
from .answers import harvest_answers
from .progress import calls_text, progress_for, quota_text
from .service import HARVEST_MAX_WAIT, HarvestRequest, run_harvest

log = logging.getLogger("stackq.harvest")

OK, UPSTREAM, QUOTA, INTERRUPTED = 0, 2, 3, 130
# Once stopping, a call under way gets this long to be answered (then: stopped at once, its
# method slot left held until its in-flight bound, as a killed process's).
STOP_GRACE = 5.0
STOPPED = {
    "done": "",
    "end": "; the last page of the results is stored",
    "interrupted": "; interrupted: rerun with -r to continue",
}


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not at least 1")
    return value


def parse_args(argv):
    parser = Parser(prog="stackq_harvest", description=__doc__.splitlines()[0])
    parser.add_argument("config_uri", help="the ini file, e.g. development.ini")
    parser.add_argument("-s", "--search-query", default="", metavar="QUERY",
                        help="the words to search for")
    parser.add_argument("--site", default="stackoverflow",
                        help="the site's API name or domain (default stackoverflow)")
    parser.add_argument("--tagged", default="", metavar="TAGS",
                        help="any of these tags, ';'-separated")
    parser.add_argument("--sort", default="activity", choices=UPSTREAM_SORTS,
                        help="the API's order (default activity)")
    parser.add_argument("-m", "--max-pages-count", type=positive_int, default=1, metavar="N",
                        help="upstream pages of 100 questions to fetch (default 1)")
    parser.add_argument("-r", "--continue-parsing", action="store_true",
                        help="continue after the last page stored for this search and sort")
    parser.add_argument("--json-dir", metavar="DIR",
                        help="also write each page's items to DIR/<md5>/page_<n>.json")
    parser.add_argument("--max-wait", type=positive_int, default=int(HARVEST_MAX_WAIT),
                        metavar="SECONDS", help="how long a call may wait for an API slot or"
                        f" the daily quota's renewal before the run stops (default"
                        f" {int(HARVEST_MAX_WAIT)})")
    parser.add_argument("--answers", action="store_true",
                        help="then store the answers of the search's questions that lack"
                        " them (100 questions a call)")
    parser.add_argument("--use-reserve", action="store_true",
                        help="spend the share of the daily quota kept for people browsing"
                        " (stackq.refresh.quota_reserve) too")
    return parser.parse_args(argv[1:])


class Stopping:
    """SIGTERM / Ctrl-C once: no call waits for a slot any more (`on_stop`), the page under
    way is stored if its call is answered within STOP_GRACE s; twice (or after STOP_GRACE):
    KeyboardInterrupt now."""

    def __init__(self):
        self.event = threading.Event()
        self.progress = None
        self.on_stop = []  # filled once the app is up: its ApiAccess's stop
        self.exit_code = INTERRUPTED

    def install(self):
        for signum in STOP_EXIT:
            signal.signal(signum, self.handle)

    def handle(self, signum, frame):
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        self.exit_code = STOP_EXIT[signum]
        for stop in self.on_stop:
            stop()
        signal.signal(signal.SIGALRM, self.give_up)
        signal.setitimer(signal.ITIMER_REAL, STOP_GRACE)
        text = (f"{signal.Signals(signum).name}: stopping; a page already asked for is stored"
                " (again to stop at once)")
        if self.progress is not None:
            self.progress.say(text)
        else:
            print(text, file=sys.stderr, flush=True)

    def give_up(self, signum, frame):
        raise KeyboardInterrupt

    def done(self):
        """The run is over: no STOP_GRACE alarm may cut what follows short."""
        signal.setitimer(signal.ITIMER_REAL, 0)

    def __call__(self):
        return self.event.is_set()


def request_from(args, quota_reserve=0.0):
    return HarvestRequest(q=args.search_query, site=args.site, tagged=args.tagged or None,
                          sort=args.sort, max_pages=args.max_pages_count,
                          resume=args.continue_parsing, json_dir=args.json_dir,
                          max_wait=args.max_wait,
                          quota_reserve=0.0 if args.use_reserve else quota_reserve)


def search_label(request):
    """`'python' on stackoverflow`, `'' tagged python;sql on stackoverflow`."""
    tagged = f" tagged {request.tagged}" if request.tagged else ""
    return f"{request.q!r}{tagged} on {request.site}"


def summary(request, result, progress):
    """`harvested 4 pages (1-4) of 'python' on stackoverflow into saved search 7: ...`."""
    pages = f"{result.pages} pages" if result.pages != 1 else "1 page"
    if result.pages:
        pages += f" ({result.first_page}-{result.last_page})"
    return (f"harvested {pages} of {search_label(request)} into saved search "
            f"{result.query_id}: {progress.questions} questions, {result.new} new, "
            f"{result.updated} updated; {calls_text(result.calls, 'API ')}, "
            f"{quota_text(result.quota_remaining)}{STOPPED.get(result.stopped, '')}")


def key_needed_text(progress):
    # Pages are fetched in order, so the page that needs a key is always the first past 25.
    return (f"stackq_harvest: page {KEYLESS_LAST_PAGE + 1} needs an API key: without"
            f" one the Stack Exchange API serves no page past {KEYLESS_LAST_PAGE}"
            f" (set stackq.api.key); {progress.stored_text()}")


def failed(progress, code, message):
    """End the display, say why on stderr; the exit code."""
    progress.close()
    print(f"stackq_harvest: {message}", file=sys.stderr)
    return code


def harvest(registry, request, stopping, answers=False):
    """Run the harvest with its display (then its answers, if asked); the exit code."""
    progress = stopping.progress = progress_for(search_label(request))
    stopping.on_stop.append(registry[API].stop)
    if stopping():  # a signal while starting up
        registry[API].stop()
    try:
        try:
            result = run_harvest(registry[DBSESSION_FACTORY], registry[API], request,
                                 on_page=progress.page, on_wait=progress.wait,
                                 should_stop=stopping)
        finally:
            stopping.done()
    except KeyboardInterrupt:
        return failed(progress, stopping.exit_code, f"stopped at once; {progress.stored_text()}"
                                                    " (rerun with -r to continue)")
    except Stopped:  # before the first page: the search's total was not asked yet
        return failed(progress, stopping.exit_code, f"stopped; {progress.stored_text()}")
    except QuotaExhausted as error:
        return failed(progress, QUOTA, f"{error}; {progress.stored_text()} (rerun with -r then)")
    except ReserveReached as error:
        return failed(progress, QUOTA, f"{error}; the quota renews at {error.renews_at:%H:%M}"
                                       f" UTC; {progress.stored_text()} (rerun with -r then,"
                                       " or now with -r --use-reserve)")
    except (RateLimited, StackExchangeError) as error:
        return failed(progress, UPSTREAM, f"the API failed: {error}; {progress.stored_text()} "
                                          "(rerun with -r to continue)")
    except (SearchInputError, SearchDeleted) as error:
        return failed(progress, USAGE, str(error))
    progress.close()
    print(summary(request, result, progress), flush=True)
    if answers and result.stopped != "interrupted":
        code = harvest_answers_of(registry, request, result.query_id, stopping)
        if code != OK:
            return code
    if result.stopped == "key_needed":
        print(key_needed_text(progress), file=sys.stderr)
        return USAGE
    return stopping.exit_code if result.stopped == "interrupted" else OK


def harvest_answers_of(registry, request, query_id, stopping):
    """`--answers`: the answers of the search's stored questions; the exit code."""
    try:
        done = harvest_answers(registry[DBSESSION_FACTORY], registry[API], query_id,
                               max_wait=request.max_wait, quota_reserve=request.quota_reserve,
                               should_stop=stopping)
    except (Stopped, KeyboardInterrupt):
        print("stackq_harvest: answers stopped (rerun with --answers to go on)", file=sys.stderr)
        return stopping.exit_code
    except (ReserveReached, RateLimited, StackExchangeError) as error:
        print(f"stackq_harvest: answers not all fetched: {error} (rerun with -r --answers)",
              file=sys.stderr)
        return QUOTA if isinstance(error, (ReserveReached, QuotaExhausted)) else UPSTREAM
    print(f"stored {done.answers} answers of {done.questions} questions of saved search"
          f" {query_id}; {calls_text(done.calls, 'API ')}", flush=True)
    return stopping.exit_code if done.stopped else OK


def main(argv=sys.argv):
    stopping = Stopping()
    stopping.install()  # first of all: a Ctrl-C while starting up stops cleanly too
    args = parse_args(argv)
    try:
        setup_logging(args.config_uri)
        env = bootstrap(args.config_uri)
    except FileNotFoundError as error:
        print(f"stackq_harvest: {error}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        return INTERRUPTED
    with env:
        request = request_from(args, settings_of(env["registry"]).refresh_quota_reserve)
        try:
            return harvest(env["registry"], request, stopping, answers=args.answers)
        except SQLAlchemyError as error:
            print(f"stackq_harvest: {database_failed(error, args.config_uri)}", file=sys.stderr)
            return USAGE


if __name__ == "__main__":
    sys.exit(main())
