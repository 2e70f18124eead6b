"""Serializers: task state dict <-> bytes.

A serializer only turns data into bytes; the record envelope (which serializer wrote the
bytes) and encryption are the codec's business (:mod:`asyncz.serialization.codec`).
"""

from __future__ import annotations

import json
import pickle
from typing import Any, ClassVar, Protocol, runtime_checkable

from asyncz.exceptions import TaskEncodeError
from asyncz.serialization.jsontags import (
    SUPPORTED_TYPES,
    UnsupportedValue,
    find_unsupported,
    from_jsonable_object,
    to_jsonable,
)


@runtime_checkable
class Serializer(Protocol):
    """Turns a task state dict into bytes and back.

    ``name`` is written in every plain record (ASCII, at most 255 bytes) so a reader knows
    which serializer to use. ``dumps`` raises :class:`~asyncz.exceptions.TaskEncodeError`
    for state it cannot keep; ``loads`` may raise anything, the codec reports it.
    """

    name: ClassVar[str]
    #: True if loading untrusted bytes can run code (pickle); such records are only read
    #: when they are authenticated or the store opted into this serializer.
    executes_code: ClassVar[bool]

    def dumps(self, state: dict[str, Any]) -> bytes: ...

    def loads(self, data: bytes) -> dict[str, Any]: ...


class PickleSerializer:
    """Any picklable argument; reading a pickle runs code, so unauthenticated pickle records
    are only read by stores configured with ``serializer="pickle"``."""

    name: ClassVar[str] = "pickle"
    executes_code: ClassVar[bool] = True

    def __init__(self, protocol: int = pickle.HIGHEST_PROTOCOL) -> None:
        self.protocol = protocol

    def dumps(self, state: dict[str, Any]) -> bytes:
        try:
            return pickle.dumps(state, protocol=self.protocol)
        except Exception as exc:
            raise TaskEncodeError(
                f"cannot pickle the task state: {type(exc).__name__}: {exc}"
            ) from exc

    def loads(self, data: bytes) -> dict[str, Any]:
        # The codec only calls this on authenticated bytes or when the store opted in.
        return _require_dict(pickle.loads(data))


class JSONSerializer:
    """JSON with tagged values for datetimes, bytes, tuples, sets, ... (see ``jsontags``).

    Reading a JSON record never runs code. Arguments of other types are refused with a
    :class:`~asyncz.exceptions.TaskEncodeError` rather than stored as something else.
    """

    name: ClassVar[str] = "json"
    executes_code: ClassVar[bool] = False

    def dumps(self, state: dict[str, Any]) -> bytes:
        try:
            data = to_jsonable(state)
        except UnsupportedValue as exc:
            raise _unsupported(state, exc.value) from None
        except RecursionError:
            raise TaskEncodeError(
                "the task state is nested too deeply or contains itself; the JSON serializer "
                "keeps plain, finite data only"
            ) from None
        return json.dumps(data, separators=(",", ":")).encode()

    def loads(self, data: bytes) -> dict[str, Any]:
        return _require_dict(json.loads(data, object_hook=from_jsonable_object))


def _unsupported(state: dict[str, Any], value: object) -> TaskEncodeError:
    kind = type(value)
    where = find_unsupported(state, value)
    location = f" at {where}" if where else ""
    return TaskEncodeError(
        f"the JSON serializer cannot store a value of type "
        f"{kind.__module__}.{kind.__qualname__}{location}. Pass plain data ({SUPPORTED_TYPES}) "
        "as task arguments, or use serializer='pickle', ideally with an encryption key "
        "(ASYNCZ_STORE_ENCRYPTION_KEY) so nobody else can write pickles into the store."
    )


def _require_dict(value: object) -> dict[str, Any]:
    if type(value) is not dict:
        raise ValueError(f"the payload holds a {type(value).__name__}, not a task state dict")
    return value


__all__ = ["JSONSerializer", "PickleSerializer", "Serializer"]
