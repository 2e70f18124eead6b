"""A change-notification callback for store tests: remembers when it was called."""

from __future__ import annotations

import threading
import time


class Wakes:
    """Pass as the ``callback`` of ``store.subscribe_changes``; ``event`` is set on a call."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.event = threading.Event()

    def __call__(self) -> None:
        self.times.append(time.monotonic())
        self.event.set()

    def reset(self) -> None:
        self.times.clear()
        self.event.clear()

    def settle(self) -> None:
        """Wait for the subscription's own confirmation (Redis sends one), then forget it."""
        assert self.event.wait(5), "the subscription was never confirmed"
        time.sleep(0.05)
        self.reset()
