"""The app in tests: with the response cache on, and visitors inside the test's transaction.

The test's transaction never commits (it is rolled back after the test), so pyramid_tm,
seeing it active, commits nothing: `outer_transaction_commits` acts on what each request
wrote where pyramid_tm would have committed it, as the after-commit hook would.
"""

import os

import webob
import webtest
from pyramid.tweens import INGRESS

from stackq import main
from stackq.infra.registry import AFTER_COMMIT, EVENTS, QUICK_REQUEST

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The names tests reach an in-process app by (`visitor`'s example.com, webtest's localhost),
# one of them a second name of the same site: `stackq.allowed_hosts` unless a test says.
TEST_HOSTS = "localhost example.com other.example"


def stackq_app(settings, dbengine, cleanup=None):
    """The app on `dbengine` with `settings`, as the tests build every in-process app.

    `cleanup` (pytest's `request.addfinalizer`) stops the app's event listener
    after the test, so it does not go on retrying a Redis that is gone.
    """
    includes = " ".join(filter(None, (settings.get("pyramid.includes"), __name__)))
    app = main({"here": ROOT}, dbengine=dbengine, **{"stackq.allowed_hosts": TEST_HOSTS,
                                                     **settings, "pyramid.includes": includes})
    if cleanup is not None:
        listener = app.registry[EVENTS]
        cleanup(lambda: listener.stop(timeout=0))  # a daemon thread: it ends by itself
    return app


def cached_app(app_settings, dbengine, redis_url, cleanup=None, **settings):
    """The app with the cache on (60 s unless told), over `redis_url`; `cleanup` as above."""
    merged = {**app_settings, "redis.url": redis_url, "stackq.cache.ttl": "60", **settings}
    return stackq_app(merged, dbengine, cleanup)


def visitor(app, tm, dbsession, host="example.com"):
    """A browser (its own cookies) on `app`, inside the test's rolled-back transaction."""
    return webtest.TestApp(app, extra_environ={
        "HTTP_HOST": host,
        "tm.active": True,
        "tm.manager": tm,
        "app.dbsession": dbsession,
    })


def request_environ(path, method="GET", host="example.com", **headers):
    """The environ of a request as the server has it before calling the app."""
    return webob.Request.blank(path, method=method, headers={"Host": host, **headers}).environ


def quick(app, path, **kwargs):
    """Whether `app` says it answers this request quickly (stackq/server/priority.py): the server
    lets it in ahead of the others."""
    return app.registry[QUICK_REQUEST](request_environ(path, **kwargs))


def outer_transaction_tween_factory(handler, registry):
    def outer_transaction_commits(request):
        # Set by the visitor, not by pyramid_tm: the request runs in the test's transaction.
        outer = "tm.active" in request.environ
        response = handler(request)
        dbsession = request.__dict__.get("dbsession")
        if outer and dbsession is not None and request.exception is None:
            registry[AFTER_COMMIT].committed(dbsession)
        return response

    return outer_transaction_commits


def includeme(config):
    # Where pyramid_tm commits: under the response cache, which reads what the commit dropped.
    config.add_tween("tests.support.apps.outer_transaction_tween_factory",
                     over="pyramid_tm.tm_tween_factory",
                     under=["stackq.cache.tween.cache_tween_factory", INGRESS])
