"""The worker's side of the queue: heartbeats, rescue, claim, and the end of a run.

Each function is one short transaction of its own. Every write to a running task is
guarded by `worker_id`, so a worker whose task was rescued away can no longer touch it.
"""

from datetime import timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..infra.clock import utcnow
from ..models import Task, TaskLine, Worker


def heartbeat(session_factory, worker_id, now=None):
    """Say this worker is alive (registering it on the first beat)."""
    now = now or utcnow()
    with session_factory.begin() as dbsession:
        beat = dbsession.execute(update(Worker).where(Worker.id == worker_id)
                                 .values(heartbeat_at=now))
        if beat.rowcount == 0:
            dbsession.add(Worker(id=worker_id, started_at=now, heartbeat_at=now))


def forget_worker(session_factory, worker_id):
    with session_factory.begin() as dbsession:
        dbsession.execute(delete(Worker).where(Worker.id == worker_id))


def rescue_orphans(session_factory, stale_after, now=None):
    """Put back to pending every running task whose worker's heartbeat is older than
    `stale_after` seconds (never by the task's own age: a long harvest is not a dead one)."""
    now = now or utcnow()
    alive = select(Worker.id).where(Worker.heartbeat_at >= now - timedelta(seconds=stale_after))
    orphaned = (Task.state == "running") & or_(Task.worker_id.is_(None),
                                               Task.worker_id.not_in(alive))
    with session_factory() as dbsession:
        # A read first: every worker looks each second, and a write would take SQLite's lock.
        if dbsession.scalar(select(Task.id).where(orphaned).limit(1)) is None:
            return []
    with session_factory.begin() as dbsession:
        rescued = dbsession.execute(
            update(Task).where(orphaned)
            .values(state="pending", attempts=Task.attempts + 1, worker_id=None)
            .returning(Task.id)
            .execution_options(synchronize_session=False)).scalars().all()
        for task_id in rescued:
            dbsession.add(TaskLine(task_id=task_id, at=now,
                                   line="its worker stopped answering: queued again"))
    return list(rescued)


def forget_silent_workers(session_factory, older_than, now=None):
    """Drop the rows of workers silent for `older_than` seconds (long dead)."""
    cutoff = (now or utcnow()) - timedelta(seconds=older_than)
    with session_factory.begin() as dbsession:
        dbsession.execute(delete(Worker).where(Worker.heartbeat_at < cutoff))


def claim_next(session_factory, worker_id, now=None):
    """Take the next due task, in one statement; its (id, number, kind, params, attempts,
    result) or None. None too while another task runs: one runs at a time."""
    now = now or utcnow()
    running = aliased(Task)
    claimable = (Task.state == "pending", Task.run_after <= now,
                 ~select(running.id).where(running.state == "running").exists())
    due = (select(Task.id).where(*claimable)
           .order_by(Task.run_after, Task.id).limit(1)
           # PostgreSQL: two workers never wait on, nor take, the same row. SQLite renders
           # no FOR UPDATE; BEGIN IMMEDIATE below serialises the claims instead.
           .with_for_update(skip_locked=True))
    claim = (update(Task).where(Task.id == due.scalar_subquery())
             .values(state="running", worker_id=worker_id,
                     started_at=func.coalesce(Task.started_at, now))
             .returning(Task.id, Task.number, Task.kind, Task.params, Task.attempts, Task.result)
             .execution_options(synchronize_session=False))
    with session_factory() as dbsession:
        # A read first, so an idle queue never takes SQLite's write lock.
        if dbsession.scalar(select(Task.id).where(*claimable).limit(1)) is None:
            return None
        dbsession.rollback()
        connection = dbsession.connection()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            row = dbsession.execute(claim).first()
            dbsession.commit()
        except IntegrityError:
            # Another worker's claim got the one running place first (the unique index).
            dbsession.rollback()
            return None
    return row


def still_mine(task_id, worker_id):
    return (Task.id == task_id) & (Task.worker_id == worker_id) & (Task.state == "running")


def record(session_factory, task_id, worker_id, line=None, progress=None, checkpoint=None):
    """Store a log line, progress and/or partial result; False if the task is no longer ours."""
    now = utcnow()
    values = {}
    if progress is not None:
        values["progress"] = max(0.0, min(1.0, float(progress)))
    if checkpoint is not None:
        values["result"] = checkpoint
    with session_factory.begin() as dbsession:
        ours = dbsession.scalar(select(Task.id).where(still_mine(task_id, worker_id)))
        if ours is None:
            return False
        if values:
            dbsession.execute(update(Task).where(Task.id == task_id).values(**values))
        if line is not None:
            dbsession.add(TaskLine(task_id=task_id, at=now, line=line))
    return True


def control(session_factory, task_id, worker_id):
    """(cancel requested, still ours): read after every page."""
    with session_factory() as dbsession:
        row = dbsession.execute(select(Task.cancel_requested, Task.worker_id, Task.state)
                                .where(Task.id == task_id)).first()
    if row is None:
        return True, False
    return row.cancel_requested, row.worker_id == worker_id and row.state == "running"


def finish(session_factory, task_id, worker_id, state, result=None, error=None, line=None,
           run_after=None):
    """End our run of the task: done, failed or cancelled; or `pending` to resume it later
    (not before `run_after`, when given).

    Returns the task's progress, or None if it was no longer ours."""
    now = utcnow()
    if state == "pending":
        values = {"state": "pending", "worker_id": None, "attempts": Task.attempts + 1}
        if run_after is not None:
            values["run_after"] = run_after
    else:
        values = {"state": state, "finished_at": now, "error": error}
        if result is not None:
            values["result"] = result
        if state == "done":
            values["progress"] = 1.0
    with session_factory.begin() as dbsession:
        progress = dbsession.scalar(
            update(Task).where(still_mine(task_id, worker_id)).values(**values)
            .returning(Task.progress).execution_options(synchronize_session=False))
        if progress is not None and line:
            dbsession.add(TaskLine(task_id=task_id, at=now, line=line))
    return progress
