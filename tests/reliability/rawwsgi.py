"""Requests as raw bytes, straight into the WSGI app: what a browser or WebTest would never
send (undecodable paths, bad headers), without a client that re-encodes or refuses them."""

import io
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict
    body: str

    @property
    def text(self):
        return self.body


@dataclass
class Visitor:
    """A browser's cookies, across raw requests."""

    app: object
    host: str = "example.com"
    cookies: dict = field(default_factory=dict)
    remote_addr: str = "127.0.0.1"  # the client's address, as the server would say

    def request(self, method, path, query=b"", body=b"", content_type=None, headers=None,
                environ=None):
        env = {
            "REQUEST_METHOD": method, "SCRIPT_NAME": "", "SERVER_NAME": "example.com",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": self.remote_addr,
            "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
            # WSGI carries the raw bytes of the path and query string as latin-1 text.
            "PATH_INFO": path.decode("latin-1") if isinstance(path, bytes) else path,
            "QUERY_STRING": query.decode("latin-1") if isinstance(query, bytes) else query,
            "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
            "HTTP_HOST": self.host,
        }
        if content_type:
            env["CONTENT_TYPE"] = content_type
        if self.cookies:
            env["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for name, value in (headers or {}).items():
            env["HTTP_" + name.upper().replace("-", "_")] = value
        env.update(environ or {})
        started = {}

        def start_response(status, headerlist, exc_info=None):
            started["status"], started["headers"] = status, headerlist

        chunks = self.app(env, start_response)
        try:
            data = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
        headers = {}
        for name, value in started["headers"]:
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name] = rest.split(";", 1)[0]
            headers[name] = value
        return Answer(int(started["status"].split()[0]), headers,
                      data.decode("utf-8", "replace"))
