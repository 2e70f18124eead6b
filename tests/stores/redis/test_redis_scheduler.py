"""The documented RedisStore example, run by a real scheduler."""

from __future__ import annotations

import asyncio
import uuid

import redis

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.redis import RedisStore
from support.scheduling import RECORDER, eventually, record_call


def runs_of(token: str) -> int:
    with RECORDER.lock:
        return sum(1 for call in RECORDER.calls if call == (token,))


def test_documented_example_schedules_through_redis(redis_url: str) -> None:
    AsyncIOScheduler(stores={"default": RedisStore()})  # as documented: connects at start only
    prefix, token = f"asyncz-sched.{uuid.uuid4().hex}", uuid.uuid4().hex

    async def main() -> None:
        store = RedisStore(
            url=redis_url, tasks_key=f"{prefix}.tasks", run_times_key=f"{prefix}.run_times"
        )
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start()
        scheduler.add_task(record_call, "interval", seconds=0.05, args=[token], id="tick")
        await eventually(lambda: runs_of(token) >= 2)
        scheduler.shutdown()

    try:
        asyncio.run(main())
        with redis.Redis.from_url(redis_url) as client:
            assert client.hexists(f"{prefix}.tasks", "tick")  # still scheduled, kept in Redis
            assert client.zscore(f"{prefix}.run_times", "tick") is not None
    finally:
        with redis.Redis.from_url(redis_url) as client:
            client.delete(f"{prefix}.tasks", f"{prefix}.run_times")
