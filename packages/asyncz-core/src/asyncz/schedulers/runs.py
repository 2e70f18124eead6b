"""From due tasks to executors, and from finished runs to logs and events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz.events import TaskEvent, TaskExecutionEvent, TaskSubmissionEvent
from asyncz.events import constants as ev
from asyncz.exceptions import MaximumInstancesError
from asyncz.executors._run import RunOutcome

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import AsyncIOScheduler
    from asyncz.schedulers.store_loop import PassResult
    from asyncz.tasks.task import Task


class RunDispatcher:
    """Runs on the scheduler's loop. Hands runs to executors (``max_instances`` decides
    there) and turns every outcome into one structured log line and one event."""

    def __init__(self, scheduler: AsyncIOScheduler) -> None:
        self.scheduler = scheduler

    def submit(self, alias: str, result: PassResult) -> None:
        scheduler = self.scheduler
        for task_id in result.removed:
            scheduler.dispatch(TaskEvent(ev.TASK_REMOVED, alias, task_id, alias))
        for submission in result.submissions:
            sent = self.send(submission.task, submission.run_times, submission.due_count)
            if submission.claimed and not sent:
                scheduler.store_loop(alias).run_ended(submission.task)

    def send(self, task: Task, run_times: list[datetime], due_count: int) -> bool:
        """Hand a task to its executor; False if it was not started."""
        scheduler = self.scheduler
        executor = scheduler.executors.get(task.executor)
        alias = task.store_alias
        if executor is None:
            scheduler.logger.error(
                "Task %r names executor %r, which does not exist; executors: %s",
                task.id,
                task.executor,
                ", ".join(scheduler.executors),
            )
            return False
        try:
            executor.send_task(task, run_times)
        except MaximumInstancesError:
            scheduler.logger.warning(
                "Run of task %r skipped: it is already running %d time(s) (max_instances)",
                task.id,
                task.max_instances,
            )
            scheduler.dispatch(
                TaskSubmissionEvent(ev.TASK_MAX_INSTANCES, alias, task.id, alias, None, run_times)
            )
            return False
        except Exception:
            scheduler.logger.exception(
                "Task %r could not be submitted to executor %r", task.id, task.executor
            )
            return False
        if scheduler.listeners.wants(ev.TASK_SUBMITTED):
            scheduler.dispatch(
                TaskSubmissionEvent(
                    ev.TASK_SUBMITTED,
                    alias,
                    task.id,
                    alias,
                    None,
                    run_times,
                    due_count - len(run_times),
                )
            )
        return True

    def report(self, task: Task, outcomes: list[RunOutcome], executor: str | None) -> None:
        """Log and announce what happened to each run of a submission."""
        scheduler = self.scheduler
        alias = task.store_alias
        store_loop = scheduler.find_store_loop(alias)
        if store_loop is not None and store_loop.claims:
            store_loop.run_ended(task)
        logger, listeners = scheduler.logger, scheduler.listeners
        for outcome in outcomes:
            code, level = _CODES[outcome.status]
            if logger.isEnabledFor(level):
                message, detail = _DESCRIBE[outcome.status](outcome)
                logger.log(
                    level, message, task.id, *detail, extra=_log_fields(task, outcome, executor)
                )
            if listeners.wants(code):
                scheduler.dispatch(
                    TaskExecutionEvent(
                        code,
                        alias,
                        task.id,
                        alias,
                        None,
                        outcome.run_time,
                        outcome.started_at,
                        outcome.duration,
                        outcome.return_value,
                        outcome.exception,
                        outcome.traceback,
                    )
                )


def _log_fields(task: Task, outcome: RunOutcome, executor: str | None) -> dict[str, object]:
    """The structured fields of a run's log line (``extra=``; JSON logs show them)."""
    started = outcome.started_at
    return {
        "task_id": task.id,
        "scheduled": outcome.run_time.isoformat(),
        "outcome": outcome.status,
        "duration": outcome.duration,
        "lateness": (started - outcome.run_time).total_seconds() if started else None,
        "executor": executor,
        "store": task.store_alias,
    }


#: Per outcome status: the event code and the log level.
_CODES: dict[str, tuple[int, int]] = {
    "missed": (ev.TASK_MISSED, logging.WARNING),
    "error": (ev.TASK_ERROR, logging.ERROR),
    "executed": (ev.TASK_EXECUTED, logging.INFO),
}
_Description = tuple[str, tuple[object, ...]]
#: Per outcome status: the log message and its arguments after the task id.
_DESCRIBE: dict[str, Callable[[RunOutcome], _Description]] = {
    "missed": lambda o: (
        "Run of task %r scheduled at %s was missed (later than its mistrigger_grace_time)",
        (o.run_time,),
    ),
    "error": lambda o: ("Task %r raised %r\n%s", (o.exception, o.traceback)),
    "executed": lambda o: ("Task %r ran in %.3f s (scheduled %s)", (o.duration or 0.0, o.run_time)),
}
