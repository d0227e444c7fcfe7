"""The refresher's diff, on plain values: new, changed, removed, reordered."""

from datetime import datetime, timedelta

from stackq.services.refresh import RefreshedPage, Shown, diff_results, fingerprint, prefix_windows

T0 = datetime(2026, 11, 1)


def shown(pk, version=0, activity=None, creation=None, votes=0):
    """Question `pk`, visibly different for each `version`; later pks are more active."""
    return Shown(f"{pk}-v{version}", activity=activity or T0 + timedelta(hours=pk),
                 creation=creation or T0 - timedelta(days=pk), votes=votes)


def by_pk(*items):
    return dict(items)


def page(items, number=1, sort="activity", direction="desc", has_more=True):
    return RefreshedPage(sort, direction, number, tuple(items), has_more)


def test_same_rows_in_the_same_order_is_no_change():
    before = {pk: shown(pk) for pk in (3, 2, 1)}
    diff = diff_results(before, dict(before), [page([3, 2, 1])])
    assert diff.counts() == {"new": 0, "changed": 0, "removed": 0}


def test_reordering_alone_is_no_change():
    before = {pk: shown(pk) for pk in (1, 2, 3)}
    diff = diff_results(before, dict(before), [page([1, 3, 2], sort="votes")])
    assert diff.total == 0


def test_new_changed_removed_on_a_complete_result():
    before = {pk: shown(pk) for pk in (1, 2, 3, 4)}
    after = {9: shown(9), 4: shown(4, version=1), 3: shown(3), 1: shown(1)}
    diff = diff_results(before, after, [page([9, 4, 3, 1], has_more=False)])
    assert (diff.new, diff.changed, diff.removed) == ({9}, {4}, {2})


def test_question_pushed_past_the_last_stored_page_is_not_removed():
    # 10 and 11 arrive on top; 1, least active, slides to page 2, which is not stored.
    before = {pk: shown(pk) for pk in (4, 3, 2, 1)}
    after = {pk: shown(pk) for pk in (11, 10, 4, 3, 2)}
    diff = diff_results(before, after, [page([11, 10, 4, 3, 2])])
    assert (diff.new, diff.changed, diff.removed) == ({10, 11}, set(), set())


def test_question_gone_from_inside_the_activity_window_is_removed():
    # 3 was more active than the last row still on the page: had it stayed, it would be here.
    before = {pk: shown(pk) for pk in (4, 3, 2, 1)}
    after = {pk: shown(pk) for pk in (4, 2, 1)}
    diff = diff_results(before, after, [page([4, 2, 1])])
    assert diff.removed == {3}


def test_activity_in_ascending_order_proves_nothing():
    # Activity only grows: in ascending order a live question can leave the window.
    before = {pk: shown(pk) for pk in (1, 2, 3)}
    after = {pk: shown(pk) for pk in (1, 3)}
    assert diff_results(before, after, [page([1, 3], direction="asc")]).removed == set()


def test_creation_order_proves_removal_both_ways():
    before = {pk: shown(pk) for pk in (1, 2, 3)}
    after = {pk: shown(pk) for pk in (1, 3)}
    # Newest first is pk 1 (creation goes back a day per pk): 2 lies between 1 and 3.
    assert diff_results(before, after, [page([1, 3], sort="creation")]).removed == {2}
    assert diff_results(before, after, [page([3, 1], sort="creation", direction="asc")]
                        ).removed == {2}


def test_votes_alone_proves_nothing_unless_complete():
    before = {pk: shown(pk, votes=10 - pk) for pk in (1, 2, 3)}
    after = {pk: before[pk] for pk in (1, 3)}
    assert diff_results(before, after, [page([1, 3], sort="votes")]).removed == set()
    assert diff_results(before, after, [page([1, 3], sort="votes", has_more=False)]
                        ).removed == {2}


def test_a_gap_in_stored_pages_ends_the_window():
    before = {pk: shown(pk) for pk in (1, 2, 3)}
    after = {pk: shown(pk) for pk in (3, 1)}
    # Only page 2 is stored: no page 1 to anchor a window, so nothing is proven.
    diff = diff_results(before, after, [page([3, 1], number=2, has_more=False)])
    assert diff.removed == set()
    windows = prefix_windows([page([3], 1), page([1], 3), page([2], 2, sort="votes")])
    assert [p.page for p in windows["activity", "desc"]] == [1]
    assert ("votes", "desc") not in windows


def test_changed_is_judged_per_search_memory_not_the_shared_row():
    # The row was already rewritten by another search's refresh: this search remembers v0.
    before = {7: shown(7, version=0)}
    after = {7: shown(7, version=1)}
    assert diff_results(before, after, [page([7], has_more=False)]).changed == {7}


def test_fingerprint_sees_every_visible_field_and_tag_order():
    values = ("title", 5, 2, 100, True, None, None, T0, None, None)
    base = fingerprint(values, ["python", "asyncio"])
    assert fingerprint(values, ["python", "asyncio"]) == base
    assert fingerprint(values, ["asyncio", "python"]) != base
    for i in range(len(values)):
        changed = list(values)
        changed[i] = "x" if values[i] != "x" else "y"
        assert fingerprint(changed, ["python", "asyncio"]) != base, i
