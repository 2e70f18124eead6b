"""FileStore: one file per task in a local directory, safe across processes.

Invariants:

* Every write is atomic: the new file is written to a temporary name, flushed to disk and
  renamed into place (``link`` for inserts, so an existing id is never overwritten), then
  the directory is flushed. A crash leaves the old task or the new one, never a mix; stray
  temporary files are ignored and swept at the next start.
* Writers hold an exclusive ``flock`` on ``.lock``; readers a shared one. Any number of
  processes (and store instances) may use one directory.
* Due queries and the next run time come from the time index (``_index``): their cost
  does not grow with the number of stored tasks.
* Crash ordering keeps every task findable: an index entry is written (and flushed)
  *before* its file is renamed into place, and removed only *after* its file is gone. So
  the index may briefly name a file that is missing or older than announced, never miss a
  file; readers notice such entries and correct them from the file headers.
* A task file is unlinked only by ``remove_record`` and ``remove_all_records``. An
  unreadable task is moved to ``quarantine/`` with the reason next to it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from asyncz.exceptions import ConfigurationError, ConflictIdError, StoreUnavailableError
from asyncz.serialization import Serializer, TaskCodec
from asyncz.stores.base import BaseStore
from asyncz.stores.file._format import DELETE, SET, FormatError, task_header
from asyncz.stores.file._index import Journal, write_file_atomically, write_temp_file
from asyncz.stores.file._layout import REASON_SUFFIX, Layout, read_file, read_header
from asyncz.stores.file._names import file_stem, task_id_of_stem
from asyncz.stores.file._records import QuarantineReader, RecordReader
from asyncz.stores.records import (
    QuarantinedRecord,
    RecordStore,
    TaskRecord,
    from_micros,
    missing,
    to_micros,
)

#: Errors of file systems that cannot hard-link; the store then renames under its lock.
_NO_LINK = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK}


class FileStore(RecordStore):
    """Tasks as files in ``directory``: local, durable, shared by processes on one host.

    Options:

    * ``directory``: where the tasks live; created (with ``mode``) if missing. A relative
      path is taken from the working directory at construction. Default ``asyncz-tasks``.
    * ``suffix``: file name ending of task files (default ``.task``; must start with ``.``).
    * ``mode``: permissions of directories the store creates (default ``0o700``); task
      files get the same bits without execute (``0o600``).
    * ``cleanup_directory``: remove the whole directory at ``shutdown()`` (default False):
      for throwaway schedulers only, every stored task is deleted.
    * ``serializer``, ``pickle_protocol``, ``encryption_key``, ``codec``: see
      :class:`~asyncz.stores.records.RecordStore`.
    """

    display_name = "file"
    namespace = "file:tasks"

    def __init__(
        self,
        directory: str | os.PathLike[str] = "asyncz-tasks",
        suffix: str = ".task",
        mode: int = 0o700,
        cleanup_directory: bool = False,
        pickle_protocol: int | None = None,
        *,
        serializer: str | Serializer | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
    ) -> None:
        super().__init__(
            serializer=serializer,
            pickle_protocol=pickle_protocol,
            encryption_key=encryption_key,
            codec=codec,
        )
        _check_suffix(suffix)
        if isinstance(mode, bool) or not isinstance(mode, int) or not 0 <= mode <= 0o7777:
            raise ConfigurationError(
                f"FileStore mode must be permission bits like 0o700, got {mode!r}"
            )
        self.directory = Path(directory).expanduser().absolute()
        self.suffix = suffix
        self.mode = mode
        self.cleanup_directory = bool(cleanup_directory)
        self._file_mode = mode & 0o666
        self._layout = Layout(self.directory, suffix)
        self._journal = Journal(self._layout.journal, self._file_mode)
        self._mutex = threading.RLock()
        self._lock_fd: int | None = None
        self._dir_fd: int | None = None

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        self.logger = logging.getLogger(f"asyncz.stores.{alias}")
        self.alias = alias
        self._open()
        super().start(scheduler, alias)

    def shutdown(self) -> None:
        with self._mutex:
            self._journal.close()
            self._close_fds()
            if self.cleanup_directory and self.directory.exists():
                self.logger.warning(
                    "Removing the FileStore directory %s and every task in it "
                    "(cleanup_directory=True)",
                    self.directory,
                )
                shutil.rmtree(self.directory)
        super().shutdown()

    def describe(self) -> str:
        return f"{BaseStore.describe(self)} [directory {self.directory}]"

    def _open(self) -> None:
        with self._mutex:
            if self._lock_fd is not None:
                return
            try:
                self._make_directory(self.directory)
                self._make_directory(self._layout.quarantine)
                self._dir_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
                self._lock_fd = os.open(
                    self._layout.lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, self._file_mode
                )
            except OSError as exc:
                self._close_fds()
                raise StoreUnavailableError(
                    f"FileStore (alias {self.alias!r}) cannot use the directory "
                    f"{self.directory}: {exc.strerror or exc}. Check that the path is right and "
                    "that this user may create and write files there."
                ) from exc
            with self._writing():
                for path in self._layout.temp_files():
                    self.logger.warning("Removing %s, left by an interrupted write", path)
                    os.unlink(path)

    def _close_fds(self) -> None:
        for fd in (self._lock_fd, self._dir_fd):
            if fd is not None:
                os.close(fd)
        self._lock_fd = self._dir_fd = None

    def _make_directory(self, path: Path) -> None:
        if path.is_dir():
            return
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, self.mode)

    # ----------------------------------------------------------------- locking
    @contextlib.contextmanager
    def _flock(self, operation: int) -> Iterator[int]:
        if self._lock_fd is None or self._dir_fd is None:
            raise RuntimeError(
                f"FileStore for {self.directory} is not started: add it to a scheduler or "
                "call start() first"
            )
        fcntl.flock(self._lock_fd, operation)
        try:
            yield self._dir_fd
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Shared lock with an up-to-date index (falls back to the exclusive lock when the
        index must first be rebuilt)."""
        with self._mutex:
            with self._flock(fcntl.LOCK_SH):
                current = self._journal.refresh()
                if current:
                    yield
            if not current:
                with self._writing():
                    yield

    @contextlib.contextmanager
    def _writing(self) -> Iterator[int]:
        """Exclusive lock with an up-to-date index; yields the directory's fd."""
        with self._mutex, self._flock(fcntl.LOCK_EX) as dir_fd:
            if not self._journal.refresh():
                self._rebuild_index(dir_fd)
            yield dir_fd
            if self._journal.needs_compaction():
                self._journal.rewrite(dict(self._journal.index.times), dir_fd, self._layout.temp())

    def _rebuild_index(self, dir_fd: int) -> None:
        """Recreate the journal from the headers of the task files (it was missing,
        damaged or torn by a crash)."""
        times: dict[str, int | None] = {}
        for stem, path in self._layout.task_files():
            try:
                header = read_header(path)
            except FileNotFoundError:
                continue
            except FormatError as exc:
                task_id = task_id_of_stem(stem)
                if task_id is None:
                    self.logger.error("Cannot tell which task %s holds (%s); kept", path, exc)
                    continue
                times[task_id] = None  # listed, so a full scan finds and quarantines it
                continue
            if file_stem(header.task_id) == stem:
                times[header.task_id] = header.run_at
        level = logging.WARNING if times or os.path.exists(self._layout.journal) else logging.DEBUG
        self.logger.log(
            level, "Rebuilding the time index of %s from %d task files", self.directory, len(times)
        )
        self._journal.rewrite(times, dir_fd, self._layout.temp())

    # ----------------------------------------------------------------- writes
    def insert_record(self, record: TaskRecord) -> None:
        live = self._layout.live(record.id)
        with self._writing() as dir_fd:
            if os.path.lexists(live) or os.path.lexists(self._layout.quarantined(record.id)):
                raise ConflictIdError(record.id, self.alias)
            temp = self._write_temp(record)
            try:
                self._journal.append([(SET, record.id, record.run_at_micros)])
                self._link(temp, live, record.id)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                os.fsync(dir_fd)

    def replace_record(self, record: TaskRecord) -> None:
        live = self._layout.live(record.id)
        with self._writing() as dir_fd:
            if not os.path.lexists(live):
                raise missing(record.id, self)
            temp = self._write_temp(record)
            try:
                self._journal.append([(SET, record.id, record.run_at_micros)])
                os.replace(temp, live)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            os.fsync(dir_fd)

    def remove_record(self, task_id: str) -> None:
        with self._writing() as dir_fd:
            try:
                os.unlink(self._layout.live(task_id))
            except FileNotFoundError:
                raise missing(task_id, self) from None
            os.fsync(dir_fd)
            self._journal.append([(DELETE, task_id, None)])

    def remove_all_records(self) -> None:
        with self._writing() as dir_fd:
            for _stem, path in list(self._layout.task_files()):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            os.fsync(dir_fd)
            self._journal.rewrite({}, dir_fd, self._layout.temp())

    def _write_temp(self, record: TaskRecord) -> str:
        temp = self._layout.temp()
        data = task_header(record.id, record.run_at_micros) + record.payload
        write_temp_file(temp, data, self._file_mode)
        return temp

    def _link(self, temp: str, path: str, task_id: str) -> None:
        """Give ``temp`` the name ``path`` unless that name exists (the lock is held)."""
        try:
            os.link(temp, path)
        except FileExistsError:
            # Only a process ignoring the lock gets here: index what is really on disk.
            self._correct_index([task_id])
            raise ConflictIdError(task_id, self.alias) from None
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            os.rename(temp, path)

    # ----------------------------------------------------------------- reads
    def fetch_record(self, task_id: str) -> TaskRecord | None:
        data = read_file(self._layout.live(task_id))
        if data is None:
            return None
        return self._reader().parse(task_id, data, fallback_run_at=None)

    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        now_micros = to_micros(now)
        found: list[TaskRecord] = []
        stale: list[str] = []
        with self._reading():
            reader = self._reader()
            for run_at, task_id in self._journal.index.due(now_micros, limit):
                data = read_file(self._layout.live(task_id))
                record = None if data is None else reader.parse(task_id, data, run_at)
                on_disk = None if record is None else record.run_at_micros
                if on_disk != run_at:
                    stale.append(task_id)
                if record is not None and on_disk is not None and on_disk <= now_micros:
                    found.append(record)
        if stale:
            self._correct_index(stale)
        found.sort(key=lambda record: (record.run_at_micros, record.id))
        return found

    def earliest_run_time(self) -> datetime | None:
        with self._reading():
            run_at = self._journal.index.earliest()
        return None if run_at is None else from_micros(run_at)

    def iter_records(self) -> list[TaskRecord]:
        with self._reading():
            times = dict(self._journal.index.times)
            records = self._reader(times).read_folder(self._layout.task_files())
        stale = [r.id for r in records if times.get(r.id, -1) != r.run_at_micros]
        if stale:
            self._correct_index(stale)
        records.sort(key=_listing_order)
        return records

    def _reader(self, known: dict[str, int | None] | None = None) -> RecordReader:
        return RecordReader(self.logger, known if known is not None else self._journal.index.times)

    def _correct_index(self, task_ids: list[str]) -> None:
        """Make the index agree with the task files (after a crash between the index
        entry and the rename, see the module docstring)."""
        with self._writing():
            changes: list[tuple[str, str, int | None]] = []
            times = self._journal.index.times
            for task_id in task_ids:
                try:
                    header = read_header(self._layout.live(task_id))
                except FileNotFoundError:
                    if task_id in times:
                        changes.append((DELETE, task_id, None))
                    continue
                except FormatError:
                    continue
                if header.task_id == task_id and times.get(task_id, -1) != header.run_at:
                    changes.append((SET, task_id, header.run_at))
            if changes:
                self.logger.warning(
                    "Corrected %d time index entries of %s that did not match their task files "
                    "(a write was interrupted)",
                    len(changes),
                    self.directory,
                )
                self._journal.append(changes)

    # ----------------------------------------------------------------- quarantine
    def quarantine_record(self, task_id: str, reason: str) -> None:
        live = self._layout.live(task_id)
        with self._writing() as dir_fd:
            if not os.path.lexists(live):
                return
            quarantine_fd = os.open(self._layout.quarantine, os.O_RDONLY | os.O_DIRECTORY)
            try:
                write_file_atomically(
                    self._layout.temp(self._layout.quarantine),
                    self._layout.reason(task_id),
                    reason.encode("utf-8", "replace"),
                    self._file_mode,
                    quarantine_fd,
                )
                os.replace(live, self._layout.quarantined(task_id))
                os.fsync(quarantine_fd)
            finally:
                os.close(quarantine_fd)
            os.fsync(dir_fd)
            self._journal.append([(DELETE, task_id, None)])

    def quarantined_records(self) -> list[QuarantinedRecord]:
        with self._reading():
            return QuarantineReader(self.logger, self._layout).read_all()

    def restore_record(self, record: TaskRecord) -> None:
        live = self._layout.live(record.id)
        with self._writing() as dir_fd:
            if os.path.lexists(live):
                raise ConflictIdError(record.id, self.alias)
            temp = self._write_temp(record)
            try:
                self._journal.append([(SET, record.id, record.run_at_micros)])
                self._link(temp, live, record.id)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            # The record's bytes are live again: the quarantined copy is no longer needed.
            for path in (self._layout.quarantined(record.id), self._layout.reason(record.id)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            os.fsync(dir_fd)


def _listing_order(record: TaskRecord) -> tuple[bool, int, str]:
    run_at = record.run_at_micros
    return (run_at is None, run_at or 0, record.id)


def _check_suffix(suffix: str) -> None:
    if (
        not isinstance(suffix, str)
        or not suffix.startswith(".")
        or len(suffix) > 32
        or suffix == REASON_SUFFIX
        or any(char in suffix for char in "/\\\0")
    ):
        raise ConfigurationError(
            f"FileStore suffix must start with '.', be at most 32 characters, hold no path "
            f"separator and not be {REASON_SUFFIX!r}; got {suffix!r} (default: '.task')"
        )
