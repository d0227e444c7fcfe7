"""Atom 1.0 feeds of change histories, written by feedgen (which escapes every text it is
given: titles are the API's, so anyone's).

Ids are `tag:` URIs (RFC 4151) of the host, the search, the question and the event: the same
entry has the same id on every read, so a feed reader shows it once.
"""

import re
from datetime import timezone

from feedgen.feed import FeedGenerator
from markupsafe import escape

ATOM_TYPE = "application/atom+xml"
TAG_DATE = "2026"  # a tag URI's date: when the names were first minted, fixed for good
# Characters XML 1.0 has no place for (C0 controls but tab and newlines, lone surrogates,
# U+FFFE/U+FFFF): lxml refuses them, a title from the API may hold them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text):
    return NOT_XML.sub("\ufffd", text)


def aware(moment):
    return moment.replace(tzinfo=timezone.utc)


def tag_uri(domain, path):
    return f"tag:{domain},{TAG_DATE}:stackq/{path}"


def atom_feed(events, *, domain, path, title, self_url, page_url, updated):
    """The feed's bytes: `events` (newest first) one entry each, in that order."""
    feed = FeedGenerator()
    feed.id(tag_uri(domain, path))
    feed.title(xml_text(title))
    feed.updated(aware(updated))
    feed.author(name="stackq")
    feed.link(href=self_url, rel="self", type=ATOM_TYPE)
    feed.link(href=page_url, rel="alternate", type="text/html")
    for event in events:
        add_entry(feed, event, domain)
    return feed.atom_str(pretty=False)


def add_entry(feed, event, domain):
    entry = feed.add_entry(order="append")  # feedgen prepends by default
    entry.id(tag_uri(domain, f"search/{event.search_id}/question/{event.api_id}"
                             f"/event/{event.id}"))
    entry.title(xml_text(event.headline))
    entry.updated(aware(event.seen_at))
    entry.link(href=event.link, rel="alternate", type="text/html")
    entry.summary(xml_text(summary_html(event)), type="html")
    for tag in event.tags:
        entry.category(term=xml_text(tag))
    if event.author:
        entry.author(name=xml_text(event.author))


def summary_html(event):
    """A short HTML summary: what changed, and where (escaped: feedgen escapes it again as
    the text of an html-typed element)."""
    lines = [escape(line) for line in event.details] or [escape(event.headline)]
    where = escape(f"In the saved search “{event.q or event.tagged}” on {event.site_name}")
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f"<ul>{items}</ul><p>{where}</p>"
