"""Small tools for scheduler tests: run a coroutine, wait for a condition, record events."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from asyncz.events import SchedulerEvent


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``check()`` holds; fail after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached within {timeout} s")
        await asyncio.sleep(0.01)


class Recorder:
    """Collects events and calls, from any thread."""

    def __init__(self) -> None:
        self.events: list[SchedulerEvent] = []
        self.calls: list[Any] = []
        self.lock = threading.Lock()

    def listener(self, event: SchedulerEvent) -> None:
        with self.lock:
            self.events.append(event)

    def codes(self, code: int) -> list[SchedulerEvent]:
        with self.lock:
            return [e for e in self.events if e.code == code]

    def call(self, *args: Any) -> None:
        with self.lock:
            self.calls.append(args)


RECORDER = Recorder()


def record_call(*args: Any) -> None:
    """Importable task function (durable stores keep it by reference)."""
    RECORDER.call(*args)
