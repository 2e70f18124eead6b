"""When a store is processed: at its next run time, not after every write.

Each case runs on a store that processes on the loop (the MemoryStore) and on one that
lives on a worker thread (the same store declared blocking), the two schedules a store
loop keeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pytest

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.memory import MemoryStore
from asyncz.triggers import DateTrigger
from support.scheduling import eventually


class CountingStore(MemoryStore):
    """A MemoryStore that counts processing passes (each asks for the next run time)."""

    def __init__(self) -> None:
        super().__init__()
        self.passes = 0

    def get_next_run_time(self) -> datetime | None:
        self.passes += 1
        return super().get_next_run_time()


class BlockingCountingStore(CountingStore):
    blocking_io: ClassVar[bool] = True


@pytest.fixture(params=[CountingStore, BlockingCountingStore], ids=["on-loop", "worker"])
def store(request: pytest.FixtureRequest) -> Iterator[CountingStore]:
    yield request.param()


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_writes_of_later_tasks_cost_no_pass(store: CountingStore) -> None:
    async def main() -> None:
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start()
        await eventually(lambda: store.passes >= 1)  # the pass at start
        await asyncio.sleep(0.05)
        before = store.passes
        for number in range(50):
            scheduler.add_task(_noop, DateTrigger(run_at=soon(3600)), id=f"later-{number}")
        with scheduler.batch():
            for number in range(50):
                scheduler.add_task(_noop, DateTrigger(run_at=soon(3600)), id=f"batch-{number}")
        await asyncio.sleep(0.1)
        assert store.passes - before <= 1
        scheduler.shutdown()

    asyncio.run(main())


def test_a_task_added_for_sooner_moves_the_next_pass_earlier(store: CountingStore) -> None:
    ran: list[float] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start()
        scheduler.add_task(_noop, DateTrigger(run_at=soon(3600)), id="later")
        await asyncio.sleep(0.05)
        due = time.time() + 0.1
        scheduler.add_task(
            lambda: ran.append(time.time()),
            DateTrigger(run_at=datetime.fromtimestamp(due, UTC)),
            id="sooner",
        )
        await eventually(lambda: bool(ran), timeout=5)
        assert due <= ran[0] < due + 1.0
        scheduler.shutdown()

    asyncio.run(main())


def test_rescheduling_sooner_moves_the_next_pass_earlier(store: CountingStore) -> None:
    ran: list[float] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start()
        scheduler.add_task(lambda: ran.append(time.time()), "interval", hours=1, id="hourly")
        await asyncio.sleep(0.05)
        scheduler.update_task("hourly", next_run_time=soon(0.1))
        await eventually(lambda: bool(ran), timeout=5)
        scheduler.shutdown()

    asyncio.run(main())


def test_a_paused_scheduler_runs_nothing_until_resumed(store: CountingStore) -> None:
    ran: list[Any] = []

    async def main() -> None:
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start(paused=True)
        scheduler.add_task(lambda: ran.append(1), DateTrigger(run_at=soon(0.02)), id="t")
        await asyncio.sleep(0.2)
        assert ran == []
        scheduler.resume()
        await eventually(lambda: ran == [1], timeout=5)
        scheduler.shutdown()

    asyncio.run(main())


def _noop() -> None:
    pass
