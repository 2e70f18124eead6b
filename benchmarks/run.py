"""Benchmarks: this project side by side with asyncz 0.17.2 and APScheduler 3.11.3.

    python benchmarks/run.py [--quick] [--only ours,asyncz,apscheduler]
                             [--backends memory,file,sqlite,postgres,redis,mongo]
                             [--json results.json]

Each project runs in a subprocess of its own virtual environment (ours: this interpreter,
or ``--ours-python``; the peers: venvs made from PyPI under ``benchmarks/.venvs/``), against
the same servers in the same run, and prints JSON the runner collects into one table.
Cases (see ``adapters/harness.py``): add, due, dispatch, latency, memory. A benchmark,
never a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import _report
import _servers
import _venvs

HERE = os.path.dirname(os.path.abspath(__file__))
ADAPTERS = os.path.join(HERE, "adapters")
BACKENDS = ("memory", "file", "sqlite", "postgres", "redis", "mongo")
MAIN_CASES = ["add", "due", "dispatch", "latency"]


@dataclass(frozen=True)
class Mode:
    name: str
    repeats: int
    add_n: int
    due_ns: tuple[int, ...]
    dispatch_n: int
    latency_n: int
    latency_span: float
    memory_n: int
    min_calls: int
    call_budget: float
    add_budget: float
    timeout: float


MODES = {
    "full": Mode("full", 3, 10_000, (1_000, 10_000, 100_000), 10_000, 200, 4.0, 100_000,
                 5, 1.0, 120.0, 3600),
    "quick": Mode("quick", 1, 2_000, (1_000, 10_000, 100_000), 2_000, 100, 2.0, 10_000,
                  1, 0.1, 15.0, 900),
    "smoke": Mode("smoke", 1, 200, (200, 1_000), 200, 20, 0.5, 2_000, 1, 0.0, 10.0, 120),
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true",
                      help="smaller N and one repeat (under 3 minutes once venvs exist)")
    size.add_argument("--smoke", action="store_true",
                      help="tiny sizes to check the runner works; the figures mean nothing")
    parser.add_argument("--only", default="ours,asyncz,apscheduler",
                        help="projects, comma-separated: ours, asyncz, apscheduler")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated, from: {', '.join(BACKENDS)}")
    parser.add_argument("--cases", default=",".join([*MAIN_CASES, "memory"]),
                        help="comma-separated, from: add, due, dispatch, latency, memory")
    parser.add_argument("--json", metavar="PATH", help="also write every figure to PATH")
    parser.add_argument("--ours-python", default=sys.executable,
                        help="interpreter with this workspace installed (default: this one)")
    parser.add_argument("--workdir", help="where file and SQLite stores live (default: a new "
                        "directory in /dev/shm, a tmpfs like the servers' data; removed "
                        "afterwards). Give a directory on a disk to include its fsync costs")
    args = parser.parse_args(argv)
    args.mode = MODES["quick" if args.quick else "smoke" if args.smoke else "full"]
    args.projects = _choose(args.only, [p.key for p in _venvs.PROJECTS], "--only")
    args.backends = _choose(args.backends, list(BACKENDS), "--backends")
    args.cases = _choose(args.cases, [*MAIN_CASES, "memory"], "--cases")
    return args


def _choose(given: str, known: list[str], option: str) -> list[str]:
    chosen = [name.strip().lower() for name in given.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in known]
    if unknown or not chosen:
        raise SystemExit(f"{option}: unknown {unknown or 'empty'}; choose from {', '.join(known)}")
    return [name for name in known if name in chosen]  # canonical order


def check_ours(python: str) -> str:
    """Our asyncz-core version in ``python``'s environment; exits with advice if absent."""
    script = (
        "import importlib.metadata as m, asyncz.schedulers; print(m.version('asyncz-core'))"
    )
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
    return {"nproc": os.cpu_count(), "cpu": model, "platform": platform.platform(),
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "loadavg_start": _loadavg()}


def _loadavg() -> str:
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
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


# ---------------------------------------------------------------------------- one adapter
def run_adapter(python: str, project: _venvs.Project, backend: str, cases: list[str],
                urls: dict[str, str], workdir: str, mode: Mode) -> dict[str, Any]:
    stem = os.path.join(workdir, f"{project.key}-{backend}-{'-'.join(cases)}")
    settings = {
        "backend": backend, "cases": cases, "urls": urls, "workdir": workdir,
        "repeats": mode.repeats, "add_n": mode.add_n, "due_ns": list(mode.due_ns),
        "dispatch_n": mode.dispatch_n, "latency_n": mode.latency_n,
        "latency_span": mode.latency_span, "memory_n": mode.memory_n,
        "min_calls": mode.min_calls, "call_budget": mode.call_budget,
        "add_budget": mode.add_budget,
    }
    with open(f"{stem}.settings.json", "w") as handle:
        json.dump(settings, handle)
    env = {k: v for k, v in os.environ.items()
           if k not in {"PYTHONPATH", "ASYNCZ_STORE_ENCRYPTION_KEY"}}
    command = [python, os.path.join(ADAPTERS, project.adapter), f"{stem}.settings.json",
               f"{stem}.out.json"]
    with open(f"{stem}.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.PIPE, text=True,
                                   env=env, cwd=workdir)
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
    if process.returncode == 0 and os.path.exists(f"{stem}.out.json"):
        with open(f"{stem}.out.json") as handle:
            result: dict[str, Any] = json.load(handle)
        return result
    with open(f"{stem}.log", errors="replace") as handle:
        tail = handle.read().strip().splitlines()[-6:]
    reason = "timed out" if process.returncode == -9 else f"exited {process.returncode}"
    return {"metrics": {}, "notes": [], "errors": [f"adapter {reason}: " + " | ".join(tail)]}


