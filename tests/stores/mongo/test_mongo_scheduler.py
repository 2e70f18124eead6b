"""The documented MongoDBStore example, run by a real scheduler."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pymongo import MongoClient

from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.mongo import MongoDBStore
from support.scheduling import RECORDER, eventually, record_call


def runs_of(token: str) -> int:
    with RECORDER.lock:
        return sum(1 for call in RECORDER.calls if call == (token,))


def test_documented_example_schedules_through_mongodb(mongo_url: str) -> None:
    AsyncIOScheduler(stores={"default": MongoDBStore()})  # as documented: connects at start only
    collection, token = f"t_{uuid.uuid4().hex[:16]}", uuid.uuid4().hex

    async def main() -> None:
        store = MongoDBStore(host=mongo_url, database="asyncz_scheduler", collection=collection)
        scheduler = AsyncIOScheduler(stores={"default": store}, timezone="UTC")
        scheduler.start()
        scheduler.add_task(record_call, "interval", seconds=0.05, args=[token], id="tick")
        await eventually(lambda: runs_of(token) >= 2)
        scheduler.shutdown()

    client: MongoClient[dict[str, Any]]
    with MongoClient(mongo_url) as client:
        try:
            asyncio.run(main())
            document = client["asyncz_scheduler"][collection].find_one({"_id": "tick"})
            assert document is not None and document["next_run_time"] is not None
        finally:
            client["asyncz_scheduler"].drop_collection(collection)
