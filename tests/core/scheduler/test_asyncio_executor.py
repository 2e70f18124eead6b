"""AsyncIOExecutor reports every submission exactly once, however it ends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from asyncz.executors._run import RunOutcome
from asyncz.executors.asyncio import AsyncIOExecutor
from asyncz.tasks import Task


class _Scheduler:
    """What an executor needs from its scheduler: a loop and somewhere to report."""

    def __init__(self) -> None:
        self.event_loop = asyncio.get_running_loop()
        self.reports: list[tuple[str, list[RunOutcome]]] = []

    def report_outcomes(self, task: Task, outcomes: list[RunOutcome], executor: Any) -> None:
        self.reports.append((task.id, outcomes))


async def _sleep_long() -> None:
    await asyncio.sleep(60)


async def _return_seven() -> int:
    return 7


def _started(fn: Any, task_id: str) -> tuple[AsyncIOExecutor, _Scheduler, Task]:
    scheduler = _Scheduler()
    executor = AsyncIOExecutor()
    executor.start(scheduler, "default")
    return executor, scheduler, Task(fn, id=task_id)


def test_a_finished_coroutine_is_reported_with_its_result() -> None:
    async def main() -> None:
        executor, scheduler, task = _started(_return_seven, "seven")
        executor.send_task(task, [datetime.now(UTC)])
        await executor.drain()
        [(task_id, outcomes)] = scheduler.reports
        assert task_id == "seven" and [o.return_value for o in outcomes] == [7]
        assert executor.instances == {}

    asyncio.run(main())


def test_runs_cancelled_before_and_after_their_first_step_are_reported_once() -> None:
    async def main() -> None:
        executor, scheduler, started = _started(_sleep_long, "started")
        executor.send_task(started, [datetime.now(UTC)])
        await asyncio.sleep(0)  # the first one is now awaiting its sleep
        executor.send_task(Task(_sleep_long, id="unstarted"), [datetime.now(UTC)])
        executor.shutdown(wait=False)
        await asyncio.sleep(0.01)
        assert sorted(scheduler.reports) == [("started", []), ("unstarted", [])]
        assert executor.instances == {}

    asyncio.run(main())


def test_plain_functions_run_in_the_pool_and_are_reported() -> None:
    async def main() -> None:
        executor, scheduler, task = _started(lambda: "pooled", "pool")
        executor.send_task(task, [datetime.now(UTC)])
        await executor.drain()
        await asyncio.sleep(0.01)
        [(task_id, outcomes)] = scheduler.reports
        assert task_id == "pool" and [o.return_value for o in outcomes] == ["pooled"]

    asyncio.run(main())
