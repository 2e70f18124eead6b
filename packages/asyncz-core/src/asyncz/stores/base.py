"""The store contract: where a scheduler keeps its tasks.

A store is a small synchronous object. The scheduler never calls it from its event loop
thread when ``blocking_io`` is true: each such store gets a worker thread of its own, so a
slow store delays neither the loop nor any other store.

Two ways to write one:

* subclass :class:`BaseStore` and implement the eight task methods below, exactly as the
  documentation's custom-store example does (the store then decides how tasks are kept);
* subclass :class:`asyncz.stores.records.RecordStore` and move only bytes plus index fields;
  the core then does serialization and encryption for you. All built-in durable stores do.

Every store proves itself with the shared conformance kit, ``asyncz.testing``.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from asyncz.tasks.types import TaskType


class BaseStore(ABC):
    """Persistence for tasks, ordered by ``next_run_time``.

    Contract (what the scheduler and the conformance kit rely on):

    * Times are aware datetimes; a task whose ``next_run_time`` is ``None`` is paused and
      is never returned as due, nor counted by ``get_next_run_time``.
    * ``add_task`` raises :class:`~asyncz.exceptions.ConflictIdError` if the id exists;
      ``update_task``, ``delete_task`` raise :class:`~asyncz.exceptions.TaskLookupError`
      if it does not. Each write is atomic: a reader sees the old task or the new one.
    * ``get_due_tasks(now)`` returns tasks with ``next_run_time <= now`` in ascending
      ``next_run_time`` (ties in id order); ``get_all_tasks()`` returns every task in the
      same order with paused tasks last.
    * ``lookup_task`` returns ``None`` for an unknown id.
    * A stored task that cannot be read back is never deleted: durable stores quarantine it
      and say why (see ``RecordStore``).
    * Methods may be called from any thread, but never concurrently by one scheduler.
    """

    #: True when methods may block on I/O; the scheduler then calls them off the event loop.
    blocking_io: ClassVar[bool] = True

    #: Human name of the backend for messages ("redis", "file", ...); defaults to the class name.
    display_name: ClassVar[str] = ""

    #: URL schemes ``from_url`` accepts (``asyncz --store URL`` picks the installed store
    #: whose class lists the URL's scheme). ``"postgresql+psycopg"`` also matches a class
    #: listing only ``"postgresql"``. Empty: the store cannot be named by a URL.
    url_schemes: ClassVar[tuple[str, ...]] = ()

    alias: str | None = None
    scheduler: Any = None
    logger: logging.Logger = logging.getLogger("asyncz.stores")

    @classmethod
    def from_url(cls, url: str, **options: Any) -> BaseStore:
        """A store for ``url``, whose scheme is one of ``url_schemes``; ``options`` are other
        constructor options. Only stores that list URL schemes implement it."""
        raise NotImplementedError(f"{cls.__qualname__} cannot be built from a URL")

    def start(self, scheduler: Any, alias: str) -> None:
        """Called when the scheduler starts, or when the store joins a running scheduler."""
        self.scheduler = scheduler
        self.alias = alias
        self.logger = logging.getLogger(f"asyncz.stores.{alias}")

    def shutdown(self) -> None:
        """Release connections and files. The store may be started again afterwards."""

    def get_due_batch(self, now: datetime, limit: int) -> list[TaskType]:
        """At most ``limit`` of the tasks ``get_due_tasks(now)`` returns, earliest first.
        The scheduler processes due tasks in such batches; stores that can bound the query
        override this (the default asks for everything and keeps the first ``limit``)."""
        return self.get_due_tasks(now)[:limit]

    def add_tasks(self, tasks: Sequence[TaskType]) -> None:
        """Store several new tasks, as ``add_task`` would one after the other; raises
        ``ConflictIdError`` for the first id that is taken (or repeated). Stores that can
        write them in one round trip override this and then add all of them or none; the
        default adds them one by one, so the tasks before a conflict stay added."""
        for task in tasks:
            self.add_task(task)

    def subscribe_changes(self, callback: Callable[[], None]) -> Callable[[], None] | None:
        """Optional push signal: call ``callback`` (from any thread, cheaply) soon after the
        store's data changes, e.g. a task written by another process; return a function that
        unsubscribes. The default, ``None``, means "not supported": the scheduler then polls
        the store every ``store_poll_interval`` seconds."""
        return None

    def describe(self) -> str:
        """One line naming the store and where it keeps its data, for messages and the CLI."""
        return f"{self.display_name or type(self).__name__} (alias {self.alias!r})"

    @abstractmethod
    def get_due_tasks(self, now: datetime) -> list[TaskType]:
        """Tasks whose ``next_run_time <= now``, earliest first; paused tasks never."""

    @abstractmethod
    def lookup_task(self, task_id: str) -> TaskType | None:
        """The task with this id, or ``None``."""

    @abstractmethod
    def delete_task(self, task_id: str) -> None:
        """Remove the task; ``TaskLookupError`` if it does not exist."""

    @abstractmethod
    def remove_all_tasks(self) -> None:
        """Remove every task."""

    @abstractmethod
    def get_next_run_time(self) -> datetime | None:
        """The earliest ``next_run_time`` of any non-paused task, or ``None``."""

    @abstractmethod
    def get_all_tasks(self) -> list[TaskType]:
        """Every task, earliest first, paused tasks last."""

    @abstractmethod
    def add_task(self, task: TaskType) -> None:
        """Store a new task; ``ConflictIdError`` if its id is taken."""

    @abstractmethod
    def update_task(self, task: TaskType) -> None:
        """Replace the stored task with the same id; ``TaskLookupError`` if there is none."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} alias={self.alias!r}>"


def first_repeated(ids: Iterable[str]) -> str | None:
    """The first id that occurs a second time, or ``None``."""
    seen: set[str] = set()
    for task_id in ids:
        if task_id in seen:
            return task_id
        seen.add(task_id)
    return None
