"""The time index: which task runs when, without opening task files.

Why a journal (and not a directory listing, a sorted file or file names carrying times):
a scheduler asks "what is due?" and "when is the next run?" on every wake-up, so those
two questions must cost nothing that grows with the number of stored tasks. Each store
instance keeps the index in memory (a map id -> run time plus a lazy min-heap) and keeps it
current by reading only the bytes appended to a shared journal file since it last looked:
one ``stat`` when nothing changed, O(new entries) otherwise. Writers append one
checksummed line per change under the directory's exclusive lock.

The journal's run times are a cache of the task files' headers. When it is missing or
damaged it is rebuilt from the task files (see ``FileStore``); a last line torn by a crash
is cut off; when it grows past twice the live entries it is compacted: rewritten whole to a
temporary file and renamed over the old one. Other instances notice the new inode on their
next look and reload.

Leases (several schedulers sharing the directory, see ``_claims``) live only in the
journal: they are coordination state, not part of a task. A journal rebuilt from the task
files therefore has no leases; the worst outcome is that a fire being run when the journal
was lost runs once more, or is not run again if its runner also died.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable

from asyncz.stores.file._format import (
    DELETE,
    JOURNAL_MAGIC,
    LEASE,
    SET,
    Entry,
    FormatError,
    Lease,
    journal_line,
    parse_journal_line,
)

#: A journal shorter than this is never compacted (rewriting tiny files gains nothing).
COMPACT_MIN_ENTRIES = 1024


class TimeIndex:
    """id -> run time (µs, ``None`` = paused), with the earliest run times on a heap.

    Heap entries are checked against the map when read, so changing or removing a task
    only touches the map; stale heap entries are dropped lazily or in a periodic rebuild.
    """

    def __init__(self) -> None:
        self.times: dict[str, int | None] = {}
        self.leases: dict[str, Lease] = {}
        self._heap: list[tuple[int, str]] = []

    def clear(self) -> None:
        self.times.clear()
        self.leases.clear()
        self._heap.clear()

    def apply(self, entry: Entry) -> None:
        if entry.op == SET:
            self.set(entry.task_id, entry.run_at)
        elif entry.op == DELETE:
            self.discard(entry.task_id)
        elif entry.lease is None:
            self.leases.pop(entry.task_id, None)
        else:
            self.leases[entry.task_id] = entry.lease

    def set(self, task_id: str, run_at: int | None) -> None:
        if task_id in self.times and self.times[task_id] == run_at:
            return
        self.times[task_id] = run_at
        if run_at is not None:
            heapq.heappush(self._heap, (run_at, task_id))
            if len(self._heap) > 2 * len(self.times) + 64:
                self._rebuild_heap()

    def discard(self, task_id: str) -> None:
        self.times.pop(task_id, None)
        self.leases.pop(task_id, None)

    def _live(self, entry: tuple[int, str]) -> bool:
        return self.times.get(entry[1]) == entry[0]

    def _rebuild_heap(self) -> None:
        self._heap = [(t, i) for i, t in self.times.items() if t is not None]
        heapq.heapify(self._heap)

    def earliest(self) -> int | None:
        while self._heap and not self._live(self._heap[0]):
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def due(
        self, now: int, limit: int | None = None, skip: Callable[[str], bool] | None = None
    ) -> list[tuple[int, str]]:
        """(run time, id) of entries with run time <= ``now``, ascending, leaving out ids
        for which ``skip`` is true; O((k + skipped) log N)."""
        found: list[tuple[int, str]] = []
        popped: list[tuple[int, str]] = []
        seen: set[str] = set()
        while self._heap and (limit is None or len(found) < limit):
            entry = self._heap[0]
            if not self._live(entry) or entry[1] in seen:
                heapq.heappop(self._heap)
                continue
            if entry[0] > now:
                break
            popped.append(heapq.heappop(self._heap))
            seen.add(entry[1])
            if skip is None or not skip(entry[1]):
                found.append(entry)
        for entry in popped:
            heapq.heappush(self._heap, entry)
        return found


class Journal:
    """The shared, append-only journal file, and how far this instance has read it.

    Every method expects the caller to hold the directory lock: shared for ``refresh``,
    exclusive for ``append``, ``rewrite`` and ``needs_compaction``.
    """

    def __init__(self, path: str, file_mode: int) -> None:
        self.path = path
        self.file_mode = file_mode
        self.index = TimeIndex()
        self._fd: int | None = None
        self._identity: tuple[int, int] | None = None
        self._offset = 0
        self._entries = 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd = None
        self._identity = None
        self._offset = 0
        self._entries = 0
        self.index.clear()

    def refresh(self, repair: bool = False) -> bool:
        """Apply the entries appended since the last call. False when the journal is
        missing or damaged (the caller must rebuild it from the task files), or torn by a
        writer that died mid-append unless ``repair`` (exclusive lock held): the torn line
        is then cut off (its write was never carried out: entries are flushed before the
        file changes they announce)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self.close()
            return False
        if (stat.st_dev, stat.st_ino) != self._identity:
            self.close()
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            opened = os.fstat(self._fd)
            self._identity = (opened.st_dev, opened.st_ino)
            size = opened.st_size
        else:
            size = stat.st_size
        if size == self._offset and size > 0:
            return True
        if size < self._offset or size == 0 or self._fd is None:
            return False
        data = os.pread(self._fd, size - self._offset, self._offset)
        start = 0
        if self._offset == 0:
            if not data.startswith(JOURNAL_MAGIC):
                return False
            start = len(JOURNAL_MAGIC)
        if not data.endswith(b"\n"):
            if not repair:
                return False
            data = data[: data.rfind(b"\n") + 1]
            size = self._offset + len(data)
            os.truncate(self.path, size)
        try:
            entries = [parse_journal_line(line) for line in data[start:-1].split(b"\n") if line]
        except FormatError:
            return False
        for entry in entries:
            self.index.apply(entry)
        self._offset = size
        self._entries += len(entries)
        return True

    def append(self, entries: list[Entry]) -> None:
        """Durably append ``entries`` and apply them to the index. The caller has just
        refreshed, so this instance has read the journal to its end."""
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_CLOEXEC", 0))
        try:
            _write_all(fd, b"".join(journal_line(entry) for entry in entries))
            os.fsync(fd)
            size = os.fstat(fd).st_size
        finally:
            os.close(fd)
        for entry in entries:
            self.index.apply(entry)
        self._offset = size
        self._entries += len(entries)

    def needs_compaction(self) -> bool:
        live = len(self.index.times) + len(self.index.leases)
        return self._entries > max(COMPACT_MIN_ENTRIES, 2 * live)

    def rewrite(
        self,
        times: dict[str, int | None],
        leases: dict[str, Lease],
        directory_fd: int,
        temp_path: str,
    ) -> None:
        """Atomically replace the journal by one entry per task and per lease."""
        lines = [journal_line(Entry(SET, task_id, run_at)) for task_id, run_at in times.items()]
        lines += [
            journal_line(Entry(LEASE, task_id, lease=lease))
            for task_id, lease in leases.items()
            if task_id in times
        ]
        data = JOURNAL_MAGIC + b"".join(lines)
        write_file_atomically(temp_path, self.path, data, self.file_mode, directory_fd)
        self.close()
        if not self.refresh():
            raise OSError(f"the rewritten index journal {self.path} cannot be read back")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_file_atomically(
    temp_path: str, path: str, data: bytes, file_mode: int, directory_fd: int
) -> None:
    """Write ``data`` to ``temp_path``, flush it to disk, then rename it over ``path``.
    A crash leaves either the old file or the new one, never a mix."""
    write_temp_file(temp_path, data, file_mode)
    os.replace(temp_path, path)
    os.fsync(directory_fd)


def write_temp_file(temp_path: str, data: bytes, file_mode: int) -> None:
    """Create ``temp_path`` (it must not exist), write ``data`` and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(temp_path, flags, file_mode)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(temp_path)
        raise
    os.close(fd)
