"""The core's own plugins, registered through the same entry points as any third party."""

from __future__ import annotations

from asyncz.plugins.hookspecs import Register, hookimpl


@hookimpl
def asyncz_register_stores(register: Register) -> None:
    from asyncz.stores.memory import MemoryStore

    register("memory", MemoryStore)


@hookimpl
def asyncz_register_executors(register: Register) -> None:
    from asyncz.executors.asyncio import AsyncIOExecutor
    from asyncz.executors.debug import DebugExecutor
    from asyncz.executors.pool import ThreadPoolExecutor
    from asyncz.executors.process import ProcessPoolExecutor

    register("asyncio", AsyncIOExecutor)
    register("threadpool", ThreadPoolExecutor)
    register("pool", ThreadPoolExecutor)
    register("processpool", ProcessPoolExecutor)
    register("debug", DebugExecutor)


@hookimpl
def asyncz_register_triggers(register: Register) -> None:
    from asyncz.triggers.combining import AndTrigger, OrTrigger
    from asyncz.triggers.cron import CronTrigger
    from asyncz.triggers.date import DateTrigger
    from asyncz.triggers.interval import IntervalTrigger

    register("date", DateTrigger)
    register("interval", IntervalTrigger)
    register("cron", CronTrigger)
    register("and", AndTrigger)
    register("or", OrTrigger)
