"""FileStore passes the shared store contract in a real directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncz.stores.base import BaseStore
from asyncz.stores.file import FileStore
from asyncz.testing import StoreConformance


class TestFileStore(StoreConformance):
    claims = True

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Callable[..., BaseStore]:
        directory = tmp_path / "tasks"

        def make(**options: Any) -> BaseStore:
            return FileStore(directory, **options)

        return make

    def raw_contents(self, store: BaseStore) -> bytes:
        """Every file name and every byte of every file under the store's directory."""
        assert isinstance(store, FileStore)
        chunks: list[bytes] = []
        for path in sorted(store.directory.rglob("*")):
            if path.is_file():
                chunks += [path.name.encode(), path.read_bytes()]
        return b"\n".join(chunks)
