"""Which clients take a kept page gzipped, and which pages go so (stackq/cache/encoding.py)."""

import gzip

import pytest

from stackq.cache.encoding import accepts_gzip, forms
from stackq.cache.store import Entry

TEXT = [("Content-Type", "text/html; charset=UTF-8"), ("ETag", '"abc"')]


@pytest.mark.parametrize(("header", "takes"), [
    ("gzip", True), ("gzip, deflate, br", True), ("deflate, GZIP;q=0.5", True),
    ("x-gzip", True), ("*", True), ("br;q=1.0, *;q=0.1", True),
    ("gzip;q=0", False), ("gzip; q=0.000", False), ("*;q=0", False),
    ("gzip;q=0, *", False), ("deflate, br", False), ("identity", False), ("", False),
    ("gzip;q=nonsense", False), ("gzipped", False),
])
def test_accept_encoding_is_read_with_its_weights(header, takes):
    assert accepts_gzip({"HTTP_ACCEPT_ENCODING": header}) is takes


def test_no_accept_encoding_gets_the_page_as_stored():
    entry = Entry(200, list(TEXT), b"x" * 4096, 0.0, 1)
    headers, body = forms(entry).for_request({})
    assert body == entry.body and ("Vary", "Accept-Encoding") in headers


def test_a_text_page_is_compressed_once_with_an_etag_of_its_own():
    entry = Entry(200, list(TEXT), "é stackq ".encode() * 500, 0.0, 1)
    asked = {"HTTP_ACCEPT_ENCODING": "gzip"}
    headers, body = forms(entry).for_request(asked)
    assert gzip.decompress(body) == entry.body
    assert dict(headers)["ETag"] == '"abc-gzip"' and dict(headers)["Content-Encoding"] == "gzip"
    assert forms(entry).for_request(asked)[1] is body  # kept on the entry
    assert entry.headers == TEXT  # the stored headers are left as they were


@pytest.mark.parametrize(("headers", "size"), [
    (TEXT, 200),  # too small to gain
    ([("Content-Type", "image/png")], 4096),  # compressed already
    ([("Content-Type", "text/csv"), ("Content-Encoding", "br")], 4096),
])
def test_pages_not_worth_compressing_go_as_stored(headers, size):
    entry = Entry(200, list(headers), b"a" * size, 0.0, 1)
    sent_headers, body = forms(entry).for_request({"HTTP_ACCEPT_ENCODING": "gzip"})
    assert body == entry.body and sent_headers == headers
