"""The filters pages format values with."""

from datetime import date, datetime, timedelta, timezone

import pytest

from stackq.web.templating import format_datetime, format_duration


@pytest.mark.parametrize("moment", [
    datetime(2024, 5, 1, 13, 45), datetime(2024, 5, 1, 13, 45, 59, 999999),
    datetime(1999, 12, 31, 0, 0, 1), datetime(2024, 5, 1, 13, 45, tzinfo=timezone.utc),
    datetime(2024, 5, 1, 13, 45, tzinfo=timezone(timedelta(hours=2))), date(2024, 5, 1),
])
def test_a_moment_reads_as_strftime_writes_it(moment):
    assert format_datetime(moment) == moment.strftime("%Y-%m-%d %H:%M")


def test_no_moment_is_never():
    assert format_datetime(None) == "never"


@pytest.mark.parametrize("seconds, often, took", [
    (None, "never", "—"), (0, "0 s", "0 s"), (4.25, "4 s", "4.2 s"), (12, "12 s", "12 s"),
    (30, "30 s", "30 s"), (45, "1 min", "45 s"), (200, "3 min", "3 min 20 s"),
    (3600, "1 h", "1 h"), (7530, "2 h 6 min", "2 h 5 min"), (8399, "2 h 20 min", "2 h 19 min"),
])
def test_a_duration_to_the_minute_or_to_the_second(seconds, often, took):
    assert format_duration(seconds) == often
    assert format_duration(seconds, to="second", unknown="—") == took


def test_a_duration_is_to_the_minute_or_to_the_second_only():
    with pytest.raises(ValueError):
        format_duration(60, to="hour")
