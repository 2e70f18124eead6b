"""Events the scheduler emits to its listeners."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asyncz.events.constants import *  # noqa: F403


@dataclass(frozen=True, slots=True)
class SchedulerEvent:
    """Something happened to the scheduler, an executor or a store (``alias``)."""

    code: int
    alias: str | None = None


@dataclass(frozen=True, slots=True)
class TaskEvent(SchedulerEvent):
    """Something happened to one task."""

    task_id: str = ""
    store: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TaskSubmissionEvent(TaskEvent):
    """A task was handed to its executor (or refused by ``max_instances``)."""

    scheduled_run_times: list[datetime] = field(default_factory=list)
    coalesced_run_count: int = 0


@dataclass(frozen=True, slots=True)
class TaskExecutionEvent(TaskEvent):
    """A task ran (``TASK_EXECUTED``/``TASK_ERROR``) or was too late (``TASK_MISSED``)."""

    scheduled_run_time: datetime | None = None
    started_at: datetime | None = None
    duration: float | None = None
    return_value: Any = None
    exception: BaseException | None = None
    traceback: str | None = None


__all__ = ["SchedulerEvent", "TaskEvent", "TaskExecutionEvent", "TaskSubmissionEvent"]
