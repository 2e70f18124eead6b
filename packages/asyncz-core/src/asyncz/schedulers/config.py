"""Scheduler configuration: flat prefixed dicts, plugin specs, validated options.

Every config form resolves to an instance:

* an instance (``MemoryStore()``) is used as is;
* a class (``CustomStore``) is instantiated without options;
* an alias string (``"memory"``) is looked up in the plugin registry;
* a dict with ``"type"`` (alias) or ``"class"`` (``"pkg.mod:Cls"`` or a class) plus options.

Options are validated against the class's constructor with pydantic; an error names the
plugin, the option and the reason.
"""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Mapping
from datetime import timedelta, tzinfo
from typing import Any

import pydantic

from asyncz.exceptions import ConfigurationError
from asyncz.plugins.registry import PluginRegistry
from asyncz.tasks.references import resolve_reference

PREFIX = "asyncz."


def unflatten(global_config: Mapping[str, Any], prefix: str = PREFIX) -> dict[str, Any]:
    """``{"asyncz.stores.default.type": "file"}`` -> ``{"stores": {"default": {"type": "file"}}}``.
    Keys without the prefix are ignored (the dict may hold the whole app's settings)."""
    nested: dict[str, Any] = {}
    for key, value in global_config.items():
        if not key.startswith(prefix):
            continue
        parts = key[len(prefix) :].split(".")
        node = nested
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigurationError(f"config key {key!r} conflicts with {prefix}{part!r}")
            node = child
        node[parts[-1]] = value
    return nested


def build_plugin(
    kind: str, alias: str, spec: Any, base: type[Any], registry: PluginRegistry
) -> Any:
    """Turn one store/executor config entry into an instance (see module docstring)."""
    if isinstance(spec, base):
        return spec
    if isinstance(spec, type):
        return instantiate(kind, alias, spec, {}, base)
    if isinstance(spec, str):
        return instantiate(kind, alias, registry.lookup(kind, spec), {}, base)
    if isinstance(spec, Mapping):
        options = dict(spec)
        if "type" in options and "class" in options:
            raise ConfigurationError(f"{kind} {alias!r}: give either 'type' or 'class', not both")
        if "type" in options:
            cls = registry.lookup(kind, options.pop("type"))
        elif "class" in options:
            cls = options.pop("class")
            if isinstance(cls, str):
                try:
                    cls = resolve_reference(cls)
                except (ImportError, AttributeError, ValueError) as exc:
                    raise ConfigurationError(
                        f"{kind} {alias!r}: cannot import class: {exc}"
                    ) from exc
        else:
            raise ConfigurationError(
                f"{kind} {alias!r}: a dict config needs 'type' (an alias such as 'memory') "
                "or 'class' ('package.module:Class')"
            )
        return instantiate(kind, alias, cls, options, base)
    raise ConfigurationError(
        f"{kind} {alias!r}: expected an instance, a class, an alias or a dict, got {spec!r}"
    )


def instantiate(kind: str, alias: str, cls: Any, options: dict[str, Any], base: type[Any]) -> Any:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ConfigurationError(
            f"{kind} {alias!r}: {cls!r} is not a subclass of {base.__module__}.{base.__qualname__}"
        )
    validated = validate_options(kind, alias, cls, options)
    try:
        return cls(**validated)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"{kind} {alias!r} ({cls.__name__}): {exc}") from exc


