"""The executor contract: run submitted tasks and report what happened."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from asyncz.exceptions import MaximumInstancesError
from asyncz.executors._run import RunOutcome

if TYPE_CHECKING:
    from asyncz.tasks.task import Task


class BaseExecutor(ABC):
    """Runs tasks handed over by the scheduler.

    ``send_task`` is called on the scheduler's event loop; it must return quickly and never
    block. It enforces ``max_instances`` (per task, in this process; stores that support
    claims also enforce it across processes). When a submission finishes, the executor
    calls ``scheduler.report_outcomes`` on the loop, exactly once per submission.
    """

    def __init__(self) -> None:
        self.scheduler: Any = None
        self.alias: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        #: Running submissions per task id (ids with none are absent).
        self.instances: dict[str, int] = {}

    def start(self, scheduler: Any, alias: str) -> None:
        self.scheduler = scheduler
        self.alias = alias
        self.loop = scheduler.event_loop

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work; with ``wait`` let running work finish first."""

    async def drain(self) -> None:
        """Wait until nothing submitted to this executor is still running."""

    def send_task(self, task: Task, run_times: Sequence[datetime]) -> None:
        running = self.instances.get(task.id, 0)
        if running >= task.max_instances:
            raise MaximumInstancesError(task.id, task.max_instances)
        self.instances[task.id] = running + 1
        try:
            self.do_send_task(task, list(run_times))
        except BaseException:
            self._release(task.id)
            raise

    @abstractmethod
    def do_send_task(self, task: Task, run_times: list[datetime]) -> None:
        """Start running ``task`` for ``run_times``; call ``self.finished`` when done."""

    def finished(self, task: Task, outcomes: list[RunOutcome]) -> None:
        """Report a finished submission. Must be called on the event loop thread."""
        self._release(task.id)
        if self.scheduler is not None:
            self.scheduler.report_outcomes(task, outcomes, self.alias)

    def finished_threadsafe(self, task: Task, outcomes: list[RunOutcome]) -> None:
        if self.loop is None or self.loop.is_closed():
            self._release(task.id)
            return
        try:
            self.loop.call_soon_threadsafe(self.finished, task, outcomes)
        except RuntimeError:  # the loop closed meanwhile
            self._release(task.id)

    def _release(self, task_id: str) -> None:
        running = self.instances.pop(task_id, 0) - 1
        if running > 0:
            self.instances[task_id] = running

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r}>"
