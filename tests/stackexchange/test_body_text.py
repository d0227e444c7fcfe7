"""A sanitised body as an export's text: tags dropped by a pattern (stackq/stackexchange/
bodies.py), which must read exactly as the sanitiser stripping them would, whatever the API
sent."""

import html

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from stackq.stackexchange.bodies import _BLOCK_END, body_text, clean_body


def stripped_by_the_sanitiser(body):
    text = html.unescape(nh3.clean(_BLOCK_END.sub(lambda m: m.group(0) + " ", body), tags=set()))
    return " ".join(text.split())


PIECES = st.sampled_from([
    "<p>", "</p>", "<br>", "<b>", "</b>", "<code>", "</code>", "<pre>", "</pre>", "<li>", "</li>",
    '<a href="https://x/?a=1&b=2" title="1 > 0">', "</a>", '<img src="https://i/x.png" alt="a>b">',
    '<img alt="<script>">', "<script>", "</script>", "<!-- c -->", "<", ">", "&", "&lt;", "&amp;",
    "&#x3C;", '"', "'", "é", "\u202e", "word", " ", "\n", "<style>p{}</style>", "<td>", "</tr>",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(PIECES, max_size=40).map("".join))
def test_any_sanitised_body_reads_as_the_sanitiser_would_strip_it(raw):
    body = clean_body(raw)
    assert body_text(body) == stripped_by_the_sanitiser(body)


HOSTILE = [
    '<p onclick="x()">a<script>alert(1)</script>b</p>',
    '<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)>',
    "<svg><g/onload=alert(2)//<p>",
    '<p title="a>b">c</p><iframe src="https://e"></iframe>',
    "<<p>x</p>>", "<p>1 < 2 > 0 &amp;&lt;</p>", "<!--><p>x</p>-->", "<p>\u202egnp.exe</p>",
    '<table><tr><td>a</td><td>b</td></tr></table><ul><li>c<li>d</ul>',
]


def test_hostile_bodies_read_as_the_sanitiser_would_strip_them():
    for raw in HOSTILE:
        body = clean_body(raw)
        assert body_text(body) == stripped_by_the_sanitiser(body), raw


def test_blocks_are_parted_by_a_space_and_inline_tags_are_not():
    body = clean_body("<p>a<b>b</b>c</p><p>d</p><pre><code>x &amp;&amp; y</code></pre>")
    assert body_text(body) == "abc d x && y"
    assert body_text(None) is None
