"""Adapter for the published asyncz 0.17.2 (run in its own venv, never with our code).

API: ``asyncz.schedulers.AsyncIOScheduler``, ``add_task``; stores ``asyncz.stores.*``
(MemoryStore, FileStore, SQLAlchemyStore, RedisStore, MongoDBStore). Population writes the
same record each store's ``add_task`` writes (pickled, envelope-wrapped task state), in bulk
(``pickles.PickleTemplate``); the memory store's sorted list and index are filled directly.
"""

from __future__ import annotations

import importlib.metadata
import pickle
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import bench_jobs
from backend_data import analyze, directory, drop, postgres_url, redis_host_port, sqlite_url
from harness import Adapter, Bench, Settings, main
from pickles import PickleTemplate

from asyncz.schedulers import AsyncIOScheduler
from asyncz.tasks import Task
from asyncz.triggers.date import DateTrigger
from asyncz.triggers.interval import IntervalTrigger

BACKENDS = ("memory", "file", "sqlite", "postgres", "redis", "mongo")


class AsynczBench(Bench):
    def __init__(self, settings: Settings, name: str, grace: float | None) -> None:
        self.backend, self.name, self.settings = settings.backend, name, settings
        self.store = self._make_store()
        options: dict[str, Any] = {"stores": {"default": self.store}, "timezone": "UTC"}
        if grace is not None:
            options["task_defaults"] = {"mistrigger_grace_time": grace}
        self.scheduler = AsyncIOScheduler(**options)
        self.grace = grace
        durable = self.backend != "memory"
        self.tick: Any = "bench_jobs:tick" if durable else bench_jobs.tick
        self.late: Any = "bench_jobs:late" if durable else bench_jobs.late
        self.trigger = IntervalTrigger(hours=1, timezone=UTC)
        self._pickles: PickleTemplate | None = None

    def _make_store(self) -> Any:
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

            host, port = redis_host_port(urls["redis"])
            return RedisStore(
                tasks_key=f"{name}.tasks", run_times_key=f"{name}.run_times", host=host, port=port
            )
        if backend == "mongo":
            from asyncz.stores.mongo import MongoDBStore

            return MongoDBStore(database=name, collection="tasks", host=urls["mongo"])
        raise ValueError(f"unknown backend {backend!r}")

    def start(self, paused: bool = False) -> None:
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        self.scheduler.wakeup()

    def add_interval(self, task_id: str | None) -> None:
        self.scheduler.add_task(self.tick, "interval", id=task_id, hours=1)

    def add_direct(self) -> None:
        trigger = IntervalTrigger(hours=1, timezone=UTC)
        first = trigger.get_next_trigger_time(UTC, None, datetime.now(UTC))
        self.store.add_task(
            Task(
                self.tick,
                scheduler=self.scheduler,
                trigger=trigger,
                executor="default",
                store_alias="default",
                mistrigger_grace_time=1,
                coalesce=True,
                max_instances=1,
                next_run_time=first,
            )
        )

    def add_at(self, task_id: str, run_at: datetime, scheduled: float) -> None:
        self.scheduler.add_task(self.late, DateTrigger(run_at=run_at), args=[scheduled], id=task_id)

    def _task(self, task_id: str, when: datetime) -> Any:
        return Task(
            self.tick,
            id=task_id,
            scheduler=self.scheduler,
            trigger=self.trigger,
            executor="default",
            store_alias="default",
            mistrigger_grace_time=self.grace,
            coalesce=True,
            max_instances=1,
            next_run_time=when,
        )

    def _records(self, entries: Sequence[tuple[str, datetime]]) -> list[tuple[str, float, bytes]]:
        """(id, timestamp, bytes) as the store's ``add_task`` would write them."""
        if self._pickles is None:
            store = self.store
            template = self._task(PickleTemplate.SENTINEL_ID, PickleTemplate.SENTINEL_TIME)
            self._pickles = PickleTemplate(
                pickle.dumps(store.serialize_task_state(template), store.pickle_protocol)
            )
        make = self._pickles.make
        return [(task_id, when.timestamp(), make(task_id, when)) for task_id, when in entries]

    def populate(self, entries: Sequence[tuple[str, datetime]]) -> None:
        store = self.store
        if self.backend == "memory":
            # The store's own sorted list and index, filled in one go (add_task is O(N)).
            template = self._task(PickleTemplate.SENTINEL_ID, PickleTemplate.SENTINEL_TIME)
            pairs = [
                (
                    template.model_copy(update={"id": task_id, "next_run_time": when}),
                    when.timestamp(),
                )
                for task_id, when in entries
            ]
            store.tasks = sorted(store.tasks + pairs, key=lambda pair: (pair[1], pair[0].id))
            store.tasks_index.update({task.id: (task, stamp) for task, stamp in pairs})
            return
        rows = self._records(entries)
        if self.backend == "file":
            for task_id, _, payload in rows:
                (store.directory / f"{task_id}{store.suffix}").write_bytes(payload)
        elif self.backend in {"sqlite", "postgres"}:
            with store.engine.begin() as connection:
                connection.execute(
                    store.table.insert(),
                    [{"id": i, "next_run_time": t, "state": p} for i, t, p in rows],
                )
        elif self.backend == "redis":
            pipe = store.redis.pipeline(transaction=False)
            pipe.hset(store.tasks_key, mapping={i: p for i, _, p in rows})
            pipe.zadd(store.run_times_key, {i: t for i, t, _ in rows})
            pipe.execute()
        elif self.backend == "mongo":
            from bson.binary import Binary

            store.collection.insert_many(
                [{"_id": i, "next_run_time": t, "state": Binary(p)} for i, t, p in rows],
                ordered=False,
            )

    def after_populate(self) -> None:
        analyze(self.settings, self.name)

    def count_due(self, now: datetime) -> int:
        return len(self.store.get_due_tasks(now))

    def next_run_time(self) -> datetime | None:
        return self.store.get_next_run_time()  # type: ignore[no-any-return]

    def clear(self) -> None:
        self.store.remove_all_tasks()

    def cleanup(self) -> None:
        drop(self.settings, self.name, [self.name])


class AsynczAdapter(Adapter):
    project = "asyncz"
    version = importlib.metadata.version("asyncz")

    def unsupported(self, backend: str) -> str | None:
        return None if backend in BACKENDS else f"no {backend} store"

    def create(self, settings: Settings, name: str, grace: float | None) -> Bench:
        return AsynczBench(settings, name, grace)


if __name__ == "__main__":
    main(AsynczAdapter())
