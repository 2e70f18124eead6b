"""Running one project's adapter in a subprocess of its own interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import _profile
import _venvs
from _modes import Mode

ADAPTERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "adapters")


def run_adapter(
    python: str,
    project: _venvs.Project,
    backend: str,
    cases: list[str],
    urls: dict[str, str],
    workdir: str,
    mode: Mode,
    profile: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Run one adapter subprocess; ``profile``: (py-spy executable, output directory)."""
    name = f"{project.key}-{backend}-{'-'.join(cases)}"
    stem = os.path.join(workdir, name)
    settings = {
        "backend": backend,
        "cases": cases,
        "urls": urls,
        "workdir": workdir,
        "repeats": mode.repeats,
        "add_n": mode.add_n,
        "due_ns": list(mode.due_ns),
        "dispatch_n": mode.dispatch_n,
        "latency_n": mode.latency_n,
        "latency_span": mode.latency_span,
        "memory_n": mode.memory_n,
        "min_calls": mode.min_calls,
        "call_budget": mode.call_budget,
        "add_budget": mode.add_budget,
        "due_skip_seconds": mode.due_skip_seconds,
        "dispatch_budget": mode.dispatch_budget,
    }
    with open(f"{stem}.settings.json", "w") as handle:
        json.dump(settings, handle)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "ASYNCZ_STORE_ENCRYPTION_KEY"}
    }
    command = [
        python,
        os.path.join(ADAPTERS, project.adapter),
        f"{stem}.settings.json",
        f"{stem}.out.json",
    ]
    if profile is not None:
        raw_path = os.path.join(profile[1], f"{name}.raw")
        command = _profile.wrap(command, profile[0], raw_path)
    with open(f"{stem}.log", "w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.PIPE, text=True, env=env, cwd=workdir
        )
        timer = threading.Timer(mode.timeout, process.kill)
        timer.start()
        try:
            assert process.stderr is not None
            for line in process.stderr:
                log.write(line)
                if line.startswith(f"[{project.key}/"):
                    print(f"  {line.rstrip()}", file=sys.stderr, flush=True)
            process.wait()
        finally:
            timer.cancel()
            if process.poll() is None:  # interrupted: do not leave the adapter running
                process.kill()
                process.wait()
    if profile is not None and os.path.exists(raw_path):
        with open(os.path.join(profile[1], f"{name}.top.txt"), "w") as handle:
            handle.write(_profile.summarise(raw_path))
    if process.returncode == 0 and os.path.exists(f"{stem}.out.json"):
        with open(f"{stem}.out.json") as handle:
            result: dict[str, Any] = json.load(handle)
        return result
    with open(f"{stem}.log", errors="replace") as handle:
        tail = handle.read().strip().splitlines()[-6:]
    reason = "timed out" if process.returncode == -9 else f"exited {process.returncode}"
    return {"metrics": {}, "notes": [], "errors": [f"adapter {reason}: " + " | ".join(tail)]}


def merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    """Add one adapter run's output to the results of its project and backend."""
    for key, value in extra.items():
        if key == "metrics":
            into.setdefault(key, {}).update(value)
        elif key in {"notes", "errors"}:
            into.setdefault(key, []).extend(value)
        else:
            into.setdefault(key, value)
