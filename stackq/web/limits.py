"""How much of a request stackq reads: shared by the server, which reads a body this size
whole before letting the request in and refuses a bigger one on its declared length
(stackq/server/handler.py), and the app, which refuses a bigger one too (stackq/web/guard.py).
Imports nothing: the server imports it before gevent patches."""

MAX_BODY = 64 * 1024  # bytes; a search form is a few hundred
# Bytes of one WebSocket message, its fragments together (stackq/server/frames.py): browsers
# send stackq pongs and a close, nothing more.
MAX_WS_MESSAGE = 4 * 1024
