"""The refresher's diff, on plain values: new, changed, removed."""

from datetime import datetime, timedelta

from stackq.refresh.diff import Shown, diff_shown, fingerprint

T0 = datetime(2026, 11, 1)


def shown(pk, version=0):
    """Question `pk`, visibly different for each `version`."""
    return Shown(f"{pk}-v{version}", activity=T0 + timedelta(hours=pk),
                 creation=T0 - timedelta(days=pk), votes=0, question_id=pk)


def test_same_rows_is_no_change():
    before = {pk: shown(pk) for pk in (3, 2, 1)}
    assert diff_shown(before, dict(before)).counts() == {"new": 0, "changed": 0, "removed": 0}


def test_new_changed_and_removed():
    before = {pk: shown(pk) for pk in (1, 2, 3, 4)}
    after = {9: shown(9), 4: shown(4, version=1), 3: shown(3), 1: shown(1)}
    diff = diff_shown(before, after, removed={2})
    assert (diff.new, diff.changed, diff.removed) == ({9}, {4}, {2})


def test_only_questions_the_search_showed_count_as_removed():
    before = {pk: shown(pk) for pk in (1, 2)}
    # 5 was deleted upstream, but this search never showed it.
    assert diff_shown(before, {1: shown(1)}, removed={2, 5}).removed == {2}


def test_a_question_no_longer_on_a_stored_page_is_not_removed():
    # It slid past the last stored page: still a stored result, not a change at all.
    before = {pk: shown(pk) for pk in (1, 2, 3)}
    assert diff_shown(before, dict(before)).total == 0


def test_changed_is_judged_per_search_memory_not_the_shared_row():
    # The row was already rewritten by another search's refresh: this search remembers v0.
    assert diff_shown({7: shown(7, version=0)}, {7: shown(7, version=1)}).changed == {7}


def test_fingerprint_sees_every_visible_field_and_tag_order():
    values = ("title", 5, 2, 100, True, None, None, T0, None, None)
    base = fingerprint(values, ["python", "asyncio"])
    assert fingerprint(values, ["python", "asyncio"]) == base
    assert fingerprint(values, ["asyncio", "python"]) != base
    for i in range(len(values)):
        changed = list(values)
        changed[i] = "x" if values[i] != "x" else "y"
        assert fingerprint(changed, ["python", "asyncio"]) != base, i
