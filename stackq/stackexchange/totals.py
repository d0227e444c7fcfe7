"""How many results a call has: one call with the TOTAL filter, or pages counted.

`filter=total` is never used: its answer is `{"total": N}` alone, so a back-off on it is
hidden while the API enforces it. TOTAL keeps the back-off in sight (filters.py). If the API
will not make that filter, the default filter's `total` is no help (the default filter
leaves `total` out), so the count comes from the pages themselves: the last page of 100 is
found by doubling then halving, and its items added up, a few calls (about 2 log2(pages)).
"""

from __future__ import annotations

import logging

from .filters import TOTAL, NoFilter
from .policy import KEYLESS_LAST_PAGE

__all__ = ["COUNT_PAGE_SIZE", "count_by_pages", "count_results"]

log = logging.getLogger(__name__)

COUNT_PAGE_SIZE = 100  # the API's largest page


def count_results(api, method, site=None, **params) -> int:
    """Results of `method` with `params` on `api` (ApiAccess or BackgroundApi)."""
    try:
        total = api.fetch(method, site, filter=TOTAL, **params).total
    except NoFilter as exc:
        log.warning("%s; counting %s results by their pages", exc, method)
        total = None
    return total if total is not None else count_by_pages(api, method, site, **params)


def count_by_pages(api, method, site=None, **params) -> int:
    """Results counted from pages of 100 with the default filter.

    Exact within the pages the API serves; without a key it serves none past page 25, so a
    count beyond 2,500 stops there (the last page a keyless visitor can open anyway).
    """
    last_allowed = None if api.has_key else KEYLESS_LAST_PAGE

    def look(page):
        answer = api.fetch(method, site, page=page, pagesize=COUNT_PAGE_SIZE, **params)
        return len(answer.items), answer.has_more

    full, end = 0, None  # the last page known to have more after it; the first known empty
    page = 1
    while True:
        found, more = look(page)
        if not more and found:
            return (page - 1) * COUNT_PAGE_SIZE + found
        if more:
            full = page
        else:
            end = page
        if end is None:
            page = page * 2 if last_allowed is None else min(page * 2, last_allowed)
            if page == full:  # the last page the API serves has more after it
                return full * COUNT_PAGE_SIZE
        else:
            page = (full + end) // 2
            if page == full:  # full has more, full + 1 is empty: results moved meanwhile
                return full * COUNT_PAGE_SIZE
