"""DebugExecutor: runs plain functions inline on the loop thread (for tests and debugging)."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz.executors._run import run_async, run_sync
from asyncz.executors.base import BaseExecutor

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


class DebugExecutor(BaseExecutor):
    """Alias ``debug``. Blocks the loop while a plain function runs: never for production."""

    def do_send_task(self, task: Task, run_times: list[datetime]) -> None:
        assert task.fn is not None and self.loop is not None
        grace, kwargs = task.mistrigger_grace_time, dict(task.kwargs)
        if inspect.iscoroutinefunction(task.fn):
            coro = run_async(task.fn, task.args, kwargs, run_times, grace)
            future = self.loop.create_task(coro)
            future.add_done_callback(lambda done: self.finished(task, done.result()))
        else:
            self.finished(task, run_sync(task.fn, task.args, kwargs, run_times, grace))
