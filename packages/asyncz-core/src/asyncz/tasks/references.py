"""Callables as ``"module:qualname"`` references, the only way durable stores keep them."""

from __future__ import annotations

import contextlib
import importlib
import inspect
import weakref
from collections.abc import Callable
from typing import Any

_cache: weakref.WeakKeyDictionary[Any, str | None] = weakref.WeakKeyDictionary()


def reference_of(fn: Callable[..., Any]) -> str | None:
    """``"module:qualname"`` that resolves back to ``fn``, or ``None`` (lambdas, closures,
    partials, bound methods of instances). The result is shared per function."""
    try:
        return _cache[fn]
    except (KeyError, TypeError):
        pass
    reference = _compute_reference(fn)
    with contextlib.suppress(TypeError):  # not weak-referenceable: compute again next time
        _cache[fn] = reference
    return reference


def _compute_reference(fn: Callable[..., Any]) -> str | None:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    reference = f"{module}:{qualname}"
    try:
        resolved = resolve_reference(reference)
    except (ImportError, AttributeError, ValueError):
        return None
    if resolved is fn or (inspect.ismethod(fn) and inspect.isclass(fn.__self__) and resolved == fn):
        return reference
    return None


def resolve_reference(reference: str) -> Any:
    """Import ``"package.module:attr.path"`` and return the object it names."""
    module_name, sep, attr_path = reference.partition(":")
    if not sep or not module_name or not attr_path:
        raise ValueError(f"Invalid reference {reference!r}: expected 'package.module:function'.")
    obj: Any = importlib.import_module(module_name)
    for part in attr_path.split("."):
        obj = getattr(obj, part)
    return obj
