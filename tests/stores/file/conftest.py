"""Fixtures for the FileStore tests."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def task_dir() -> Iterator[Path]:
    """A directory for one test's tasks, on tmpfs when there is one: these tests check
    logic, not disk speed (the conformance run uses a real disk)."""
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    base = Path(tempfile.mkdtemp(prefix="asyncz-file-test-", dir=shm))
    yield base / "tasks"
    shutil.rmtree(base, ignore_errors=True)
