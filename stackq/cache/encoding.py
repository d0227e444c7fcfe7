"""Kept pages sent gzipped to the clients that ask for it, compressed once per copy.

Feed readers poll with `Accept-Encoding: gzip`; a 40 KB feed is 4 KB compressed. The cache
compresses a page once per local copy (a copy lives at most a second) and hands that to every
such client, where compressing each answer would cost a render's share of the time. Pages
rendered for one request go out as rendered: a proxy in front may compress them.
"""

import gzip

MIN_BYTES = 1024  # below a packet, the gzip framing outweighs what it saves
LEVEL = 6
TEXT_TYPES = ("text/", "application/atom+xml", "application/json", "application/xml")
VARY = ("Vary", "Accept-Encoding")


def accepts_gzip(environ):
    """Whether the request's Accept-Encoding takes gzip: named (or `*`) with no q or a q
    above 0 (RFC 9110, 12.5.3); a named `gzip;q=0` refuses it whatever `*` says."""
    header = environ.get("HTTP_ACCEPT_ENCODING", "").lower()
    if "gzip" not in header and "*" not in header:
        return False
    weights = {}
    for part in header.split(","):
        coding, _, params = part.partition(";")
        weights[coding.strip()] = quality(params)
    for coding in ("gzip", "x-gzip", "*"):
        if coding in weights:
            return weights[coding] > 0
    return False


def quality(params):
    """The q of an Accept-Encoding item's parameters (`q=0.5`); 1 if none, 0 if unreadable."""
    name, _, value = params.partition("=")
    if name.strip() != "q":
        return 1.0
    try:
        return float(value)
    except ValueError:
        return 0.0


def compressible(entry):
    """Whether a kept page is text long enough to be worth sending compressed."""
    if len(entry.body) < MIN_BYTES:
        return False
    for name, value in entry.headers:
        lowered = name.lower()
        if lowered == "content-encoding":
            return False
        if lowered == "content-type" and not value.startswith(TEXT_TYPES):
            return False
    return True


def forms(entry):
    """The entry's Forms, made on its first hit and kept on it (a local copy lives at most a
    second, so a page is compressed at most once a second in a process)."""
    if entry.forms is None:
        entry.forms = make_forms(entry)
    return entry.forms


class Forms:
    """How a kept page is sent: as stored, or gzipped to a client that takes it (each with
    `Vary: Accept-Encoding`, as what a cache in between may give depends on it)."""

    __slots__ = ("identity", "gzip")

    def __init__(self, identity, gzip=None):
        self.identity = identity  # (headers, body)
        self.gzip = gzip  # (headers, body) or None: sent as stored to everyone

    def for_request(self, environ):
        if self.gzip is not None and accepts_gzip(environ):
            return self.gzip
        return self.identity


def make_forms(entry):
    if not compressible(entry):
        return Forms((entry.headers, entry.body))
    # mtime 0: the same page gives the same bytes in every process.
    body = gzip.compress(entry.body, compresslevel=LEVEL, mtime=0)
    return Forms((entry.headers + [VARY], entry.body),
                 (gzip_headers(entry.headers) + [VARY], body))


def gzip_headers(headers):
    """The identity answer's headers for its gzipped bytes: the encoding, and an ETag of its
    own (a strong validator names one set of bytes). Content-Length is the Response's."""
    out = []
    for name, value in headers:
        if name.lower() == "etag":
            value = value[:-1] + '-gzip"' if value.endswith('"') else value + "-gzip"
        out.append((name, value))
    out.append(("Content-Encoding", "gzip"))
    return out
