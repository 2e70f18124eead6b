"""MemoryStore keeps due lookups independent of how many tasks wait in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from asyncz.stores.memory import MemoryStore
from asyncz.tasks import Task
from asyncz.testing.sample_tasks import noop

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def test_due_query_touches_only_due_entries() -> None:
    store = MemoryStore()
    for i in range(20_000):
        store.add_task(Task(noop, id=f"f{i}", next_run_time=T0 + timedelta(days=1, seconds=i)))
    for i in range(10):
        store.add_task(Task(noop, id=f"d{i}", next_run_time=T0 - timedelta(seconds=i)))
    assert [t.id for t in store.get_due_tasks(T0)] == [f"d{i}" for i in reversed(range(10))]
    # The heap still holds every entry: nothing was lost by peeking at the due ones.
    assert store.get_next_run_time() == T0 - timedelta(seconds=9)
    assert len(store._heap) == 20_010


def test_updates_do_not_grow_the_heap_without_bound() -> None:
    store = MemoryStore()
    store.add_task(Task(noop, id="t", next_run_time=T0))
    for i in range(1_000):
        store.update_task(Task(noop, id="t", next_run_time=T0 + timedelta(seconds=i)))
    assert len(store._heap) <= 2 * len(store) + 65
    assert store.get_next_run_time() == T0 + timedelta(seconds=999)


def test_stored_copy_is_isolated_from_the_callers_object() -> None:
    store = MemoryStore()
    task = Task(noop, id="t", next_run_time=T0)
    store.add_task(task)
    task.next_run_time = None
    found = store.lookup_task("t")
    assert found is not None and found.next_run_time == T0
    found.args = (1,)
    again = store.lookup_task("t")
    assert again is not None and again.args == ()


def test_due_tasks_left_alone_stay_due() -> None:
    """A due query lends the entries it pops: tasks nobody updates are still found, once."""
    store = MemoryStore()
    for i in range(3):
        store.add_task(Task(noop, id=f"d{i}", next_run_time=T0 - timedelta(seconds=i)))
    first = [t.id for t in store.get_due_batch(T0, 2)]
    assert first == ["d2", "d1"]
    assert [t.id for t in store.get_due_tasks(T0)] == ["d2", "d1", "d0"]
    assert store.get_next_run_time() == T0 - timedelta(seconds=2)


def test_updating_or_deleting_a_due_task_settles_its_entry() -> None:
    store = MemoryStore()
    for i in range(3):
        store.add_task(Task(noop, id=f"d{i}", next_run_time=T0))
    due = store.get_due_tasks(T0)
    store.update_task(Task(noop, id="d0", next_run_time=T0 + timedelta(hours=1)))
    store.delete_task("d1")
    assert [t.id for t in due] == ["d0", "d1", "d2"]
    assert [t.id for t in store.get_due_tasks(T0)] == ["d2"]
    store.update_task(Task(noop, id="d2", next_run_time=None))
    assert store.get_due_tasks(T0) == []
    assert store.get_next_run_time() == T0 + timedelta(hours=1)
    assert len(store._heap) == 1


def test_a_task_readded_under_its_old_id_is_due_once() -> None:
    store = MemoryStore()
    store.add_task(Task(noop, id="t", next_run_time=T0))
    store.delete_task("t")
    store.add_task(Task(noop, id="t", next_run_time=T0))  # its old heap entry is live again
    assert [t.id for t in store.get_due_tasks(T0)] == ["t"]
    assert [t.id for t in store.get_due_tasks(T0)] == ["t"]
