"""The emulator's HTTP side: a threaded server that can cut its connections, and the handler."""

import gzip
import json
import socket
import struct
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

from .emulator_methods import no_method

API_PREFIX = "/2.3/"
CONTROL_PREFIX = "/_emulator/"
FAULT_TIMEOUT_SECONDS = 30.0  # far beyond any client timeout; stop() and reset() cut it short


class Reply(NamedTuple):
    """One API answer as the handler should send it."""

    status: int | None
    payload: object = None  # JSON-able, bytes sent as they are, or the Event ending a "timeout"
    action: str | None = None  # "timeout" or "reset": no answer at all; "truncated": half


class EmulatorServer(ThreadingHTTPServer):
    """Tracks each connection and its thread, so stop() can cut idle keep-alive ones and join."""

    def __init__(self, address, handler):
        self._open, self._open_lock = set(), threading.Lock()  # connections not yet closed
        # Every thread not known to have ended: one whose connection is already closed may
        # still be on its way out when close_connections() runs.
        self._started = set()
        super().__init__(address, handler)

    def process_request(self, request, client_address):
        # Daemon threads never hold up the interpreter's exit; close_connections() joins them.
        thread = threading.Thread(target=self.process_request_thread,
                                  args=(request, client_address), daemon=True)
        with self._open_lock:
            self._open.add(request)
            self._started = {t for t in self._started if t.is_alive()}
            self._started.add(thread)
            thread.start()

    def shutdown_request(self, request):
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self, timeout=5.0):
        """Cut every open connection and wait for every thread started that has not ended."""
        with self._open_lock:
            open_now, threads = set(self._open), set(self._started)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout)

    def handle_error(self, request, client_address):
        # Clients hanging up mid-answer are routine here (timeouts, resets), not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class EmulatorHandler(BaseHTTPRequestHandler):
    """Sends /2.3/ to the emulator's API and /_emulator/ to its controls."""

    protocol_version = "HTTP/1.1"  # keep-alive, as pooled clients expect
    # Headers and body go out in two writes: with Nagle's algorithm the body waits for the
    # client's delayed ACK, 40 ms a call that the real API does not cost.
    disable_nagle_algorithm = True
    server_version = "stackq-emulator/2.3"
    timeout = 120  # an idle keep-alive connection does not hold its thread forever

    def log_message(self, format, *args):
        pass  # tests make thousands of requests

    def do_GET(self):
        self._route()

    def do_POST(self):
        self._route()

    def _route(self):
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        emulator = self.server.emulator
        if url.path.startswith(CONTROL_PREFIX):
            status, body = emulator.control(self.command, url.path[len(CONTROL_PREFIX):], raw)
            return self._send(status, json.dumps(body).encode(), compress=False)
        if self.command != "GET" or not url.path.startswith(API_PREFIX):
            return self._send(400, json.dumps(no_method().body()).encode())
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        reply = emulator.handle_api(self.client_address[0], url.path[len(API_PREFIX):], params)
        if reply.action == "timeout":
            reply.payload.wait(FAULT_TIMEOUT_SECONDS)
            self.close_connection = True
        elif reply.action == "reset":
            # Linger 0 turns the close into a TCP RST: the client sees "connection reset".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif reply.action == "truncated":
            self._send(reply.status, json.dumps(reply.payload).encode(), truncate=True)
        elif isinstance(reply.payload, bytes):
            self._send(reply.status, reply.payload)
        else:
            body = json.dumps(reply.payload, ensure_ascii=False, separators=(",", ":"))
            # UTF-8, as the API sends; half a surrogate pair (no UTF-8) as the JSON escape
            # `\ud800`, as a serialiser writes it.
            self._send(reply.status, body.encode("utf-8", "backslashreplace"))

    def _send(self, status, payload, compress=True, truncate=False):
        """Gzip even unasked, as the API does; deflate only when asked for instead of gzip."""
        encoding = None
        if compress:
            asked = self.headers.get("Accept-Encoding", "").split(",")
            accepted = {part.split(";")[0].strip().lower() for part in asked}
            encoding = "deflate" if "deflate" in accepted and "gzip" not in accepted else "gzip"
            if encoding == "gzip":
                payload = gzip.compress(payload, mtime=0)
            else:
                payload = zlib.compress(payload)
            if truncate:
                payload = payload[:len(payload) // 2]
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
