"""Task functions for the demo. Durable stores keep functions as 'module:function'
references, so they live in an importable module."""

from __future__ import annotations

import os
from datetime import datetime


def stamp() -> str:
    return datetime.now().strftime("%H:%M:%S.%f")[:-3]


def say(text: str) -> None:
    """One write per line: runs in the thread pool and on the loop must not interleave."""
    print(f"  {stamp()}  [pid {os.getpid()}] {text}\n", end="", flush=True)


def heartbeat(name: str) -> None:
    say(f"heartbeat from {name!r}")


async def report(counter_file: str) -> None:
    """Counts its own runs in a file, to show the count carries on across restarts."""
    count = 1
    if os.path.exists(counter_file):
        with open(counter_file) as handle:
            count = int(handle.read()) + 1
    with open(counter_file, "w") as handle:
        handle.write(str(count))
    say(f"report run #{count}")


def one_off(message: str) -> None:
    say(f"one-off task: {message}")
