"""Tasks as the API shows them (the shapes of openapi.py's Task, TaskSummary, TaskDetail)."""

from ..notify.publish import iso_utc


def when(moment):
    return None if moment is None else iso_utc(moment)


def seconds(start, end):
    return None if start is None or end is None else round((end - start).total_seconds(), 3)


def summary(task):
    return {"id": task.id, "number": task.number, "kind": task.kind, "state": task.state,
            "created_at": when(task.created_at), "run_after": when(task.run_after),
            "delay": task.delay, "params": task.params, "progress": task.progress}


def task_json(task):
    return dict(summary(task), result=task.result, error=task.error,
                started_at=when(task.started_at), finished_at=when(task.finished_at),
                waited_seconds=seconds(task.created_at, task.started_at),
                ran_seconds=seconds(task.started_at, task.finished_at),
                attempts=task.attempts, cancel_requested=task.cancel_requested)


def task_detail(task, lines, offset, total):
    return dict(task_json(task), log={
        "offset": offset, "total": total,
        "lines": [{"at": when(line.at), "line": line.line} for line in lines]})
