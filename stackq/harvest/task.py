"""The `harvest` kind: pages of one search into its saved search, by the harvest service.

A task harvests upstream pages 1..N. A run stopped early (worker killed and rescued, or
SIGTERM) resumes after the last page stored (`resume=True`), still stopping at page N:
`checkpoint` carries the totals so far, and the page numbers say how far it is.
"""

from ..cache import invalidate_searches
from ..tasks.context import TaskInterrupted

TOTALS = ("new", "updated", "calls")


def run_harvest_task(context, params):
    # Imported here: the harvest service (stackq.harvest.service) is its own feature.
    from .service import HarvestRequest, run_harvest

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
                             resume=context.resumed, last_page=planned)
    before = dict(progress)

    def on_page(page):
        # Pages 1..page are stored: the page number, not a count, survives a kill that
        # came between a page's commit and its checkpoint.
        progress.update(pages=page.page, new=before["new"] + page.new,
                        updated=before["updated"] + page.updated,
                        calls=before["calls"] + page.calls, quota_remaining=page.quota_remaining)
        context.report(f"page {page.page} stored ({progress['pages']}/{planned}): "
                       f"{page.questions} questions, {page.new} new, {page.updated} updated",
                       progress=progress["pages"] / planned, checkpoint=progress)

    def on_wait(seconds):
        context.log(f"waiting {seconds:.1f} s for the API")

    result = run_harvest(context.session_factory, context.api, request, on_page=on_page,
                         on_wait=on_wait, should_stop=context.should_stop)
    invalidate_searches(context.redis, [result.query_id])
    if result.stopped == "interrupted":
        raise TaskInterrupted()
    return dict(progress, query_id=result.query_id, first_page=result.first_page,
                last_page=result.last_page, stopped=result.stopped,
                quota_remaining=result.quota_remaining)
