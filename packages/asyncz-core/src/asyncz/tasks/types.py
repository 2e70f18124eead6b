"""The task interface stores and type hints rely on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz.triggers.base import BaseTrigger


class TaskType(ABC):
    """A scheduled unit of work: a callable, its arguments, a trigger and run options.

    ``next_run_time`` is the only field stores index: an aware datetime, or ``None``
    for a paused task. Everything else is opaque payload to a store.
    """

    id: str
    name: str | None
    fn: Callable[..., Any] | None
    args: Sequence[Any]
    kwargs: Mapping[str, Any]
    trigger: BaseTrigger | None
    executor: str
    store_alias: str | None
    mistrigger_grace_time: float | None
    coalesce: bool
    max_instances: int
    next_run_time: datetime | None

    @property
    @abstractmethod
    def fn_reference(self) -> str | None:
        """``"module:qualname"`` of ``fn``; ``None`` when it has none (lambda, closure)."""

    @abstractmethod
    def get_run_times(self, now: datetime) -> list[datetime]:
        """Every fire time from ``next_run_time`` up to and including ``now`` (bounded)."""

    @property
    def paused(self) -> bool:
        return self.next_run_time is None
