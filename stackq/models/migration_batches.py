"""What a migration that rewrites every stored row does: a batch of ids at a time, with a
line of progress after each, so `initialize_db` on a large database says how far it got."""

import logging
import time

import sqlalchemy as sa

log = logging.getLogger("stackq.migrations")
BATCH = 5000  # row ids a statement takes


def each_batch(bind, table, what, work, batch=BATCH):
    """work(first id, last id) over the ids `table` holds, `batch` ids at a time; logs
    `what` has done so many of the table's rows after each."""
    count, first, last = bind.execute(
        sa.text(f"SELECT count(*), min(id), max(id) FROM {table}")).one()
    if not count:
        return
    log.info("%s: %d stored %s", what, count, table)
    started, done = time.monotonic(), 0
    for start in range(first, last + 1, batch):
        work(start, start + batch - 1)
        # The batch's rows counted by id, which the work may not have changed.
        done += bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE id BETWEEN :first "
                                     "AND :last"), {"first": start, "last": start + batch - 1}
                             ).scalar()
        log.info("%s: %d of %d %s (%.0f s)", what, done, count, table,
                 time.monotonic() - started)
