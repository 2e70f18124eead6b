"""Running one submission of a task: misfire check per run time, then the call."""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Status = Literal["executed", "error", "missed"]


@dataclass(slots=True)
class RunOutcome:
    """What happened to one scheduled run time."""

    run_time: datetime
    status: Status
    started_at: datetime | None = None
    duration: float | None = None
    return_value: Any = None
    exception: BaseException | None = None
    traceback: str | None = None


def _too_late(run_time: datetime, grace: float | None, now: datetime) -> bool:
    return grace is not None and (now - run_time).total_seconds() > grace


def run_sync(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    run_times: Sequence[datetime],
    grace: float | None,
) -> list[RunOutcome]:
    """Call ``fn`` once per run time that is still within its grace period."""
    outcomes: list[RunOutcome] = []
    for run_time in run_times:
        started = datetime.now(UTC)
        if _too_late(run_time, grace, started):
            outcomes.append(RunOutcome(run_time, "missed"))
            continue
        clock = time.perf_counter()
        try:
            result = fn(*args, **kwargs)
            if asyncio.iscoroutine(result):  # a sync-looking callable that returned a coroutine
                result = asyncio.run(result)
        except BaseException as exc:
            outcomes.append(_failure(run_time, started, clock, exc))
            if not isinstance(exc, Exception):
                raise
        else:
            outcomes.append(
                RunOutcome(run_time, "executed", started, time.perf_counter() - clock, result)
            )
    return outcomes


async def run_async(
    fn: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    run_times: Sequence[datetime],
    grace: float | None,
) -> list[RunOutcome]:
    """Await ``fn`` once per run time that is still within its grace period."""
    outcomes: list[RunOutcome] = []
    for run_time in run_times:
        started = datetime.now(UTC)
        if _too_late(run_time, grace, started):
            outcomes.append(RunOutcome(run_time, "missed"))
            continue
        clock = time.perf_counter()
        try:
            result = await fn(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outcomes.append(_failure(run_time, started, clock, exc))
        else:
            outcomes.append(
                RunOutcome(run_time, "executed", started, time.perf_counter() - clock, result)
            )
    return outcomes


def _failure(run_time: datetime, started: datetime, clock: float, exc: BaseException) -> RunOutcome:
    formatted = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    # Drop the frame references: a kept traceback keeps every local of the failed call alive.
    exc.__traceback__ = None
    return RunOutcome(run_time, "error", started, time.perf_counter() - clock, None, exc, formatted)
