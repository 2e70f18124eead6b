"""Adapter for the published APScheduler 3.11.3 (run in its own venv).

API: ``apscheduler.schedulers.asyncio.AsyncIOScheduler``, ``add_job``; job stores
``MemoryJobStore``, ``SQLAlchemyJobStore(url=)``, ``RedisJobStore``, ``MongoDBJobStore``.
APScheduler 3 has no file job store: that backend is reported as not applicable.
Population writes the same rows each job store's ``add_job`` writes (pickled job state), in
bulk (``pickles.PickleTemplate``); the memory store's sorted list and index are filled directly.
"""

from __future__ import annotations

import importlib.metadata
import pickle
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import bench_jobs
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from backend_data import analyze, drop, postgres_url, redis_host_port, sqlite_url
from harness import Adapter, Bench, Settings, main
from pickles import PickleTemplate

BACKENDS = ("memory", "sqlite", "postgres", "redis", "mongo")


class ApsBench(Bench):
    def __init__(self, settings: Settings, name: str, grace: float | None) -> None:
        self.backend, self.name, self.settings = settings.backend, name, settings
        self.store = self._make_store()
        options: dict[str, Any] = {"jobstores": {"default": self.store}, "timezone": UTC}
        if grace is not None:
            options["job_defaults"] = {"misfire_grace_time": grace}
        self.scheduler = AsyncIOScheduler(**options)
        self.grace = grace if grace is not None else 1
        durable = self.backend != "memory"
        self.tick: Any = "bench_jobs:tick" if durable else bench_jobs.tick
        self.late: Any = "bench_jobs:late" if durable else bench_jobs.late
        self.trigger = IntervalTrigger(hours=1, timezone=UTC)
        self._pickles: PickleTemplate | None = None

    def _make_store(self) -> Any:
        backend, name, urls = self.backend, self.name, self.settings.urls
        if backend == "memory":
            from apscheduler.jobstores.memory import MemoryJobStore

            return MemoryJobStore()
        if backend in {"sqlite", "postgres"}:
            from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

            url = (
                sqlite_url(self.settings, name)
                if backend == "sqlite"
                else postgres_url(urls["postgres"])
            )
            return SQLAlchemyJobStore(url=url, tablename=name)
        if backend == "redis":
            from apscheduler.jobstores.redis import RedisJobStore

            host, port = redis_host_port(urls["redis"])
            return RedisJobStore(
                jobs_key=f"{name}.jobs", run_times_key=f"{name}.run_times", host=host, port=port
            )
        if backend == "mongo":
            from apscheduler.jobstores.mongodb import MongoDBJobStore

            return MongoDBJobStore(database=name, collection="jobs", host=urls["mongo"])
        raise ValueError(f"unknown backend {backend!r}")

    def start(self, paused: bool = False) -> None:
        self.scheduler.start(paused=paused)

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        self.scheduler.wakeup()

    def add_interval(self, task_id: str | None) -> None:
        self.scheduler.add_job(self.tick, "interval", id=task_id, hours=1)

    def add_direct(self) -> None:
        trigger = IntervalTrigger(hours=1, timezone=UTC)
        first = trigger.get_next_fire_time(None, datetime.now(UTC))
        self.store.add_job(
            Job(
                self.scheduler,
                func=self.tick,
                trigger=trigger,
                executor="default",
                args=(),
                kwargs={},
                name="tick",
                misfire_grace_time=1,
                coalesce=True,
                max_instances=1,
                next_run_time=first,
            )
        )

    def add_at(self, task_id: str, run_at: datetime, scheduled: float) -> None:
        self.scheduler.add_job(
            self.late, DateTrigger(run_date=run_at, timezone=UTC), args=[scheduled], id=task_id
        )

    def _job(self, job_id: str, when: datetime) -> Job:
        return Job(
            self.scheduler,
            id=job_id,
            func=self.tick,
            trigger=self.trigger,
            executor="default",
            args=(),
            kwargs={},
            name="tick",
            misfire_grace_time=self.grace,
            coalesce=True,
            max_instances=1,
            next_run_time=when,
        )

    def populate(self, entries: Sequence[tuple[str, datetime]]) -> None:
        store = self.store
        template = self._job(PickleTemplate.SENTINEL_ID, PickleTemplate.SENTINEL_TIME)
        if self.backend == "memory":
            # The store's own sorted list and index, filled in one go (add_job is O(N)).
            state = template.__getstate__()
            pairs = []
            for job_id, when in entries:
                job = Job.__new__(Job)
                job.__setstate__({**state, "id": job_id, "next_run_time": when})
                job._scheduler, job._jobstore_alias = self.scheduler, "default"
                pairs.append((job, when.timestamp()))
            store._jobs = sorted(store._jobs + pairs, key=lambda pair: (pair[1], pair[0].id))
            store._jobs_index.update({job.id: (job, stamp) for job, stamp in pairs})
            return
        if self._pickles is None:
            self._pickles = PickleTemplate(
                pickle.dumps(template.__getstate__(), store.pickle_protocol)
            )
        make = self._pickles.make
        rows = [(job_id, when.timestamp(), make(job_id, when)) for job_id, when in entries]
        if self.backend in {"sqlite", "postgres"}:
            with store.engine.begin() as connection:
                connection.execute(
                    store.jobs_t.insert(),
                    [{"id": i, "next_run_time": t, "job_state": p} for i, t, p in rows],
                )
        elif self.backend == "redis":
            pipe = store.redis.pipeline(transaction=False)
            pipe.hset(store.jobs_key, mapping={i: p for i, _, p in rows})
            pipe.zadd(store.run_times_key, {i: t for i, t, _ in rows})
            pipe.execute()
        elif self.backend == "mongo":
            from bson.binary import Binary

            store.collection.insert_many(
                [{"_id": i, "next_run_time": t, "job_state": Binary(p)} for i, t, p in rows],
                ordered=False,
            )

    def after_populate(self) -> None:
        analyze(self.settings, self.name)

    def count_due(self, now: datetime) -> int:
        return len(self.store.get_due_jobs(now))

    def next_run_time(self) -> datetime | None:
        return self.store.get_next_run_time()  # type: ignore[no-any-return]

    def clear(self) -> None:
        self.store.remove_all_jobs()

    def cleanup(self) -> None:
        drop(self.settings, self.name, [self.name])


class ApsAdapter(Adapter):
    project = "apscheduler"
    version = importlib.metadata.version("APScheduler")

    def unsupported(self, backend: str) -> str | None:
        if backend == "file":
            return "APScheduler 3 has no file job store"
        return None if backend in BACKENDS else f"no {backend} job store"

    def create(self, settings: Settings, name: str, grace: float | None) -> Bench:
        return ApsBench(settings, name, grace)


if __name__ == "__main__":
    main(ApsAdapter())
