"""``asyncz keys rotate``: re-encryption checked through the store, progress on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from asyncz.exceptions import TaskDecodeError
from support.cli import CLI, StoreCase, cli_env, populate


def _decodes_with(store_case: StoreCase, key: str) -> set[str]:
    """Ids whose records the store, given only ``key``, reads and finds current."""
    store = store_case.open(encryption_key=key)
    readable = set()
    for record in store.iter_records():
        try:
            store.decode_record(record)
        except TaskDecodeError:
            continue
        if store.codec.is_current(record.payload):
            readable.add(record.id)
    return readable


def test_rotate_encrypts_plain_records_then_moves_them_to_a_new_key(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    populate(store_case.open(), tmp_path / "marker")  # written before any key was set
    first = cli("keys", "rotate", *store_case.args, env={"ASYNCZ_STORE_ENCRYPTION_KEY": "key-1"})
    assert first.code == 0, first.stdout + first.stderr
    assert "3 re-encrypted" in first.stdout
    assert _decodes_with(store_case, "key-1") == {"report", "greeter", "sleeper"}

    second = cli(
        "keys",
        "rotate",
        *store_case.args,
        "--json",
        env={
            "ASYNCZ_STORE_ENCRYPTION_KEY": "key-2",
            "ASYNCZ_STORE_ENCRYPTION_OLD_KEYS": "key-1",
        },
    )
    assert second.code == 0, second.stderr
    assert second.json()["reencrypted"] == 3
    assert _decodes_with(store_case, "key-2") == {"report", "greeter", "sleeper"}
    assert _decodes_with(store_case, "key-1") == set()  # the old key no longer reads them


@pytest.mark.parametrize("store_case", ["file"], indirect=True)
def test_rotate_reports_records_it_cannot_read(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    populate(store_case.open(encryption_key="lost-key"), tmp_path / "marker")
    result = cli("keys", "rotate", *store_case.args, env={"ASYNCZ_STORE_ENCRYPTION_KEY": "new-key"})
    assert result.code == 1
    assert "0 re-encrypted" in result.stdout and "3 unreadable" in result.stdout
    assert result.stdout.count("not re-encrypted (live)") == 3
    assert _decodes_with(store_case, "lost-key") == {"report", "greeter", "sleeper"}  # untouched


@pytest.mark.parametrize("store_case", ["file"], indirect=True)
def test_rotate_without_a_key_is_a_one_line_error(cli: CLI, store_case: StoreCase) -> None:
    store_case.open()
    line = cli("keys", "rotate", *store_case.args).assert_one_line_error()
    assert "ASYNCZ_STORE_ENCRYPTION_KEY" in line


@pytest.mark.parametrize("store_case", ["file"], indirect=True)
def test_rotate_draws_a_progress_bar_on_a_terminal(store_case: StoreCase, tmp_path: Path) -> None:
    store = store_case.open()
    from asyncz.tasks.task import Task
    from asyncz.triggers.interval import IntervalTrigger

    for index in range(40):
        store.add_task(
            Task(
                "asyncz_cli_jobs:greet",
                id=f"t{index:02}",
                args=[str(index)],
                trigger=IntervalTrigger(hours=1, timezone="UTC"),
                next_run_time=None,
            )
        )
    controller, terminal = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "asyncz.cli", "keys", "rotate", *store_case.args],
            cwd=tmp_path,
            env=cli_env({"ASYNCZ_STORE_ENCRYPTION_KEY": "bar-key"}),
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=60,
            check=False,
        )
        os.close(terminal)
        terminal = -1
        drawn = _read_all(controller)
    finally:
        os.close(controller)
        if terminal != -1:
            os.close(terminal)
    assert done.returncode == 0, drawn
    assert "\r[" + "#" * 30 + "] 40/40" in drawn
    assert "] 0/40" in drawn  # drawn from the start
    assert "40 re-encrypted" in done.stdout
    assert len(_decodes_with(store_case, "bar-key")) == 40


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")
