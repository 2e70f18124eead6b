"""Plain data <-> JSON-native data, with tags for the Python types JSON lacks.

A tagged value is a two-key object ``{"__az__": <tag>, "v": <data>}``. User dicts that
contain the tag key, or have keys that are not strings, are themselves written as the
tagged ``"dict"`` form (a list of key/value pairs), so no user data can be read back as a
tag and every JSON object carrying ``"__az__"`` was written by this module.

Aware datetimes keep their zone when it is a ``ZoneInfo`` (the IANA key is written) or a
fixed ``timezone``; any other ``tzinfo`` is kept as its UTC offset at that instant.

Types are matched exactly (``type(value) is ...``): a subclass such as an ``IntEnum``, a
named tuple or a ``defaultdict`` would silently come back as its base type, so it is
refused instead.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

TAG = "__az__"

_Clock = TypeVar("_Clock", datetime, time)

#: What the JSON serializer keeps, for error messages.
SUPPORTED_TYPES = (
    "str, int, float, bool, None, list, dict, tuple, set, frozenset, bytes, datetime, date, "
    "time, timedelta, Decimal, UUID"
)


class UnsupportedValue(TypeError):
    """A value the JSON form cannot keep; ``value`` is the offending object."""

    def __init__(self, value: object) -> None:
        super().__init__(type(value).__qualname__)
        self.value = value


def to_jsonable(value: Any) -> Any:
    """``value`` as JSON-native data; raises :class:`UnsupportedValue` for other types."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list:
        return [to_jsonable(item) for item in value]
    if kind is dict:
        return _dict_to_jsonable(value)
    tagger = _TAGGERS.get(kind)
    if tagger is None:
        raise UnsupportedValue(value)
    return tagger(value)


def _dict_to_jsonable(value: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str or key == TAG:
            pairs = [[to_jsonable(k), to_jsonable(v)] for k, v in value.items()]
            return {TAG: "dict", "v": pairs}
        out[key] = to_jsonable(item)
    return out


def _tag(name: str, data: Any) -> dict[str, Any]:
    return {TAG: name, "v": data}


def _clock_to_jsonable(tag: str, value: datetime | time) -> dict[str, Any]:
    zone = value.tzinfo
    if isinstance(zone, ZoneInfo) and zone.key:
        # Wall time + zone key + fold: the exact object, DST rules included.
        tagged = _tag(tag, value.replace(tzinfo=None).isoformat())
        tagged["tz"] = zone.key
    else:
        tagged = _tag(tag, value.isoformat())
    if value.fold:
        tagged["fold"] = 1
    return tagged


_TAGGERS: dict[type, Callable[[Any], Any]] = {
    datetime: lambda value: _clock_to_jsonable("datetime", value),
    date: lambda value: _tag("date", value.isoformat()),
    time: lambda value: _clock_to_jsonable("time", value),
    timedelta: lambda value: _tag("timedelta", [value.days, value.seconds, value.microseconds]),
    Decimal: lambda value: _tag("decimal", str(value)),
    UUID: lambda value: _tag("uuid", str(value)),
    bytes: lambda value: _tag("bytes", base64.b64encode(value).decode("ascii")),
    tuple: lambda value: _tag("tuple", [to_jsonable(item) for item in value]),
    set: lambda value: _tag("set", [to_jsonable(item) for item in value]),
    frozenset: lambda value: _tag("frozenset", [to_jsonable(item) for item in value]),
}


def find_unsupported(value: Any, target: object, path: str = "") -> str | None:
    """Where ``target`` sits inside ``value`` (e.g. ``"['kwargs']['when']"``), or ``None``.

    Only used to word an error message, so it may be slow.
    """
    if value is target:
        return path
    if type(value) is dict:
        for key, item in value.items():
            if key is target:
                return f"{path} (a dict key)"
            found = find_unsupported(item, target, f"{path}[{key!r}]")
            if found is not None:
                return found
    elif type(value) in (list, tuple, set, frozenset):
        for index, item in enumerate(value):
            found = find_unsupported(item, target, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def from_jsonable_object(obj: dict[str, Any]) -> Any:
    """``json.loads`` object hook: turns tagged objects back into their values.

    JSON objects are decoded innermost first, so a tag's data is already fully decoded.
    """
    tag = obj.get(TAG)
    if tag is None:
        return obj
    reader = _READERS.get(tag) if isinstance(tag, str) else None
    if reader is None or "v" not in obj:
        raise ValueError(f"unknown or malformed tagged value {obj!r}")
    return reader(obj)


def _read_clock(parse: Callable[[str], _Clock]) -> Callable[[dict[str, Any]], _Clock]:
    def read(obj: dict[str, Any]) -> _Clock:
        value = parse(obj["v"])
        if "tz" in obj:
            if value.tzinfo is not None:
                raise ValueError(f"{obj['v']!r} has both a UTC offset and a zone")
            value = value.replace(tzinfo=ZoneInfo(obj["tz"]))
        return value.replace(fold=1) if obj.get("fold") else value

    return read


def _read_dict(obj: dict[str, Any]) -> dict[Any, Any]:
    return {_hashable(key): item for key, item in obj["v"]}


def _hashable(key: Any) -> Any:
    if isinstance(key, list | dict | set):
        raise ValueError(f"unhashable dict key {key!r}")
    return key


_READERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "datetime": _read_clock(datetime.fromisoformat),
    "date": lambda obj: date.fromisoformat(obj["v"]),
    "time": _read_clock(time.fromisoformat),
    "timedelta": lambda obj: timedelta(*obj["v"]),
    "decimal": lambda obj: Decimal(obj["v"]),
    "uuid": lambda obj: UUID(obj["v"]),
    "bytes": lambda obj: base64.b64decode(obj["v"], validate=True),
    "tuple": lambda obj: tuple(obj["v"]),
    "set": lambda obj: set(obj["v"]),
    "frozenset": lambda obj: frozenset(obj["v"]),
    "dict": _read_dict,
}

__all__ = ["SUPPORTED_TYPES", "TAG", "UnsupportedValue", "find_unsupported", "to_jsonable"]
