"""FileStore options, errors and plugin registration."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from asyncz.exceptions import ConfigurationError, StoreUnavailableError
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.file import FileStore
from asyncz.stores.records import TaskRecord
from asyncz.testing.harness import make_task

T0 = datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mode", "file_mode"), [(0o700, 0o600), (0o750, 0o640)])
def test_mode_applies_to_created_directories_and_files(
    task_dir: Path, mode: int, file_mode: int
) -> None:
    store = FileStore(task_dir, mode=mode)
    store.start(None, "modes")
    store.insert_record(TaskRecord("t", T0, b"x"))
    assert _mode(task_dir) == mode
    assert _mode(task_dir / "quarantine") == mode
    assert _mode(task_dir / "t.task") == file_mode
    store.quarantine_record("t", "why")
    assert _mode(task_dir / "quarantine" / "t.task") == file_mode
    assert _mode(task_dir / "quarantine" / "t.reason") == file_mode
    store.shutdown()


def test_an_existing_directory_keeps_its_permissions(task_dir: Path) -> None:
    task_dir.mkdir(mode=0o755)
    task_dir.chmod(0o755)
    store = FileStore(task_dir, mode=0o700)
    store.start(None, "existing")
    assert _mode(task_dir) == 0o755
    store.shutdown()


def test_custom_suffix_and_foreign_files_are_left_alone(task_dir: Path) -> None:
    task_dir.mkdir()
    (task_dir / "README.txt").write_text("not a task")
    (task_dir / "other.task").write_text("belongs to a store with the default suffix")
    store = FileStore(task_dir, suffix=".job")
    store.start(None, "suffix")
    store.insert_record(TaskRecord("t", T0, b"x"))
    assert (task_dir / "t.job").exists()
    assert [r.id for r in store.iter_records()] == ["t"]
    store.remove_all_records()
    assert (task_dir / "README.txt").exists() and (task_dir / "other.task").exists()
    store.shutdown()


@pytest.mark.parametrize("suffix", ["", "task", "./x", ".a/b", ".x\x00", ".reason"])
def test_bad_suffix_is_refused(suffix: str) -> None:
    with pytest.raises(ConfigurationError, match="suffix"):
        FileStore("anywhere", suffix=suffix)


@pytest.mark.parametrize("mode", [-1, 0o10000, "0o700", True])
def test_bad_mode_is_refused(mode: object) -> None:
    with pytest.raises(ConfigurationError, match="mode"):
        FileStore("anywhere", mode=mode)  # type: ignore[arg-type]


def test_cleanup_directory_removes_everything_at_shutdown(
    task_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FileStore(task_dir, cleanup_directory=True)
    store.start(None, "throwaway")
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    assert not task_dir.exists()
    assert "cleanup_directory=True" in caplog.text


def test_without_cleanup_the_tasks_stay(task_dir: Path) -> None:
    store = FileStore(task_dir)
    store.start(None, "kept")
    store.insert_record(TaskRecord("t", T0, b"x"))
    store.shutdown()
    store.start(None, "kept")  # a store may be started again after shutdown
    assert store.fetch_record("t") == TaskRecord("t", T0, b"x")
    store.shutdown()


def test_relative_directory_is_fixed_at_construction(
    task_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_dir.mkdir()
    monkeypatch.chdir(task_dir)
    default, relative = FileStore(), FileStore("here")
    monkeypatch.chdir(task_dir.parent)
    assert default.directory == task_dir / "asyncz-tasks"
    assert relative.directory == task_dir / "here"
    relative.start(None, "relative")
    assert (task_dir / "here").is_dir()
    relative.shutdown()


def test_unusable_directory_raises_store_unavailable(task_dir: Path) -> None:
    task_dir.mkdir()
    blocker = task_dir / "a-file"
    blocker.write_text("not a directory")
    store = FileStore(blocker / "tasks")
    with pytest.raises(StoreUnavailableError, match="a-file/tasks") as caught:
        store.start(None, "broken")
    assert "may create and write files" in str(caught.value)


def test_use_before_start_says_so(task_dir: Path) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        FileStore(task_dir).insert_record(TaskRecord("t", T0, b"x"))


def test_the_file_alias_resolves_through_the_entry_point() -> None:
    assert PluginRegistry().store_class("file") is FileStore


def test_encrypted_tasks_survive_moving_the_directory(task_dir: Path) -> None:
    """The namespace payloads are bound to is a constant, not the directory's path."""
    store = FileStore(task_dir, encryption_key="a key for the move test")
    store.start(None, "move")
    store.add_task(make_task("t", T0, args=("moved",)))
    store.shutdown()
    moved = task_dir.rename(task_dir.with_name("elsewhere"))
    again = FileStore(moved, encryption_key="a key for the move test")
    again.start(None, "move")
    found = again.lookup_task("t")
    assert found is not None and found.args == ("moved",)
    assert again.namespace == "file:tasks"
    assert str(moved) in again.describe()
    again.shutdown()
