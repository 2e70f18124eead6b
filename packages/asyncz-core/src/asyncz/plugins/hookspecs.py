"""The three hooks a plugin may implement. Nothing else lives here.

A plugin is a module named by an entry point in ``asyncz.stores``, ``asyncz.executors``
or ``asyncz.triggers`` (the entry-point name is the alias). It implements one or more of
these hooks with ``@hookimpl`` and calls ``register(alias, cls)`` once per class::

    from asyncz.plugins import hookimpl

    @hookimpl
    def asyncz_register_stores(register):
        register("redis", RedisStore)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "asyncz"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[[str, type[Any]], None]


@hookspec
def asyncz_register_stores(register: Register) -> None:
    """Register store classes (subclasses of ``asyncz.stores.base.BaseStore``)."""


@hookspec
def asyncz_register_executors(register: Register) -> None:
    """Register executor classes (subclasses of ``asyncz.executors.base.BaseExecutor``)."""


@hookspec
def asyncz_register_triggers(register: Register) -> None:
    """Register trigger classes (subclasses of ``asyncz.triggers.base.BaseTrigger``)."""
