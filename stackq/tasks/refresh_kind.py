"""The `refresh` kind: refresh one saved search now, as a refresh cycle does.

Fetch every stored page again (network only), then store, diff and announce in one short
transaction, with the refresher's own service. A cancel or SIGTERM arriving while the pages
are fetched drops them: the search is refreshed whole or not at all.
"""

from ..cache import invalidate_searches
from ..models import SavedSearch
from ..services.ingest import utcnow
from ..services.refresh import fetch_refresh, remember_shown, store_refresh, stored_pages
from ..services.refresh_cycle import CountingApi, RefreshCycle
from .context import TaskFailed, TaskInterrupted

# Fetching is most of a refresh: the bar moves by each answer up to here, then storing.
FETCHED = 0.9


class ReportingApi(CountingApi):
    """Counts calls, and moves the task's bar after each answer (a page on the task's page)."""

    def __init__(self, context, planned):
        super().__init__(context.api)
        self.context = context
        self.planned = planned

    def fetch(self, method, site=None, **params):
        answer = super().fetch(method, site, **params)
        self.context.report(f"API answer {self.calls} of {self.planned} fetched",
                            progress=FETCHED * min(self.calls, self.planned) / self.planned)
        return answer


def run_refresh_task(context, params):
    search_id = params["query_id"]
    with context.session_factory() as dbsession:
        search = dbsession.get(SavedSearch, search_id)
        if search is None:
            raise TaskFailed(f"there is no saved search {search_id}")
        pages = stored_pages(dbsession, search_id)
        label = f"{search.q or search.tagged!r} on {search.site.api_site_parameter}"
    context.report(f"refreshing saved search {search_id} ({label}): {len(pages)} stored pages",
                   progress=0.0)
    api = ReportingApi(context, len(pages) + 1)  # each stored page, then the total
    answers, total = fetch_refresh(api, search, pages)
    context.report(f"fetched {len(pages)} pages and the total in {api.calls} API calls",
                   progress=FETCHED)
    if context.should_stop():
        raise TaskInterrupted()
    # The refresher's transaction and announcement, so both say the same things.
    cycle = RefreshCycle(context.session_factory, context.api, context.redis)
    tm, dbsession = cycle.transaction()
    with tm:
        search = dbsession.get(SavedSearch, search_id)
        if search is None:
            raise TaskFailed(f"saved search {search_id} was deleted during its refresh")
        remember_shown(dbsession)
        now = utcnow()
        diff = store_refresh(dbsession, search, answers, total, now)
        notice = {"query_id": search.id, "q": search.q, "site": search.site.api_site_parameter,
                  "at": now, **diff.counts()}
    if diff.total:
        cycle.announce(notice)
    else:  # the pages listing searches show when each was refreshed
        invalidate_searches(context.redis, [search_id])
    counts = diff.counts()
    context.report(f"{counts['new']} new, {counts['changed']} changed, "
                   f"{counts['removed']} removed", progress=1.0)
    return {"query_id": search_id, "total": total, "calls": api.calls, **counts}
