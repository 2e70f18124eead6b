"""``--profile DIR``: run our adapter under py-spy and summarise where the time went.

py-spy is installed from PyPI into ``benchmarks/.venvs/tools`` on first use. Each of our
adapter runs is sampled (all threads, so store worker threads show too) into
``DIR/ours-<backend>-<cases>.raw`` (collapsed stacks, usable by speedscope or flamegraph
tools); ``summarise`` writes the frames with the most samples, own and cumulative.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

from _venvs import VENVS

TOOLS = os.path.join(VENVS, "tools")


def py_spy(base_python: str) -> str:
    """The py-spy executable, installed into the tools venv if needed."""
    executable = os.path.join(TOOLS, "bin", "py-spy")
    if not os.access(executable, os.X_OK):
        print("Installing py-spy into benchmarks/.venvs/tools ...", file=sys.stderr, flush=True)
        subprocess.run([base_python, "-m", "venv", TOOLS], check=True)
        subprocess.run(
            [
                os.path.join(TOOLS, "bin", "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "py-spy",
            ],
            check=True,
            capture_output=True,
        )
    return executable


def wrap(command: list[str], executable: str, raw_path: str) -> list[str]:
    """``command`` run under ``py-spy record`` writing collapsed stacks to ``raw_path``."""
    return [
        executable,
        "record",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        raw_path,
        "--nonblocking",
        "--",
        *command,
    ]


def summarise(raw_path: str, top: int = 25) -> str:
    """The frames with the most samples: own (the frame itself was running) and cumulative
    (the frame was on the stack; event-loop and thread plumbing left out)."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    total = 0
    with open(raw_path) as handle:
        for line in handle:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            samples = int(count)
            total += samples
            frames = stack.split(";")
            own[frames[-1]] += samples
            for frame in {frame for frame in frames if not _plumbing(frame)}:
                cumulative[frame] += samples
    lines = [f"{total} samples ({raw_path})", "", "own time:"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in own.most_common(top)]
    lines += ["", "on the stack (cumulative):"]
    lines += [f"  {100 * n / total:5.1f}%  {frame}" for frame, n in cumulative.most_common(top)]
    return "\n".join(lines) + "\n"


_PLUMBING = (
    "asyncio/",
    "threading.py",
    "concurrent/futures",
    "<module>",
    "runners.py",
    "harness.py",
    "(ours.py",
)


def _plumbing(frame: str) -> bool:
    return any(marker in frame for marker in _PLUMBING) or frame.startswith("process ")
