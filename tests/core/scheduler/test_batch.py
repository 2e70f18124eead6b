"""``scheduler.batch()``: many adds, one store write per store, at the end of the block."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from asyncz.events import constants as ev
from asyncz.exceptions import ConflictIdError
from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.memory import MemoryStore
from asyncz.tasks.types import TaskType
from support.scheduling import Recorder, eventually


class CountingStore(MemoryStore):
    """A MemoryStore that counts the calls that write new tasks."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[str, int]] = []

    def add_task(self, task: TaskType) -> None:
        self.writes.append(("add_task", 1))
        super().add_task(task)

    def add_tasks(self, tasks: Any) -> None:
        self.writes.append(("add_tasks", len(tasks)))
        super().add_tasks(tasks)


def _started(*stores: str) -> tuple[AsyncIOScheduler, dict[str, CountingStore]]:
    made = {alias: CountingStore() for alias in stores}
    scheduler = AsyncIOScheduler(stores=dict(made), timezone="UTC")
    scheduler.start()
    return scheduler, made


def _soon() -> datetime:
    return datetime.now(UTC) + timedelta(milliseconds=50)


def test_adds_in_a_block_are_written_once_per_store_at_its_end() -> None:
    ran: list[str] = []

    async def main() -> None:
        scheduler, stores = _started("default", "other")
        recorder = Recorder()
        scheduler.add_listener(recorder.listener, ev.TASK_ADDED)
        with scheduler.batch():
            for i in range(3):
                scheduler.add_task(ran.append, "date", args=[f"d{i}"], run_at=_soon())
            scheduler.add_task(ran.append, "date", args=["o"], run_at=_soon(), store="other")
            assert stores["default"].writes == [] and scheduler.get_tasks() == []
        assert stores["default"].writes == [("add_tasks", 3)]
        assert stores["other"].writes == [("add_tasks", 1)]
        assert len(recorder.codes(ev.TASK_ADDED)) == 4
        await eventually(lambda: len(ran) == 4)
        scheduler.shutdown()

    asyncio.run(main())
    assert sorted(ran) == ["d0", "d1", "d2", "o"]


def test_a_conflict_surfaces_at_the_end_and_the_batch_is_not_written() -> None:
    async def main() -> None:
        scheduler, stores = _started("default")
        scheduler.add_task(print, "interval", hours=1, id="taken")
        with pytest.raises(ConflictIdError, match="taken"), scheduler.batch():
            scheduler.add_task(print, "interval", hours=1, id="fresh")
            scheduler.add_task(print, "interval", hours=1, id="taken")
        assert [t.id for t in scheduler.get_tasks()] == ["taken"]
        scheduler.shutdown()

    asyncio.run(main())


def test_an_error_inside_the_block_discards_what_it_queued() -> None:
    async def main() -> None:
        scheduler, stores = _started("default")
        with pytest.raises(RuntimeError), scheduler.batch():
            task = scheduler.add_task(print, "interval", hours=1, id="dropped")
            raise RuntimeError("changed my mind")
        assert scheduler.get_tasks() == [] and stores["default"].writes == []
        scheduler.add_task(task)  # not written, so it may be added again
        assert [t.id for t in scheduler.get_tasks()] == ["dropped"]
        scheduler.shutdown()

    asyncio.run(main())


def test_nested_blocks_join_and_replacing_adds_go_one_by_one() -> None:
    async def main() -> None:
        scheduler, stores = _started("default")
        scheduler.add_task(print, "interval", hours=1, id="old", name="before")
        with scheduler.batch():
            scheduler.add_task(print, "interval", hours=1, id="a")
            with scheduler.batch():
                scheduler.add_task(print, "interval", hours=1, id="b")
            assert [t.id for t in scheduler.get_tasks()] == ["old"]  # the inner block joined
            scheduler.add_task(
                print, "interval", hours=1, id="old", name="after", replace_existing=True
            )
        writes = stores["default"].writes
        assert writes[1] == ("add_tasks", 2)
        assert {t.id: t.name for t in scheduler.get_tasks()} == {
            "a": "print",
            "b": "print",
            "old": "after",
        }
        scheduler.shutdown()

    asyncio.run(main())


def test_on_a_stopped_scheduler_a_batch_waits_for_start() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    with scheduler.batch():
        task = scheduler.add_task(print, "interval", hours=1, id="later")
    assert task.pending
    assert [t.id for t in scheduler.get_tasks()] == ["later"]
