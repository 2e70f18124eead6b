"""One loop per store: find due tasks, advance them, hand runs to the scheduler.

A store whose methods may block lives on a ``StoreWorker`` thread of its own, which runs
its calls and its processing passes (due query, trigger arithmetic, writes, next
wake-up) and keeps its schedule: the event loop never waits on a store, a slow store
delays only itself, and a pass starts on time without a hop from the loop. Only the
resulting submissions come back to the loop. A store that never blocks (memory) is
processed on the loop itself, by an asyncio task.

The schedule is a deadline: ``wake_for(next_run_time)`` after a write moves it earlier
when the written task fires sooner (a write never costs a pass by itself); ``wake()``
(another process changed the store, resume, ``scheduler.wakeup()``) makes it now.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from asyncz.enums import SchedulerState
from asyncz.exceptions import TaskLookupError
from asyncz.schedulers.store_worker import StoreWorker, first_leg
from asyncz.stores.records import RecordStore, TaskRecord

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import AsyncIOScheduler
    from asyncz.stores.base import BaseStore
    from asyncz.tasks.task import Task

T = TypeVar("T")

#: Submissions per hand-off to the loop, and records per first claim of a pass: small, so
#: the first runs of a large batch start after one small round trip.
_CHUNK = 64


@dataclass(slots=True)
class Submission:
    task: Task
    run_times: list[datetime]
    due_count: int
    #: Set for claimed fires: the lease is released (the record deleted when ``finished``)
    #: once the run ends.
    claimed: bool = False
    finished: bool = False


@dataclass(slots=True)
class PassResult:
    submissions: list[Submission] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    next_wake: datetime | None = None
    #: When the pass looked for due tasks, and how many it claimed (claims only).
    started_at: datetime | None = None
    claimed: int = 0


class StoreLoop:
    """Drives one store. ``call`` is for the scheduler's synchronous API."""

    def __init__(self, scheduler: AsyncIOScheduler, alias: str, store: BaseStore) -> None:
        self.scheduler = scheduler
        self.alias = alias
        self.store = store
        self.logger = logging.getLogger(f"asyncz.stores.{alias}")
        self._worker: StoreWorker | None = None
        if store.blocking_io:
            self._worker = StoreWorker(f"asyncz-store-{alias}", self._due_pass)
        self._stopped = False
        #: The loop-side schedule (stores without a worker): next pass, time.monotonic().
        self._deadline: float | None = None
        self._deadline_lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._lock_file: Any = None
        self.claims = isinstance(store, RecordStore) and store.supports_claims
        self._inline = self._worker is None and not self.claims and not scheduler.lock_path
        #: Claimed fires running here: task id -> (the submitted task object, "no further
        #: fire": delete the record on release).
        self._held: dict[str, tuple[Any, bool]] = {}
        self._held_lock = threading.Lock()
        self._releases: list[tuple[str, bool]] = []
        self._release_scheduled = False

    # ------------------------------------------------------------------ store access
    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call on the store's worker and wait for it (from any thread)."""
        worker = self._worker
        if worker is None or threading.current_thread() is worker.thread:
            return fn(*args)
        return worker.submit(fn, *args).result()

    async def acall(self, fn: Callable[..., T], *args: Any) -> T:
        if self._worker is None:
            return fn(*args)
        return await asyncio.wrap_future(self._worker.submit(fn, *args))

    # ------------------------------------------------------------------ lifecycle
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        def begin() -> None:
            if self._worker is None:
                self._wake = asyncio.Event()
                self._task = loop.create_task(self._run(), name=f"asyncz-store-loop-{self.alias}")
            if self.claims:
                self._renewer = loop.create_task(
                    self._renew_leases(), name=f"asyncz-lease-renewal-{self.alias}"
                )
            self.wake()

        _on_loop(loop, begin)
        try:
            self._unsubscribe = self.call(self.store.subscribe_changes, self.wake)
        except Exception as exc:
            self.logger.warning(
                "Store %r offers change notifications but subscribing failed (%s); polling "
                "every %.1f s instead",
                self.alias,
                exc,
                self.scheduler.store_poll_interval,
            )

    def stop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self._stopped = True
        if self._unsubscribe is not None:
            try:
                self._unsubscribe()
            except Exception as exc:
                self.logger.warning("Unsubscribing from store %r failed: %s", self.alias, exc)
            self._unsubscribe = None
        for task in (self._task, self._renewer):
            if task is not None and loop is not None and not loop.is_closed():
                _on_loop(loop, task.cancel)
        self._task = self._renewer = None

    def close(self) -> None:
        """Shut the store down on its worker, then the worker itself."""
        try:
            self.call(self.store.shutdown)
        finally:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

    # ------------------------------------------------------------------ the schedule
    def wake(self) -> None:
        """Process the store now: something changed that the schedule cannot know of."""
        self._wake_at(time.monotonic())

    def wake_for(self, next_run_time: datetime | None) -> None:
        """A task was written that next fires at ``next_run_time``: make sure a pass runs
        by then (nothing to do for a paused task)."""
        if next_run_time is not None:
            delay = (next_run_time - datetime.now(UTC)).total_seconds()
            self._wake_at(time.monotonic() + max(delay, 0.0))

    def _wake_at(self, deadline: float) -> None:
        if self._stopped:
            return
        if self._worker is not None:
            self._worker.wake_at(deadline)
            return
        with self._deadline_lock:
            if self._deadline is not None and self._deadline <= deadline:
                return
            self._deadline = deadline
        loop, event = self.scheduler.event_loop, self._wake
        if event is not None and loop is not None and not loop.is_closed():
            _on_loop(loop, event.set)

    def _next_delay(self, result: PassResult) -> float | None:
        """Seconds until the pass after ``result`` (``None``: only when woken)."""
        if self._held_elsewhere(result):
            # Due records exist but another scheduler holds them: back off instead of
            # spinning until it commits or its lease ends.
            return self.scheduler.claim_retry_interval
        return self._delay_until(result.next_wake)

    def _held_elsewhere(self, result: PassResult) -> bool:
        """The pass claimed nothing, yet a task was already due when it looked."""
        started, wake = result.started_at, result.next_wake
        return (
            self.claims
            and result.claimed == 0
            and started is not None
            and wake is not None
            and wake <= started
        )

    def _delay_until(self, next_wake: datetime | None) -> float | None:
        poll = self.scheduler.store_poll_interval if self.store.blocking_io else None
        if next_wake is None:
            return poll
        delay = max((next_wake - datetime.now(UTC)).total_seconds(), 0.0)
        return delay if poll is None else min(delay, poll)

    # ------------------------------------------------------------------ passes
    def _due_pass(self) -> float | None:
        """A pass on the worker's thread, when its deadline has come; the delay until the
        next one. Never raises: a failed pass is retried after ``store_retry_interval``."""
        scheduler = self.scheduler
        if self._stopped or scheduler.state != SchedulerState.RUNNING:
            return None  # resume() and start() wake the store again
        try:
            result = self.process_pass()
        except Exception as exc:
            self._log_failed_pass(exc)
            return scheduler.store_retry_interval
        self._deliver(result)
        return self._next_delay(result)

    def _deliver(self, result: PassResult) -> None:
        """Hand a pass's (partial) result to the loop, from the worker's thread."""
        if not result.submissions and not result.removed:
            return
        loop = self.scheduler.event_loop
        try:
            if loop is None or loop.is_closed():
                raise RuntimeError("the scheduler's event loop is closed")
            loop.call_soon_threadsafe(self._submit, result)
        except RuntimeError:
            self._give_back(result)

    def _submit(self, result: PassResult) -> None:
        """On the loop: start the runs, unless the scheduler stopped meanwhile."""
        if self._stopped:
            self._give_back(result)
        else:
            self.scheduler.submit_runs(self.alias, result)

    def _give_back(self, result: PassResult) -> None:
        """Runs that will not start: release the leases of the claimed ones."""
        for submission in result.submissions:
            if submission.claimed:
                self.run_ended(submission.task)

    def _log_failed_pass(self, exc: Exception) -> None:
        self.logger.error(
            "Processing store %r failed (%s: %s); retrying in %.1f s",
            self.alias,
            type(exc).__name__,
            exc,
            self.scheduler.store_retry_interval,
        )

    async def _run(self) -> None:
        """The schedule of a store without a worker, on the loop."""
        assert self._wake is not None
        scheduler = self.scheduler
        while True:
            await scheduler.wait_until_unpaused()
            with self._deadline_lock:
                deadline = self._deadline
            delay = None if deadline is None else deadline - time.monotonic()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), first_leg(delay))
                self._wake.clear()
                continue  # look at the (possibly moved) deadline again
            with self._deadline_lock:
                self._deadline = None
            try:
                if self._inline:
                    result = await self._advance_inline()
                else:
                    result = self.process_pass()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._log_failed_pass(exc)
                next_delay: float | None = scheduler.store_retry_interval
            else:
                scheduler.submit_runs(self.alias, result)
                next_delay = self._next_delay(result)
            if next_delay is not None:
                self._wake_at(time.monotonic() + next_delay)

    def process_pass(self) -> PassResult:
        """Runs on the store's worker: claim what is due, advance it, report the runs."""
        with self._process_lock() as acquired:
            if not acquired:
                return PassResult(next_wake=None)
            if self.claims:
                return self._advance_claimed()
            return self._advance_due()

    def _advance_claimed(self) -> PassResult:
        """Claim due records under a lease, start their runs, then advance each fire and
        turn its claim into a run lease (``RecordStore.claim_records``, ``commit_claims``).

        A run starts as soon as its record is claimed: the claim lease already keeps every
        other scheduler off it, so the commit that follows (one round trip per claimed
        batch) is off the path from due time to start. The first claim of a pass asks for
        one chunk, so the first runs start after one small round trip; later claims ask
        for ``claim_batch_size``. A pass never outlives a third of the lease: what it has
        not started by then goes back unclaimed, so no lease can end before its fire has
        started.
        """
        store, scheduler = self.store, self.scheduler
        assert isinstance(store, RecordStore)
        owner, lease = scheduler.identity, scheduler.lease_duration
        now = datetime.now(UTC)
        deadline = time.monotonic() + lease.total_seconds() / 3
        result = PassResult(started_at=now)
        limit = min(_CHUNK, scheduler.claim_batch_size)
        while time.monotonic() <= deadline:
            records = store.claim_records(now, limit, owner, now + lease)
            result.claimed += len(records)
            self._run_claimed(records, now, deadline)
            if len(records) < limit:
                break
            limit = scheduler.claim_batch_size
        result.next_wake = store.get_next_run_time()
        return result

    def _run_claimed(self, records: list[TaskRecord], now: datetime, deadline: float) -> None:
        """Plan the claimed records chunk by chunk, handing each chunk's runs to the loop
        at once, then commit the batch in one call.

        A commit that fails leaves the fire unrecorded although it has started: if the
        store answered "not held" (the task was deleted meanwhile) nothing more happens;
        if the store call failed, the claim leases stay and the fires run once more after
        ``lease_duration`` (at-least-once, as when a process dies mid-run)."""
        store = self.store
        assert isinstance(store, RecordStore)
        owner, lease = self.scheduler.identity, self.scheduler.lease_duration
        commits: list[tuple[TaskRecord, datetime]] = []
        started: list[Submission] = []
        for start in range(0, len(records), _CHUNK):
            if time.monotonic() > deadline:
                store.release_leases([(r.id, False) for r in records[start:]], owner)
                break
            chunk: list[Submission] = []
            for record in records[start : start + _CHUNK]:
                planned = self._plan_claimed(record, now)
                if planned is not None:
                    commits.append((planned[0], planned[1]))
                    chunk.append(planned[2])
                    self._hold(planned[2].task, planned[2].finished)
            self._deliver(PassResult(submissions=chunk))
            started += chunk
        if not commits:
            return
        try:
            committed = store.commit_claims(commits, owner, datetime.now(UTC) + lease)
        except Exception:
            for submission in started:
                self._unhold(submission.task)
            raise
        for submission, ok in zip(started, committed, strict=True):
            if not ok:
                self._unhold(submission.task)
                self.logger.warning(
                    "Task %r started, but its lease was gone when the fire was recorded "
                    "(was the task deleted meanwhile?)",
                    submission.task.id,
                )

    def _plan_claimed(
        self, record: TaskRecord, now: datetime
    ) -> tuple[TaskRecord, datetime, Submission] | None:
        """What to commit for one claimed record, and the run it leads to."""
        store = self.store
        assert isinstance(store, RecordStore)
        owner = self.scheduler.identity
        task = store.read_record(record)
        if task is None:
            return None
        task.store_alias = self.alias
        if record.lease_fire_time is not None:
            # Its previous owner died while running this fire: run it again here.
            fire = record.lease_fire_time
            finished = record.next_run_time is None and (
                _next_fire(task, fire, now, self.scheduler.timezone) is None
            )
            return record, fire, Submission(task, [fire], 1, claimed=True, finished=finished)
        run_times, next_time = task.due_run_times(now)
        if not run_times:
            store.release_leases([(task.id, False)], owner)
            return None
        advanced = store.encode_task(task.copy_with(next_run_time=next_time))
        submit_times = run_times[-1:] if task.coalesce else run_times
        submission = Submission(
            task, submit_times, len(run_times), claimed=True, finished=next_time is None
        )
        return advanced, run_times[-1], submission

    # ------------------------------------------------------------------ leases
    def _hold(self, task: Any, finished: bool) -> None:
        with self._held_lock:
            self._held[task.id] = (task, finished)

    def _unhold(self, task: Any) -> None:
        """Forget a claimed fire without releasing its lease."""
        with self._held_lock:
            held = self._held.get(task.id)
            if held is not None and held[0] is task:
                del self._held[task.id]

    def run_ended(self, task: Any) -> None:
        """A claimed fire finished (or was never started): give its lease back. Releases
        are queued and written in batches, one store call for all that piled up."""
        with self._held_lock:
            held = self._held.get(task.id)
            if held is None or held[0] is not task:
                return  # not a claimed fire (e.g. run_task), or already released
            del self._held[task.id]
            self._releases.append((task.id, held[1]))
            if self._release_scheduled:
                return
            self._release_scheduled = True
        worker = self._worker
        if worker is None:  # a store that never blocks: release right here
            self._flush_releases()
            return
        try:
            worker.submit(self._flush_releases).add_done_callback(self._log_failure)
        except RuntimeError:  # the store is closing: the leases end by themselves
            self.logger.info("Store %r closed before %r's lease was released", self.alias, task.id)

    def _flush_releases(self) -> None:
        store = self.store
        assert isinstance(store, RecordStore)
        with self._held_lock:
            releases, self._releases = self._releases, []
            self._release_scheduled = False
        if not releases:
            return
        results = store.release_leases(releases, self.scheduler.identity)
        for (task_id, _), released in zip(releases, results, strict=True):
            if not released:
                self.logger.warning(
                    "Lease on task %r was gone when its run ended: the task was deleted, or "
                    "the lease ended and another scheduler may have run this fire too "
                    "(raise lease_duration?)",
                    task_id,
                )

    def _log_failure(self, future: concurrent.futures.Future[Any]) -> None:
        error = future.exception()
        if error is not None:
            self.logger.error("Releasing leases in store %r failed: %s", self.alias, error)

    async def _renew_leases(self) -> None:
        store = self.store
        assert isinstance(store, RecordStore)
        interval = self.scheduler.lease_duration.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            with self._held_lock:
                held = list(self._held)
            if not held:
                continue
            until = datetime.now(UTC) + self.scheduler.lease_duration
            try:
                lost = await self.acall(store.extend_leases, held, self.scheduler.identity, until)
            except Exception as exc:
                self.logger.error("Renewing leases in store %r failed: %s", self.alias, exc)
                continue
            for task_id in lost:
                self.logger.warning("Lease on running task %r was lost", task_id)

    def _advance_due(self) -> PassResult:
        """The pass for stores without claims, on the store's worker thread."""
        now = datetime.now(UTC)
        result = PassResult()
        for batch in self._due_batches(now):
            for task in batch:
                submission = self._advance_one(task, now, result)
                if submission is None:
                    continue
                result.submissions.append(submission)
                if len(result.submissions) >= _CHUNK:  # the first runs start at once
                    self._deliver(PassResult(submissions=result.submissions))
                    result.submissions = []
        result.next_wake = self.store.get_next_run_time()
        return result

    def _due_batches(self, now: datetime) -> Iterator[list[Any]]:
        """Due tasks in bounded batches until none is left. Each batch is advanced before
        the next is asked for, so it never returns a task twice (a task still due after
        advancing is one catching up on many missed fires: it comes again, further on)."""
        limit = min(_CHUNK, self.scheduler.claim_batch_size)  # the first runs start soon
        while True:
            batch = self.store.get_due_batch(now, limit)
            if batch:
                yield batch
            if len(batch) < limit:
                return
            limit = self.scheduler.claim_batch_size

    async def _advance_inline(self) -> PassResult:
        """The pass for stores that never block (memory), on the loop itself. It yields to
        the loop every chunk, so the first runs of a large batch start at once and the loop
        stays responsive."""
        now = datetime.now(UTC)
        result = PassResult()
        for batch in self._due_batches(now):
            for task in batch:
                submission = self._advance_one(task, now, result)
                if submission is None:
                    continue
                result.submissions.append(submission)
                if len(result.submissions) >= _CHUNK:
                    chunk = PassResult(submissions=result.submissions)
                    self.scheduler.submit_runs(self.alias, chunk)
                    result.submissions = []
                    await asyncio.sleep(0)
        result.next_wake = self.store.get_next_run_time()
        return result

    def _advance_one(self, task: Any, now: datetime, result: PassResult) -> Submission | None:
        """Advance one due task in its store; the submission to run, if any."""
        task.scheduler = self.scheduler
        task.store_alias = self.alias
        run_times, next_time = task.due_run_times(now)
        if not run_times:
            return None
        try:
            if next_time is None:
                self.store.delete_task(task.id)
                result.removed.append(task.id)
            else:
                task.next_run_time = next_time  # the task is our copy: safe to change
                self.store.update_task(task)
        except TaskLookupError:
            self.logger.info("Task %r was removed while it was being processed", task.id)
            return None
        submit_times = run_times[-1:] if task.coalesce else run_times
        return Submission(task, submit_times, len(run_times))

    @contextlib.contextmanager
    def _process_lock(self) -> Iterator[bool]:
        """The optional cross-process ``lock_path`` lock (same host only)."""
        template = self.scheduler.lock_path
        if not template:
            yield True
            return
        if self._lock_file is None:
            path = template.format(store=self.alias, pgrp=os.getpgrp(), ppid=os.getppid())
            self._lock_file = open(path, "a+b")  # noqa: SIM115 - kept open for the store's life
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)


def _next_fire(task: Any, last_run: datetime, now: datetime, timezone: Any) -> datetime | None:
    trigger = task.trigger
    if trigger is None:
        return None
    next_time: datetime | None = trigger.get_next_trigger_time(timezone, last_run, now)
    return next_time


def _on_loop(loop: asyncio.AbstractEventLoop, fn: Callable[[], Any]) -> None:
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        fn()
    else:
        loop.call_soon_threadsafe(fn)
