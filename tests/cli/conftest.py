"""Fixtures of the CLI tests (defined in support.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.cli import cli, store_case  # noqa: E402, F401
