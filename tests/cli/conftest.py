"""Fixtures of the CLI tests (defined in cli_support)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_support import cli, store_case  # noqa: E402, F401
