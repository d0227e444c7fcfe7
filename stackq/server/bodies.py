"""A request's body, read whole before the request waits at the admission gate, within a
deadline and `MAX_BODY` bytes, or refused.

A body the app would refuse is refused on its declared length, unread (a `Content-Length` of
300 MB was read to its end, the 413 written before); a chunked one once it has sent more
than `MAX_BODY`. A client that sends too slowly is dropped (408), not waited for: 20 such
uploads had held admission slots and every page had waited.

Imports nothing that imports ``ssl`` (gunicorn imports this before its workers patch).
"""

import io

import gevent

from ..web.limits import MAX_BODY
from .connections import RequestTimeout

TOO_LARGE = ("413 Request Entity Too Large", f"stackq takes at most {MAX_BODY} bytes.")
TOO_SLOW = ("408 Request Timeout", "The request took too long to arrive.")
CLIENT_LEFT = ("", "")  # no answer: nobody to read it


def is_chunked(environ):
    return environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked"


def read_body_first(environ, deadline):
    """Read `environ`'s body into memory within `deadline` seconds: None when read (or
    none), else the refusal, (status, message), or `CLIENT_LEFT`."""
    chunked = is_chunked(environ)
    length = environ.get("CONTENT_LENGTH") or ""
    if not chunked:
        if not length.isdigit() or int(length) == 0:
            return None  # none (pywsgi refused a malformed length already)
        if int(length) > MAX_BODY:
            return TOO_LARGE
    try:
        with gevent.Timeout(deadline, RequestTimeout):
            body = environ["wsgi.input"].read(MAX_BODY + 1 if chunked else int(length))
    except RequestTimeout:
        return TOO_SLOW
    except OSError:  # cut short (pywsgi's "unexpected end of file"), a bad chunk, or reset
        return CLIENT_LEFT
    if len(body) > MAX_BODY:
        return TOO_LARGE
    environ["wsgi.input"] = io.BytesIO(body)
    return None
