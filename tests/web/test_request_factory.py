"""Request methods and properties added by includes live on one request class, made once."""

import itertools

import webtest
from pyramid.config import Configurator
from pyramid.interfaces import IRequestExtensions, IRequestFactory


def counting_app():
    counter = itertools.count(1)
    with Configurator() as config:
        config.add_request_method(lambda request: next(counter), "number", reify=True)
        config.add_request_method(lambda request: request.path.upper(), "loud", property=True)
        config.add_request_method(lambda request, word: f"{word} {request.number}", "say")
        config.add_route("show", "/{name}")
        config.add_view(lambda request: {"class": id(type(request)), "number": request.number,
                                         "again": request.number, "loud": request.loud,
                                         "said": request.say("hi")},
                        route_name="show", renderer="json")
        config.include("stackq.web.request_factory")
        return webtest.TestApp(config.make_wsgi_app())


def test_properties_and_methods_work_as_pyramid_applies_them():
    app = counting_app()
    first, second = app.get("/a").json, app.get("/b").json
    assert (first["number"], first["again"], first["loud"], first["said"]) == (1, 1, "/A", "hi 1")
    assert (second["number"], second["loud"], second["said"]) == (2, "/B", "hi 2")


def test_every_request_is_of_the_same_class():
    app = counting_app()
    assert app.get("/a").json["class"] == app.get("/b").json["class"]


def test_stackq_leaves_pyramid_nothing_to_apply_per_request(app):
    extensions = app.registry.queryUtility(IRequestExtensions)
    assert (extensions.methods, extensions.descriptors) == ({}, {})
    factory = app.registry.queryUtility(IRequestFactory)
    assert {"dbsession", "settings", "api", "tm", "redis"} <= set(vars(factory))
