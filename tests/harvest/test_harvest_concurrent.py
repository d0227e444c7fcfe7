"""Four `stackq_harvest` processes at once, and someone browsing, against two mirrors that
enforce their rate (and, once switched on below, send `backoff`): every call within the
limits, counted at the mirrors."""

import threading

from stackq.infra.settings import Rate
from stackq.searches.saved import fetch_search
from stackq.stackexchange import ApiAccess
from tests.support.harvest import search_id, start_harvester, stored_pages
from tests.support.stack import write_ini

RATE = 5  # calls per second, for stackq and for each mirror alike: one more is a violation
# The back-offs the mirrors send, as emulator.configure() arguments: one on every 5th
# answer of a method, which a call arriving within it breaks.
BACKOFFS = {"backoff_every": 5, "backoff_seconds": 1}
MIRROR_LIMITS = {"max_rate": RATE, **BACKOFFS}
HARVESTS = [("-s", "python"), ("-s", "java"), ("-s", "javascript"),
            ("--tagged", "python;javascript;sql;linux")]
PAGES = 3


def browse(mirrors, stack, errors):
    """A visitor opening pages of another search meanwhile, as the web app would."""
    access = ApiAccess([m.base_url for m in mirrors], redis=stack.redis, timeout=2,
                       max_rate=Rate(RATE, 1), max_wait=30, cache_ttl=0)
    search = type("Search", (), {"q": "django", "tagged": "",
                                 "site": type("Site", (), {"api_site_parameter":
                                                           "stackoverflow"})})
    try:
        for page in (1, 2, 1, 2):
            fetch_search(access, search, sort="votes", order="desc", page=page, pagesize=100)
    except Exception as error:  # reported by the test, with what it was
        errors.append(error)


def test_four_harvesters_and_a_visitor_make_no_violation_on_either_mirror(mirrors, stack,
                                                                          tmp_path):
    stack.clean()
    for emu in mirrors:
        emu.configure(**MIRROR_LIMITS)
    ini = write_ini(tmp_path / "two_mirrors.ini", stack.db_url, stack.redis_url,
                    " ".join(m.base_url for m in mirrors), **{"stackq.api.max_rate": str(RATE)})
    procs = [start_harvester(ini, *args, "-m", PAGES) for args in HARVESTS]
    errors = []
    visitor = threading.Thread(target=browse, args=(mirrors, stack, errors))
    visitor.start()
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=120))
    finally:
        for proc in procs:
            proc.kill()
        visitor.join(60)
    assert [proc.returncode for proc in procs] == [0] * 4, "\n".join(
        out + err for out, err in outputs)
    assert errors == []
    stats = [emu.stats() for emu in mirrors]
    assert [(s["violations"], s["bans"]) for s in stats] == [(0, 0), (0, 0)]
    assert all(s["backoffs"].get("search/advanced", 0) >= 1 for s in stats)  # it was tested
    calls = [s["by_method"].get("search/advanced", 0) for s in stats]
    # 4 × (the total + 3 pages), and the visitor's 4.
    assert sum(calls) == 4 * (1 + PAGES) + 4
    assert min(calls) >= 0.3 * sum(calls)  # both mirrors carried the harvests
    for args in HARVESTS:
        found = search_id(stack, q=args[1]) if args[0] == "-s" else search_id(
            stack, tagged="javascript;linux;python;sql")
        assert stored_pages(stack, found) == [1, 2, 3]
