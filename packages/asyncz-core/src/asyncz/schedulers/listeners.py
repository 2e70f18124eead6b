"""Listeners: callables subscribed to event codes."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable
from typing import Any

from asyncz.events import SchedulerEvent
from asyncz.events.constants import ALL_EVENTS

Listener = Callable[[SchedulerEvent], Any]


class Listeners:
    """Calls every listener whose mask matches an event. A failing listener is logged and
    never disturbs the scheduler or the other listeners. Coroutine listeners are scheduled
    on the scheduler's loop."""

    def __init__(self, logger: logging.Logger) -> None:
        self._entries: list[tuple[Listener, int]] = []
        #: The union of the entries' masks, so that ``wants`` costs one ``&`` per event.
        self._mask = 0
        self._lock = threading.Lock()
        self._logger = logger
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, callback: Listener, mask: int = ALL_EVENTS) -> None:
        if not callable(callback):
            raise TypeError(f"listener {callback!r} is not callable")
        with self._lock:
            self._entries.append((callback, mask))
            self._mask |= mask

    def remove(self, callback: Listener) -> bool:
        with self._lock:
            for index, (existing, _) in enumerate(self._entries):
                if existing == callback:
                    del self._entries[index]
                    self._mask = 0
                    for _, remaining in self._entries:
                        self._mask |= remaining
                    return True
        return False

    def wants(self, code: int) -> bool:
        """Whether any listener would receive an event with ``code`` (so the caller can
        skip building it)."""
        return bool(self._mask & code)

    def dispatch(self, event: SchedulerEvent) -> None:
        if not self._entries:
            return
        with self._lock:
            entries = [cb for cb, mask in self._entries if event.code & mask]
        for callback in entries:
            try:
                result = callback(event)
                if inspect.isawaitable(result):
                    self._schedule(result)
            except Exception:
                self._logger.exception("Listener %r failed on event %r", callback, event)

    def _schedule(self, awaitable: Any) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            self._logger.warning("Coroutine listener result dropped: the scheduler has no loop")
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(awaitable)
        else:
            asyncio.run_coroutine_threadsafe(awaitable, loop)
