"""The peers' virtual environments, made once and kept under ``benchmarks/.venvs/``.

Each peer is installed from PyPI with pip, with the same database drivers (same versions)
as our own environment has, so that driver differences do not blur the comparison. A venv
is reused while its recorded requirement list is unchanged.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
VENVS = os.path.join(HERE, ".venvs")

#: Drivers every environment needs, by distribution name (the extra is kept for pip).
DRIVERS = {
    "redis": "redis",
    "pymongo": "pymongo",
    "sqlalchemy": "SQLAlchemy",
    "psycopg": "psycopg[binary]",
}


@dataclass(frozen=True)
class Project:
    key: str  # what --only takes
    label: str  # table heading
    adapter: str  # file in benchmarks/adapters
    requirement: str | None  # None: our own project (no venv made)


OURS = Project("ours", "ours", "ours.py", None)
PEERS = (
    Project("asyncz", "asyncz 0.17.2", "asyncz_peer.py", "asyncz==0.17.2"),
    Project("apscheduler", "APScheduler 3.11.3", "apscheduler_peer.py", "APScheduler==3.11.3"),
)
PROJECTS = (OURS, *PEERS)


def driver_versions(python: str) -> dict[str, str]:
    """Installed versions of the drivers in ``python``'s environment (missing ones left out)."""
    script = (
        "import importlib.metadata as m, json, sys\n"
        "found = {}\n"
        "for name in sys.argv[1:]:\n"
        "    try: found[name] = m.version(name)\n"
        "    except m.PackageNotFoundError: pass\n"
        "print(json.dumps(found))"
    )
    output = subprocess.run(
        [python, "-c", script, *DRIVERS], check=True, capture_output=True, text=True
    ).stdout
    found: dict[str, str] = json.loads(output)
    return found


def requirements(project: Project, drivers: dict[str, str]) -> list[str]:
    assert project.requirement is not None
    pinned = [
        f"{spec}=={drivers[name]}" if name in drivers else spec for name, spec in DRIVERS.items()
    ]
    return [project.requirement, *pinned]


def ensure_venv(project: Project, base_python: str, drivers: dict[str, str]) -> str:
    """The python of ``project``'s venv, creating or updating the venv if needed."""
    wanted = requirements(project, drivers)
    directory = os.path.join(VENVS, project.key)
    python = os.path.join(directory, "bin", "python")
    marker = os.path.join(directory, "requirements.json")
    if os.path.exists(marker) and os.access(python, os.X_OK):
        with open(marker) as handle:
            if json.load(handle) == wanted:
                return python
    print(
        f"Creating the venv for {project.label} in {directory} (first use: about a "
        "minute; later runs reuse it)...",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    subprocess.run([base_python, "-m", "venv", "--clear", directory], check=True)
    done = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *wanted],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(
            f"pip could not install {' '.join(wanted)} into {directory}:\n"
            f"{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    with open(marker, "w") as handle:
        json.dump(wanted, handle)
    print(f"  ... done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return python
