"""Schedulers. Imported lazily: tools that only need ``asyncz.schedulers.config`` (the
command line) do not pay for the scheduler machinery."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from asyncz.schedulers.asyncio import AsyncIOScheduler

    NativeAsyncIOScheduler = AsyncIOScheduler

__all__ = ["AsyncIOScheduler", "NativeAsyncIOScheduler"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from asyncz.schedulers.asyncio import AsyncIOScheduler

        return AsyncIOScheduler
    raise AttributeError(f"module 'asyncz.schedulers' has no attribute {name!r}")
