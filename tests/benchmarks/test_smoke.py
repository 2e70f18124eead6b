"""The benchmark runner works end to end (tiny sizes, our project, memory store only).

Nothing here is timed: the figures of a smoke run mean nothing. The test proves that the
runner starts an adapter, collects its JSON and builds the table with every expected row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_ROWS = [
    "add.rate",
    "add.batched_rate",
    "due.get_due_tasks@200",
    "due.next_run_time@200",
    "due.get_due_tasks@1000",
    "due.next_run_time@1000",
    "dispatch.rate",
    "dispatch.first_start",
    "latency.p50",
    "latency.p99",
    "latency.max",
    "memory.bytes_per_task",
]


def test_smoke_run_of_our_memory_store(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--smoke",
            "--only",
            "ours",
            "--backends",
            "memory",
            "--json",
            str(out),
            "--workdir",
            str(tmp_path / "work"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    results = json.loads(out.read_text())
    rows = results["rows"]
    assert [(row["backend"], row["key"]) for row in rows] == [
        ("memory", key) for key in EXPECTED_ROWS
    ]
    assert all(isinstance(row["values"]["ours"], float) for row in rows), rows
    assert results["results"]["ours"]["memory"]["errors"] == []

    table = done.stdout
    for label in (
        "add, one by one",
        "add, batch() of 100",
        "get_due_tasks @1,000",
        "dispatch: first start",
        "latency p99",
        "memory per task",
    ):
        assert f"| {label} " in table, table
    assert "Targets:" in table
