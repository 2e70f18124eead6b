"""Task files -> TaskRecords, including damaged files.

A file whose header cannot be parsed is still returned (with its raw bytes as payload) when
its id is known: the core then fails to decode it and quarantines it, so it is kept and
reported instead of silently skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from asyncz.stores.file._format import FormatError, parse_task_header
from asyncz.stores.file._layout import REASON_SUFFIX, Layout, read_file
from asyncz.stores.file._names import file_stem, task_id_of_stem
from asyncz.stores.records import QuarantinedRecord, TaskRecord, from_micros


class RecordReader:
    def __init__(self, logger: logging.Logger, known: dict[str, int | None]) -> None:
        self.logger = logger
        self.known = known
        self._by_stem: dict[str, str] | None = None

    def parse(self, task_id: str, data: bytes, fallback_run_at: int | None) -> TaskRecord:
        """The record of the file named for ``task_id``. A header naming another id is
        reported as ``task_id`` anyway, so the core's id check quarantines the file."""
        try:
            header = parse_task_header(data)
        except FormatError:
            run_at = None if fallback_run_at is None else from_micros(fallback_run_at)
            return TaskRecord(task_id, run_at, data)
        run_at = None if header.run_at is None else from_micros(header.run_at)
        return TaskRecord(task_id, run_at, data[header.payload_offset :])

    def read_folder(self, files: Iterable[tuple[str, str]]) -> list[TaskRecord]:
        records: list[TaskRecord] = []
        for stem, path in files:
            data = read_file(path)
            if data is None:
                continue  # removed meanwhile
            try:
                header = parse_task_header(data)
            except FormatError as exc:
                task_id = self._id_of_stem(stem)
                if task_id is None:
                    self.logger.error("Cannot tell which task %s holds (%s); kept", path, exc)
                else:
                    records.append(TaskRecord(task_id, None, data))
                continue
            if file_stem(header.task_id) != stem:
                self.logger.warning(
                    "%s holds task %r but is named for another id; ignored (rename or remove it)",
                    path,
                    header.task_id,
                )
                continue
            run_at = None if header.run_at is None else from_micros(header.run_at)
            records.append(TaskRecord(header.task_id, run_at, data[header.payload_offset :]))
        return records

    def _id_of_stem(self, stem: str) -> str | None:
        if self._by_stem is None:
            self._by_stem = {file_stem(task_id): task_id for task_id in self.known}
        return self._by_stem.get(stem, task_id_of_stem(stem))


class QuarantineReader:
    def __init__(self, logger: logging.Logger, layout: Layout) -> None:
        self.logger = logger
        self.layout = layout

    def read_all(self) -> list[QuarantinedRecord]:
        found: list[QuarantinedRecord] = []
        for stem, path in self.layout.task_files(self.layout.quarantine):
            data = read_file(path)
            if data is None:
                continue
            reason_bytes = read_file(str(self.layout.quarantine / (stem + REASON_SUFFIX)))
            reason = (
                "no reason was recorded"
                if reason_bytes is None
                else reason_bytes.decode("utf-8", "replace")
            )
            try:
                header = parse_task_header(data)
            except FormatError:
                task_id = task_id_of_stem(stem)
                if task_id is None:
                    self.logger.error("Cannot tell which task the quarantined %s holds", path)
                    continue
                found.append(QuarantinedRecord(TaskRecord(task_id, None, data), reason))
                continue
            run_at = None if header.run_at is None else from_micros(header.run_at)
            record = TaskRecord(header.task_id, run_at, data[header.payload_offset :])
            found.append(QuarantinedRecord(record, reason))
        found.sort(key=lambda entry: entry.record.id)
        return found
