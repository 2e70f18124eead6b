"""A task as plain data, and back.

The state holds no live objects except the user's own ``args``/``kwargs`` values: the
function is a ``"module:qualname"`` reference and the trigger is ``{"type": alias,
"state": {...}}``. Serializers (pickle, JSON) turn this dict into bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from asyncz.exceptions import TaskDecodeError, TaskEncodeError
from asyncz.tasks.references import resolve_reference
from asyncz.tasks.task import Task
from asyncz.triggers.base import BaseTrigger

STATE_VERSION = 1

TriggerLookup = Callable[[str], type[BaseTrigger]]


def task_to_state(task: Task) -> dict[str, Any]:
    """The task as data; raises ``TaskEncodeError`` when its function has no reference."""
    reference = task.fn_reference
    if reference is None:
        raise TaskEncodeError(
            f"Task {task.id!r} runs {task.fn!r}, which has no importable 'module:function' "
            "name (a lambda, closure, partial or bound method). Durable stores keep functions "
            "by reference: define the function at module level or pass it as a "
            "'module:function' string."
        )
    return {
        "v": STATE_VERSION,
        "id": task.id,
        "name": task.name,
        "fn": reference,
        "args": list(task.args),
        "kwargs": dict(task.kwargs),
        "trigger": trigger_to_state(task.trigger),
        "executor": task.executor,
        "mistrigger_grace_time": task.mistrigger_grace_time,
        "coalesce": task.coalesce,
        "max_instances": task.max_instances,
        "next_run_time": task.next_run_time,
    }


def task_from_state(
    state: dict[str, Any],
    trigger_lookup: TriggerLookup,
    resolve_fn: Callable[[str], Any] = resolve_reference,
) -> Task:
    """Rebuild a task; raises ``TaskDecodeError`` saying which part could not be restored."""
    task_id = state.get("id") if isinstance(state, dict) else None
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        version = state.get("v") if isinstance(state, dict) else type(state).__name__
        raise TaskDecodeError(
            f"unsupported task state version {version!r} (this asyncz reads version "
            f"{STATE_VERSION}); upgrade asyncz to read it",
            task_id,
        )
    try:
        fn = resolve_fn(state["fn"])
    except Exception as exc:
        raise TaskDecodeError(
            f"cannot import the task function {state.get('fn')!r}: {type(exc).__name__}: {exc}",
            task_id,
        ) from exc
    try:
        trigger = trigger_from_state(state["trigger"], trigger_lookup)
        next_run_time = state["next_run_time"]
        if next_run_time is not None and not isinstance(next_run_time, datetime):
            raise ValueError(f"next_run_time is {type(next_run_time).__name__}, not a datetime")
        return Task(
            fn,
            id=state["id"],
            name=state["name"],
            args=state["args"],
            kwargs=state["kwargs"],
            trigger=trigger,
            executor=state["executor"],
            mistrigger_grace_time=state["mistrigger_grace_time"],
            coalesce=state["coalesce"],
            max_instances=state["max_instances"],
            next_run_time=next_run_time,
            fn_reference=state["fn"],
        )
    except TaskDecodeError:
        raise
    except Exception as exc:
        raise TaskDecodeError(
            f"malformed task state: {type(exc).__name__}: {exc}", task_id
        ) from exc


def trigger_to_state(trigger: BaseTrigger | None) -> dict[str, Any] | None:
    if trigger is None:
        return None
    alias = type(trigger).alias
    if not alias:
        cls = type(trigger)
        alias = f"{cls.__module__}:{cls.__qualname__}"
    return {"type": alias, "state": trigger.__getstate__()}


def trigger_from_state(
    data: dict[str, Any] | None, trigger_lookup: TriggerLookup
) -> BaseTrigger | None:
    if data is None:
        return None
    kind = data["type"]
    if ":" in kind:
        cls = resolve_reference(kind)
        if not (isinstance(cls, type) and issubclass(cls, BaseTrigger)):
            raise ValueError(f"{kind!r} is not a trigger class")
    else:
        cls = trigger_lookup(kind)
    state = data["state"]
    if cls.shareable and type(state) is dict:
        try:
            # Types are part of the key: 1 == 1.0 == True, yet only some of them are valid.
            key = tuple((name, type(value), value) for name, value in state.items())
            return _shared_trigger(cls, key)
        except TypeError:  # a nested (unhashable) state: decode it afresh
            pass
    return _fresh_trigger(cls, state)


def _fresh_trigger(cls: type[BaseTrigger], state: Any) -> BaseTrigger:
    trigger = cls.__new__(cls)
    trigger.__setstate__(state)
    return trigger


@functools.lru_cache(maxsize=4096)
def _shared_trigger(cls: type[BaseTrigger], key: tuple[tuple[str, type, Any], ...]) -> BaseTrigger:
    """One instance per distinct state of a shareable trigger class: a task that fires
    again and again is decoded each time, its trigger only once."""
    return _fresh_trigger(cls, {name: value for name, _, value in key})
