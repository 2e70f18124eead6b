"""AsyncIOScheduler: the public face of asyncz.

It wires stores, executors and listeners together; the work lives elsewhere:
``store_loop`` processes due tasks per store, ``task_factory`` builds tasks and triggers,
``config`` turns configuration into validated plugin instances.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from uuid import uuid4

from asyncz.enums import SchedulerState
from asyncz.events import SchedulerEvent, TaskEvent
from asyncz.events import constants as ev
from asyncz.exceptions import (
    ConfigurationError,
    ConflictIdError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    TaskLookupError,
)
from asyncz.executors._run import RunOutcome
from asyncz.executors.base import BaseExecutor
from asyncz.plugins.registry import PluginRegistry, default_registry
from asyncz.schedulers.config import (
    Tuning,
    build_plugin,
    parse_task_defaults,
    parse_timezone,
    parse_tuning,
    unflatten,
)
from asyncz.schedulers.event_loop import LoopHost
from asyncz.schedulers.listeners import Listener, Listeners
from asyncz.schedulers.runs import RunDispatcher
from asyncz.schedulers.store_loop import PassResult, StoreLoop
from asyncz.schedulers.task_factory import check_arguments, create_trigger
from asyncz.stores.base import BaseStore
from asyncz.tasks.task import Task
from asyncz.triggers.base import BaseTrigger

_UNSET: Any = object()

#: The ``batch()`` block open in this context: its scheduler and the tasks it queued.
_OPEN_BATCH: ContextVar[tuple[AsyncIOScheduler, list[tuple[Task, bool]]] | None] = ContextVar(
    "asyncz_open_batch", default=None
)

_OPTIONS = {
    "stores",
    "executors",
    "task_defaults",
    "timezone",
    "identity",
    "logger_name",
    "event_loop",
    "registry",
    *Tuning.model_fields,
}
_UPDATABLE = {
    "name",
    "fn",
    "args",
    "kwargs",
    "trigger",
    "executor",
    "mistrigger_grace_time",
    "coalesce",
    "max_instances",
    "next_run_time",
}


class AsyncIOScheduler:
    """Runs tasks on an asyncio event loop.

    Options (keyword arguments, or a flat ``global_config`` with the ``asyncz.`` prefix):
    ``stores`` and ``executors`` (alias -> instance, class, plugin alias or dict),
    ``task_defaults`` (``mistrigger_grace_time``, ``coalesce``, ``max_instances``),
    ``timezone`` (default: the machine's), ``identity``, ``logger_name``, ``event_loop``,
    ``store_poll_interval`` (seconds between checks of a durable store for tasks written
    by other processes; default 5), ``store_retry_interval`` (after a store error; default 5),
    ``lock_path`` (optional same-host lock per store: ``"/tmp/asyncz-{store}.lock"``).

    Started outside a running event loop, the scheduler runs its own loop in a daemon
    thread; started inside one, it uses that loop.
    """

    def __init__(self, global_config: Mapping[str, Any] | None = None, **options: Any) -> None:
        self.state = SchedulerState.STOPPED
        self.stores: dict[str, BaseStore] = {}
        self.executors: dict[str, BaseExecutor] = {}
        self._store_loops: dict[str, StoreLoop] = {}
        self._pending: list[tuple[Task, bool]] = []
        self._lock = threading.RLock()
        self.event_loop: asyncio.AbstractEventLoop | None = None
        self._runs = RunDispatcher(self)
        self._unpaused: asyncio.Event | None = None
        self.setup(global_config, **options)

    # ================================================================== configuration
    def setup(self, global_config: Mapping[str, Any] | None = None, **options: Any) -> None:
        if self.state != SchedulerState.STOPPED:
            raise SchedulerAlreadyRunningError()
        config = unflatten(global_config or {})
        config.update(options)
        unknown = sorted(set(config) - _OPTIONS)
        if unknown:
            raise ConfigurationError(
                f"unknown scheduler option {unknown[0]!r}; accepted: {', '.join(sorted(_OPTIONS))}"
            )
        self.registry: PluginRegistry = config.get("registry") or default_registry()
        self.identity: str = config.get("identity") or f"{type(self).__name__}-{uuid4().hex[:12]}"
        name = config.get("logger_name")
        self.logger = logging.getLogger(f"asyncz.schedulers{'.' + name if name else ''}")
        self.timezone: tzinfo = parse_timezone(config.get("timezone"))
        self.task_defaults = parse_task_defaults(config.get("task_defaults"))
        tuning = parse_tuning(config)
        self.store_poll_interval = tuning.store_poll_interval
        self.store_retry_interval = tuning.store_retry_interval
        self.lease_duration = timedelta(seconds=tuning.lease_duration)
        self.claim_batch_size = tuning.claim_batch_size
        self.claim_retry_interval = tuning.claim_retry_interval
        self.lock_path = tuning.lock_path or None
        self.event_loop = config.get("event_loop")
        self._loop_host = LoopHost(self.event_loop)
        self.listeners = Listeners(self.logger)
        self.stores.clear()
        self.executors.clear()
        for alias, spec in (config.get("executors") or {}).items():
            self.add_executor(spec, alias)
        for alias, spec in (config.get("stores") or {}).items():
            self.add_store(spec, alias)

    # ================================================================== lifecycle
    @property
    def running(self) -> bool:
        return self.state != SchedulerState.STOPPED

    def start(self, paused: bool = False) -> bool:
        """Start processing. Returns False if the scheduler was already running."""
        with self._lock:
            if self.state != SchedulerState.STOPPED:
                return False
            self.event_loop = self._loop_host.attach()
            self.listeners.loop = self.event_loop
            self.registry.preload("trigger")  # the first due task is not the one to pay
            if "default" not in self.executors:
                self.add_executor(self.registry.executor_class("asyncio")(), "default")
            if "default" not in self.stores:
                self.add_store(self.registry.store_class("memory")(), "default")
            for alias, executor in self.executors.items():
                executor.start(self, alias)
            for alias, store in self.stores.items():
                self._start_store(alias, store)
            self.state = SchedulerState.PAUSED if paused else SchedulerState.RUNNING
            self._unpaused = None
            self._flush_pending()
            for loop in self._store_loops.values():
                loop.start(self.event_loop)
        self.logger.info("Scheduler %s started", self.identity)
        self.dispatch(SchedulerEvent(ev.SCHEDULER_START))
        return True

    def shutdown(self, wait: bool = True) -> bool:
        """Stop processing, stop executors (``wait``: let running tasks finish), close stores."""
        with self._lock:
            if self.state == SchedulerState.STOPPED:
                raise SchedulerNotRunningError()
            self.state = SchedulerState.STOPPED
            loop = self.event_loop
            for store_loop in self._store_loops.values():
                store_loop.stop(loop)
            for executor in self.executors.values():
                executor.shutdown(wait)
            if wait:
                for executor in self.executors.values():
                    self._loop_host.wait_for(executor.drain())
            for alias, store_loop in list(self._store_loops.items()):
                try:
                    store_loop.close()
                except Exception:
                    self.logger.exception("Store %r failed to shut down cleanly", alias)
            self._store_loops.clear()
        self.logger.info("Scheduler %s shut down", self.identity)
        self.dispatch(SchedulerEvent(ev.SCHEDULER_SHUTDOWN))
        self._loop_host.detach()
        self.event_loop = self._loop_host.loop
        return True

    def pause(self) -> None:
        """Stop processing due tasks until ``resume()``; tasks can still be added."""
        if self.state == SchedulerState.STOPPED:
            raise SchedulerNotRunningError()
        if self.state == SchedulerState.RUNNING:
            self.state = SchedulerState.PAUSED
            self._set_unpaused(False)
            self.dispatch(SchedulerEvent(ev.SCHEDULER_PAUSED))

    def resume(self) -> None:
        if self.state == SchedulerState.STOPPED:
            raise SchedulerNotRunningError()
        if self.state == SchedulerState.PAUSED:
            self.state = SchedulerState.RUNNING
            self._set_unpaused(True)
            self.dispatch(SchedulerEvent(ev.SCHEDULER_RESUMED))
            self.wakeup()

    def wakeup(self, store: str | None = None) -> None:
        """Make the store loops (or one) look for due tasks now."""
        for alias, loop in list(self._store_loops.items()):
            if store is None or alias == store:
                loop.wake()

    async def wait_until_unpaused(self) -> None:
        if self.state == SchedulerState.RUNNING:
            return
        if self._unpaused is None:
            self._unpaused = asyncio.Event()
        await self._unpaused.wait()

    def _set_unpaused(self, value: bool) -> None:
        event, loop = self._unpaused, self.event_loop
        if event is not None and loop is not None and value:
            loop.call_soon_threadsafe(event.set)
        if not value:
            self._unpaused = None

    async def shutdown_async(self, wait: bool = True) -> None:
        """``shutdown`` for code running on the scheduler's loop: awaits running tasks."""
        if wait:
            for executor in self.executors.values():
                await executor.drain()
        self.shutdown(wait=False)

    def __enter__(self) -> AsyncIOScheduler:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.running:
            self.shutdown()

    async def __aenter__(self) -> AsyncIOScheduler:
        self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.running:
            await self.shutdown_async()

    # ================================================================== stores, executors
    def add_store(self, store: Any, alias: str = "default", **options: Any) -> None:
        """Add a store given as an instance, a class, an alias or a dict (see config)."""
        spec = {"type": store, **options} if isinstance(store, str) and options else store
        if options and not isinstance(store, str):
            spec = {"class": store, **options} if isinstance(store, type) else store
        instance = build_plugin("store", alias, spec, BaseStore, self.registry)
        with self._lock:
            if alias in self.stores:
                raise ValueError(f"A store named {alias!r} already exists")
            self.stores[alias] = instance
            if self.running:
                self._start_store(alias, instance)
                assert self.event_loop is not None
                self._store_loops[alias].start(self.event_loop)
        self.dispatch(SchedulerEvent(ev.STORE_ADDED, alias))

    def _start_store(self, alias: str, store: BaseStore) -> None:
        store_loop = StoreLoop(self, alias, store)
        store_loop.call(store.start, self, alias)
        self._store_loops[alias] = store_loop

    def remove_store(self, alias: str, shutdown: bool = True) -> None:
        with self._lock:
            if alias not in self.stores:
                raise KeyError(f"No store named {alias!r}")
            del self.stores[alias]
            store_loop = self._store_loops.pop(alias, None)
        if store_loop is not None:
            store_loop.stop(self.event_loop)
            if shutdown:
                store_loop.close()
        self.dispatch(SchedulerEvent(ev.STORE_REMOVED, alias))

    def add_executor(self, executor: Any, alias: str = "default", **options: Any) -> None:
        spec = {"type": executor, **options} if isinstance(executor, str) and options else executor
        instance = build_plugin("executor", alias, spec, BaseExecutor, self.registry)
        with self._lock:
            if alias in self.executors:
                raise ValueError(f"An executor named {alias!r} already exists")
            self.executors[alias] = instance
            if self.running:
                instance.start(self, alias)
        self.dispatch(SchedulerEvent(ev.EXECUTOR_ADDED, alias))

    def remove_executor(self, alias: str, shutdown: bool = True) -> None:
        with self._lock:
            executor = self.executors.pop(alias)
        if shutdown:
            executor.shutdown()
        self.dispatch(SchedulerEvent(ev.EXECUTOR_REMOVED, alias))

    # ================================================================== listeners, events
    def add_listener(self, callback: Listener, mask: int = ev.ALL_EVENTS) -> None:
        self.listeners.add(callback, mask)

    def remove_listener(self, callback: Listener) -> bool:
        return self.listeners.remove(callback)

    def dispatch(self, event: SchedulerEvent) -> None:
        self.listeners.dispatch(event)

    def notify_quarantined(self, alias: str | None, task_id: str, reason: str) -> None:
        self.dispatch(TaskEvent(ev.TASK_QUARANTINED, alias, task_id, alias, reason))

    # ================================================================== tasks: create
    def add_task(
        self,
        fn_or_task: Callable[..., Any] | Task | str | None = None,
        trigger: BaseTrigger | str | None = None,
        args: Any = None,
        kwargs: Mapping[str, Any] | None = None,
        id: str | None = None,
        name: str | None = None,
        mistrigger_grace_time: float | None = _UNSET,
        coalesce: bool = _UNSET,
        max_instances: int = _UNSET,
        next_run_time: datetime | None = _UNSET,
        store: str | None = None,
        executor: str | None = None,
        replace_existing: bool = False,
        fn: Callable[..., Any] | str | None = None,
        **trigger_args: Any,
    ) -> Task:
        """Schedule ``fn`` (a callable or ``"module:function"``) with a trigger.

        Without a function, returns a task usable as a decorator. ``next_run_time=None``
        adds the task paused. On a stopped scheduler the task waits until ``start()``.
        """
        if isinstance(fn_or_task, Task):
            return self._submit_task(fn_or_task, replace_existing)
        target = fn if fn is not None else fn_or_task
        defaults = self.task_defaults
        task = Task(
            target,
            id=id,
            name=name,
            args=args,
            kwargs=kwargs,
            trigger=create_trigger(trigger, trigger_args, self.registry, self.timezone),
            executor=executor or "default",
            store_alias=store or "default",
            mistrigger_grace_time=(
                defaults.mistrigger_grace_time
                if mistrigger_grace_time is _UNSET
                else mistrigger_grace_time
            ),
            coalesce=defaults.coalesce if coalesce is _UNSET else coalesce,
            max_instances=defaults.max_instances if max_instances is _UNSET else max_instances,
            scheduler=self,
        )
        if task.fn is None:
            # Decorator mode: remember the wish, schedule on decoration.
            task.next_run_time = None if next_run_time is _UNSET else next_run_time
            task.submitted = replace_existing or id is not None
            return task
        check_arguments(task.fn, task.args, task.kwargs, task.name)
        assert task.trigger is not None
        task.next_run_time = (
            task.trigger.get_next_trigger_time(self.timezone, None, datetime.now(UTC))
            if next_run_time is _UNSET
            else next_run_time
        )
        return self._submit_task(task, replace_existing)

    def add_task_from_template(self, template: Task, fn: Callable[..., Any]) -> Task:
        """Decorator mode: schedule ``fn`` with the options held by ``template``."""
        task = template.copy_with(fn=fn, _fn_reference=None, submitted=False)
        if task.name is None:
            task.name = getattr(fn, "__qualname__", None)
        if not template.submitted:  # no explicit id: every decoration is its own task
            task.id = uuid4().hex
        check_arguments(fn, task.args, task.kwargs, task.name)
        if task.next_run_time is None and task.trigger is not None:
            task.next_run_time = task.trigger.get_next_trigger_time(
                self.timezone, None, datetime.now(UTC)
            )
        return self._submit_task(task, replace_existing=template.submitted)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Add many tasks with one store write instead of one per task::

            with scheduler.batch():
                for user in users:
                    scheduler.add_task(send_digest, "cron", hour=8, args=[user.id])

        Inside the block ``add_task`` returns at once and queues the task; when the block
        ends, each store gets the tasks meant for it in one ``add_tasks`` call (one round
        trip, all or none, on the built-in stores) and ``ConflictIdError`` surfaces there.
        An exception inside the block discards the queued tasks. Tasks with
        ``replace_existing=True`` are written one by one at the end. Nested blocks join the
        outer one; on a stopped scheduler tasks wait for ``start()`` as always.
        """
        open_batch = _OPEN_BATCH.get()
        if open_batch is not None and open_batch[0] is self:
            yield
            return
        queued: list[tuple[Task, bool]] = []
        token = _OPEN_BATCH.set((self, queued))
        try:
            yield
        except BaseException:
            for task, _ in queued:
                task.submitted = False
            raise
        finally:
            _OPEN_BATCH.reset(token)
        self._write_new_tasks(queued)

    def _submit_task(self, task: Task, replace_existing: bool) -> Task:
        if task.submitted:
            raise ValueError(f"Task {task.id!r} was already added to a scheduler")
        task.scheduler = self
        task.store_alias = task.store_alias or "default"
        with self._lock:
            if not self.running:
                self._pending.append((task, replace_existing))
                task.submitted = True
                return task
        open_batch = _OPEN_BATCH.get()
        if open_batch is not None and open_batch[0] is self:
            open_batch[1].append((task, replace_existing))
        else:
            self._write_new_task(task, replace_existing)
        task.submitted = True
        return task

    def _write_new_tasks(self, queued: list[tuple[Task, bool]]) -> None:
        """A batch's tasks: per store one ``add_tasks`` for those that must not replace
        anything, then the replacing ones one by one."""
        by_store: dict[str, list[Task]] = {}
        for task, replace_existing in queued:
            if not replace_existing:
                by_store.setdefault(task.store_alias or "default", []).append(task)
        for alias, tasks in by_store.items():
            store_loop = self.store_loop(alias)
            store_loop.call(store_loop.store.add_tasks, tasks)
            if self.listeners.wants(ev.TASK_ADDED):
                for task in tasks:
                    self.dispatch(TaskEvent(ev.TASK_ADDED, alias, task.id, alias))
            scheduled = [task.next_run_time for task in tasks if task.next_run_time is not None]
            store_loop.wake_for(min(scheduled, default=None))
        for task, replace_existing in queued:
            if replace_existing:
                self._write_new_task(task, replace_existing)

    def _write_new_task(self, task: Task, replace_existing: bool) -> None:
        alias = task.store_alias or "default"
        store_loop = self.store_loop(alias)
        try:
            store_loop.call(store_loop.store.add_task, task)
            code = ev.TASK_ADDED
        except ConflictIdError:
            if not replace_existing:
                raise
            store_loop.call(store_loop.store.update_task, task)
            code = ev.TASK_MODIFIED
        if self.listeners.wants(code):
            self.dispatch(TaskEvent(code, alias, task.id, alias))
        store_loop.wake_for(task.next_run_time)

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for task, replace_existing in pending:
            try:
                self._write_new_task(task, replace_existing)
            except ConflictIdError:
                self.logger.warning(
                    "Pending task %r already exists in its store; kept the stored one", task.id
                )

    def is_pending(self, task: Task) -> bool:
        return any(pending is task for pending, _ in self._pending)

    # ================================================================== tasks: read
    def find_store_loop(self, alias: str | None) -> StoreLoop | None:
        return self._store_loops.get(alias or "")

    def store_loop(self, alias: str) -> StoreLoop:
        try:
            return self._store_loops[alias]
        except KeyError:
            raise KeyError(
                f"No store named {alias!r}; stores: {', '.join(self.stores) or 'none'}"
            ) from None

    def get_tasks(self, store: str | None = None) -> list[Task]:
        if not self.running:
            return [t for t, _ in self._pending if store is None or t.store_alias == store]
        tasks: list[Task] = []
        for alias, store_loop in self._store_loops.items():
            if store is None or alias == store:
                for task in store_loop.call(store_loop.store.get_all_tasks):
                    tasks.append(self._attach(task, alias))
        return tasks

    def get_task(self, task_id: str, store: str | None = None) -> Task | None:
        try:
            return self.lookup_task(task_id, store)[0]
        except TaskLookupError:
            return None

    def lookup_task(self, task_id: str, store: str | None = None) -> tuple[Task, str]:
        """The task and the alias of its store; ``TaskLookupError`` if it is nowhere."""
        if not self.running:
            for task, _ in self._pending:
                if task.id == task_id and (store is None or task.store_alias == store):
                    return task, task.store_alias or "default"
            raise TaskLookupError(task_id, store)
        for alias, store_loop in self._store_loops.items():
            if store is None or alias == store:
                found = store_loop.call(store_loop.store.lookup_task, task_id)
                if found is not None:
                    return self._attach(found, alias), alias
        raise TaskLookupError(task_id, store)

    def _attach(self, task: Any, alias: str) -> Task:
        task.scheduler = self
        task.store_alias = alias
        return task

    # ================================================================== tasks: change
    def update_task(self, task_id: str | Task, store: str | None = None, **updates: Any) -> Task:
        """Change a task's fields (validated) and persist them."""
        task_id = task_id.id if isinstance(task_id, Task) else task_id
        unknown = set(updates) - _UPDATABLE
        if unknown:
            raise AttributeError(
                f"cannot update {sorted(unknown)} of task {task_id!r}; updatable: "
                f"{', '.join(sorted(_UPDATABLE))}"
            )
        task, alias = self.lookup_task(task_id, store)
        if "trigger" in updates and not isinstance(updates["trigger"], BaseTrigger):
            updates["trigger"] = create_trigger(
                updates["trigger"], {}, self.registry, self.timezone
            )
        fields = {name: getattr(task, name) for name in _UPDATABLE}
        fields["fn"] = task.fn_reference or task.fn
        fields.update(updates)
        updated = Task(id=task.id, store_alias=alias, scheduler=self, **fields)
        if updated.fn is not None:
            check_arguments(updated.fn, updated.args, updated.kwargs, updated.name)
        self._replace(updated, alias)
        return updated

    def _replace(self, task: Task, alias: str) -> None:
        if not self.running:
            for index, (pending, replace) in enumerate(self._pending):
                if pending.id == task.id:
                    task.submitted = True
                    self._pending[index] = (task, replace)
            return
        store_loop = self.store_loop(alias)
        store_loop.call(store_loop.store.update_task, task)
        self.dispatch(TaskEvent(ev.TASK_MODIFIED, alias, task.id, alias))
        store_loop.wake_for(task.next_run_time)

    def reschedule_task(
        self,
        task_id: str | Task,
        store: str | None = None,
        trigger: Any = None,
        **trigger_args: Any,
    ) -> Task:
        """Give the task a new trigger and recompute its next run time from now."""
        new_trigger = create_trigger(trigger, trigger_args, self.registry, self.timezone)
        next_time = new_trigger.get_next_trigger_time(self.timezone, None, datetime.now(UTC))
        return self.update_task(task_id, store, trigger=new_trigger, next_run_time=next_time)

    def pause_task(self, task_id: str | Task, store: str | None = None) -> Task:
        return self.update_task(task_id, store, next_run_time=None)

    def resume_task(self, task_id: str | Task, store: str | None = None) -> Task | None:
        """Resume from now; a trigger with no future fire removes the task (returns None)."""
        task_id = task_id.id if isinstance(task_id, Task) else task_id
        task, alias = self.lookup_task(task_id, store)
        assert task.trigger is not None
        next_time = task.trigger.get_next_trigger_time(self.timezone, None, datetime.now(UTC))
        if next_time is None:
            self.delete_task(task_id, alias)
            return None
        return self.update_task(task_id, alias, next_run_time=next_time)

    def run_task(self, task_id: str | Task, store: str | None = None) -> Task:
        """Run the task now, once, without changing its schedule."""
        if not self.running:
            raise SchedulerNotRunningError()
        task_id = task_id.id if isinstance(task_id, Task) else task_id
        task, _ = self.lookup_task(task_id, store)
        manual = task.copy_with(mistrigger_grace_time=None)
        loop = self.event_loop
        assert loop is not None
        loop.call_soon_threadsafe(self._runs.send, manual, [datetime.now(UTC)], 1)
        return task

    def delete_task(self, task_id: str | Task, store: str | None = None) -> None:
        task_id = task_id.id if isinstance(task_id, Task) else task_id
        if not self.running:
            before = len(self._pending)
            self._pending = [(t, r) for t, r in self._pending if t.id != task_id]
            if len(self._pending) == before:
                raise TaskLookupError(task_id, store)
            return
        _, alias = self.lookup_task(task_id, store)
        store_loop = self.store_loop(alias)
        store_loop.call(store_loop.store.delete_task, task_id)
        self.dispatch(TaskEvent(ev.TASK_REMOVED, alias, task_id, alias))

    def remove_all_tasks(self, store: str | None = None) -> None:
        if not self.running:
            self._pending = [(t, r) for t, r in self._pending if store not in (None, t.store_alias)]
        else:
            for alias, store_loop in self._store_loops.items():
                if store is None or alias == store:
                    store_loop.call(store_loop.store.remove_all_tasks)
        self.dispatch(SchedulerEvent(ev.ALL_TASKS_REMOVED, store))

    # ================================================================== running tasks
    def submit_runs(self, alias: str, result: PassResult) -> None:
        """Called on the loop with a store pass's result."""
        self._runs.submit(alias, result)

    def report_outcomes(self, task: Task, outcomes: list[RunOutcome], executor: str | None) -> None:
        """Called by executors on the loop when a submission has finished."""
        self._runs.report(task, outcomes, executor)

    def __getstate__(self) -> Any:
        raise TypeError("A scheduler cannot be serialized; pass tasks 'module:function' references")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.identity} state={self.state.name}>"
