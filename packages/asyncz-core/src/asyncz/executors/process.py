"""ProcessPoolExecutor: tasks in worker processes (functions must be importable)."""

from __future__ import annotations

import concurrent.futures
import inspect
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz.exceptions import TaskEncodeError
from asyncz.executors._run import RunOutcome, run_async, run_sync
from asyncz.executors.pool import ThreadPoolExecutor
from asyncz.tasks.references import resolve_reference

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


def _run_in_process(
    reference: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    run_times: list[datetime],
    grace: float | None,
) -> list[RunOutcome]:
    import asyncio

    fn = resolve_reference(reference)
    if inspect.iscoroutinefunction(fn):
        outcomes = asyncio.run(run_async(fn, args, kwargs, run_times, grace))
    else:
        outcomes = run_sync(fn, args, kwargs, run_times, grace)
    for outcome in outcomes:  # exceptions and results must survive pickling back
        if outcome.exception is not None:
            outcome.exception = RuntimeError(repr(outcome.exception))
    return outcomes


class ProcessPoolExecutor(ThreadPoolExecutor):
    """Alias ``processpool``. For CPU-bound functions defined at module level."""

    def _make_pool(self) -> concurrent.futures.Executor:
        return concurrent.futures.ProcessPoolExecutor(self.max_workers, **self.pool_kwargs)

    def _submit(self, task: Task, run_times: list[datetime]) -> concurrent.futures.Future[Any]:
        reference = task.fn_reference
        if reference is None:
            raise TaskEncodeError(
                f"Task {task.id!r}: the process pool runs functions by 'module:function' "
                "reference, and this one has none (lambda, closure or bound method)."
            )
        assert self._pool is not None
        try:
            return self._pool.submit(
                _run_in_process,
                reference,
                tuple(task.args),
                dict(task.kwargs),
                run_times,
                task.mistrigger_grace_time,
            )
        except concurrent.futures.process.BrokenProcessPool:
            self._pool = self._make_pool()
            return self._submit(task, run_times)
