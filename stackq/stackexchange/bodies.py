"""Question and answer bodies, sanitised once, on ingest, to an allow-list (nh3).

The API's safe filters already send HTML, but a stored body is served from our own origin,
so nothing in it may run or reach out: no script, style, event attribute, iframe, form or
`javascript:` link survives; the text inside them does. Links keep http(s) targets only
and get `rel="nofollow noopener"`; images keep https sources only (the page's CSP then
decides whether they load: it allows only 'self', so they show their alt text, see
docs/archive.md). Relative URLs are dropped: on our host they would point nowhere.
"""

from __future__ import annotations

import html
import re

import nh3

__all__ = ["body_text", "clean_body"]

TAGS = {
    "p", "br", "hr", "pre", "code", "kbd", "sup", "sub", "blockquote", "b", "strong", "i", "em",
    "s", "strike", "del", "ins", "ul", "ol", "li", "dl", "dt", "dd",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "img",
    "table", "thead", "tbody", "tfoot", "tr", "th", "td",
}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "ol": {"start"}, "th": {"align"}, "td": {"align"}}


def _url_filter(tag, attribute, value):
    if tag == "img" and attribute == "src" and not value.lower().startswith("https://"):
        return None  # an image of another scheme would load over plain http (or worse)
    return value


_CLEANER = nh3.Cleaner(
    tags=TAGS, attributes=ATTRIBUTES, clean_content_tags=set(),
    attribute_filter=_url_filter, link_rel="nofollow noopener",
    url_schemes={"http", "https"}, url_relative="deny", strip_comments=True)


def clean_body(html: str | None) -> str | None:
    """The body with only the allow-list left; None stays None (no body was sent)."""
    if html is None:
        return None
    return _CLEANER.clean(str(html))


# Where a block of a sanitised body ends: its words go on after a space.
_BLOCK_END = re.compile(r"<(?:br|hr)\b[^>]*>|</(?:p|pre|li|h[1-6]|blockquote|tr|dt|dd)>", re.I)
# A tag of a sanitised body: the cleaner escapes every other `<`, and `>` in attributes, so a
# pattern finds them all (half the time nh3 took to strip them, for every row of an export).
_TAG = re.compile(r"<[^>]*>")


def body_text(body: str | None) -> str | None:
    """A body sanitised by `clean_body` as plain text on one line (a report's row is one
    line): what exports show."""
    if body is None:
        return None
    text = html.unescape(_TAG.sub("", _BLOCK_END.sub(lambda m: m.group(0) + " ", body)))
    return " ".join(text.split())
