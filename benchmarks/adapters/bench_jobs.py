"""The functions benchmark tasks run, importable as ``"bench_jobs:tick"`` in every venv.

Standard library only: the same module is imported by our project's adapter and by the
peers' adapters, each in its own virtual environment. A ``Recorder`` notes wall-clock start
times; the case that armed it waits on ``done``.
"""

from __future__ import annotations

import asyncio
import time


class Recorder:
    """Counts runs of the benchmark functions and notes when they started (time.time())."""

    def __init__(self) -> None:
        self.expected = 0
        self.count = 0
        self.first_start: float | None = None
        self.last_start: float | None = None
        self.lateness: list[float] = []
        self.done: asyncio.Event | None = None

    def arm(self, expected: int) -> asyncio.Event:
        """Reset for a case that expects ``expected`` runs; call on the event loop."""
        self.expected = expected
        self.count = 0
        self.first_start = self.last_start = None
        self.lateness = []
        self.done = asyncio.Event()
        return self.done

    def hit(self, now: float) -> None:
        if self.first_start is None:
            self.first_start = now
        self.last_start = now
        self.count += 1
        if self.count >= self.expected and self.done is not None:
            self.done.set()


RECORDER = Recorder()


async def tick() -> None:
    """A trivial task: note that it ran."""
    RECORDER.hit(time.time())


async def late(scheduled: float) -> None:
    """Note how late this run started compared with ``scheduled`` (epoch seconds)."""
    now = time.time()
    RECORDER.lateness.append(now - scheduled)
    RECORDER.hit(now)
