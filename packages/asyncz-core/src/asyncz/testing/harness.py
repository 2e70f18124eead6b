"""What the conformance kit needs around a store: a stand-in scheduler and task builders."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from asyncz.plugins.registry import PluginRegistry, default_registry
from asyncz.stores.base import BaseStore
from asyncz.tasks import Task
from asyncz.testing import sample_tasks
from asyncz.triggers.base import BaseTrigger

#: A fixed instant the kit schedules around (microseconds on purpose).
T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)


@dataclass
class HarnessScheduler:
    """The little of a scheduler that stores touch: the plugin registry, a time zone and a
    place to report quarantined records."""

    registry: PluginRegistry = field(default_factory=default_registry)
    timezone: Any = UTC
    quarantined: list[tuple[str | None, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def notify_quarantined(self, alias: str | None, task_id: str, reason: str) -> None:
        with self._lock:
            self.quarantined.append((alias, task_id, reason))


class StoreHarness:
    """Starts stores made by a factory and cleans up after them."""

    def __init__(self, factory: Callable[..., BaseStore], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        self.scheduler = HarnessScheduler()
        self.started: list[BaseStore] = []

    def open(self, **overrides: Any) -> BaseStore:
        """A started store on the same data as every other store of this test."""
        store = self.factory(**{**self.options, **overrides})
        store.start(self.scheduler, "conformance")
        self.started.append(store)
        return store

    def close(self) -> None:
        for store in reversed(self.started):
            with contextlib.suppress(Exception):  # best effort: the test already reported
                store.shutdown()


def make_task(
    task_id: str,
    run_at: datetime | None = T0,
    *,
    trigger: BaseTrigger | None = None,
    fn: Callable[..., Any] = sample_tasks.echo,
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    **options: Any,
) -> Task:
    if trigger is None:
        from asyncz.triggers.interval import IntervalTrigger

        trigger = IntervalTrigger(seconds=30, start_at=T0, timezone=UTC)
    return Task(
        fn,
        id=task_id,
        args=args,
        kwargs=kwargs,
        trigger=trigger,
        next_run_time=run_at,
        **options,
    )


def at(seconds: float) -> datetime:
    """T0 shifted by ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def same_task(left: Any, right: Any) -> None:
    """Assert two tasks agree on everything a store must keep."""
    fields = (
        "id",
        "name",
        "fn_reference",
        "args",
        "kwargs",
        "trigger",
        "executor",
        "mistrigger_grace_time",
        "coalesce",
        "max_instances",
        "next_run_time",
    )
    for name in fields:
        got, want = getattr(left, name), getattr(right, name)
        if name == "args":
            got, want = tuple(got), tuple(want)
        if name == "kwargs":
            got, want = dict(got), dict(want)
        assert got == want, f"task {right.id!r}: field {name!r} is {got!r}, expected {want!r}"
