"""Adapter for this project (the workspace's asyncz), through its public API.

Stores: ``asyncz.stores.memory.MemoryStore``, ``asyncz.stores.file.FileStore``,
``asyncz.stores.sqlalchemy.SQLAlchemyStore`` (sqlite, postgres via psycopg 3),
``asyncz.stores.redis.RedisStore`` and ``asyncz.stores.mongo.MongoDBStore``. Durable stores
get tasks as ``"bench_jobs:tick"`` references. Bulk population writes the records the
store's own codec encodes (``store.encode_task``) in the layout each store documents.
Records are spliced from one encoded template (``pickles.PickleTemplate``); the file
store gets them through its own ``insert_records``, the memory store tasks through
``add_tasks``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import bench_jobs
from backend_data import analyze, directory, drop, postgres_url, sqlite_url
from harness import Adapter, Bench, Settings, main
from pickles import PickleTemplate

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.base import BaseStore
from asyncz.stores.records import TaskRecord
from asyncz.tasks.task import Task
from asyncz.triggers.date import DateTrigger
from asyncz.triggers.interval import IntervalTrigger

BACKENDS = ("memory", "file", "sqlite", "postgres", "redis", "mongo")
TICK = "bench_jobs:tick"
LATE = "bench_jobs:late"


class OurBench(Bench):
    def __init__(self, settings: Settings, name: str, grace: float | None) -> None:
        self.backend = settings.backend
        self.name = name
        self.settings = settings
        self.store = self._make_store()
        defaults = {} if grace is None else {"mistrigger_grace_time": grace}
        self.scheduler = AsyncIOScheduler(
            stores={"default": self.store}, task_defaults=defaults, timezone="UTC"
        )
        self.grace = grace
        durable = self.backend != "memory"
        self.tick: Any = TICK if durable else bench_jobs.tick
        self.late: Any = LATE if durable else bench_jobs.late
        self.trigger = IntervalTrigger(hours=1)
        self._template: PickleTemplate | None = None

    def _make_store(self) -> BaseStore:
        backend, name, urls = self.backend, self.name, self.settings.urls
        if backend == "memory":
            from asyncz.stores.memory import MemoryStore

            return MemoryStore()
        if backend == "file":
            from asyncz.stores.file import FileStore

            return FileStore(directory=directory(self.settings, name))
        if backend in {"sqlite", "postgres"}:
            from asyncz.stores.sqlalchemy import SQLAlchemyStore

            url = (
                sqlite_url(self.settings, name)
                if backend == "sqlite"
                else postgres_url(urls["postgres"])
            )
            return SQLAlchemyStore(database=url, tablename=name)
        if backend == "redis":
            from asyncz.stores.redis import RedisStore

            return RedisStore(
                url=urls["redis"], tasks_key=f"{name}.tasks", run_times_key=f"{name}.run_times"
            )
        if backend == "mongo":
            from asyncz.stores.mongo import MongoDBStore

            return MongoDBStore(host=urls["mongo"], database=name, collection="tasks")
        raise ValueError(f"unknown backend {backend!r}")

    # ------------------------------------------------------------------ scheduler API
    def start(self, paused: bool = False) -> None:
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        self.scheduler.wakeup()

    def batch(self) -> AbstractContextManager[None]:
        return self.scheduler.batch()

    def add_interval(self, task_id: str | None) -> None:
        self.scheduler.add_task(self.tick, "interval", id=task_id, hours=1)

    def add_direct(self) -> None:
        trigger = IntervalTrigger(hours=1)
        first = trigger.get_next_trigger_time(self.scheduler.timezone, None, datetime.now(UTC))
        self.store.add_task(
            Task(
                self.tick,
                trigger=trigger,
                store_alias="default",
                next_run_time=first,
                scheduler=self.scheduler,
            )
        )

    def add_at(self, task_id: str, run_at: datetime, scheduled: float) -> None:
        self.scheduler.add_task(self.late, DateTrigger(run_at=run_at), args=[scheduled], id=task_id)

    # ------------------------------------------------------------------ the store itself
    def _task(self, task_id: str, next_run_time: datetime) -> Task:
        return Task(
            self.tick,
            id=task_id,
            trigger=self.trigger,
            store_alias="default",
            mistrigger_grace_time=self.grace,
            next_run_time=next_run_time,
            scheduler=self.scheduler,
        )

    def _records(self, entries: Sequence[tuple[str, datetime]]) -> list[TaskRecord]:
        """The records ``store.encode_task`` writes for these tasks, spliced from one
        template (a record whose run time has no microseconds is encoded in full: its ISO
        text is shorter)."""
        store: Any = self.store
        if self._template is None:
            sentinel = self._task(PickleTemplate.SENTINEL_ID, PickleTemplate.SENTINEL_TIME)
            self._template = PickleTemplate(store.encode_task(sentinel).payload, iso_bytes)
        records = []
        for task_id, when in entries:
            if when.microsecond == 0:
                records.append(store.encode_task(self._task(task_id, when)))
            else:
                payload = self._template.make(task_id, when)
                records.append(TaskRecord(task_id, when.astimezone(UTC), payload))
        return records

    def populate(self, entries: Sequence[tuple[str, datetime]]) -> None:
        store: Any = self.store
        if self.backend == "memory":
            store.add_tasks([self._task(task_id, when) for task_id, when in entries])
            return
        records = self._records(entries)
        if self.backend == "file":
            # The store's own batch insert (on tmpfs by default, where its fsyncs cost
            # nothing; its on-disk layout is its own business).
            store.insert_records(records)
        elif self.backend in {"sqlite", "postgres"}:
            from sqlalchemy import insert

            rows = [
                {"id": r.id, "next_run_time": r.run_at_micros, "payload": r.payload}
                for r in records
            ]
            with store.engine.begin() as connection:
                connection.execute(insert(store.tasks), rows)
        elif self.backend == "redis":
            pipe = store.client.pipeline(transaction=False)
            pipe.hset(store.tasks_key, mapping={r.id: r.payload for r in records})
            pipe.zadd(store.run_times_key, {r.id: r.run_at_micros for r in records})
            pipe.execute()
        elif self.backend == "mongo":
            from bson.binary import Binary
            from bson.int64 import Int64

            store.tasks.insert_many(
                [
                    {
                        "_id": r.id,
                        "next_run_time": Int64(r.run_at_micros),
                        "payload": Binary(r.payload),
                    }
                    for r in records
                ],
                ordered=False,
            )

    def after_populate(self) -> None:
        analyze(self.settings, self.name)

    def count_due(self, now: datetime) -> int:
        return len(self.store.get_due_tasks(now))

    def next_run_time(self) -> datetime | None:
        return self.store.get_next_run_time()

    def clear(self) -> None:
        self.store.remove_all_tasks()

    def cleanup(self) -> None:
        drop(self.settings, self.name, [self.name, f"{self.name}_quarantine"])


def iso_bytes(moment: datetime) -> bytes:
    """A run time as our JSON records write it."""
    return moment.isoformat().encode()


class OurAdapter(Adapter):
    project = "ours"
    batches_adds = True
    version = importlib.metadata.version("asyncz-core")

    def unsupported(self, backend: str) -> str | None:
        return None if backend in BACKENDS else f"no {backend} store"

    def create(self, settings: Settings, name: str, grace: float | None) -> Bench:
        return OurBench(settings, name, grace)


if __name__ == "__main__":
    main(OurAdapter())
