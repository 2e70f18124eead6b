"""An open FileStore directory: its lock, its time index kept current, index repair.

Locking rule: every read of the index or of several task files happens under the shared
``flock`` of ``.lock``; every change under the exclusive one. Entering either lock first
brings the in-memory index up to date with the journal (or rebuilds the journal from the
task files when it is missing or damaged). A thread lock serialises the store's own threads,
which share one lock file descriptor and so one ``flock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from asyncz.stores.file._format import DELETE, SET, Entry, FormatError
from asyncz.stores.file._index import Journal, TimeIndex
from asyncz.stores.file._layout import Layout, read_header
from asyncz.stores.file._names import file_stem, task_id_of_stem


class TaskDirectory:
    def __init__(self, layout: Layout, mode: int, logger: logging.Logger) -> None:
        self.layout = layout
        self.mode = mode
        self.file_mode = mode & 0o666
        self.logger = logger
        self.journal = Journal(layout.journal, self.file_mode)
        self._mutex = threading.RLock()
        self._lock_fd: int | None = None
        self._dir_fd: int | None = None

    @property
    def index(self) -> TimeIndex:
        return self.journal.index

    @property
    def is_open(self) -> bool:
        return self._lock_fd is not None

    # ----------------------------------------------------------------- open / close
    def open(self) -> None:
        """Create the directories if needed, open the lock, sweep stale temporary files
        and load the index. Raises ``OSError`` when the directory cannot be used."""
        with self._mutex:
            if self._lock_fd is not None:
                return
            try:
                self._make_directory(self.layout.directory)
                self._make_directory(self.layout.quarantine)
                self._dir_fd = os.open(self.layout.directory, os.O_RDONLY | os.O_DIRECTORY)
                self._lock_fd = os.open(
                    self.layout.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self.file_mode
                )
            except OSError:
                self.close()
                raise
            with self.writing():
                # Every write happens under the exclusive lock: these were left by a crash.
                for path in self.layout.temp_files():
                    self.logger.warning("Removing %s, left by an interrupted write", path)
                    os.unlink(path)

    def close(self) -> None:
        with self._mutex:
            self.journal.close()
            for fd in (self._lock_fd, self._dir_fd):
                if fd is not None:
                    os.close(fd)
            self._lock_fd = self._dir_fd = None

    def _make_directory(self, path: Path) -> None:
        if path.is_dir():
            return
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, self.mode)

    # ----------------------------------------------------------------- locks
    @contextlib.contextmanager
    def _flock(self, operation: int) -> Iterator[int]:
        if self._lock_fd is None or self._dir_fd is None:
            raise RuntimeError(
                f"FileStore for {self.layout.directory} is not started: add it to a scheduler "
                "or call start() first"
            )
        fcntl.flock(self._lock_fd, operation)
        try:
            yield self._dir_fd
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Shared lock with a current index (the exclusive lock when the index must first
        be rebuilt). Must not be nested in ``reading`` or ``writing``."""
        with self._mutex:
            with self._flock(fcntl.LOCK_SH):
                current = self.journal.refresh()
                if current:
                    yield
            if not current:
                with self.writing():
                    yield

    @contextlib.contextmanager
    def writing(self) -> Iterator[int]:
        """Exclusive lock with a current index; yields the directory's fd (to fsync it).
        Must not be nested in ``reading`` or ``writing``."""
        with self._mutex, self._flock(fcntl.LOCK_EX) as dir_fd:
            if not self.journal.refresh(repair=True):
                self._rebuild_index(dir_fd)
            yield dir_fd
            if self.journal.needs_compaction():
                index = self.index
                self.journal.rewrite(
                    dict(index.times), dict(index.leases), dir_fd, self.layout.temp()
                )

    # ----------------------------------------------------------------- repair
    def _rebuild_index(self, dir_fd: int) -> None:
        """Recreate the journal from the task files' headers (it was missing, damaged or
        torn by a crash)."""
        times: dict[str, int | None] = {}
        for stem, path in self.layout.task_files():
            try:
                header = read_header(path)
            except FileNotFoundError:
                continue
            except FormatError as exc:
                task_id = task_id_of_stem(stem)
                if task_id is None:
                    self.logger.error("Cannot tell which task %s holds (%s); kept", path, exc)
                else:
                    times[task_id] = None  # listed, so a full listing finds and quarantines it
                continue
            if file_stem(header.task_id) == stem:
                times[header.task_id] = header.run_at
        level = logging.WARNING if times or os.path.exists(self.layout.journal) else logging.DEBUG
        self.logger.log(
            level,
            "Rebuilding the time index of %s from %d task files (leases held by schedulers "
            "sharing it are dropped)",
            self.layout.directory,
            len(times),
        )
        self.journal.rewrite(times, {}, dir_fd, self.layout.temp())

    def correct_index(self, task_ids: list[str]) -> None:
        """Take the exclusive lock and ``correct_entries``."""
        with self.writing():
            self.correct_entries(task_ids)

    def correct_entries(self, task_ids: list[str]) -> None:
        """Make the index entries of ``task_ids`` agree with their files (after a crash
        between an index entry and its rename). The exclusive lock must be held."""
        changes: list[Entry] = []
        times = self.index.times
        for task_id in task_ids:
            try:
                header = read_header(self.layout.live(task_id))
            except FileNotFoundError:
                if task_id in times:
                    changes.append(Entry(DELETE, task_id))
                continue
            except FormatError:
                continue  # damaged: left listed, the core quarantines it when it reads it
            if header.task_id == task_id and times.get(task_id, -1) != header.run_at:
                changes.append(Entry(SET, task_id, header.run_at))
        if changes:
            self.logger.warning(
                "Corrected %d time index entries of %s that did not match their task files "
                "(a write was interrupted)",
                len(changes),
                self.layout.directory,
            )
            self.journal.append(changes)