def merge(into: dict[str, Any], extra: dict[str, Any]) -> None:
    into.setdefault("metrics", {}).update(extra.get("metrics", {}))
    for key in ("notes", "errors"):
        into.setdefault(key, []).extend(extra.get(key, []))


# ---------------------------------------------------------------------------- the run
def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    mode: Mode = args.mode
    # SIGTERM unwinds like Ctrl-C, so that servers we started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    ours_version = check_ours(args.ours_python)
    projects = [p for p in _venvs.PROJECTS if p.key in args.projects]
    pythons = {"ours": args.ours_python}
    drivers = _venvs.driver_versions(args.ours_python)
    for project in projects:
        if project.requirement is not None:
            pythons[project.key] = _venvs.ensure_venv(project, args.ours_python, drivers)
    labels = {p.key: p.label for p in projects}
    labels["ours"] = f"ours {ours_version}"
    info = machine()
    info["python"] = python_version(args.ours_python)
    print(f"Mode {mode.name}; projects {', '.join(labels.values())}; backends "
          f"{', '.join(args.backends)}; {info['nproc']} CPUs ({info['cpu']}), load "
          f"{info['loadavg_start']}", file=sys.stderr, flush=True)

    results: dict[str, dict[str, dict[str, Any]]] = {p.key: {} for p in projects}
    unavailable: dict[tuple[str, str], str] = {}
    servers: dict[str, _servers.Server] = {}
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    workdir = args.workdir or tempfile.mkdtemp(prefix="asyncz-bench-", dir=shm)
    os.makedirs(workdir, exist_ok=True)
    info["workdir"] = f"{workdir} ({filesystem_of(workdir)})"
    try:
        for backend in args.backends:
            urls: dict[str, str] = {}
            name = _servers.SERVER_OF_BACKEND.get(backend)
            if name is not None:
                try:
                    if name not in servers:
                        servers[name] = _servers.get_server(name, args.ours_python)
                    urls[backend] = servers[name].url
                except _servers.ServerUnavailable as exc:
                    for project in projects:
                        unavailable[(project.key, backend)] = f"no {name} server: {exc}"
                    print(f"Skipping {backend}: {exc}", file=sys.stderr)
                    continue
            main_cases = [case for case in MAIN_CASES if case in args.cases]
            for project in projects:
                print(f"{labels[project.key]} / {backend}", file=sys.stderr, flush=True)
                result = run_adapter(pythons[project.key], project, backend, main_cases,
                                     urls, workdir, mode) if main_cases else {}
                if result.get("unsupported"):
                    unavailable[(project.key, backend)] = result["unsupported"]
                if backend == "memory" and "memory" in args.cases and not result.get(
                        "unsupported"):
                    merge(result, run_adapter(pythons[project.key], project, backend,
                                              ["memory"], urls, workdir, mode))
                results[project.key][backend] = result
    finally:
        for server in servers.values():
            server.stop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    info["loadavg_end"] = _loadavg()
    info["seconds"] = round(time.monotonic() - started, 1)
    keys = [p.key for p in projects]
    rows = _report.build_rows(results, keys, args.backends, mode.due_ns)
    print()
    print(f"asyncz benchmarks, mode {mode.name}, {info['date']}: {info['nproc']} CPUs "
          f"({info['cpu']}), Python {info['python']}, load {info['loadavg_start']} -> "
          f"{info['loadavg_end']}, {info['seconds']:.0f} s; file/SQLite stores in "
          f"{info['workdir']}")
    print()
    print(_report.render(rows, keys, labels, unavailable))
    print()
    print(_report.summary(rows))
    print_problems(results, labels, unavailable)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"machine": info, "mode": asdict(mode), "projects": labels,
                       "backends": args.backends, "servers": {k: v.origin for k, v in
                                                              servers.items()},
                       "results": results, "rows": [asdict(row) for row in rows],
                       "unavailable": {f"{p}/{b}": why for (p, b), why in
                                       unavailable.items()}}, handle, indent=1)
    return 0


def print_problems(results: dict[str, dict[str, dict[str, Any]]], labels: dict[str, str],
                   unavailable: dict[tuple[str, str], str]) -> None:
    lines = [f"- n/a {labels[p]} / {b}: {why}" for (p, b), why in unavailable.items()]
    for project, by_backend in results.items():
        for backend, result in by_backend.items():
            lines += [f"- note {labels[project]} / {backend}: {n}" for n in result.get("notes", [])]
            lines += [f"- ERROR {labels[project]} / {backend}: {e}"
                      for e in result.get("errors", [])]
    if lines:
        print()
        print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
