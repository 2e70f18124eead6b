"""Task functions run by the multi-process workers (importable by reference)."""

from __future__ import annotations

import time


def work(label: str) -> str:
    """Long enough that a SIGKILL can land in the middle of a run."""
    time.sleep(0.02)
    return label
