"""Executors: where tasks run."""

from asyncz.executors.asyncio import AsyncIOExecutor
from asyncz.executors.base import BaseExecutor
from asyncz.executors.debug import DebugExecutor
from asyncz.executors.pool import ThreadPoolExecutor
from asyncz.executors.process import ProcessPoolExecutor

__all__ = [
    "AsyncIOExecutor",
    "BaseExecutor",
    "DebugExecutor",
    "ProcessPoolExecutor",
    "ThreadPoolExecutor",
]
