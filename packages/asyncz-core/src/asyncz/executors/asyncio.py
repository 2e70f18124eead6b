"""AsyncIOExecutor: coroutines on the scheduler's loop, plain functions in its thread pool."""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz.executors._run import RunOutcome, run_async, run_sync
from asyncz.executors.base import BaseExecutor

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


class AsyncIOExecutor(BaseExecutor):
    """The default executor (alias ``asyncio``)."""

    def __init__(self) -> None:
        super().__init__()
        self._running: set[_Submission] = set()

    def do_send_task(self, task: Task, run_times: list[datetime]) -> None:
        assert self.loop is not None and task.fn is not None
        submission = _Submission(task)
        if _is_coroutine_function(task.fn):
            submission.future = self.loop.create_task(
                self._await(submission, run_times), name=f"asyncz-task-{task.id}"
            )
        else:
            args, kwargs, grace = task.args, dict(task.kwargs), task.mistrigger_grace_time
            pooled = self.loop.run_in_executor(
                None, run_sync, task.fn, args, kwargs, run_times, grace
            )
            submission.future = pooled
            pooled.add_done_callback(lambda done: self._report(submission, _outcomes(done)))
        self._running.add(submission)

    async def _await(self, submission: _Submission, run_times: list[datetime]) -> None:
        """A coroutine submission reports its own outcome when it ends (no done-callback hop
        per run)."""
        task = submission.task
        outcomes: list[RunOutcome] = []
        try:
            assert task.fn is not None
            grace = task.mistrigger_grace_time
            outcomes = await run_async(task.fn, task.args, dict(task.kwargs), run_times, grace)
        finally:
            self._report(submission, outcomes)

    def _report(self, submission: _Submission, outcomes: list[RunOutcome]) -> None:
        """Report a submission exactly once, whichever path gets here first."""
        if submission in self._running:
            self._running.discard(submission)
            self.finished(submission.task, outcomes)

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            return
        for submission in list(self._running):
            future = submission.future
            if future is not None and future.cancel():
                # A coroutine cancelled before its first step never runs its ``finally``.
                future.add_done_callback(functools.partial(self._report_cancelled, submission))

    def _report_cancelled(self, submission: _Submission, _: asyncio.Future[Any]) -> None:
        self._report(submission, [])

    async def drain(self) -> None:
        futures = [s.future for s in self._running if s.future is not None]
        if futures:
            await asyncio.gather(*futures, return_exceptions=True)


class _Submission:
    """One submission in flight (hashed by identity)."""

    __slots__ = ("future", "task")

    def __init__(self, task: Task) -> None:
        self.task = task
        self.future: asyncio.Future[Any] | None = None


def _is_coroutine_function(fn: Any) -> bool:
    """``inspect.iscoroutinefunction``, remembered per function (asked on every run)."""
    try:
        return _COROUTINE_FUNCTIONS[fn]
    except KeyError:
        answer = _COROUTINE_FUNCTIONS[fn] = inspect.iscoroutinefunction(fn)
        return answer
    except TypeError:  # unhashable callable
        return inspect.iscoroutinefunction(fn)


_COROUTINE_FUNCTIONS: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _outcomes(future: asyncio.Future[list[RunOutcome]]) -> list[RunOutcome]:
    if future.cancelled() or future.exception() is not None:
        return []
    return future.result()
