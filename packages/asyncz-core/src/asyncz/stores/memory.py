"""MemoryStore: the default store; process-local and gone when the process ends."""

from __future__ import annotations

import copy
import heapq
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from asyncz.exceptions import ConflictIdError, TaskLookupError
from asyncz.stores.base import BaseStore

if TYPE_CHECKING:
    from asyncz.tasks.types import TaskType


class MemoryStore(BaseStore):
    """Tasks in a dict plus a heap of ``(next_run_time, id)``.

    The heap uses lazy deletion: an entry is valid while the stored task still has that
    ``next_run_time``; stale entries are dropped when they surface and the heap is rebuilt
    when they outnumber live ones. So ``add``/``update`` are O(log N), ``get_next_run_time``
    is amortised O(1) and ``get_due_tasks`` is O(k log N) for k due tasks, whatever N is.

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
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ helpers
    def _index(self, task: TaskType) -> None:
        when = task.next_run_time
        if when is not None:
            heapq.heappush(self._heap, (when, task.id))
        if len(self._heap) > 2 * len(self._tasks) + 64:
            self._rebuild()

    def _rebuild(self) -> None:
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

    @staticmethod
    def _stored_copy(task: TaskType) -> TaskType:
        stored = copy.copy(task)
        when = stored.next_run_time
        if when is not None and when.tzinfo is not UTC:
            stored.next_run_time = when.astimezone(UTC)
        return stored

    # ------------------------------------------------------------------ contract
    def get_due_tasks(self, now: datetime) -> list[TaskType]:
        return self.get_due_batch(now, len(self._heap))

    def get_due_batch(self, now: datetime, limit: int) -> list[TaskType]:
        due: list[tuple[datetime, str]] = []
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] <= now and len(due) < limit:
                entry = heapq.heappop(heap)
                if self._is_live(entry) and (not due or due[-1] != entry):
                    due.append(entry)
            for entry in due:
                heapq.heappush(heap, entry)
            return [copy.copy(self._tasks[task_id]) for _, task_id in due]

    def lookup_task(self, task_id: str) -> TaskType | None:
        with self._lock:
            task = self._tasks.get(task_id)
            return None if task is None else copy.copy(task)

    def delete_task(self, task_id: str) -> None:
        with self._lock:
            if self._tasks.pop(task_id, None) is None:
                raise TaskLookupError(task_id, self.alias)

    def remove_all_tasks(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._heap.clear()

    def get_next_run_time(self) -> datetime | None:
        with self._lock:
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

    def update_task(self, task: TaskType) -> None:
        with self._lock:
            if task.id not in self._tasks:
                raise TaskLookupError(task.id, self.alias)
            stored = self._stored_copy(task)
            self._tasks[task.id] = stored
            self._index(stored)

    def shutdown(self) -> None:
        """Tasks stay in memory: a store restarted in the same process still has them."""

    def __len__(self) -> int:
        return len(self._tasks)
