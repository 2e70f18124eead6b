"""Which store a command works on: a URL, an alias with options, or a config file's store.

A URL scheme leads to a store by convention, never through a table kept here: every
installed store plugin is asked for its class's ``url_schemes`` (``("redis", "rediss")``)
and the class that lists the scheme builds itself with ``from_url(url, **options)``.
``postgresql+psycopg://`` matches a class listing ``postgresql+psycopg``, else one listing
``postgresql``. Plugins whose alias equals the scheme are asked first, so ``redis://``
imports only the redis plugin.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from asyncz.cli._config import load_config, store_configs
from asyncz.cli._errors import CLIError, one_line
from asyncz.exceptions import AsynczException, PluginLoadError, UnknownPluginError
from asyncz.plugins.registry import PluginRegistry
from asyncz.schedulers.config import build_plugin, validate_options
from asyncz.stores.base import BaseStore

#: Environment variable holding the ``--store`` value when the option is not given.
STORE_ENV = "ASYNCZ_STORE"

_ALIAS = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
_CREDENTIALS = re.compile(r"(?<=://)([^:/@]*):[^@/]*@")
logger = logging.getLogger("asyncz.cli")


@dataclass(frozen=True)
class StoreTarget:
    """A store to open: its alias (used in messages) and how to build it."""

    alias: str
    build: Callable[[], BaseStore]


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    return _CREDENTIALS.sub(r"\1:***@", url)


def store_targets(
    args: Any, registry: PluginRegistry, *, every_config_store: bool = False, required: bool = True
) -> list[StoreTarget]:
    """The store(s) named by ``--store``, ``--store-type`` or ``--config`` (options from
    ``_parsing.store_options``); ``--store`` defaults to ``$ASYNCZ_STORE``.

    With ``--config``, one store (``--store-alias``, else ``default``, else the only one), or
    all of them when ``every_config_store``.
    """
    store = args.store or (None if args.store_type or args.config else os.environ.get(STORE_ENV))
    given = [
        name
        for name, value in (
            ("--store", store),
            ("--store-type", args.store_type),
            ("--config", args.config),
        )
        if value
    ]
    if len(given) > 1:
        raise CLIError(f"give only one of {' and '.join(given)}")
    options = parse_store_options(args.store_option or [])
    if options and not (store or args.store_type):
        raise CLIError("--store-option goes with --store or --store-type")
    if args.config:
        return _config_targets(args.config, args.store_alias, registry, every_config_store)
    alias = args.store_alias or "default"
    if args.store_type:
        return [StoreTarget(alias, lambda: _from_alias(args.store_type, alias, options, registry))]
    if store:
        if _ALIAS.match(store):
            return [StoreTarget(alias, lambda: _from_alias(store, alias, options, registry))]
        return [StoreTarget(alias, lambda: store_from_url(store, options, registry))]
    if required:
        raise CLIError(
            "no store given: use --store URL (e.g. sqlite:///./asyncz.sqlite3, "
            "redis://localhost:6379/0), --store-type ALIAS --store-option KEY=VALUE, "
            f"--config FILE, or set {STORE_ENV}"
        )
    return []


def parse_store_options(pairs: Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` as a dict; values starting with ``[`` or ``{`` are JSON."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--store-option {pair!r}: expected KEY=VALUE (e.g. directory=./tasks)")
        parsed: Any = value
        if value.startswith(("[", "{")):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError as exc:
                raise CLIError(f"--store-option {key}: invalid JSON: {exc.msg}") from None
        options[key.strip()] = parsed
    return options


def _from_alias(
    alias: str, name: str, options: dict[str, Any], registry: PluginRegistry
) -> BaseStore:
    store: BaseStore = build_plugin("store", name, {"type": alias, **options}, BaseStore, registry)
    return store


def _config_targets(
    path: str, wanted: str | None, registry: PluginRegistry, every: bool
) -> list[StoreTarget]:
    specs = store_configs(load_config(path), path)

    def target(name: str) -> StoreTarget:
        def build() -> BaseStore:
            try:
                store: BaseStore = build_plugin("store", name, specs[name], BaseStore, registry)
            except AsynczException as exc:
                raise CLIError(f"{path}: {exc}") from exc
            return store

        return StoreTarget(name, build)

    if wanted is not None:
        if wanted not in specs:
            raise CLIError(f"{path} has no store {wanted!r}; its stores: {', '.join(specs)}")
        return [target(wanted)]
    if every:
        return [target(name) for name in specs]
    if "default" in specs or len(specs) == 1:
        return [target("default" if "default" in specs else next(iter(specs)))]
    raise CLIError(f"{path} has several stores ({', '.join(specs)}): pick one with --store-alias")


# ---------------------------------------------------------------------- URLs
def scheme_of(url: str) -> str:
    scheme, sep, _ = url.partition(":")
    if not sep or not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", scheme):
        raise CLIError(f"--store {redact(url)!r} is neither a URL (scheme://...) nor a store alias")
    return scheme.lower()


def store_from_url(url: str, options: dict[str, Any], registry: PluginRegistry) -> BaseStore:
    """The store whose class claims the URL's scheme, built by its ``from_url``."""
    scheme = scheme_of(url)
    alias, cls = resolve_scheme(scheme, registry)
    if options:
        options = validate_options("store", alias, cls, options)
    try:
        store = cls.from_url(url, **options)
    except NotImplementedError:
        raise CLIError(
            f"the {alias!r} store lists {scheme}:// URLs but cannot be built from one; use "
            f"--store-type {alias} --store-option KEY=VALUE"
        ) from None
    except AsynczException:
        raise
    except (TypeError, ValueError) as exc:
        raise CLIError(f"--store {redact(url)}: {exc}") from exc
    if not isinstance(store, BaseStore):
        raise CLIError(f"{cls.__qualname__}.from_url returned {store!r}, not a store")
    return store


