"""/status shows the last refresh cycle beside the API mirrors."""

from datetime import datetime

from stackq.models import RefreshRun


def test_status_shows_the_last_refresh_cycle(testapp, dbsession):
    assert "No refresh cycle has run yet" in testapp.get("/status").text
    day = datetime(2026, 11, 22)
    dbsession.add_all([
        RefreshRun(started_at=day.replace(hour=9), finished_at=day.replace(hour=9, minute=1),
                   state="finished", searches=1, calls=1, changes=0, errors=0),
        RefreshRun(started_at=day.replace(hour=10), finished_at=day.replace(hour=10, minute=2),
                   state="finished", searches=7, calls=12, changes=5, errors=1),
    ])
    dbsession.flush()
    text = " ".join(testapp.get("/status").html.select_one(".refresh-run").text.split())
    assert "finished 2026-11-22 10:02" in text
    assert "7 searches refreshed, 12 API calls, 5 changes, 1 error." in text
