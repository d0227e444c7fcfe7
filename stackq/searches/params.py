"""Query-string parsing for result pages: every bad value is a 400 naming it."""

from pyramid.httpexceptions import HTTPBadRequest

from .saved import ORDERS, SORTS

MAX_PAGE = 1_000_000


def single(request, name):
    values = request.GET.getall(name)
    if len(values) > 1:
        raise HTTPBadRequest(f"{name} is given {len(values)} times; give it once")
    return values[0] if values else None


def parse_page(value):
    if value is None:
        return 1
    if not value.isdigit() or not value.isascii():
        raise HTTPBadRequest(f"page must be a whole number from 1, not {value!r}")
    page = int(value)
    if not 1 <= page <= MAX_PAGE:
        raise HTTPBadRequest(f"page must be from 1 to {MAX_PAGE}, not {value}")
    return page


def parse_choice(name, value, choices, default):
    if value is None:
        return default
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise HTTPBadRequest(f"{name} must be one of {allowed}, not {value!r}")
    return value


def parse_results_params(request, settings):
    """(page, per_page, sort, order) from the query string, defaults filled in."""
    sizes = [str(n) for n in settings.page_sizes]
    per_page = int(parse_choice("per_page", single(request, "per_page"), sizes, sizes[0]))
    sort = parse_choice("sort", single(request, "sort"), SORTS, settings.default_sort)
    # Titles read best A to Z; every other column shows the largest/newest first.
    order = parse_choice("order", single(request, "order"), ORDERS,
                         "asc" if sort == "title" else "desc")
    return parse_page(single(request, "page")), per_page, sort, order
