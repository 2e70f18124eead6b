"""AsyncIOExecutor: coroutines on the scheduler's loop, plain functions in its thread pool."""

from __future__ import annotations

import asyncio
import inspect
from datetime import datetime
from typing import TYPE_CHECKING

from asyncz.executors._run import RunOutcome, run_async, run_sync
from asyncz.executors.base import BaseExecutor

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


class AsyncIOExecutor(BaseExecutor):
    """The default executor (alias ``asyncio``)."""

    def __init__(self) -> None:
        super().__init__()
        self._running: set[asyncio.Future[list[RunOutcome]]] = set()

    def do_send_task(self, task: Task, run_times: list[datetime]) -> None:
        assert self.loop is not None and task.fn is not None
        args, kwargs = task.args, dict(task.kwargs)
        future: asyncio.Future[list[RunOutcome]]
        if inspect.iscoroutinefunction(task.fn):
            future = self.loop.create_task(
                run_async(task.fn, args, kwargs, run_times, task.mistrigger_grace_time),
                name=f"asyncz-task-{task.id}",
            )
        else:
            future = self.loop.run_in_executor(
                None, run_sync, task.fn, args, kwargs, run_times, task.mistrigger_grace_time
            )
        self._running.add(future)
        future.add_done_callback(lambda done: self._done(task, done))

    def _done(self, task: Task, future: asyncio.Future[list[RunOutcome]]) -> None:
        self._running.discard(future)
        if future.cancelled() or future.exception() is not None:
            self.finished(task, [])
            return
        self.finished(task, future.result())

    def shutdown(self, wait: bool = True) -> None:
        if not wait:
            for future in list(self._running):
                future.cancel()

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)
