"""One scheduler process sharing a store with others; logs every executed fire.

Usage: python worker.py '<json config>'; config keys: store (a store config dict),
log (path), until (epoch seconds), lease (seconds), poll (seconds).
Each executed fire is appended as "task_id<TAB>scheduled ISO time<TAB>pid" (one write per
line, O_APPEND, so lines from concurrent processes never interleave).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


async def main(config: dict[str, Any]) -> None:
    from asyncz.events import TaskExecutionEvent
    from asyncz.events.constants import TASK_EXECUTED
    from asyncz.schedulers import AsyncIOScheduler

    log = os.open(config["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    pid = os.getpid()

    def record(event: TaskExecutionEvent) -> None:
        assert event.scheduled_run_time is not None
        line = f"{event.task_id}\t{event.scheduled_run_time.isoformat()}\t{pid}\n"
        os.write(log, line.encode())

    scheduler = AsyncIOScheduler(
        stores={"default": config["store"]},
        timezone="UTC",
        lease_duration=config["lease"],
        store_poll_interval=config["poll"],
        claim_batch_size=config.get("batch", 100),
        task_defaults={"mistrigger_grace_time": None},
        store_retry_interval=0.5,
    )
    scheduler.add_listener(record, TASK_EXECUTED)  # type: ignore[arg-type]
    scheduler.start()
    await asyncio.sleep(max(config["until"] - time.time(), 0))
    await scheduler.shutdown_async()
    os.close(log)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