def validate_options(
    kind: str, alias: str, cls: type[Any], options: dict[str, Any]
) -> dict[str, Any]:
    """Check and coerce constructor options (strings from flat configs become ints, ...)."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return options
    params = [p for name, p in signature.parameters.items() if name != "self"]
    named = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    takes_extra = any(p.kind is p.VAR_KEYWORD for p in params)
    where = f"{kind} {alias!r} ({cls.__name__})"
    unknown = [name for name in options if name not in named]
    if unknown and not takes_extra:
        accepted = ", ".join(named) or "none"
        raise ConfigurationError(
            f"{where}: unknown option {unknown[0]!r}. Accepted options: {accepted}."
        )
    checked_names = tuple(sorted(name for name in options if name in named))
    model = _options_model(cls, checked_names)  # type: ignore[arg-type]
    if model is None:
        return options
    try:
        checked = model(**{name: options[name] for name in model.model_fields})
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        option = ".".join(str(part) for part in error["loc"])
        raise ConfigurationError(
            f"{where}: invalid value for option {option!r}: {error['msg']} "
            f"(got {error.get('input')!r})"
        ) from exc
    fields = model.model_fields
    return {**options, **{name: getattr(checked, name) for name in fields}}


@functools.lru_cache(maxsize=256)
def _options_model(cls: type[Any], names: tuple[str, ...]) -> type[pydantic.BaseModel] | None:
    """A pydantic model checking the annotated constructor options ``names`` of ``cls``
    (built once per class and option set)."""
    hints = _type_hints(cls.__init__)
    fields: dict[str, Any] = {name: (hints[name], ...) for name in names if name in hints}
    if not fields:
        return None
    model: type[pydantic.BaseModel] = pydantic.create_model(
        f"{cls.__name__}Options",
        __config__=pydantic.ConfigDict(arbitrary_types_allowed=True),
        **fields,
    )
    return model


def _type_hints(function: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(function)
    except Exception:
        return {}


class TaskDefaults(pydantic.BaseModel):
    """Defaults applied to tasks that do not set these options themselves.

    ``mistrigger_grace_time``: how late (seconds) a run may start and still run; later
    runs are reported as missed. ``None`` means no limit. The default, 60 s, absorbs load
    spikes and slow stores, which a 1 s grace turns into spurious misses.
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    mistrigger_grace_time: float | None = 60.0
    coalesce: bool = True
    max_instances: int = 1

    @pydantic.field_validator("mistrigger_grace_time", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, timedelta):
            return value.total_seconds()
        if value in ("", "none", "None", "null"):
            return None
        return value

    @pydantic.field_validator("mistrigger_grace_time")
    @classmethod
    def _positive(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be a positive number of seconds, or None for no limit")
        return value

    @pydantic.field_validator("max_instances")
    @classmethod
    def _at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value


class Tuning(pydantic.BaseModel):
    """Scheduler knobs (seconds unless said otherwise).

    ``store_poll_interval``: how often a durable store is checked for tasks other processes
    wrote, when it offers no push signal. ``store_retry_interval``: pause after a store
    error. ``lease_duration``: how long a claimed fire stays reserved without renewal (the
    time another process waits before re-running the fire of a dead one). ``claim_batch_size``:
    most fires claimed per pass. ``claim_retry_interval``: back-off while another scheduler
    holds the due fires. ``lock_path``: optional same-host lock file per store, e.g.
    ``"/run/app/asyncz-{store}.lock"`` (for stores without claims).
    """

    model_config = pydantic.ConfigDict(extra="forbid")

    store_poll_interval: pydantic.PositiveFloat = 5.0
    store_retry_interval: pydantic.PositiveFloat = 5.0
    lease_duration: pydantic.PositiveFloat = 30.0
    claim_batch_size: pydantic.PositiveInt = 500
    claim_retry_interval: pydantic.PositiveFloat = 0.5
    lock_path: str | None = None


def parse_tuning(values: Mapping[str, Any]) -> Tuning:
    try:
        return Tuning(**{k: v for k, v in values.items() if k in Tuning.model_fields})
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        option = ".".join(str(part) for part in error["loc"])
        raise ConfigurationError(
            f"scheduler option {option!r}: {error['msg']} (got {error.get('input')!r})"
        ) from exc


def parse_task_defaults(values: Mapping[str, Any] | None) -> TaskDefaults:
    try:
        return TaskDefaults(**dict(values or {}))
    except pydantic.ValidationError as exc:
        error = exc.errors()[0]
        option = ".".join(str(part) for part in error["loc"])
        raise ConfigurationError(
            f"task_defaults: invalid option {option!r}: {error['msg']} (got {error.get('input')!r})"
        ) from exc


def parse_timezone(value: str | tzinfo | None) -> tzinfo:
    """A tzinfo from an IANA name, 'UTC', or a tzinfo; ``None`` means the local zone."""
    from asyncz.timezones import local_timezone, to_timezone

    if value is None:
        return local_timezone()
    try:
        return to_timezone(value)
    except Exception as exc:
        raise ConfigurationError(f"timezone: {exc}") from exc


__all__ = [
    "TaskDefaults",
    "Tuning",
    "build_plugin",
    "instantiate",
    "parse_task_defaults",
    "parse_timezone",
    "parse_tuning",
    "unflatten",
    "validate_options",
]
