"""The task model."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from os import urandom
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from asyncz.tasks.references import reference_of, resolve_reference
from asyncz.tasks.types import TaskType

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import AsyncIOScheduler
    from asyncz.triggers.base import BaseTrigger

_NO_KWARGS: Mapping[str, Any] = MappingProxyType({})
_new_task = object.__new__

#: Upper bound on the run times computed for one task in one pass (a week of a 1 s
#: interval after an outage must not allocate 600k datetimes).
MAX_RUN_TIMES = 1000


class Task(TaskType):
    """A callable scheduled by a trigger.

    Invariants: ``id`` never changes; ``next_run_time`` is aware (UTC in stores) or
    ``None`` (paused); ``args`` is a tuple and ``kwargs`` a mapping; ``max_instances >= 1``;
    ``mistrigger_grace_time`` is ``None`` (no limit) or > 0. Changing a task's fields does
    not change the stored copy: use ``update()`` or the scheduler's methods for that.
    """

    __slots__ = (
        "_fn_reference",
        "args",
        "coalesce",
        "executor",
        "fn",
        "id",
        "kwargs",
        "max_instances",
        "mistrigger_grace_time",
        "name",
        "next_run_time",
        "scheduler",
        "store_alias",
        "submitted",
        "trigger",
    )

    def __init__(
        self,
        fn: Callable[..., Any] | str | None = None,
        *,
        id: str | None = None,
        name: str | None = None,
        args: Sequence[Any] | None = None,
        kwargs: Mapping[str, Any] | None = None,
        trigger: BaseTrigger | None = None,
        executor: str = "default",
        store_alias: str | None = None,
        mistrigger_grace_time: float | None = None,
        coalesce: bool = True,
        max_instances: int = 1,
        next_run_time: datetime | None = None,
        scheduler: AsyncIOScheduler | None = None,
        fn_reference: str | None = None,
    ) -> None:
        if isinstance(fn, str):
            fn_reference, fn = fn, resolve_reference(fn)
        if fn is not None and not callable(fn):
            raise TypeError(
                f"Task function must be callable or a 'module:function' string, got {fn!r}"
            )
        if args is not None and isinstance(args, (str, bytes)):
            raise TypeError("args must be a sequence of arguments, not a string")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TypeError("kwargs must be a mapping")
        self.fn = fn
        self._fn_reference = fn_reference
        self.id = id if id is not None else urandom(16).hex()
        if not isinstance(self.id, str) or not self.id:
            raise TypeError(f"Task id must be a non-empty string, got {self.id!r}")
        self.name = name if name is not None else getattr(fn, "__qualname__", None)
        self.args = tuple(args) if args else ()
        self.kwargs = dict(kwargs) if kwargs else _NO_KWARGS
        self.trigger = trigger
        self.executor = executor
        self.store_alias = store_alias
        self.mistrigger_grace_time = _check_grace(mistrigger_grace_time)
        self.coalesce = bool(coalesce)
        self.max_instances = _check_max_instances(max_instances)
        self.next_run_time = next_run_time
        self.scheduler = scheduler
        self.submitted = False

    # --- derived -------------------------------------------------------------------------
    @property
    def fn_reference(self) -> str | None:
        """``"module:qualname"`` of ``fn``, or ``None`` if it has none (lambda, closure)."""
        if self._fn_reference is None and self.fn is not None:
            return reference_of(self.fn)
        return self._fn_reference

    @property
    def pending(self) -> bool:
        """True until the task has been written to a started store."""
        return self.scheduler is not None and self.scheduler.is_pending(self)

    @property
    def schedule_state(self) -> str:
        if self.pending:
            return "pending"
        return "paused" if self.next_run_time is None else "scheduled"

    def get_run_times(self, now: datetime) -> list[datetime]:
        return self.due_run_times(now)[0]

    def due_run_times(self, now: datetime) -> tuple[list[datetime], datetime | None]:
        """Every fire time from ``next_run_time`` up to ``now`` (at most ``MAX_RUN_TIMES``),
        and the fire after the last of them (``None`` when the trigger is done). One walk of
        the trigger gives both, so a due task costs one trigger computation per fire."""
        run_times: list[datetime] = []
        next_time = self.next_run_time
        trigger = self.trigger
        if trigger is None:
            due = next_time is not None and next_time <= now
            return ([next_time] if due else []), (None if due else next_time)  # type: ignore[list-item]
        tz = getattr(trigger, "timezone", None) or (next_time.tzinfo if next_time else None)
        while next_time is not None and next_time <= now and len(run_times) < MAX_RUN_TIMES:
            run_times.append(next_time)
            next_time = trigger.get_next_trigger_time(tz, next_time, now)  # type: ignore[arg-type]
        return run_times, next_time

    # --- delegating helpers (need a scheduler) -------------------------------------------
    def _require_scheduler(self) -> AsyncIOScheduler:
        if self.scheduler is None:
            raise RuntimeError(f"Task {self.id!r} is not attached to a scheduler")
        return self.scheduler

    def update(self, **changes: Any) -> Task:
        """Change fields and persist them in the task's store."""
        return self._require_scheduler().update_task(self.id, self.store_alias, **changes)

    def reschedule(self, trigger: Any, **trigger_args: Any) -> Task:
        return self._require_scheduler().reschedule_task(
            self.id, self.store_alias, trigger, **trigger_args
        )

    def pause(self) -> Task:
        return self._require_scheduler().pause_task(self.id, self.store_alias)

    def resume(self) -> Task | None:
        return self._require_scheduler().resume_task(self.id, self.store_alias)

    def delete(self) -> None:
        self._require_scheduler().delete_task(self.id, self.store_alias)

    # --- decorator mode ------------------------------------------------------------------
    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``@scheduler.add_task(trigger=...)``: schedule ``fn`` with this task's options."""
        if self.fn is not None:
            raise TypeError(f"Task {self.id!r} already has a function; it cannot decorate another")
        self._require_scheduler().add_task_from_template(self, fn)
        return fn

    # --- plumbing ------------------------------------------------------------------------
    def copy_with(self, **changes: Any) -> Task:
        clone = copy.copy(self)
        for field, value in changes.items():
            setattr(clone, field, value)
        return clone

    def __copy__(self) -> Task:
        clone = _new_task(Task)
        clone.id = self.id
        clone.name = self.name
        clone.fn = self.fn
        clone._fn_reference = self._fn_reference
        clone.args = self.args
        clone.kwargs = self.kwargs
        clone.trigger = self.trigger
        clone.executor = self.executor
        clone.store_alias = self.store_alias
        clone.mistrigger_grace_time = self.mistrigger_grace_time
        clone.coalesce = self.coalesce
        clone.max_instances = self.max_instances
        clone.next_run_time = self.next_run_time
        clone.scheduler = self.scheduler
        clone.submitted = self.submitted
        return clone

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Task):
            return self.id == other.id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return (
            f"<Task id={self.id!r} name={self.name!r} trigger={self.trigger!r} "
            f"next_run_time={self.next_run_time!r}>"
        )

    def __str__(self) -> str:
        state = "paused" if self.next_run_time is None else f"next run at: {self.next_run_time}"
        return f"{self.name} (trigger: {self.trigger}, {state})"


def _check_grace(value: float | timedelta | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(
            f"mistrigger_grace_time must be a positive number of seconds or None, got {value!r}"
        )
    return float(value)


def _check_max_instances(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_instances must be a positive integer, got {value!r}")
    return value
