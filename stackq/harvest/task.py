"""The `harvest` kind: pages of one search into its saved search, by the harvest service.

A task harvests upstream pages 1..N. A run stopped early (worker killed and rescued, or
SIGTERM) resumes after the last page stored (`resume=True`), still stopping at page N:
`checkpoint` carries the totals so far, and the page numbers say how far it is. A harvest
never spends the quota's reserve: where the next call would, it waits (pending, its pages
kept) until the quota renews, and resumes the same way.
"""

from ..refresh.reserve import ReserveReached, wait_for_quota
from ..searches.manage import SearchDeleted
from ..searches.saved import SearchInputError, find_site
from ..stackexchange.errors import QuotaExhausted
from ..stackexchange.policy import KEYLESS_LAST_PAGE
from ..tasks.context import TaskFailed, TaskInterrupted
from ..tasks.kinds import Kind
from ..tasks.validation import problem
from .answers import harvest_answers
from .service import HarvestRequest, run_harvest

TOTALS = ("new", "updated", "calls")
MAX_PAGES = 100  # with an API key; KEYLESS_LAST_PAGE without


def run_harvest_task(context, params):
    planned = params.get("pages", 1)
    progress = dict.fromkeys(("pages",) + TOTALS, 0)
    if context.resumed:
        progress.update({key: context.checkpoint.get(key, 0) for key in progress})
    left = planned - progress["pages"]
    if left <= 0:
        return dict(progress, stopped="done")
    request = HarvestRequest(q=params["q"], site=params["site"],
                             tagged=params.get("tagged") or None,
                             sort=params.get("sort", "activity"), max_pages=left,
                             resume=context.resumed, last_page=planned,
                             quota_reserve=context.quota_reserve)
    before = dict(progress)

    def on_page(page):
        # Pages 1..page are stored: the page number, not a count, survives a kill that
        # came between a page's commit and its checkpoint.
        # `page.new` and `page.updated` count that page's questions; `page.calls` the run's.
        progress.update(pages=page.page, new=progress["new"] + page.new,
                        updated=progress["updated"] + page.updated,
                        calls=before["calls"] + page.calls, quota_remaining=page.quota_remaining)
        context.report(f"page {page.page} stored ({progress['pages']}/{planned}): "
                       f"{page.questions} questions, {page.new} new, {page.updated} updated",
                       progress=progress["pages"] / planned, checkpoint=progress)

    def on_wait(seconds):
        context.log(f"waiting {seconds:.1f} s for the API")

    try:
        result = run_harvest(context.session_factory, context.api, request, on_page=on_page,
                             on_wait=on_wait, should_stop=context.should_stop)
        if result.stopped == "interrupted":
            raise TaskInterrupted()
        if params.get("answers"):
            progress.update(answers_of(context, result.query_id))
    except (ReserveReached, QuotaExhausted) as error:
        raise wait_for_quota(error) from None
    except SearchDeleted as error:
        raise TaskFailed(str(error)) from None
    return dict(progress, query_id=result.query_id, first_page=result.first_page,
                last_page=result.last_page, stopped=result.stopped,
                quota_remaining=result.quota_remaining)


def answers_of(context, query_id):
    """`answers`: the answers of the search's questions that lack them (a resumed task asks
    only for those still lacking); the result's counts."""
    done = harvest_answers(context.session_factory, context.api, query_id,
                           quota_reserve=context.quota_reserve,
                           should_stop=context.should_stop)
    if done.stopped:
        raise TaskInterrupted()
    context.log(f"stored {done.answers} answers of {done.questions} questions")
    return {"answers": done.answers}


def check_harvest(dbsession, params, has_key):
    errors = []
    try:
        params["site"] = find_site(dbsession, params["site"]).api_site_parameter
    except SearchInputError as error:
        errors.append(problem("site", str(error)))
    params.setdefault("sort", "activity")
    params.setdefault("pages", 1)
    if params["pages"] > KEYLESS_LAST_PAGE and not has_key:
        errors.append(problem("pages", f"at most {KEYLESS_LAST_PAGE} without an API key "
                                       "(stackq.api.key): the API serves no page past "
                                       f"{KEYLESS_LAST_PAGE}"))
    return errors


HARVEST = Kind(
    name="harvest",
    summary="Fetch pages of one search (100 questions a page) into its saved search.",
    params={
        "q": {"type": "string", "minLength": 1, "maxLength": 500,
              "description": "the search text"},
        "site": {"type": "string", "minLength": 1, "maxLength": 200,
                 "description": "a site's API name (e.g. stackoverflow) or its domain"},
        "tagged": {"type": ["string", "null"], "maxLength": 500,
                   "description": "tags, `;`-separated (any of them)"},
        "sort": {"type": "string", "enum": ["activity", "creation", "votes"],
                 "default": "activity"},
        "pages": {"type": "integer", "minimum": 1, "maximum": MAX_PAGES, "default": 1,
                  "description": f"upstream pages of 100; at most {KEYLESS_LAST_PAGE} "
                                 "without an API key"},
        "answers": {"type": "boolean", "default": False,
                    "description": "then store the answers of the search's questions that "
                                   "lack them (100 questions a call)"},
    },
    required=("q", "site"),
    run=run_harvest_task,
    check=check_harvest,
)
