"""Keep a search's stored pages in the true upstream order without fetching them again.

Each stored order (activity, creation, votes; desc or asc) is ranked again from the fresh
fields. Pages 1..k stored without a gap form a window; upstream, the window holds every
question that ranks at or before its last row. So the window becomes: every stored result
of the search whose fresh key ranks at or before the key its last row had, in order, cut at
k pages. If that leaves it short (questions deleted, or moved out), the pages left short are
forgotten, to be fetched again when someone opens them; so is a page after a gap, whose
place in the order cannot be known without the pages before it.
"""

from collections import defaultdict

from sqlalchemy import delete, select

from ..models import FetchedPage, SearchPosition
from ..models.upsert import upsert
from ..searches.ingest import UPSTREAM_PAGE_SIZE

# The sort each upstream order is by: a field of `Shown`.
SORT_FIELDS = {"activity": "activity", "creation": "creation", "votes": "votes"}


def sort_key(shown, sort):
    # The API's own tie-break is unknown; the question id makes the order total.
    return (getattr(shown, SORT_FIELDS[sort]), shown.question_id or 0)


def rank_window(window, before, after, sort, direction, complete):
    """The rows of a window of `window` (row ids in stored order), ranked afresh.

    `before`/`after`: {row id: Shown} before and after this refresh, over the search's
    stored results. A complete window (its last page said no more) takes every result.
    """
    descending = direction == "desc"
    last = window[-1]
    edge = sort_key(before.get(last) or after[last], sort)

    def inside(pk):
        key = sort_key(after[pk], sort)
        return key >= edge if descending else key <= edge

    members = [pk for pk in after if complete or inside(pk)]
    members.sort(key=lambda pk: sort_key(after[pk], sort), reverse=descending)
    return members


def rerank(dbsession, search_id, before, after):
    """Re-rank every stored order of a search; returns how many orders moved."""
    pages = dbsession.scalars(select(FetchedPage).where(FetchedPage.search_id == search_id))
    by_order = defaultdict(dict)
    for page in pages:
        by_order[page.sort, page.direction][page.page] = page
    moved = 0
    for (sort, direction), numbered in by_order.items():
        if sort not in SORT_FIELDS:
            continue
        count = 0
        while count + 1 in numbered:
            count += 1
        forget(dbsession, search_id, sort, direction, [n for n in numbered if n > count])
        if count:
            moved += rerank_order(dbsession, search_id, sort, direction,
                                  [numbered[n] for n in range(1, count + 1)], before, after)
    return moved


def rerank_order(dbsession, search_id, sort, direction, window_pages, before, after):
    size = len(window_pages) * UPSTREAM_PAGE_SIZE
    slot = ((SearchPosition.search_id == search_id) & (SearchPosition.sort == sort)
            & (SearchPosition.direction == direction))
    rows = dbsession.execute(
        select(SearchPosition.position, SearchPosition.question_id)
        .where(slot, SearchPosition.position <= size).order_by(SearchPosition.position)).all()
    window = [pk for _, pk in rows if pk in before or pk in after]
    if not window:
        return 0
    # Rows of deleted questions leave holes, which re-ranking closes.
    holes = [position for position, _ in rows] != list(range(1, len(rows) + 1))
    complete = not window_pages[-1].has_more
    ranked = rank_window(window, before, after, sort, direction, complete)
    beyond = len(ranked) > size
    ranked = ranked[:size]
    if ranked == window and not holes:
        return 0
    dbsession.execute(delete(SearchPosition).where(slot, SearchPosition.position <= size))
    if ranked:
        upsert(dbsession, SearchPosition,
               [{"search_id": search_id, "sort": sort, "direction": direction,
                 "position": i + 1, "question_id": pk} for i, pk in enumerate(ranked)],
               ["search_id", "sort", "direction", "position"])
    full, rest = divmod(len(ranked), UPSTREAM_PAGE_SIZE)
    kept = full + (1 if rest and complete else 0)
    if complete:
        # The last page of a complete result: it says whether more came in beyond it.
        last = window_pages[max(kept, 1) - 1]
        last.has_more = beyond
        last.item_count = len(ranked) - (max(kept, 1) - 1) * UPSTREAM_PAGE_SIZE
    forget(dbsession, search_id, sort, direction,
           [page.page for page in window_pages[max(kept, 1 if complete else 0):]])
    return 1


def forget(dbsession, search_id, sort, direction, numbers):
    """Forget stored pages: the next visitor's request fetches them from the API again."""
    if numbers:
        dbsession.execute(delete(FetchedPage).where(
            FetchedPage.search_id == search_id, FetchedPage.sort == sort,
            FetchedPage.direction == direction, FetchedPage.page.in_(numbers)))

