"""Claims: several schedulers sharing one directory, each fire run once.

Leases are index entries (``L`` lines of the journal, see ``_index``), changed only under
the directory's exclusive lock, so a claim is atomic across processes without any
compare-and-swap: whoever holds the lock sees every lease. Claiming reads the leases map
(only leased tasks are in it) for fires whose runner died, then walks the due end of the
time heap skipping live leases: the cost follows the number of claimed and leased tasks,
not the number stored. Committing a claim rewrites the task file like ``replace_record``
and records the run lease in the same journal append.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable
from datetime import datetime

from asyncz.stores.file._directory import TaskDirectory
from asyncz.stores.file._format import DELETE, LEASE, SET, Entry, Lease
from asyncz.stores.file._layout import Layout, read_file
from asyncz.stores.file._records import RecordReader
from asyncz.stores.records import TaskRecord, from_micros, to_micros


class Claims:
    def __init__(
        self, files: TaskDirectory, layout: Layout, write_temp: Callable[[TaskRecord], str]
    ) -> None:
        self.files = files
        self.layout = layout
        self.write_temp = write_temp

    def claim(self, now: datetime, limit: int, owner: str, until: datetime) -> list[TaskRecord]:
        at, end = to_micros(now), to_micros(until)
        won: list[TaskRecord] = []
        with self.files.writing():
            index = self.files.index
            ended = [
                task_id
                for task_id, lease in index.leases.items()
                if lease.fire is not None and lease.until < at and task_id in index.times
            ][:limit]
            taken = set(ended)

            def unavailable(task_id: str) -> bool:
                lease = index.leases.get(task_id)
                return task_id in taken or (lease is not None and lease.until >= at)

            due = [task_id for _, task_id in index.due(at, limit - len(ended), unavailable)]
            reader = RecordReader(self.files.logger, index.times)
            entries: list[Entry] = []
            gone: list[str] = []
            for task_id in ended + due:
                data = read_file(self.layout.live(task_id))
                if data is None:
                    gone.append(task_id)  # the index outlived its file (a crash): correct it
                    continue
                held = index.leases.get(task_id)
                fire = None if held is None else held.fire
                record = reader.parse(task_id, data, index.times.get(task_id))
                won.append(
                    dataclasses.replace(
                        record, lease_fire_time=None if fire is None else from_micros(fire)
                    )
                )
                entries.append(Entry(LEASE, task_id, lease=Lease(owner, end, fire)))
            if entries:
                self.files.journal.append(entries)
            if gone:
                self.files.correct_entries(gone)
        won.sort(key=lambda r: (r.next_run_time is None, r.run_at_micros or 0, r.id))
        return won

    def commit(self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime) -> bool:
        live = self.layout.live(record.id)
        with self.files.writing() as dir_fd:
            if not self._holds(record.id, owner) or not os.path.lexists(live):
                return False
            temp = self.write_temp(record)
            run_lease = Lease(owner, to_micros(until), to_micros(fire_time))
            try:
                self.files.journal.append(
                    [
                        Entry(SET, record.id, record.run_at_micros),
                        Entry(LEASE, record.id, lease=run_lease),
                    ]
                )
                os.replace(temp, live)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
                raise
            os.fsync(dir_fd)
            return True

    def release(self, task_id: str, owner: str, delete: bool) -> bool:
        with self.files.writing() as dir_fd:
            if not self._holds(task_id, owner):
                return False
            if delete:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.layout.live(task_id))
                os.fsync(dir_fd)
                self.files.journal.append([Entry(DELETE, task_id)])
            else:
                self.files.journal.append([Entry(LEASE, task_id)])
            return True

    def commit_many(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        """``commit`` for each item under one lock with one journal append: every file is
        written aside, then all index entries flushed, then the files renamed in order (a
        later commit of the same id wins, as it would one by one), then the directory."""
        end = to_micros(until)
        results: list[bool] = []
        entries: list[Entry] = []
        renames: list[tuple[str, str]] = []
        with self.files.writing() as dir_fd:
            try:
                for record, fire_time in commits:
                    live = self.layout.live(record.id)
                    held = self._holds(record.id, owner) and os.path.lexists(live)
                    results.append(held)
                    if not held:
                        continue
                    renames.append((self.write_temp(record), live))
                    entries.append(Entry(SET, record.id, record.run_at_micros))
                    lease = Lease(owner, end, to_micros(fire_time))
                    entries.append(Entry(LEASE, record.id, lease=lease))
                if not entries:
                    return results
                self.files.journal.append(entries)
                while renames:
                    os.replace(*renames[0])
                    renames.pop(0)
            finally:
                for temp, _ in renames:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(temp)
            os.fsync(dir_fd)
        return results

    def release_many(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        """``release`` for each item under one lock with one journal append: files of
        finished tasks are unlinked (and the directory flushed) before their index entries
        go, as one by one. Only the first release of an id can succeed: it ends the lease."""
        results: list[bool] = []
        entries: list[Entry] = []
        doomed: list[str] = []
        done: set[str] = set()
        with self.files.writing() as dir_fd:
            for task_id, delete in releases:
                held = task_id not in done and self._holds(task_id, owner)
                results.append(held)
                if not held:
                    continue
                done.add(task_id)
                if delete:
                    doomed.append(task_id)
                    entries.append(Entry(DELETE, task_id))
                else:
                    entries.append(Entry(LEASE, task_id))
            for task_id in doomed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.layout.live(task_id))
            if doomed:
                os.fsync(dir_fd)
            if entries:
                self.files.journal.append(entries)
        return results

    def extend(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        end = to_micros(until)
        lost: list[str] = []
        entries: list[Entry] = []
        with self.files.writing():
            for task_id in task_ids:
                if not self._holds(task_id, owner):
                    lost.append(task_id)
                    continue
                fire = self.files.index.leases[task_id].fire
                entries.append(Entry(LEASE, task_id, lease=Lease(owner, end, fire)))
            if entries:
                self.files.journal.append(entries)
        return lost

    def _holds(self, task_id: str, owner: str) -> bool:
        """``owner`` holds the lease (live or ended, nobody claimed it since) on a live task."""
        index = self.files.index
        lease = index.leases.get(task_id)
        return lease is not None and lease.owner == owner and task_id in index.times
