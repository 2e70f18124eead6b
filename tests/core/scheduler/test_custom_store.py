"""A custom store written exactly as the documentation shows, run off the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime
from typing import List, Optional  # noqa: UP035 - the documented example's spelling

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.base import BaseStore
from asyncz.tasks.types import TaskType
from support.scheduling import eventually


class CustomStore(BaseStore):
    """A new custom store (the documented shape, backed by a dict)."""

    def __init__(self) -> None:
        self.tasks: dict[str, TaskType] = {}
        self.threads: set[str] = set()

    def _seen(self) -> None:
        self.threads.add(threading.current_thread().name)

    def get_due_tasks(self, now: datetime) -> List["TaskType"]:  # noqa: UP006, UP037
        self._seen()
        due = [t for t in self.tasks.values() if t.next_run_time and t.next_run_time <= now]
        return sorted(due, key=lambda t: (t.next_run_time, t.id))

    def lookup_task(self, task_id: str) -> "TaskType":  # noqa: UP037
        return self.tasks.get(task_id)  # type: ignore[return-value]

    def delete_task(self, task_id: str):  # type: ignore[no-untyped-def]
        del self.tasks[task_id]

    def remove_all_tasks(self):  # type: ignore[no-untyped-def]
        self.tasks.clear()

    def get_next_run_time(self) -> Optional[datetime]:  # noqa: UP045
        self._seen()
        times = [t.next_run_time for t in self.tasks.values() if t.next_run_time]
        return min(times) if times else None

    def get_all_tasks(self) -> List["TaskType"]:  # noqa: UP006, UP037
        return list(self.tasks.values())

    def add_task(self, task: "TaskType"):  # type: ignore[no-untyped-def]  # noqa: UP037
        self.tasks[task.id] = task

    def update_task(self, task: "TaskType"):  # type: ignore[no-untyped-def]  # noqa: UP037
        self.tasks[task.id] = task


class SlowStore(CustomStore):
    def get_due_tasks(self, now: datetime) -> List["TaskType"]:  # noqa: UP006, UP037
        time.sleep(0.5)
        return super().get_due_tasks(now)


def test_documented_custom_store_works_and_runs_off_the_loop() -> None:
    hits: list[int] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_store(CustomStore, "custom")
        scheduler.start()
        scheduler.add_task(hits.append, "interval", seconds=0.02, args=[1], store="custom")
        await eventually(lambda: len(hits) >= 3)
        store = scheduler.stores["custom"]
        assert isinstance(store, CustomStore)
        assert store.threads and all(
            name.startswith("asyncz-store-custom") for name in store.threads
        )
        scheduler.shutdown()

    asyncio.run(main())


def test_a_slow_store_delays_neither_the_loop_nor_other_stores() -> None:
    fast_hits: list[float] = []
    ticks: list[float] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(timezone="UTC")
        scheduler.add_store(SlowStore(), "slow")
        scheduler.start()
        scheduler.add_task(lambda: None, "interval", seconds=0.01, store="slow")
        scheduler.add_task(lambda: fast_hits.append(time.monotonic()), "interval", seconds=0.05)
        started = time.monotonic()
        while time.monotonic() - started < 1.2:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)
        scheduler.shutdown(wait=False)

    asyncio.run(main())
    longest_loop_stall = max(b - a for a, b in zip(ticks, ticks[1:], strict=False))
    assert longest_loop_stall < 0.25  # the 0.5 s store calls never ran on the loop
    assert len(fast_hits) >= 10  # the memory store kept firing every 50 ms
