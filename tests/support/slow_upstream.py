"""A slow network in front of the emulator: every API call takes `delay` seconds longer.

A real HTTP server on loopback that waits, then forwards the call to the emulator and
its answer back unchanged; `in_flight` counts the calls it holds at this moment.
"""

import contextlib
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FORWARDED_HEADERS = ("Content-Type", "Content-Encoding")


class SlowUpstream:
    def __init__(self, target_url, delay=0.0):
        self.target = target_url.rstrip("/")  # e.g. http://127.0.0.1:8765/2.3
        self.delay = delay
        self.in_flight = 0
        self.served = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy.forward(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self):
        host, port = self.server.server_address
        prefix = self.target.split("/", 3)[3] if self.target.count("/") >= 3 else ""
        return f"http://{host}:{port}/{prefix}".rstrip("/")

    def forward(self, handler):
        with self.lock:
            self.in_flight += 1
        try:
            time.sleep(self.delay)
            origin = self.target.split("/", 3)
            url = f"{origin[0]}//{origin[2]}{handler.path}"
            request = urllib.request.Request(url, headers={
                k: v for k, v in handler.headers.items() if k.lower() != "host"})
            try:
                answer = urllib.request.urlopen(request, timeout=30)
            except urllib.error.HTTPError as error:
                answer = error
            with answer:
                body = answer.read()
                handler.send_response(answer.status)
                for name in FORWARDED_HEADERS:
                    if answer.headers.get(name):
                        handler.send_header(name, answer.headers[name])
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.served += 1


@contextlib.contextmanager
def slow_upstream(target_url, delay=0.0):
    proxy = SlowUpstream(target_url, delay)
    proxy.thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
