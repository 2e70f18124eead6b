"""Where things live inside a FileStore directory, and how task files are read.

    <directory>/
        .lock                 flock target: shared for reads, exclusive for writes
        .index                the time index journal (see ``_index``)
        .tmp-<random>         a write in progress (or left by a crash: ignored, swept at start)
        <escaped id><suffix>  one file per task (see ``_names`` and ``_format``)
        quarantine/
            <escaped id><suffix>   a task that could not be read, bytes untouched
            <escaped id>.reason    why it was set aside (UTF-8 text)

Every name the store creates for itself starts with a dot or is ``quarantine``; task file
names never start with a dot and always end with the suffix, which starts with a dot.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from asyncz.stores.file._format import FormatError, Header, parse_task_header
from asyncz.stores.file._names import file_stem

LOCK_NAME = ".lock"
JOURNAL_NAME = ".index"
TEMP_PREFIX = ".tmp-"
QUARANTINE_NAME = "quarantine"
REASON_SUFFIX = ".reason"

_HEADER_CHUNK = 4096


class Layout:
    def __init__(self, directory: Path, suffix: str) -> None:
        self.directory = directory
        self.suffix = suffix
        self.quarantine = directory / QUARANTINE_NAME
        self.lock = str(directory / LOCK_NAME)
        self.journal = str(directory / JOURNAL_NAME)

    def live(self, task_id: str) -> str:
        return str(self.directory / (file_stem(task_id) + self.suffix))

    def quarantined(self, task_id: str) -> str:
        return str(self.quarantine / (file_stem(task_id) + self.suffix))

    def reason(self, task_id: str) -> str:
        return str(self.quarantine / (file_stem(task_id) + REASON_SUFFIX))

    def temp(self, folder: Path | None = None) -> str:
        return str((folder or self.directory) / f"{TEMP_PREFIX}{uuid.uuid4().hex}")

    def task_files(self, folder: Path | None = None) -> Iterator[tuple[str, str]]:
        """(stem, path) of every task file in ``folder`` (default: the live directory)."""
        with os.scandir(folder or self.directory) as entries:
            for entry in entries:
                name = entry.name
                if (
                    not name.startswith(".")
                    and name.endswith(self.suffix)
                    and entry.is_file(follow_symlinks=False)
                ):
                    yield name[: -len(self.suffix)], entry.path

    def temp_files(self) -> list[str]:
        found: list[str] = []
        for folder in (self.directory, self.quarantine):
            if folder.is_dir():
                found.extend(
                    str(path) for path in folder.iterdir() if path.name.startswith(TEMP_PREFIX)
                )
        return found


def read_header(path: str) -> Header:
    """The header of a task file, reading only its first line. ``FormatError`` if the file
    is damaged; ``FileNotFoundError`` if it is gone."""
    with open(path, "rb") as file:
        data = file.read(_HEADER_CHUNK)
        while b"\n" not in data:
            more = file.read(_HEADER_CHUNK)
            if not more:
                break
            data += more
    return parse_task_header(data)


def read_file(path: str) -> bytes | None:
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None


__all__ = ["FormatError", "Layout", "read_file", "read_header"]
