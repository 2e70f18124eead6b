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
* A task file is unlinked only by ``remove_record`` and ``remove_all_records`` (and by
  ``release_lease(delete=True)``, which removes a finished task). An unreadable task is
  moved to ``quarantine/`` with the reason next to it.
* Several schedulers may share the directory: claims lease tasks (see ``_claims``).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import urllib.parse
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from asyncz.exceptions import ConfigurationError, ConflictIdError, StoreUnavailableError
from asyncz.serialization import Serializer, TaskCodec
from asyncz.stores.base import BaseStore
from asyncz.stores.file._claims import Claims
from asyncz.stores.file._directory import TaskDirectory
from asyncz.stores.file._format import DELETE, SET, Entry, task_header
from asyncz.stores.file._index import write_file_atomically, write_temp_file
from asyncz.stores.file._layout import REASON_SUFFIX, Layout, read_file
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
    url_schemes: ClassVar[tuple[str, ...]] = ("file",)
    namespace = "file:tasks"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> FileStore:
        """``file:///absolute/dir``, or ``file:relative/dir`` / ``file://./relative/dir``
        (from the working directory); ``options`` as for the constructor."""
        parts = urllib.parse.urlsplit(url)
        if parts.netloc in ("", "localhost"):
            path = parts.path
        elif parts.netloc in (".", ".."):
            path = parts.netloc + parts.path
        else:
            raise ConfigurationError(
                f"FileStore URL {url!r} names the host {parts.netloc!r}; a file store is "
                "local: use file:///absolute/path or file:relative/path"
            )
        if not path or parts.query or parts.fragment:
            raise ConfigurationError(
                f"FileStore URL {url!r}: expected file:///absolute/path or file:relative/path "
                "(give other options separately)"
            )
        return cls(directory=urllib.parse.unquote(path), **options)

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
        self._layout = Layout(self.directory, suffix)
        self._files = TaskDirectory(self._layout, mode, self.logger)
        self._claims = Claims(self._files, self._layout, self._write_temp)

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        self.alias = alias
        self.logger = self._files.logger = logging.getLogger(f"asyncz.stores.{alias}")
        try:
            self._files.open()
        except OSError as exc:
            raise StoreUnavailableError(
                f"FileStore (alias {alias!r}) cannot use the directory {self.directory}: "
                f"{exc.strerror or exc}. Check that the path is right and that this user may "
                "create and write files there."
            ) from exc
        super().start(scheduler, alias)

    def shutdown(self) -> None:
        self._files.close()
        if self.cleanup_directory and self.directory.exists():
            self.logger.warning(
                "Removing the FileStore directory %s and every task in it (cleanup_directory=True)",
                self.directory,
            )
            shutil.rmtree(self.directory)
        super().shutdown()

    def describe(self) -> str:
        return f"{BaseStore.describe(self)} [directory {self.directory}]"

    # ----------------------------------------------------------------- writes
    def insert_record(self, record: TaskRecord) -> None:
        self.insert_records([record])

    def insert_records(self, records: Sequence[TaskRecord]) -> None:
        """Under one exclusive lock every id is checked before anything is written (all or
        none), then one journal append and one directory fsync serve the whole batch."""
        with self._files.writing() as dir_fd:
            for record in records:
                taken = self._layout.live(record.id), self._layout.quarantined(record.id)
                if any(os.path.lexists(path) for path in taken):
                    raise ConflictIdError(record.id, self.alias)
            self._link_new(records)
            os.fsync(dir_fd)

    def replace_record(self, record: TaskRecord) -> None:
        live = self._layout.live(record.id)
        with self._files.writing() as dir_fd:
            if not os.path.lexists(live):
                raise missing(record.id, self)
            temp = self._write_temp(record)
            try:
                self._files.journal.append([Entry(SET, record.id, record.run_at_micros)])
                os.replace(temp, live)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            os.fsync(dir_fd)

    def remove_record(self, task_id: str) -> None:
        with self._files.writing() as dir_fd:
            try:
                os.unlink(self._layout.live(task_id))
            except FileNotFoundError:
                raise missing(task_id, self) from None
            os.fsync(dir_fd)
            self._files.journal.append([Entry(DELETE, task_id)])

    def remove_all_records(self) -> None:
        with self._files.writing() as dir_fd:
            for _stem, path in list(self._layout.task_files()):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            os.fsync(dir_fd)
            self._files.journal.rewrite({}, {}, dir_fd, self._layout.temp())

    def _write_temp(self, record: TaskRecord) -> str:
        temp = self._layout.temp()
        data = task_header(record.id, record.run_at_micros) + record.payload
        write_temp_file(temp, data, self._files.file_mode)
        return temp

    def _link_new(self, records: Sequence[TaskRecord]) -> None:
        """Write ``records`` under their live names, which must not exist (exclusive lock
        held): index entries first, then the names, so a crash never hides a file."""
        temps: list[str] = []
        try:
            for record in records:
                temps.append(self._write_temp(record))
            self._files.journal.append([Entry(SET, r.id, r.run_at_micros) for r in records])
            for record, temp in zip(records, temps, strict=True):
                self._link(record.id, temp)
        finally:
            for temp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)

    def _link(self, task_id: str, temp: str) -> None:
        live = self._layout.live(task_id)
        try:
            os.link(temp, live)
        except FileExistsError:
            # Only a process ignoring the lock gets here: index what is really on disk.
            self._files.correct_entries([task_id])
            raise ConflictIdError(task_id, self.alias) from None
        except OSError as exc:
            if exc.errno not in _NO_LINK:
                raise
            os.rename(temp, live)

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
        with self._files.reading():
            reader = self._reader()
            for run_at, task_id in self._files.index.due(now_micros, limit):
                data = read_file(self._layout.live(task_id))
                record = None if data is None else reader.parse(task_id, data, run_at)
                on_disk = None if record is None else record.run_at_micros
                if on_disk != run_at:
                    stale.append(task_id)
                if record is not None and on_disk is not None and on_disk <= now_micros:
                    found.append(record)
        if stale:
            self._files.correct_index(stale)
        found.sort(key=lambda record: (record.run_at_micros, record.id))
        return found

    def earliest_run_time(self) -> datetime | None:
        with self._files.reading():
            run_at = self._files.index.earliest()
        return None if run_at is None else from_micros(run_at)

    def iter_records(self) -> list[TaskRecord]:
        with self._files.reading():
            times = dict(self._files.index.times)
            records = self._reader(times).read_folder(self._layout.task_files())
        stale = [r.id for r in records if times.get(r.id, -1) != r.run_at_micros]
        if stale:
            self._files.correct_index(stale)
        records.sort(key=_listing_order)
        return records

    def _reader(self, known: dict[str, int | None] | None = None) -> RecordReader:
        return RecordReader(self.logger, self._files.index.times if known is None else known)

    # ----------------------------------------------------------------- claims (see _claims)
    supports_claims = True

    def claim_records(
        self, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[TaskRecord]:
        return self._claims.claim(now, limit, owner, until)

    def commit_claim(
        self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime
    ) -> bool:
        return self._claims.commit(record, owner, fire_time, until)

    def release_lease(self, task_id: str, owner: str, delete: bool) -> bool:
        return self._claims.release(task_id, owner, delete)

    def commit_claims(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        return self._claims.commit_many(commits, owner, until) if commits else []

    def release_leases(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        return self._claims.release_many(releases, owner) if releases else []

    def extend_leases(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        return self._claims.extend(task_ids, owner, until)

    # ----------------------------------------------------------------- quarantine
    def quarantine_record(self, task_id: str, reason: str) -> None:
        live = self._layout.live(task_id)
        with self._files.writing() as dir_fd:
            if not os.path.lexists(live):
                return
            quarantine_fd = os.open(self._layout.quarantine, os.O_RDONLY | os.O_DIRECTORY)
            try:
                write_file_atomically(
                    self._layout.temp(self._layout.quarantine),
                    self._layout.reason(task_id),
                    reason.encode("utf-8", "replace"),
                    self._files.file_mode,
                    quarantine_fd,
                )
                os.replace(live, self._layout.quarantined(task_id))
                os.fsync(quarantine_fd)
            finally:
                os.close(quarantine_fd)
            os.fsync(dir_fd)
            self._files.journal.append([Entry(DELETE, task_id)])

    def quarantined_records(self) -> list[QuarantinedRecord]:
        with self._files.reading():
            return QuarantineReader(self.logger, self._layout).read_all()

    def restore_record(self, record: TaskRecord) -> None:
        live = self._layout.live(record.id)
        with self._files.writing() as dir_fd:
            if os.path.lexists(live):
                raise ConflictIdError(record.id, self.alias)
            self._link_new([record])
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
