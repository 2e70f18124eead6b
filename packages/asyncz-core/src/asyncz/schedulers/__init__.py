"""Schedulers."""

from asyncz.schedulers.asyncio import AsyncIOScheduler

NativeAsyncIOScheduler = AsyncIOScheduler

__all__ = ["AsyncIOScheduler", "NativeAsyncIOScheduler"]
