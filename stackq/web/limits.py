"""How much of a request stackq reads: shared by the server, which reads a body this size
whole before letting the request in (stackq/server/handler.py), and the app, which refuses
a bigger one (stackq/web/guard.py). Imports nothing: the server imports it before gevent
patches."""

MAX_BODY = 64 * 1024  # bytes; a search form is a few hundred
