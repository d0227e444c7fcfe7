"""BackgroundApi: the refresher's, harvests' and tasks' one way of calling ApiAccess."""

import threading
from types import SimpleNamespace

import pytest

from stackq.stackexchange import background
from stackq.stackexchange.access import BACKGROUND, INTERACTIVE
from stackq.stackexchange.background import BackgroundApi
from stackq.stackexchange.filters import TOTAL, Filters


class Spent(Exception):
    pass


class Budget:
    def __init__(self, left):
        self.left = left

    def take(self):
        if self.left <= 0:
            raise Spent()
        self.left -= 1


class Access:
    """Records what each call asked; answers with the quotas it is given, in turn."""

    def __init__(self, quotas=(), key=None, hold=None):
        self.asked, self.quotas, self.hold = [], list(quotas), hold
        self.clients = [SimpleNamespace(key=None), SimpleNamespace(key=key)]
        self.filters = Filters(None, "test:filters")

    def fetch(self, method, site=None, **params):
        self.asked.append((method, site, params))
        if self.hold is not None:
            self.hold.wait(5)
        quota = self.quotas.pop(0) if self.quotas else None
        return SimpleNamespace(quota_remaining=quota, items=[{"filter": "!made"}])


def test_it_counts_calls_and_keeps_the_last_quota_told():
    access = Access(quotas=[299, None, 297])
    heard = []
    api = BackgroundApi(access, max_wait=600.0, on_answer=heard.append)
    for page in (1, 2, 3):
        api.fetch("search/advanced", site="stackoverflow", page=page)
    assert (api.calls, api.quota_remaining, heard) == (3, 297, [1, 2, 3])
    assert [params for _, _, params in access.asked] == [
        {"page": page, "max_wait": 600.0, "priority": BACKGROUND} for page in (1, 2, 3)]


def test_its_wait_overrides_the_callers_and_may_be_asked_at_each_call():
    access, waits = Access(), iter([300.0, 30.0])
    api = BackgroundApi(access, max_wait=lambda: next(waits))
    api.fetch("questions", site="superuser", max_wait=60.0)
    api.fetch("questions", site="superuser", priority=INTERACTIVE)
    assert [(p["max_wait"], p["priority"]) for _, _, p in access.asked] == [
        (300.0, BACKGROUND), (30.0, INTERACTIVE)]


def test_a_spent_budget_stops_the_call_before_it_is_made_or_counted():
    access = Access()
    api = BackgroundApi(access, max_wait=1.0, budget=Budget(2))
    api.fetch("sites")
    api.fetch("sites")
    with pytest.raises(Spent):
        api.fetch("sites")
    assert (api.calls, len(access.asked)) == (2, 2)


def test_on_wait_hears_how_long_a_call_has_waited(monkeypatch):
    monkeypatch.setattr(background, "WAIT_REPORT_EVERY", 0.01)
    hold = threading.Event()
    waits = []

    def on_wait(seconds):
        waits.append(seconds)
        if len(waits) == 3:
            hold.set()

    BackgroundApi(Access(hold=hold), max_wait=1.0, on_wait=on_wait).fetch("sites")
    assert waits[:3] == pytest.approx([0.01, 0.02, 0.03])


def test_it_has_a_key_if_any_mirror_has_one():
    assert BackgroundApi(Access(key="k"), max_wait=1.0).has_key
    assert not BackgroundApi(Access(), max_wait=1.0).has_key


def test_the_call_making_a_filter_is_counted_and_budgeted_once():
    access = Access()
    api = BackgroundApi(access, max_wait=600.0, budget=Budget(3))
    for n in (1, 2):
        api.fetch("search/advanced", site="superuser", q="bash", filter=TOTAL, n=n)
    assert [method for method, _, _ in access.asked] == [
        "filters/create", "search/advanced", "search/advanced"]
    assert access.asked[-1][2]["filter"] == "!made"
    assert api.calls == 3 and api.budget.left == 0
