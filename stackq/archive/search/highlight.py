"""Highlighted text as HTML: everything escaped, the matched words in `<mark>`."""

import html
import re

from ...models.fulltext import MARK_END, MARK_START, plain_text

_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.S)
_MARKS = str.maketrans("", "", MARK_START + MARK_END)
LEAD_WORDS = 40  # a hit with no matched word to show begins with this many words


def marked_html(text):
    """`text` (plain, with MARK_START/MARK_END around matches) as HTML with <mark>."""
    escaped = html.escape(text or "", quote=False)
    return _MARKED.sub(r"<mark>\1</mark>", escaped).translate(_MARKS)


def has_mark(text):
    return bool(text) and MARK_START in text


def lead(body):
    """The first words of a body, as HTML: the snippet of a hit matched by filters alone."""
    words = (plain_text(body) or "").split()
    text = " ".join(words[:LEAD_WORDS]) + (" …" if len(words) > LEAD_WORDS else "")
    return marked_html(text)