def resolve_scheme(scheme: str, registry: PluginRegistry) -> tuple[str, type[Any]]:
    """``(alias, class)`` of the store plugin claiming ``scheme``: an exact claim wins over
    one for the scheme without its ``+driver`` part."""
    base = scheme.split("+", 1)[0]
    aliases = sorted(registry.installed_aliases("store"), key=lambda a: a not in (scheme, base))
    claims: dict[type[Any], tuple[list[str], tuple[str, ...]]] = {}
    broken: list[str] = []
    fallback: tuple[str, type[Any]] | None = None
    for alias in aliases:
        try:
            cls = registry.store_class(alias)
        except (PluginLoadError, UnknownPluginError) as exc:
            broken.append(f"{alias} ({one_line(exc)})")
            continue
        schemes = tuple(s.lower() for s in getattr(cls, "url_schemes", ()))
        claims.setdefault(cls, ([], schemes))[0].append(alias)
        if scheme in schemes:
            return alias, cls
        if fallback is None and base in schemes:
            fallback = alias, cls
    if fallback is not None:
        return fallback
    listed = ", ".join(
        f"{'/'.join(names)} ({', '.join(f'{s}://' for s in schemes) or 'no URLs'})"
        for names, schemes in claims.values()
    )
    message = (
        f"no installed store understands {scheme}:// URLs. Installed stores and their URL "
        f"schemes: {listed or 'none'}. Install the store plugin for {scheme}, or name a store "
        "with --store-type ALIAS --store-option KEY=VALUE"
    )
    if broken:
        message += f". Store plugins that failed to load: {'; '.join(broken)}"
    raise CLIError(message)


# ---------------------------------------------------------------------- lifecycle
@contextlib.contextmanager
def opened(target: StoreTarget) -> Iterator[BaseStore]:
    """The target's store, built and started for the command, shut down afterwards."""
    with started(target.build(), target.alias) as store:
        yield store


@contextlib.contextmanager
def started(store: BaseStore, alias: str) -> Iterator[BaseStore]:
    """``store`` started (connected, without a scheduler) and shut down afterwards."""
    try:
        store.start(None, alias)
    except BaseException as exc:
        with contextlib.suppress(Exception):
            store.shutdown()
        if isinstance(exc, AsynczException | CLIError) or not isinstance(exc, Exception):
            raise
        raise CLIError(
            f"store {alias!r} ({store.describe()}) could not be opened: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        yield store
    finally:
        try:
            store.shutdown()
        except Exception as exc:
            logger.warning("Store %r did not shut down cleanly: %s", alias, exc)


__all__ = [
    "STORE_ENV",
    "StoreTarget",
    "opened",
    "parse_store_options",
    "redact",
    "resolve_scheme",
    "scheme_of",
    "started",
    "store_from_url",
    "store_targets",
]
