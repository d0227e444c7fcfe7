"""A WebSocket served after the app has returned: the handler's part of the hand-over.

The `/ws` tween (notify/tween.py) hands the upgraded socket's session to `serve_later`
(offered in the environ as `SERVE_LATER`); the handler runs it once the app's call is over,
holding only what the socket needs.
"""

import logging

from .frames import SocketReader

log = logging.getLogger(__name__)


class HandedOverSocket:
    """A mixin of the server's WebSocket handler (handler.py), whose `websocket_session` is
    what the app handed over (None when it served the socket itself)."""

    def serve_later(self, session):
        """Serve the upgraded socket with `session()` once the app has returned.

        Served from inside the app, each open socket kept the whole call stack down to the
        view (pywsgi, geventwebsocket, Pyramid's router and tweens: 25 frames, 13 now) and
        the request's objects alive while it waited for the client.
        """
        self.websocket_session = session

    def run_websocket(self):
        # geventwebsocket's, less its `server.clients` registry (nothing here reads it), and
        # the socket left open when the app handed it to `serve_later`.
        try:
            list(self.application(self.environ, lambda status, headers, exc_info=None: []))
        finally:
            if self.websocket_session is None:
                self.end_websocket()

    def serve_websocket(self):
        """Run the session the app handed over, holding only what it needs, then close the
        socket. The access log has its line already: the 101, written as the app returned."""
        session, self.websocket_session = self.websocket_session, None
        try:
            self.forget_request()
            self.read_lightly()
            session()
        except Exception:
            log.exception("serving a WebSocket failed")
        finally:
            self.end_websocket()

    def forget_request(self):
        """Drop the handshake's environ and headers: 4.8 KB of each open socket's 21."""
        self.websocket.environ = None
        self.environ = self.headers = self.response_headers = self.wsgi_input = None

    def read_lightly(self):
        """Read the upgraded socket through a `SocketReader` (stackq/server/frames.py), from
        what pywsgi's read buffer holds already, and free that buffer."""
        sock = self.socket
        timeout = sock.gettimeout()
        sock.settimeout(0.0)  # peek() would wait for the client otherwise
        try:
            early = self.rfile.peek()  # frames sent along with the handshake
        except OSError:
            return  # the client left: the reader will find out
        finally:
            sock.settimeout(timeout)
        early = self.rfile.read(len(early))
        self.rfile.close()  # frees its buffer; the socket stays open
        self.websocket.read_through(SocketReader(sock, early).read)

    def end_websocket(self):
        if not self.websocket.closed:
            self.websocket.close()
        if self.environ is not None:
            self.environ["wsgi.websocket"] = None
        self.websocket = None
