"""asyncz demo: tasks on an embedded, persistent file store survive a restart.

Run it with ``./dev demo`` (or ``python examples/demo.py`` in the project's venv).
It starts a scheduler process that schedules three tasks and runs for a few seconds,
stops it, then starts a brand-new process that schedules nothing: the tasks come back
from the store and carry on where they were.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.getcwd(), "asyncz-demo-data")
TASKS_DIR = os.path.join(DATA, "tasks")
COUNTER = os.path.join(DATA, "report-count.txt")
RUN_SECONDS = 4.5


async def run_scheduler(first: bool) -> None:
    from asyncz.schedulers import AsyncIOScheduler
    from asyncz.stores.file import FileStore

    scheduler = AsyncIOScheduler(stores={"default": FileStore(directory=TASKS_DIR)}, timezone="UTC")
    scheduler.start()
    if first:
        scheduler.add_task(
            "demo_tasks:heartbeat", "interval", seconds=1, args=["interval 1 s"], id="heartbeat"
        )
        scheduler.add_task("demo_tasks:report", "cron", second="*/2", args=[COUNTER], id="report")
        scheduler.add_task(
            "demo_tasks:one_off",
            "date",
            run_at=datetime.now(UTC) + timedelta(seconds=6),
            args=["scheduled by the first process, run by the second"],
            id="one-off",
        )
        print("  scheduled 3 tasks:")
    else:
        print("  scheduled nothing; found in the store:")
    for task in scheduler.get_tasks():
        when = task.next_run_time.strftime("%H:%M:%S") if task.next_run_time else "paused"
        print(f"    - {task.id:<10} {task.trigger}  next run {when}")
    await asyncio.sleep(RUN_SECONDS)
    await scheduler.shutdown_async()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in {"--first", "--second"}:
        sys.path.insert(0, HERE)
        asyncio.run(run_scheduler(first=sys.argv[1] == "--first"))
        return
    shutil.rmtree(DATA, ignore_errors=True)
    for phase, label in (("--first", "first process"), ("--second", "second process (restart)")):
        print(f"\n== {label} ==", flush=True)
        subprocess.run([sys.executable, os.path.abspath(__file__), phase], check=True)
    print(f"\nThe tasks live in {TASKS_DIR}: one file per task plus a time index.")
    print(
        "Run it again, or look inside with: .venv/bin/asyncz tasks list --store file://" + TASKS_DIR
    )


if __name__ == "__main__":
    main()
