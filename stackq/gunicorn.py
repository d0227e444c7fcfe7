"""gunicorn's gevent WebSocket worker, with stackq's handler and a prompt shutdown.

    gunicorn --paste production.ini --worker-class stackq.gunicorn.WebSocketWorker ...

Against geventwebsocket's own worker this adds: malformed `Sec-WebSocket-Key` answered 400
(not 500), gunicorn's access log for every request (that worker writes none), and open
WebSockets closed with 1001 as soon as the worker is told to stop; otherwise every connected
browser would hold the worker for the whole graceful timeout (30 s by default).
"""

import gevent
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from gunicorn.workers.ggevent import PyWSGIHandler

# gunicorn imports this module before its workers patch: nothing imported here may import
# ssl's names (gevent then warns, and such copies break TLS under gevent).
from .server import StackqWebSocketHandler


def close_all_sockets():
    from .notify.hub import close_all_sockets

    close_all_sockets()


class GunicornWebSocketHandler(StackqWebSocketHandler):
    def log_request(self):
        # A request too broken to parse has no environ, which gunicorn's access log needs;
        # its error is logged already.
        if self.environ is not None:
            PyWSGIHandler.log_request(self)

    def get_environ(self):
        # What gunicorn's own handler adds.
        environ = super().get_environ()
        environ["gunicorn.sock"] = self.socket
        environ["RAW_URI"] = self.path
        return environ


class WebSocketWorker(GeventWebSocketWorker):
    wsgi_handler = GunicornWebSocketHandler

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        # Out of the signal handler: closing sockets switches greenlets.
        gevent.spawn(close_all_sockets)

    def handle_quit(self, sig, frame):
        gevent.spawn(close_all_sockets)
        super().handle_quit(sig, frame)
