"""``asyncz run``: a scheduler in a subprocess, stopped by a signal, shutting down cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.cli import CLI, cli_env

CONFIG = """\
timezone = "UTC"
store_poll_interval = 1

[stores.default]
type = "file"
directory = "tasks"

[executors.default]
type = "threadpool"

[task_defaults]
mistrigger_grace_time = 30

[[tasks]]
id = "tick"
fn = "asyncz_cli_jobs:touch"
args = ["{marker}", "tick"]
trigger = "interval"
seconds = 0.2

[[tasks]]
id = "nightly"
fn = "asyncz_cli_jobs:greet"
kwargs = {{ name = "night" }}
crontab = "0 3 * * *"
"""


def _start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "asyncz.cli", *args],
        cwd=cwd,
        env=cli_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_runs(process: subprocess.Popen[str], marker: Path, count: int) -> list[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lines = marker.read_text().splitlines() if marker.exists() else []
        if len(lines) >= count:
            return lines
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    out, err = process.communicate()
    pytest.fail(f"the task did not run {count} times; stdout:\n{out}\nstderr:\n{err}")


def _stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, str]:
    process.send_signal(sig)
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"no clean exit after {sig.name}; stderr:\n{err}")


def test_run_a_config_file_until_ctrl_c(cli: CLI, tmp_path: Path) -> None:
    marker = tmp_path / "ticks.txt"
    config = tmp_path / "asyncz.toml"
    config.write_text(CONFIG.format(marker=marker))
    process = _start(["run", str(config)], tmp_path)
    lines = _wait_for_runs(process, marker, 2)
    assert {line.split()[1] for line in lines} == {str(process.pid)}  # ran in the scheduler
    out, err = _stop(process, signal.SIGINT)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "with 2 tasks" in err and "Press Ctrl-C to stop" in err
    assert "received SIGINT: shutting down" in err
    assert err.rstrip().endswith("asyncz: scheduler stopped cleanly")
    assert "Task 'tick' ran in" in err  # the scheduler's run log lines

    listed = cli("tasks", "list", "--config", str(config), "--json").json()  # they persisted
    by_id = {task["id"]: task for task in listed["tasks"]}
    assert set(by_id) == {"tick", "nightly"}
    assert by_id["nightly"]["trigger"] == "cron[crontab='0 3 * * *']"
    assert by_id["nightly"]["kwargs"] == {"name": "night"}


def test_run_a_module_factory_with_json_logs_until_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "ticks.txt"
    env = {"CLI_TEST_TASKS_DIR": str(tmp_path / "tasks"), "CLI_TEST_MARKER": str(marker)}
    process = _start(
        ["run", "asyncz_cli_jobs:make_scheduler", "--log-format", "json"], tmp_path, env
    )
    _wait_for_runs(process, marker, 2)
    out, err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.strip()]  # all JSON
    runs = [r for r in records if r.get("task_id") == "tick" and r.get("outcome") == "executed"]
    assert runs, err
    assert {"scheduled", "duration", "lateness", "executor", "store"} <= set(runs[0])
    assert runs[0]["logger"] == "asyncz.schedulers" and runs[0]["level"] == "INFO"
    assert runs[0]["lateness"] >= 0
    messages = [r["message"] for r in records]
    assert any(m.startswith("received SIGTERM") for m in messages)
    assert messages[-1] == "scheduler stopped cleanly"


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "asyncz"
    if not script.exists():
        pytest.skip(f"no asyncz console script next to {sys.executable} (reinstall asyncz-core)")
    done = subprocess.run(
        [str(script), "cron", "30 8 * * 1", "--tz", "UTC", "-n", "2"],
        cwd=tmp_path,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rows = done.stdout.splitlines()[2:]
    assert len(rows) == 2 and all("08:30:00 UTC" in row for row in rows)
    version = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.stdout.strip() == "asyncz 0.1.0"
