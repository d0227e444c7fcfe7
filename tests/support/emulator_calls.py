"""Calls to the emulator as a client sends them, without the project's client in the way."""

import gzip
import http.client
import json
import urllib.error
import urllib.request
import zlib
from typing import NamedTuple
from urllib.parse import urlencode

SO = "stackoverflow"


class Answer(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    raw: bytes  # decompressed

    def json(self):
        return json.loads(self.raw)


def call(emu, path, headers=None, timeout=5, **params):
    """GET /2.3/path with no Accept-Encoding unless given; the body decompressed."""
    conn = http.client.HTTPConnection(emu.host, emu.port, timeout=timeout)
    try:
        conn.putrequest("GET", f"/2.3/{path}?{urlencode(params)}", skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            conn.putheader(name, value)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    encoding = response.getheader("Content-Encoding")
    if encoding == "gzip":
        body = gzip.decompress(body)
    elif encoding == "deflate":
        body = zlib.decompress(body)
    return Answer(response.status, response.headers, body)


def ids(items):
    return [item["question_id"] for item in items]


def control(emu, name, body=None):
    """One /_emulator/ call: (status, JSON body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://{emu.host}:{emu.port}/_emulator/{name}", data=data,
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
