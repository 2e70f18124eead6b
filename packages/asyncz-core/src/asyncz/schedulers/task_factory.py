"""Building tasks and triggers from the arguments of ``add_task``."""

from __future__ import annotations

import functools
import inspect
import weakref
from collections.abc import Callable
from typing import Any

from asyncz.plugins.registry import PluginRegistry
from asyncz.triggers.base import BaseTrigger

_signatures: weakref.WeakKeyDictionary[Any, tuple[inspect.Signature | None, bool]] = (
    weakref.WeakKeyDictionary()
)


def create_trigger(
    trigger: BaseTrigger | str | None,
    trigger_args: dict[str, Any],
    registry: PluginRegistry,
    timezone: Any,
) -> BaseTrigger:
    """An instance from an instance, an alias plus keyword arguments, or ``None`` (run once,
    now). Triggers created from an alias get the scheduler's time zone unless given one."""
    if isinstance(trigger, BaseTrigger):
        if trigger_args:
            raise TypeError(
                f"trigger options {sorted(trigger_args)} were given with a trigger instance; "
                "pass them to the trigger's constructor instead"
            )
        return trigger
    alias = "date" if trigger is None else trigger
    if not isinstance(alias, str):
        raise TypeError(f"trigger must be a trigger instance or an alias string, got {trigger!r}")
    cls = registry.trigger_class(alias)
    options = dict(trigger_args)
    if "timezone" not in options and _accepts_timezone(cls):  # type: ignore[arg-type]
        options["timezone"] = timezone
    try:
        trigger_obj: BaseTrigger = cls(**options)
    except TypeError as exc:
        raise TypeError(f"trigger {alias!r}: {exc}") from None
    return trigger_obj


@functools.cache
def _accepts_timezone(cls: type[BaseTrigger]) -> bool:
    return "timezone" in inspect.signature(cls.__init__).parameters


def check_arguments(fn: Callable[..., Any], args: Any, kwargs: Any, task_name: str | None) -> None:
    """Fail early when ``fn`` cannot be called with ``args``/``kwargs``."""
    try:
        signature, takes_no_arguments = _signatures[fn]
    except KeyError:
        signature, takes_no_arguments = _signatures[fn] = _describe(fn)
    except TypeError:  # not weak-referenceable: no caching
        signature, takes_no_arguments = _describe(fn)
    if signature is None or (takes_no_arguments and not args and not kwargs):
        return
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise TypeError(
            f"Task {task_name or name!r}: the arguments do not fit {name}{signature}: {exc}"
        ) from None


def _describe(fn: Callable[..., Any]) -> tuple[inspect.Signature | None, bool]:
    """``fn``'s signature (``None`` when it has none) and whether it accepts a call
    without arguments (the common case, then checked without binding)."""
    signature = _signature(fn)
    if signature is None:
        return None, True
    try:
        signature.bind()
    except TypeError:
        return signature, False
    return signature, True


def _signature(fn: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        return None
