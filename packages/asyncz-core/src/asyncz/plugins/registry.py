"""Alias -> class lookup for stores, executors and triggers.

Discovery is lazy: an alias is resolved first among plugins already registered, then by
loading only the entry point of that name. The core's own plugins come through the same
entry points as everybody else's; the registry knows no backend by name.
"""

from __future__ import annotations

import contextlib
import functools
import re
import threading
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from asyncz.exceptions import PluginLoadError, UnknownPluginError
from asyncz.plugins import hookspecs


@dataclass(frozen=True)
class PluginKind:
    name: str  # "store"
    group: str  # entry-point group
    hook: str  # hook name
    base: str  # "module:Class" every registered class must subclass


KINDS: dict[str, PluginKind] = {
    kind.name: kind
    for kind in (
        PluginKind(
            "store", "asyncz.stores", "asyncz_register_stores", "asyncz.stores.base:BaseStore"
        ),
        PluginKind(
            "executor",
            "asyncz.executors",
            "asyncz_register_executors",
            "asyncz.executors.base:BaseExecutor",
        ),
        PluginKind(
            "trigger",
            "asyncz.triggers",
            "asyncz_register_triggers",
            "asyncz.triggers.base:BaseTrigger",
        ),
    )
}

_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class PluginRegistry:
    """One registry per scheduler (tests may build their own with ``autoload=False``)."""

    def __init__(self, *, autoload: bool = True) -> None:
        self.autoload = autoload
        self.manager = pluggy.PluginManager(hookspecs.PROJECT)
        self.manager.add_hookspecs(hookspecs)
        self._classes: dict[str, dict[str, type[Any]]] = {kind: {} for kind in KINDS}
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ registration
    def register_plugin(self, plugin: object, name: str | None = None) -> None:
        """Register an in-process plugin (a module or object with hookimpls)."""
        with self._lock:
            if not self.manager.is_registered(plugin):
                self.manager.register(plugin, name=name)
            for kind in KINDS:
                self._collect(kind)

    def register_class(self, kind: str, alias: str, cls: type[Any]) -> None:
        """Register one class directly under ``alias``."""
        with self._lock:
            self._add(KINDS[kind], alias, cls, source="register_class()")

    # ------------------------------------------------------------------ lookup
    def store_class(self, alias: str) -> type[Any]:
        return self.lookup("store", alias)

    def executor_class(self, alias: str) -> type[Any]:
        return self.lookup("executor", alias)

    def trigger_class(self, alias: str) -> type[Any]:
        return self.lookup("trigger", alias)

    def lookup(self, kind: str, alias: str) -> type[Any]:
        """The class registered under ``alias``; loads that alias's entry point on a miss."""
        found = self._classes[kind].get(alias)  # a dict read needs no lock: asked per add
        if found is not None:
            return found
        with self._lock:
            found = self._classes[kind].get(alias)
            if found is not None:
                return found
            if self.autoload:
                self._load_entry_points(KINDS[kind], alias)
                found = self._classes[kind].get(alias)
                if found is not None:
                    return found
            raise UnknownPluginError(kind, alias, self.installed_aliases(kind))

    def installed_aliases(self, kind: str) -> list[str]:
        """Aliases available without importing any plugin: entry-point names plus those
        already registered in-process."""
        names = set(self._classes[kind])
        if self.autoload:
            names.update(ep.name for ep in metadata.entry_points(group=KINDS[kind].group))
        return sorted(names)

    def distribution_of(self, kind: str, alias: str) -> tuple[str, str] | None:
        """(distribution name, version) providing ``alias``, if it comes from an entry point."""
        for ep in metadata.entry_points(group=KINDS[kind].group, name=alias):
            if ep.dist is not None:
                return ep.dist.name, ep.dist.version
        return None

    def preload(self, kind: str) -> None:
        """Load every installed plugin of ``kind`` now, so that no later lookup of one pays
        for scanning the installed distributions (milliseconds). A scheduler preloads
        triggers when it starts: reading any stored task needs its trigger's class. A
        plugin that fails to load is skipped here; looking it up raises its error."""
        if not self.autoload:
            return
        with self._lock:
            for ep in metadata.entry_points(group=KINDS[kind].group):
                if ep.name not in self._classes[kind]:
                    with contextlib.suppress(PluginLoadError):
                        self._load_entry_point(KINDS[kind], ep)

    # ------------------------------------------------------------------ internals
    def _load_entry_points(self, kind: PluginKind, alias: str) -> None:
        for ep in metadata.entry_points(group=kind.group, name=alias):
            self._load_entry_point(kind, ep)
        self._collect(kind.name)

    def _load_entry_point(self, kind: PluginKind, ep: metadata.EntryPoint) -> None:
        dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "an unknown distribution"
        try:
            plugin = ep.load()
        except Exception as exc:
            raise PluginLoadError(
                f"The {kind.name} plugin {ep.name!r} from {dist} is installed but failed to "
                f"import ({ep.value}): {type(exc).__name__}: {exc}. Reinstall it, or install "
                "its missing dependency."
            ) from exc
        self._register_module(plugin, ep.name, dist)
        self._collect(kind.name)

    def _register_module(self, plugin: ModuleType | object, name: str, dist: str) -> None:
        if self.manager.is_registered(plugin):
            return
        try:
            self.manager.register(plugin, name=f"{name}@{dist}")
        except Exception as exc:
            raise PluginLoadError(
                f"Plugin {name!r} from {dist} could not be registered: {exc}"
            ) from exc

    def _collect(self, kind_name: str) -> None:
        kind = KINDS[kind_name]
        hook = getattr(self.manager.hook, kind.hook)
        for impl in hook.get_hookimpls():

            def register(alias: str, cls: type[Any], _source: str = impl.plugin_name) -> None:
                self._add(kind, alias, cls, _source)

            try:
                impl.function(register)
            except PluginLoadError:
                raise
            except Exception as exc:
                raise PluginLoadError(
                    f"Plugin {impl.plugin_name!r} failed while registering its {kind.name}s: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc

    def _add(self, kind: PluginKind, alias: str, cls: type[Any], source: str) -> None:
        if not isinstance(alias, str) or not _ALIAS.match(alias):
            raise PluginLoadError(f"{source} registered an invalid {kind.name} alias {alias!r}")
        from asyncz.tasks.references import resolve_reference

        base = resolve_reference(kind.base)
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PluginLoadError(
                f"{source} registered {cls!r} as {kind.name} {alias!r}, but it is not a "
                f"subclass of {kind.base.replace(':', '.')}"
            )
        existing = self._classes[kind.name].get(alias)
        if existing is not None and existing is not cls:
            raise PluginLoadError(
                f"Two plugins claim the {kind.name} alias {alias!r}: "
                f"{existing.__module__}.{existing.__qualname__} and "
                f"{cls.__module__}.{cls.__qualname__} (from {source})"
            )
        self._classes[kind.name][alias] = cls


@functools.cache
def default_registry() -> PluginRegistry:
    """The process-wide registry used when no scheduler provides one."""
    return PluginRegistry()
