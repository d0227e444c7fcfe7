"""A refresher killed with SIGKILL mid-cycle: 0 rows lost or duplicated (counted before and
after), and the next refresher finishes what was left."""

from sqlalchemy import text

from stackq.refresh.cycle import LOCK_KEY
from tests.support.refresh_cycles import TOPICS, slow_cycle_started, stored_page_one, top_ids
from tests.support.stack import run_refresher
from tests.support.waiting import wait_until

# With a key (10,000 calls a day) the plan refreshes every search in every cycle: this is
# about kills, not about the quota, so the second cycle finishes what the first left.
STACK_SETTINGS = {"stackq.api.key": "kill-tests"}
# A key each row must hold alone: a question twice in one search's order is a duplicate.
TABLES = {"search_results": "search_id, question_id",
          "search_positions": "search_id, sort, direction, question_id",
          "shown_questions": "search_id, question_id", "questions": "id"}


def counts(stack):
    """Per table: (rows, distinct keys), and the saved searches."""
    with stack.engine.connect() as connection:
        found = {table: tuple(connection.execute(text(
            f"SELECT (SELECT COUNT(*) FROM {table}),"
            f" (SELECT COUNT(*) FROM (SELECT DISTINCT {key} FROM {table}) AS keys)")).one())
            for table, key in TABLES.items()}
        found["saved_searches"] = connection.execute(
            text("SELECT COUNT(*) FROM saved_searches")).scalar()
    return found


def test_kill_9_mid_cycle_loses_and_duplicates_no_row(stack, upstream, tmp_path):
    stack.clean()
    proc, ids = slow_cycle_started(stack, upstream, tmp_path / "killed.log", "--once",
                                   "--force")
    before = counts(stack)
    proc.kill()
    proc.wait(10)
    killed = counts(stack)
    upstream.configure(backoff=None)
    wait_until(lambda: not stack.redis.exists(LOCK_KEY), 10, "the dead refresher's lock to end")
    done = run_refresher(stack.ini, "--once", "--force")
    assert done.returncode == 0, done.stderr
    after = counts(stack)
    for state in (before, killed, after):
        assert state["saved_searches"] == len(TOPICS)
        for table in TABLES:
            rows, distinct = state[table]
            assert rows == distinct, (table, state)  # no row twice
    # Nothing lost: every table holds at least what it held before the kill.
    for table in TABLES:
        assert killed[table][0] >= before[table][0] and after[table][0] >= killed[table][0]
    for search_id, q in zip(ids, TOPICS, strict=True):
        assert stored_page_one(stack, search_id) == top_ids(upstream, q=q)
