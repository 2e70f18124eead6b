"""Task functions and an app factory for the CLI tests.

Subprocesses import this module by reference (``asyncz_cli_jobs:touch``): the tests put
this directory on their PYTHONPATH.
"""

from __future__ import annotations

import os
from pathlib import Path

from asyncz.schedulers import AsyncIOScheduler


def touch(path: str, text: str = "ran") -> str:
    """Appends ``text`` and the pid of the process that ran it to ``path``."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{text} {os.getpid()}\n")
    return text


def greet(name: str) -> str:
    return f"hello {name}"


def fail() -> None:
    raise ValueError("boom from a task")


def make_scheduler() -> AsyncIOScheduler:
    """``asyncz run asyncz_cli_jobs:make_scheduler``: a file store and one fast task, both
    placed by environment variables."""
    scheduler = AsyncIOScheduler(
        stores={"default": {"type": "file", "directory": os.environ["CLI_TEST_TASKS_DIR"]}},
        timezone="UTC",
    )
    marker = Path(os.environ["CLI_TEST_MARKER"])
    scheduler.add_task(
        touch,
        "interval",
        seconds=0.2,
        args=[str(marker), "factory"],
        id="tick",
        replace_existing=True,
    )
    return scheduler


def nap(seconds: float) -> None:
    import time

    time.sleep(seconds)
