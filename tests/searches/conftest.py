"""Fixtures of the pages that manage saved searches (pause, resume, delete)."""

import pytest

from tests.support.manage import new_visitor, stack_web_app


@pytest.fixture(scope="module")
def web(request, stack):
    """The app over the module's stack (its database and Redis), response cache on."""
    return stack_web_app(stack, request.addfinalizer)


@pytest.fixture
def browser(web, clean):
    """A new visitor on `web`, the stack emptied first."""
    return new_visitor(web, clean)
