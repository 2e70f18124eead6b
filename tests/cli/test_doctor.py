"""``asyncz doctor``: versions, plugins (broken ones too), store reachability and readability."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from asyncz.stores.records import TaskRecord
from servers._common import free_port
from support.cli import CLI, StoreCase, populate

file_only = pytest.mark.parametrize("store_case", ["file"], indirect=True)


def _broken_plugin(root: Path) -> dict[str, str]:
    """A distribution whose store plugin fails to import, on the subprocess's path."""
    dist = root / "asyncz_broken-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: asyncz-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[asyncz.stores]\nbroken = asyncz_broken_plugin\n")
    (root / "asyncz_broken_plugin.py").write_text("import etcd3_client_missing_here\n")
    return {"PYTHONPATH": os.pathsep.join([str(root), str(Path(__file__).parent)])}


def test_doctor_lists_versions_and_plugins(cli: CLI) -> None:
    result = cli("doctor")
    assert result.code == 0, result.stdout + result.stderr
    assert "Python   3." in result.stdout
    assert "asyncz-core 0.1.0" in result.stdout
    rows = {
        tuple(line.split()[:2]): line
        for line in result.stdout.splitlines()
        if line.startswith("  ")
    }
    assert "asyncz-file" in rows[("store", "file")]
    assert "asyncz-redis" in rows[("store", "redis")]
    assert "asyncz-core" in rows[("store", "memory")]
    assert "asyncz.executors.asyncio.AsyncIOExecutor" in rows[("executor", "asyncio")]
    assert "CronTrigger" in rows[("trigger", "cron")]
    assert any(key[0] == "store" and key[1] == "mongo," for key in rows)  # aliases of one class
    assert "No problems found." in result.stdout


def test_doctor_reports_a_broken_plugin_without_crashing(cli: CLI, tmp_path: Path) -> None:
    result = cli("doctor", env=_broken_plugin(tmp_path / "plugins"))
    assert result.code == 1
    assert "Traceback" not in result.stdout + result.stderr
    broken = next(line for line in result.stdout.splitlines() if "BROKEN" in line)
    assert "broken" in broken and "asyncz-broken 0.1" in broken
    assert "etcd3_client_missing_here" in broken
    assert "store plugin 'broken' is broken" in result.stdout
    assert "asyncz-file" in result.stdout  # the others are still listed
    data = cli("doctor", "--json", env=_broken_plugin(tmp_path / "plugins2")).json()
    assert data["ok"] is False
    entry = next(p for p in data["plugins"] if p["aliases"] == ["broken"])
    assert "etcd3_client_missing_here" in entry["error"]


@file_only
def test_doctor_checks_a_healthy_encrypted_store(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    populate(store_case.open(encryption_key="doctor-key"), tmp_path / "marker")
    env = {"ASYNCZ_STORE_ENCRYPTION_KEY": "doctor-key"}
    result = cli("doctor", *store_case.args, env=env)
    assert result.code == 0, result.stdout + result.stderr
    assert "reachable   yes" in result.stdout
    assert "ASYNCZ_STORE_ENCRYPTION_KEY is set" in result.stdout
    assert "encrypted with key id" in result.stdout
    assert "3 in all: 3 readable, 0 unreadable; 0 quarantined" in result.stdout
    data = cli("doctor", *store_case.args, "--json", env=env).json()
    (store,) = data["stores"]
    assert store["reachable"] is True
    assert store["records"]["readable"] == 3
    assert store["encryption"]["env_key_set"] is True
    assert data["ok"] is True


def test_doctor_finds_unreadable_and_quarantined_records(
    cli: CLI, store_case: StoreCase, tmp_path: Path
) -> None:
    store = store_case.open(encryption_key="the-right-key")
    populate(store, tmp_path / "marker")
    store.insert_record(TaskRecord("garbled", None, b"\x00not a record"))
    store.get_all_tasks()  # quarantines "garbled"
    result = cli("doctor", *store_case.args)  # no key: the three tasks cannot be read
    assert result.code == 1
    assert "ASYNCZ_STORE_ENCRYPTION_KEY is not set" in result.stdout
    assert "3 in all: 0 readable, 3 unreadable; 1 quarantined" in result.stdout
    assert "3 records cannot be read" in result.stdout
    assert "1 record quarantined" in result.stdout
    assert store.quarantined_records()[0].record.id == "garbled"  # still there, nothing moved
    assert len(list(store.iter_records())) == 3


def test_doctor_reports_an_unreachable_store(cli: CLI, tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    result = cli("doctor", "--store-type", "redis", "--store-option", f"url={url}")
    assert result.code == 1
    assert "reachable   no" in result.stdout
    assert "store 'default' is not reachable" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_doctor_checks_every_store_of_a_config(cli: CLI, tmp_path: Path) -> None:
    config = tmp_path / "asyncz.toml"
    config.write_text(
        '[stores.default]\ntype = "file"\ndirectory = "tasks"\n\n'
        '[stores.archive]\ntype = "sqlalchemy"\n'
        f'database = "sqlite:///{tmp_path / "archive.sqlite3"}"\n\n'
        '[[tasks]]\nid = "t"\nfn = "asyncz_cli_jobs:greet"\nargs = ["x"]\n'
        'trigger = "interval"\nminutes = 5\n'
    )
    data = cli("doctor", "--config", str(config), "--json").json()
    assert [store["alias"] for store in data["stores"]] == ["default", "archive"]
    assert all(store["reachable"] for store in data["stores"])
    assert data["ok"] is True
    config.write_text(config.read_text().replace("asyncz_cli_jobs:greet", "nowhere:greet"))
    result = cli("doctor", "--config", str(config))
    assert result.code == 1
    assert "No module named 'nowhere'" in result.stdout
