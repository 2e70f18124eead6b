"""What the run is measured on: the machine, the interpreters, the work directory."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from typing import Any


def check_ours(python: str) -> str:
    """Our asyncz-core version in ``python``'s environment; exits with advice if absent."""
    script = "import importlib.metadata as m, asyncz.schedulers; print(m.version('asyncz-core'))"
    done = subprocess.run([python, "-c", script], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(
            f"{python} cannot import this project's asyncz ({done.stderr.strip()[-300:]}).\n"
            "Run the benchmarks with the workspace's interpreter (e.g. .venv/bin/python "
            "benchmarks/run.py) or pass --ours-python."
        )
    return done.stdout.strip()


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "loadavg_start": loadavg(),
    }


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def filesystem_of(path: str) -> str:
    """The file system type of ``path`` ("tmpfs", "ext4", ...) from /proc/mounts."""
    best, kind = "", "unknown"
    path = os.path.realpath(path)
    if os.path.exists("/proc/mounts"):
        with open("/proc/mounts") as handle:
            for line in handle:
                fields = line.split()
                point = fields[1]
                inside = path == point or path.startswith(point.rstrip("/") + "/")
                if inside and len(point) > len(best):
                    best, kind = point, fields[2]
    return kind


def python_version(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
