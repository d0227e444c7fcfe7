"""A harvest tells open pages of what it stored: one `query_updated` notice per page
committed that changed what the search shows, counted as the refresher counts."""

import threading

from stackq.harvest.service import HarvestRequest, run_harvest
from stackq.tasks.worker import TaskWorker
from tests.support import tasks as tasks_support
from tests.support.events import published
from tests.support.harvest import run_harvester, search_id
from tests.support.refresh_cycles import run_cycle
from tests.support.tasks import load_task, queue_task
from tests.support.waiting import wait_until

clean = tasks_support.clean  # the stack emptied, its task tables too

STACK_SETTINGS = {"stackq.api.key": "harvest-notice-tests"}  # no page limit


def harvest(stack, **request):
    request.setdefault("site", "stackoverflow")
    request.setdefault("q", "")
    return run_harvest(stack.session_factory, stack.api, HarvestRequest(**request))


def notices(events, timeout=1.0):
    return [(n["query_id"], n["q"], n["site"], n["new"], n["changed"], n["removed"])
            for n in published(events, "query_updated", timeout)]


def test_each_page_stored_is_announced_with_its_counts(clean, events):
    result = harvest(clean, q="asyncio", max_pages=3)
    assert (result.pages, result.new) == (3, 300)
    sent = list(published(events, "query_updated", 1.0))
    assert [(n["query_id"], n["q"], n["site"], n["new"], n["changed"], n["removed"])
            for n in sent] == [(result.query_id, "asyncio", "stackoverflow", 100, 0, 0)] * 3
    assert all(n["at"].endswith("Z") for n in sent)


def test_pages_stored_again_unchanged_say_nothing(clean, events):
    harvest(clean, q="asyncio", max_pages=2)
    assert len(notices(events)) == 2
    harvest(clean, q="asyncio", max_pages=2)
    assert notices(events) == []


def test_changed_and_new_questions_are_counted(clean, upstream, events):
    first = harvest(clean, q="asyncio", max_pages=3)  # every result of the search
    assert first.stopped == "end"
    notices(events)
    upstream.mutate("stackoverflow", "asyncio", new=3, changed=5)  # all to the top of page 1
    again = harvest(clean, q="asyncio", max_pages=1)
    assert (again.new, again.updated) == (3, 5)
    assert notices(events) == [(first.query_id, "asyncio", "stackoverflow", 3, 5, 0)]


def test_questions_stored_for_another_search_are_new_to_this_one(clean, events):
    harvest(clean, q="asyncio", max_pages=3)  # every asyncio question is tagged python
    notices(events)
    tagged = harvest(clean, tagged="python", max_pages=1)
    assert tagged.new < 100  # some of its questions were stored already...
    # ...but its page shows 100 questions it did not show before.
    assert notices(events) == [(tagged.query_id, "", "stackoverflow", 100, 0, 0)]


def test_stackq_harvest_announces_its_pages(clean, events):
    done = run_harvester(clean.ini, "-s", "asyncio", "-m", 2)
    assert done.returncode == 0, done.stderr
    assert notices(events) == [(search_id(clean, q="asyncio"), "asyncio", "stackoverflow",
                                100, 0, 0)] * 2


def test_a_harvest_task_announces_its_pages(clean, events):
    task_id = queue_task(clean, "harvest", {"q": "asyncio", "site": "stackoverflow",
                                            "sort": "activity", "pages": 2})
    stopping = threading.Event()
    thread = TaskWorker(clean.session_factory, clean.api, clean.redis, stopping,
                        kinds=tasks_support.feature_kinds(), poll=0.05).start()
    try:
        wait_until(lambda: load_task(clean, task_id).state in ("done", "failed"), 60, "the end")
    finally:
        stopping.set()
        thread.join(20)
    query_id = load_task(clean, task_id).result["query_id"]
    assert notices(events) == [(query_id, "asyncio", "stackoverflow", 100, 0, 0)] * 2


def test_what_a_harvest_announced_the_next_refresh_does_not_announce_again(clean, upstream,
                                                                              events):
    first = harvest(clean, q="asyncio", max_pages=3)
    run_cycle(clean)  # the refresher has seen the search as it is
    notices(events)
    upstream.mutate("stackoverflow", "asyncio", changed=5)
    harvest(clean, q="asyncio", max_pages=1)
    assert notices(events) == [(first.query_id, "asyncio", "stackoverflow", 0, 5, 0)]
    run_cycle(clean)
    assert notices(events) == []
