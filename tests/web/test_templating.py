"""The filters pages format values with."""

from datetime import date, datetime, timedelta, timezone

import pytest

from stackq.web.templating import format_datetime


@pytest.mark.parametrize("moment", [
    datetime(2024, 5, 1, 13, 45), datetime(2024, 5, 1, 13, 45, 59, 999999),
    datetime(1999, 12, 31, 0, 0, 1), datetime(2024, 5, 1, 13, 45, tzinfo=timezone.utc),
    datetime(2024, 5, 1, 13, 45, tzinfo=timezone(timedelta(hours=2))), date(2024, 5, 1),
])
def test_a_moment_reads_as_strftime_writes_it(moment):
    assert format_datetime(moment) == moment.strftime("%Y-%m-%d %H:%M")


def test_no_moment_is_never():
    assert format_datetime(None) == "never"
