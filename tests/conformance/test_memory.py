"""MemoryStore against the shared store contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from asyncz.stores.memory import MemoryStore
from asyncz.testing import StoreConformance


class TestMemoryStore(StoreConformance):
    codec_variants = {"plain": {}}
    persistent = False
    record_store = False

    @pytest.fixture
    def store_factory(self) -> Callable[..., MemoryStore]:
        shared = MemoryStore()
        return lambda **options: shared
