"""ThreadPoolExecutor: every task in a pool of threads (coroutines get their own loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz.executors._run import RunOutcome, run_async, run_sync
from asyncz.executors.base import BaseExecutor

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


def _run_in_thread(task: Task, run_times: list[datetime]) -> list[RunOutcome]:
    assert task.fn is not None
    kwargs = dict(task.kwargs)
    if inspect.iscoroutinefunction(task.fn):
        return asyncio.run(
            run_async(task.fn, task.args, kwargs, run_times, task.mistrigger_grace_time)
        )
    return run_sync(task.fn, task.args, kwargs, run_times, task.mistrigger_grace_time)


class ThreadPoolExecutor(BaseExecutor):
    """Aliases ``threadpool`` and ``pool``. Use for blocking functions."""

    def __init__(self, max_workers: int = 10, pool_kwargs: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.max_workers = max_workers
        self.pool_kwargs = pool_kwargs or {}
        self._pool: concurrent.futures.Executor | None = None

    def _make_pool(self) -> concurrent.futures.Executor:
        return concurrent.futures.ThreadPoolExecutor(
            self.max_workers, thread_name_prefix=f"asyncz-{self.alias}", **self.pool_kwargs
        )

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._pool = self._make_pool()

    def _submit(self, task: Task, run_times: list[datetime]) -> concurrent.futures.Future[Any]:
        assert self._pool is not None
        return self._pool.submit(_run_in_thread, task, run_times)

    def do_send_task(self, task: Task, run_times: list[datetime]) -> None:
        future = self._submit(task, run_times)

        def done(finished: concurrent.futures.Future[list[RunOutcome]]) -> None:
            if finished.cancelled() or finished.exception() is not None:
                self.finished_threadsafe(task, [])
            else:
                self.finished_threadsafe(task, finished.result())

        future.add_done_callback(done)

    def shutdown(self, wait: bool = True) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=not wait)
            self._pool = None
