"""The store's wake-up signal: a change stream on the collection, read by a daemon thread.

Change streams exist on replica sets and sharded clusters only. A standalone server refuses
them; the store then offers no signal and the scheduler polls.

Only changes that can matter to a scheduler wake it: inserts, deletes, replacements and
updates of a run time or payload. Lease bookkeeping (claims, renewals, releases) does not.
A burst of changes becomes one call at once, then at most one per ``COALESCE`` seconds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pymongo.errors
from pymongo.change_stream import CollectionChangeStream
from pymongo.collection import Collection

Document = dict[str, Any]

PIPELINE: list[Document] = [
    {
        "$match": {
            "$or": [
                {"operationType": {"$ne": "update"}},
                {"updateDescription.updatedFields.next_run_time": {"$exists": True}},
                {"updateDescription.updatedFields.payload": {"$exists": True}},
            ]
        }
    }
]

#: How long one read waits on the server for a change; also about the most ``stop`` waits.
MAX_AWAIT_MS = 200

#: Least time between two calls of the callback.
COALESCE = 0.05

#: Pause between attempts to reopen a broken stream.
REOPEN_PAUSE = 1.0


def open_change_listener(
    tasks: Collection[Document], callback: Callable[[], None], logger: logging.Logger
) -> Callable[[], None] | None:
    """Watch ``tasks`` and call ``callback`` on changes; returns the function that stops
    watching, or ``None`` when the server has no change streams."""
    try:
        stream = _watch(tasks)
    except pymongo.errors.OperationFailure as exc:
        logger.debug(
            "MongoDB offers no change stream on %s (%s); the scheduler polls the store",
            tasks.full_name,
            exc,
        )
        return None
    listener = ChangeStreamListener(tasks, stream, callback, logger)
    listener.start()
    return listener.stop


def _watch(tasks: Collection[Document]) -> CollectionChangeStream[Document]:
    return tasks.watch(PIPELINE, max_await_time_ms=MAX_AWAIT_MS)


class ChangeStreamListener:
    """Reads one change stream in a daemon thread; reopens it when it breaks."""

    def __init__(
        self,
        tasks: Collection[Document],
        stream: CollectionChangeStream[Document],
        callback: Callable[[], None],
        logger: logging.Logger,
    ) -> None:
        self._tasks = tasks
        self._stream = stream
        self._callback = callback
        self._logger = logger
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._listen, name=f"asyncz-mongo-changes-{tasks.full_name}", daemon=True
        )

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (within about ``MAX_AWAIT_MS``) and close the stream."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=MAX_AWAIT_MS / 1000 * 10)
        self._close()

    def _close(self) -> None:
        # A stream whose server is gone has nothing left to release.
        with contextlib.suppress(pymongo.errors.PyMongoError):
            self._stream.close()

    def _listen(self) -> None:
        pending = False  # a change arrived that the callback has not been told about
        quiet_until = 0.0  # no call before this (monotonic) time
        while not self._stopping.is_set():
            try:
                change = self._stream.try_next()
                alive = self._stream.alive
            except pymongo.errors.PyMongoError as exc:
                if self._stopping.is_set():
                    break
                self._logger.warning(
                    "The change stream on %s broke (%s); reopening it. Until then the "
                    "scheduler polls the store.",
                    self._tasks.full_name,
                    exc,
                )
                change, alive = None, False
            if not alive and not self._reopen():
                break
            pending = pending or change is not None or not alive
            if pending and time.monotonic() >= quiet_until:
                pending = False
                quiet_until = time.monotonic() + COALESCE
                self._notify()

    def _reopen(self) -> bool:
        """A new stream (changes in between may be lost: the caller wakes the scheduler
        once it is open). False when stopping."""
        self._close()
        while not self._stopping.wait(REOPEN_PAUSE):
            try:
                self._stream = _watch(self._tasks)
            except pymongo.errors.PyMongoError as exc:
                self._logger.debug("Reopening the change stream failed: %s", exc)
                continue
            self._logger.info("The change stream on %s is open again", self._tasks.full_name)
            return True
        return False

    def _notify(self) -> None:
        try:
            self._callback()
        except Exception:
            self._logger.exception("A change-notification callback failed")
