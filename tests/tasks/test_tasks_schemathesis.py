"""schemathesis against /api/openapi.json: generated requests to every operation, answers
never 5xx and always as the document says (status, content type, headers, schema)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from stackq import main
from stackq.archive.search.openapi import PATHS, SCHEMAS
from stackq.infra import registry
from stackq.tasks.api.openapi import document
from tests.support.apps import ROOT
from tests.support.stack import open_stack
from tests.support.tasks import feature_kinds

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Bounded, so the whole file runs in well under a minute.
EXAMPLES = 40


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, emulator):
    # A database of its own: generated requests commit tasks.
    with open_stack(tmp_path_factory.mktemp("schemathesis"), emulator.base_url) as stack:
        stack.save_search("asyncio")  # so some generated refresh tasks are queued
        app = main({"here": ROOT}, **stack.raw_settings)
        yield app
        app.registry[registry.EVENTS].stop()  # its Redis goes with this module


# Loaded from the same builder the app serves (the fixture below checks they agree):
# schemathesis' lazy `from_fixture` does not run on pytest 9.
schema = schemathesis.openapi.from_dict(document(feature_kinds(), [(PATHS, SCHEMAS)]))


def test_the_app_serves_the_document_tested(api_app):
    served = schemathesis.openapi.from_wsgi("/api/openapi.json", api_app)
    assert served.raw_schema == schema.raw_schema


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case, api_app):
    case.call_and_validate(checks=CHECKS, app=api_app)  # straight to the app, through WSGI
