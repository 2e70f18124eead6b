"""Task ids -> file names: safe for any id, distinct, and round-tripping through the store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncz.exceptions import ConflictIdError
from asyncz.stores.file import FileStore
from asyncz.stores.file._names import MAX_STEM, file_stem, task_id_of_stem
from asyncz.stores.records import TaskRecord

AWKWARD_IDS = [
    "",
    "a",
    "A",
    "a ",
    "../x",
    "..",
    ".",
    ".hidden",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "nul\x00byte",
    "new\nline",
    "%",
    "%25",
    "^a",
    "~",
    "quarantine",
    "ünïcødé-ид-🎉",
    "\ud800lone surrogate",
    "x" * 1000,
    "x" * 1001,
    "CON",
]


def _is_safe(stem: str) -> bool:
    return (
        bool(stem)
        and not stem.startswith(".")
        and not any(char in stem for char in "/\\\0\n")
        and len(stem.encode()) <= MAX_STEM
    )


def test_awkward_ids_get_safe_distinct_case_insensitive_names() -> None:
    stems = [file_stem(task_id) for task_id in AWKWARD_IDS]
    assert all(_is_safe(stem) for stem in stems), stems
    # Distinct even on a case-insensitive file system (macOS, Windows shares).
    assert len({stem.casefold() for stem in stems}) == len(AWKWARD_IDS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=200), min_size=2, max_size=6, unique=True))
def test_any_ids_get_safe_distinct_names(ids: list[str]) -> None:
    stems = [file_stem(task_id) for task_id in ids]
    assert all(_is_safe(stem) for stem in stems)
    assert len({stem.casefold() for stem in stems}) == len(ids)
    for task_id, stem in zip(ids, stems, strict=True):
        if "~" not in stem:  # short names decode back; long ones are hashed
            assert task_id_of_stem(stem) == task_id


def test_long_ids_are_hashed_within_the_name_limit() -> None:
    stem = file_stem("é" * 5000)
    assert "~" in stem and len(stem) <= MAX_STEM
    assert task_id_of_stem(stem) is None
    assert file_stem("é" * 5000 + "!") != stem


def test_awkward_ids_round_trip_through_the_store(task_dir: Path) -> None:
    store = FileStore(task_dir)
    store.start(None, "names")
    when = datetime(2030, 1, 1, tzinfo=UTC)
    try:
        for number, task_id in enumerate(AWKWARD_IDS):
            store.insert_record(TaskRecord(task_id, when, f"payload {number}".encode()))
        # Nothing escaped the directory, and every file is a task file or the store's own.
        outside = {path.name for path in task_dir.parent.iterdir()}
        assert outside == {"tasks"}
        for number, task_id in enumerate(AWKWARD_IDS):
            record = store.fetch_record(task_id)
            assert record is not None and record.id == task_id
            assert record.payload == f"payload {number}".encode()
        assert sorted(r.id for r in store.iter_records()) == sorted(AWKWARD_IDS)
        assert sorted(r.id for r in store.due_records(when)) == sorted(AWKWARD_IDS)
        with pytest.raises(ConflictIdError):
            store.insert_record(TaskRecord("A", when, b"again"))
        for task_id in AWKWARD_IDS:
            store.remove_record(task_id)
        assert store.iter_records() == []
    finally:
        store.shutdown()
