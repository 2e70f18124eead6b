"""The thread a blocking store lives on: every call to it, and its passes when they fall due.

One thread per blocking store runs that store's calls one at a time, in the order they
were submitted, and keeps the store's schedule itself: it waits on its queue with a timeout
that ends at the next pass's deadline, so a pass starts when it is due (a timed wait is
precise to tens of microseconds; the event loop's timers round up to whole milliseconds)
and without a hop from the event loop. The event loop only receives the pass's results.
"""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

_Job = tuple["concurrent.futures.Future[Any]", Callable[..., Any], tuple[Any, ...]]

_NUDGE: Any = object()  # the deadline moved: recompute the wait
_STOP: Any = object()


class StoreWorker:
    """Runs calls submitted from any thread, and ``on_due`` once the deadline passes.

    ``on_due`` returns the seconds until the next pass (``None``: none until ``wake_at``)
    and must not raise. Rules: a pass never interrupts a call and a call never interrupts
    a pass; when a deadline has passed, the pass runs before the next queued call; a
    ``wake_at`` during a pass is kept (the earlier of it and the pass's own answer wins).
    """

    def __init__(self, name: str, on_due: Callable[[], float | None]) -> None:
        self._on_due = on_due
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._deadline: float | None = None  # time.monotonic() of the next pass
        self._stopped = False
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Queue ``fn(*args)``; its future completes on this worker's thread."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"the store worker {self.thread.name} has stopped")
            self._queue.put((future, fn, args))
        return future

    def wake_at(self, deadline: float) -> None:
        """Make sure a pass runs at ``deadline`` (``time.monotonic()``) or earlier."""
        with self._lock:
            if self._stopped or (self._deadline is not None and self._deadline <= deadline):
                return
            self._deadline = deadline
        if threading.current_thread() is not self.thread:
            self._queue.put(_NUDGE)

    def stop(self, timeout: float | None = None) -> None:
        """Run what is queued, then end the thread (no more passes)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            self._deadline = None
            self._queue.put(_STOP)
        if threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def _main(self) -> None:
        while True:
            with self._lock:
                deadline = self._deadline
            timeout = None if deadline is None else deadline - time.monotonic()
            if timeout is not None and timeout <= 0:
                self._run_pass()
                continue
            try:
                item = self._queue.get(timeout=first_leg(timeout))
            except queue.Empty:
                continue  # the deadline has come: the top of the loop runs the pass
            if item is _STOP:
                return
            if item is not _NUDGE:
                _run_job(item)

    def _run_pass(self) -> None:
        with self._lock:
            self._deadline = None
        delay = self._on_due()
        if delay is not None:
            self.wake_at(time.monotonic() + delay)


#: A wait longer than twice this ends this much early and then waits the rest (see
#: ``first_leg``).
WARM_UP = 0.002


def first_leg(timeout: float | None) -> float | None:
    """How long to wait first for a deadline ``timeout`` seconds away: long waits end
    ``WARM_UP`` early and wait the rest from there. A CPU idle for a while (a virtual
    machine's above all) wakes slowly, by milliseconds; the short second wait starts from
    a CPU that is awake, so the deadline is met within tens of microseconds."""
    if timeout is None or timeout <= 2 * WARM_UP:
        return timeout
    return timeout - WARM_UP


def _run_job(job: _Job) -> None:
    future, fn, args = job
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn(*args)
    except BaseException as exc:  # handed to the caller, whatever it is
        future.set_exception(exc)
    else:
        future.set_result(result)
