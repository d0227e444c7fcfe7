"""A search's change history page and the Atom feeds of one search or of every one."""

import hashlib
from datetime import datetime, timezone

from pyramid.httpexceptions import HTTPBadRequest
from pyramid.response import Response
from pyramid.view import view_config

from ..cache import CachedPage, parameters, search_in_path
from .feed import ATOM_TYPE, atom_feed, text
from .history import events_page, feed_events

MAX_PAGE = 10**6
EPOCH = datetime(2000, 1, 1)  # Last-Modified of a feed with no event yet


def page_number(request):
    """`?page=` as a whole number from 1 (a 400 page otherwise)."""
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise HTTPBadRequest(f"page must be a whole number from 1 to {MAX_PAGE}")
    return int(raw)


@view_config(route_name="query_changes", renderer="stackq.watch:templates/changes.jinja2",
             request_method="GET", cached=CachedPage(search_in_path("id"), parameters("page")))
def query_changes(request):
    search = request.context.search  # a 404 before anything else
    page = page_number(request)
    events, more = events_page(request.dbsession, search.id, page)
    return {"search": search, "events": events, "page": page, "more": more,
            "feed_url": request.route_url("query_feed", id=search.id)}


@view_config(route_name="query_feed", request_method="GET",
             cached=CachedPage(search_in_path("id")))
def query_feed(request):
    search_id = request.context.id
    heading, events = feed_events(request.dbsession, search_id)
    if heading is None:
        raise request.context.not_found()
    q, tagged, site_name, created_at = heading
    title = f"stackq: {q or tagged or 'any question'} on {site_name}"
    return feed_response(request, events, f"search/{search_id}", title,
                         request.route_url("query_feed", id=search_id),
                         request.route_url("query_changes", id=search_id), created_at)


@view_config(route_name="feed", request_method="GET", cached=CachedPage())
def every_search_feed(request):
    return feed_response(request, feed_events(request.dbsession)[1], "searches",
                         "stackq: every saved search", request.route_url("feed"),
                         request.route_url("home"), EPOCH)


def stored_copies(request):
    """`stored_url(event)`: the address of an event's stored copy, as XML text. route_url
    and escaping cost 40 us, fifty times a feed: done once per site, the id appended."""
    prefixes = {}

    def stored_url(event):
        prefix = prefixes.get(event.site)
        if prefix is None:
            prefix = prefixes[event.site] = text(request.route_url(
                "question", site=event.site, question_id=0)[:-1])
        return f"{prefix}{int(event.api_id)}"

    return stored_url


def feed_response(request, events, path, title, self_url, page_url, since):
    """The feed as an answer with ETag and Last-Modified (the conditional tween answers 304)."""
    updated = events[0].seen_at if events else since
    body = atom_feed(events, domain=request.domain, path=path, title=title,
                     self_url=self_url, page_url=page_url, updated=updated,
                     stored_url=stored_copies(request))
    response = Response(body=body, content_type=ATOM_TYPE, charset="utf-8")
    response.etag = hashlib.sha1(body).hexdigest()
    response.last_modified = updated.replace(tzinfo=timezone.utc)
    return response
