"""Reading and changing stored tasks without running the application's code.

The CLI imports a task function only to run it (``tasks run``). Records are decoded to
task state by the store's own codec and the function stays a ``module:function``
reference, so ``tasks list`` works from any directory, and changing a task rewrites the
same reference. A record this process cannot read (wrong key, unknown trigger plugin) is
reported, never quarantined: a CLI started with the wrong key must not set tasks aside.

Stores built on :class:`~asyncz.stores.records.RecordStore` are read record by record;
any other store through its task methods.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from asyncz.cli._errors import CLIError
from asyncz.exceptions import TaskDecodeError
from asyncz.plugins.registry import default_registry
from asyncz.stores.base import BaseStore
from asyncz.stores.records import QuarantinedRecord, RecordStore, TaskRecord
from asyncz.tasks.references import resolve_reference
from asyncz.tasks.state import task_from_state
from asyncz.tasks.task import Task


class FunctionReference:
    """Stands in for a task function that this process did not import."""

    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.__qualname__ = reference.rpartition(":")[2]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"{self.reference} was not imported by the asyncz CLI")


@dataclass(frozen=True)
class Unreadable:
    task_id: str
    reason: str


@dataclass
class StoreContents:
    """Every task of a store; ``quarantined`` is ``None`` for stores without a quarantine."""

    tasks: list[Task]
    unreadable: list[Unreadable]
    quarantined: list[QuarantinedRecord] | None


def read_contents(store: BaseStore, limit: int | None = None) -> StoreContents:
    """Tasks in the store's order (earliest first, paused last); at most ``limit`` records
    are decoded."""
    tasks: list[Task] = []
    unreadable: list[Unreadable] = []
    if not isinstance(store, RecordStore):
        all_tasks: list[Any] = store.get_all_tasks()
        return StoreContents(all_tasks[:limit], [], None)
    for index, record in enumerate(store.iter_records()):
        if limit is not None and index >= limit:
            break
        try:
            tasks.append(decode(store, record))
        except TaskDecodeError as exc:
            unreadable.append(Unreadable(record.id, exc.reason))
    return StoreContents(tasks, unreadable, store.quarantined_records())


def quarantined(store: BaseStore) -> list[QuarantinedRecord] | None:
    """The store's quarantined records; ``None`` when it keeps no quarantine."""
    return store.quarantined_records() if isinstance(store, RecordStore) else None


def decode(store: RecordStore, record: TaskRecord) -> Task:
    """The record as a task whose function is a :class:`FunctionReference`."""
    state = store.codec.decode(record.payload, task_id=record.id, namespace=store.namespace)
    task = task_from_state(state, default_registry().trigger_class, FunctionReference)
    if task.id != record.id:
        raise TaskDecodeError(f"record {record.id!r} holds the task {task.id!r}", record.id)
    task.store_alias = store.alias
    return task


def find_task(store: BaseStore, task_id: str) -> Task:
    """The task with this id; ``CLIError`` saying why when it is missing or unreadable."""
    if isinstance(store, RecordStore):
        record = store.fetch_record(task_id)
        if record is None:
            raise _missing(store, task_id)
        try:
            return decode(store, record)
        except TaskDecodeError as exc:
            raise CLIError(f"task {task_id!r} cannot be read: {exc.reason}") from exc
    task: Any = store.lookup_task(task_id)
    if task is None:
        raise _missing(store, task_id)
    return task


def _missing(store: BaseStore, task_id: str) -> CLIError:
    known = _some_ids(store)
    hint = f"; its tasks include: {', '.join(known)}" if known else "; the store has no tasks"
    return CLIError(f"no task {task_id!r} in {store.describe()}{hint}")


def _some_ids(store: BaseStore, count: int = 5) -> list[str]:
    records: Iterable[Any] = (
        store.iter_records() if isinstance(store, RecordStore) else store.get_all_tasks()
    )
    ids: list[str] = []
    for record in records:
        ids.append(record.id)
        if len(ids) == count:
            break
    return ids


def pause_task(store: BaseStore, task: Task) -> Task:
    task.next_run_time = None
    store.update_task(task)
    return task


def resume_task(store: BaseStore, task: Task, zone: tzinfo) -> Task:
    """Next run computed from now, as ``scheduler.resume_task`` does."""
    assert task.trigger is not None
    next_time = task.trigger.get_next_trigger_time(zone, None, datetime.now(UTC))
    if next_time is None:
        raise CLIError(
            f"task {task.id!r} cannot be resumed: its trigger ({task.trigger}) will not fire "
            f"again. Remove it with: asyncz tasks remove {task.id}"
        )
    task.next_run_time = next_time
    store.update_task(task)
    return task


def fire_times(task: Task, zone: tzinfo, count: int) -> list[datetime]:
    """The task's next ``count`` run times: its stored next run time (if scheduled), then
    what its trigger gives after each one."""
    if task.trigger is None:
        return [task.next_run_time] if task.next_run_time else []
    first = task.next_run_time or task.trigger.get_next_trigger_time(zone, None, datetime.now(UTC))
    return following(
        first,
        lambda previous: task.trigger.get_next_trigger_time(  # type: ignore[union-attr]
            zone, previous, datetime.now(UTC)
        ),
        count,
    )


def following(
    first: datetime | None, step: Callable[[datetime], datetime | None], count: int
) -> list[datetime]:
    times: list[datetime] = []
    moment = first
    while moment is not None and len(times) < count:
        times.append(moment)
        moment = step(moment)
    return times


def import_function(task: Task) -> Callable[..., Any]:
    """The real task function (imported now); ``CLIError`` if this process cannot import it."""
    if task.fn is not None and not isinstance(task.fn, FunctionReference):
        return task.fn
    reference = task.fn_reference or "?"
    try:
        fn: Callable[..., Any] = resolve_reference(reference)
    except Exception as exc:
        raise CLIError(
            f"cannot import the function of task {task.id!r}, {reference}: "
            f"{type(exc).__name__}: {exc}. Run asyncz from your application's directory or "
            "set PYTHONPATH"
        ) from exc
    return fn
