"""MemoryStore: the default store; process-local and gone when the process ends."""

from __future__ import annotations

import copy
import heapq
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from asyncz.exceptions import ConflictIdError, TaskLookupError
from asyncz.stores.base import BaseStore, first_repeated

if TYPE_CHECKING:
    from asyncz.tasks.types import TaskType


class MemoryStore(BaseStore):
    """Tasks in a dict plus a heap of ``(next_run_time, id)``.

    The heap uses lazy deletion: an entry is valid while the stored task still has that
    ``next_run_time``; stale entries are dropped when they surface and the heap is rebuilt
    when they outnumber live ones. So ``add``/``update`` are O(log N), ``get_next_run_time``
    is amortised O(1) and ``get_due_tasks`` is O(k log N) for k due tasks, whatever N is.

    Entries a due query pops are *lent* rather than pushed back: the scheduler updates or
    deletes almost every due task right after, which settles its lent entry; whatever is
    still lent goes back on the heap before the next read. Invariant: every stored task
    with a ``next_run_time`` has a live entry on the heap or in ``_lent``.

    The store keeps its own copies: changing a task object after ``add_task`` or after
    ``lookup_task`` does not change what is stored (as with every durable store).
    """

    blocking_io: ClassVar[bool] = False
    display_name: ClassVar[str] = "memory"
    url_schemes: ClassVar[tuple[str, ...]] = ("memory",)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MemoryStore:
        """``memory://``: a new, empty store that lives as long as this process."""
        return cls(**options)

    def __init__(self) -> None:
        self._tasks: dict[str, TaskType] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._lent: dict[str, tuple[datetime, str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    def _index(self, task: TaskType) -> None:
        when = task.next_run_time
        if when is not None:
            heapq.heappush(self._heap, (when, task.id))
        if len(self._heap) > 2 * len(self._tasks) + 64:
            self._rebuild()

    def _rebuild(self) -> None:
        self._lent.clear()
        self._heap = [
            (task.next_run_time, task.id)
            for task in self._tasks.values()
            if task.next_run_time is not None
        ]
        heapq.heapify(self._heap)

    def _is_live(self, entry: tuple[datetime, str]) -> bool:
        task = self._tasks.get(entry[1])
        return task is not None and task.next_run_time == entry[0]

    def _drop_stale_top(self) -> None:
        heap = self._heap
        while heap and not self._is_live(heap[0]):
            heapq.heappop(heap)

    def _return_lent(self) -> None:
        """Put back the entries of due tasks that were neither updated nor deleted."""
        for entry in self._lent.values():
            if self._is_live(entry):
                heapq.heappush(self._heap, entry)
        self._lent.clear()

    @staticmethod
    def _stored_copy(task: TaskType) -> TaskType:
        stored = copy.copy(task)
        when = stored.next_run_time
        if when is not None and when.tzinfo is not UTC:
            stored.next_run_time = when.astimezone(UTC)
        return stored

    # ------------------------------------------------------------------ contract
    def get_due_tasks(self, now: datetime) -> list[TaskType]:
        return self.get_due_batch(now, sys.maxsize)

    def get_due_batch(self, now: datetime, limit: int) -> list[TaskType]:
        due: list[TaskType] = []
        with self._lock:
            self._return_lent()
            heap, lent, tasks = self._heap, self._lent, self._tasks
            while heap and heap[0][0] <= now and len(due) < limit:
                entry = heapq.heappop(heap)
                task = tasks.get(entry[1])
                if task is not None and task.next_run_time == entry[0] and entry[1] not in lent:
                    lent[entry[1]] = entry
                    due.append(copy.copy(task))
            return due

    def lookup_task(self, task_id: str) -> TaskType | None:
        with self._lock:
            task = self._tasks.get(task_id)
            return None if task is None else copy.copy(task)

    def delete_task(self, task_id: str) -> None:
        with self._lock:
            if self._tasks.pop(task_id, None) is None:
                raise TaskLookupError(task_id, self.alias)
            self._lent.pop(task_id, None)

    def remove_all_tasks(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._heap.clear()
            self._lent.clear()

    def get_next_run_time(self) -> datetime | None:
        with self._lock:
            self._return_lent()
            self._drop_stale_top()
            return self._heap[0][0] if self._heap else None

    def get_all_tasks(self) -> list[TaskType]:
        with self._lock:
            tasks = list(self._tasks.values())
        scheduled = sorted(
            (t for t in tasks if t.next_run_time is not None),
            key=lambda t: (t.next_run_time, t.id),
        )
        paused = sorted((t for t in tasks if t.next_run_time is None), key=lambda t: t.id)
        return [copy.copy(t) for t in scheduled + paused]

    def add_task(self, task: TaskType) -> None:
        with self._lock:
            if task.id in self._tasks:
                raise ConflictIdError(task.id, self.alias)
            stored = self._stored_copy(task)
            self._tasks[task.id] = stored
            self._index(stored)

    def add_tasks(self, tasks: Sequence[TaskType]) -> None:
        """All or none."""
        repeated = first_repeated(task.id for task in tasks)
        if repeated is not None:
            raise ConflictIdError(repeated, self.alias)
        with self._lock:
            taken = next((task.id for task in tasks if task.id in self._tasks), None)
            if taken is not None:
                raise ConflictIdError(taken, self.alias)
            for task in tasks:
                stored = self._stored_copy(task)
                self._tasks[task.id] = stored
                self._index(stored)

    def update_task(self, task: TaskType) -> None:
        with self._lock:
            if task.id not in self._tasks:
                raise TaskLookupError(task.id, self.alias)
            stored = self._stored_copy(task)
            self._tasks[task.id] = stored
            self._lent.pop(task.id, None)
            self._index(stored)

    def shutdown(self) -> None:
        """Tasks stay in memory: a store restarted in the same process still has them."""

    def __len__(self) -> int:
        return len(self._tasks)
