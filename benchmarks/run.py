"""Benchmarks: this project side by side with asyncz 0.17.2 and APScheduler 3.11.3.

    python benchmarks/run.py [--quick] [--only ours,asyncz,apscheduler]
                             [--backends memory,file,sqlite,postgres,redis,mongo]
                             [--json results.json]

Each project runs in a subprocess of its own virtual environment (ours: this interpreter,
or ``--ours-python``; the peers: venvs made from PyPI under ``benchmarks/.venvs/``), against
the same servers in the same run, and prints JSON the runner collects into one table.
Cases (see ``adapters/cases.py``): add, due, dispatch, latency, memory; results and the
method: ``benchmarks/RESULTS.md``. A benchmark,
never a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import _profile
import _report
import _servers
import _venvs
from _adapters import merge, run_adapter
from _machine import check_ours, filesystem_of, loadavg, machine, python_version
from _modes import MODES, Mode

BACKENDS = ("memory", "file", "sqlite", "postgres", "redis", "mongo")
MAIN_CASES = ["add", "due", "dispatch", "latency"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        action="store_true",
        help="one repeat, smaller N, budgets per case (about 3 minutes on 2 cores)",
    )
    size.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes to check the runner works; the figures mean nothing",
    )
    parser.add_argument(
        "--only",
        default="ours,asyncz,apscheduler",
        help="projects, comma-separated: ours, asyncz, apscheduler",
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help=f"comma-separated, from: {', '.join(BACKENDS)}",
    )
    parser.add_argument(
        "--cases",
        default=",".join([*MAIN_CASES, "memory"]),
        help="comma-separated, from: add, due, dispatch, latency, memory",
    )
    parser.add_argument("--json", metavar="PATH", help="also write every figure to PATH")
    parser.add_argument(
        "--ours-python",
        default=sys.executable,
        help="interpreter with this workspace installed (default: this one)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="sample our adapter with py-spy; stacks and top frames go to DIR",
    )
    parser.add_argument(
        "--workdir",
        help="where file and SQLite stores live (default: a new "
        "directory in /dev/shm, a tmpfs like the servers' data; removed "
        "afterwards). Give a directory on a disk to include its fsync costs",
    )
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
    profile: tuple[str, str] | None = None
    if args.profile:
        os.makedirs(args.profile, exist_ok=True)
        profile = (_profile.py_spy(args.ours_python), os.path.abspath(args.profile))
    labels = {p.key: p.label for p in projects}
    labels["ours"] = f"ours {ours_version}"
    info = machine()
    info["python"] = python_version(args.ours_python)
    print(
        f"Mode {mode.name}; projects {', '.join(labels.values())}; backends "
        f"{', '.join(args.backends)}; {info['nproc']} CPUs ({info['cpu']}), load "
        f"{info['loadavg_start']}",
        file=sys.stderr,
        flush=True,
    )

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
                spy = profile if project.key == "ours" else None
                # Profiled: one subprocess per case, so that each profile shows one case.
                groups = [[case] for case in main_cases] if spy else [main_cases]
                result: dict[str, Any] = {}
                for group in groups if main_cases else []:
                    merge(
                        result,
                        run_adapter(
                            pythons[project.key], project, backend, group, urls, workdir, mode, spy
                        ),
                    )
                if result.get("unsupported"):
                    unavailable[(project.key, backend)] = result["unsupported"]
                if backend == "memory" and "memory" in args.cases and not result.get("unsupported"):
                    merge(
                        result,
                        run_adapter(
                            pythons[project.key],
                            project,
                            backend,
                            ["memory"],
                            urls,
                            workdir,
                            mode,
                            spy,
                        ),
                    )
                results[project.key][backend] = result
    finally:
        for server in servers.values():
            server.stop()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)

    info["loadavg_end"] = loadavg()
    info["seconds"] = round(time.monotonic() - started, 1)
    keys = [p.key for p in projects]
    rows = _report.build_rows(results, keys, args.backends, mode.due_ns)
    print()
    print(
        f"asyncz benchmarks, mode {mode.name}, {info['date']}: {info['nproc']} CPUs "
        f"({info['cpu']}), Python {info['python']}, load {info['loadavg_start']} -> "
        f"{info['loadavg_end']}, {info['seconds']:.0f} s; file/SQLite stores in "
        f"{info['workdir']}"
    )
    print()
    print(_report.render(rows, keys, labels, unavailable))
    print()
    print(_report.summary(rows))
    print_problems(results, labels, unavailable)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "machine": info,
                    "mode": asdict(mode),
                    "projects": labels,
                    "backends": args.backends,
                    "servers": {k: v.origin for k, v in servers.items()},
                    "results": results,
                    "rows": [asdict(row) for row in rows],
                    "unavailable": {f"{p}/{b}": why for (p, b), why in unavailable.items()},
                },
                handle,
                indent=1,
            )
    return 0


def print_problems(
    results: dict[str, dict[str, dict[str, Any]]],
    labels: dict[str, str],
    unavailable: dict[tuple[str, str], str],
) -> None:
    lines = [f"- n/a {labels[p]} / {b}: {why}" for (p, b), why in unavailable.items()]
    for project, by_backend in results.items():
        for backend, result in by_backend.items():
            lines += [f"- note {labels[project]} / {backend}: {n}" for n in result.get("notes", [])]
            lines += [
                f"- ERROR {labels[project]} / {backend}: {e}" for e in result.get("errors", [])
            ]
    if lines:
        print()
        print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
