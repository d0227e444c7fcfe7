"""Atom 1.0 (RFC 4287) feeds of change histories, written directly as text.

Not a feed library: feedgen (an lxml tree per entry) took 5.6 ms for 50 entries, more than the
rest of the request; this takes a fraction of that, and what an entry says is written once,
when its event is recorded (`entry_text`): a read adds only the id and links of its host.
Every text goes through `text()` (U+FFFD for characters XML 1.0 cannot hold, then
`html.escape` of & < > " ', whose entities are XML's own or numeric), which the hostile-title
tests check through a real feed parser.
Ids are `tag:` URIs (RFC 4151) of the host, the search, the question and the event: the same
entry has the same id on every read.
"""

import re
from html import escape

ATOM_TYPE = "application/atom+xml"
TAG_DATE = "2026"  # a tag URI's date: when the names were first minted, fixed for good
# Characters XML 1.0 has no place for (C0 controls but tab and newlines, lone surrogates,
# U+FFFE/U+FFFF); a title from the API may hold them.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def text(value):
    """`value` as XML character data or attribute value, escaped."""
    value = str(value)
    # Printable ASCII (a link, mostly) holds none of NOT_XML: the search is skipped.
    if not (value.isascii() and value.isprintable()) and NOT_XML.search(value):
        value = NOT_XML.sub("\ufffd", value)
    return escape(value)


def timestamp(moment):
    """RFC 3339 of a naive UTC datetime, as Atom wants it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def tag_uri(domain, path):
    return f"tag:{domain},{TAG_DATE}:stackq/{path}"


def atom_feed(events, *, domain, path, title, self_url, page_url, updated, stored_url):
    """The feed's bytes: `events` (newest first: `Event`s, or `FeedEvent`s with their
    entry's text) one entry each, in that order; `stored_url(event)` is the address of the
    question's stored copy, as XML text (escaped)."""
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<id>{text(tag_uri(domain, path))}</id><title>{text(title)}</title>"
        f"<updated>{timestamp(updated)}</updated><author><name>stackq</name></author>"
        f'<link href="{text(self_url)}" rel="self" type="{ATOM_TYPE}"/>'
        f'<link href="{text(page_url)}" rel="alternate" type="text/html"/>'
        "<generator>stackq</generator>"
    )
    # Escaped once: the rest of each id is numbers.
    id_prefix = text(tag_uri(domain, "search/"))
    entries = "".join([entry(event, id_prefix, stored_url) for event in events])
    return f"{head}{entries}</feed>\n".encode()


def entry(event, id_prefix, stored_url):
    """One entry: its id and links made for this host, what it says as it was written. Its
    page is the stored copy, the original beside it; the original alone for a question no
    longer stored."""
    original = text(event.link)
    if event.stored:
        links = (f'<link href="{stored_url(event)}" rel="alternate" type="text/html"/>'
                 f'<link href="{original}" rel="related" type="text/html"/>')
    else:
        links = f'<link href="{original}" rel="alternate" type="text/html"/>'
    return (f"<entry><id>{id_prefix}{event.search_id}/question/{event.api_id}/event/"
            f"{event.id}</id>{links}{event.entry or entry_text(event)}</entry>")


def entry_text(event):
    """What an entry says, the same on every host and every read (an `Event`): its title,
    date, summary, categories and author. Written once, when the event is recorded."""
    categories = "".join(f'<category term="{text(tag)}"/>' for tag in event.tags)
    author = f"<author><name>{text(event.author)}</name></author>" if event.author else ""
    return (
        f"<title>{text(event.headline)}</title>"
        f"<updated>{timestamp(event.seen_at)}</updated>"
        f'<summary type="html">{text(summary_html(event))}</summary>'
        f"{categories}{author}"
    )


def summary_html(event):
    """A short HTML summary: what changed, and where (escaped here, and escaped again as the
    text of an html-typed element)."""
    lines = [escape(line) for line in event.details] or [escape(event.headline)]
    where = escape(f"In the saved search “{event.q or event.tagged}” on {event.site_name}")
    items = "".join(f"<li>{line}</li>" for line in lines)
    return f"<ul>{items}</ul><p>{where}</p>"
