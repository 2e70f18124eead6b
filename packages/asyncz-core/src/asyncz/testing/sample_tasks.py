"""Importable functions for tests and the conformance kit (stored by reference)."""

from __future__ import annotations

from typing import Any


def noop() -> None:
    """Does nothing."""


def echo(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Returns its arguments."""
    return args, kwargs


async def async_noop() -> None:
    """Does nothing, asynchronously."""
