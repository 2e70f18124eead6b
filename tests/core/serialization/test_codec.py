"""TaskCodec: envelope, options, and the reading rules for plain records."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncz.exceptions import ConfigurationError, TaskDecodeError, TaskEncodeError
from asyncz.serialization import JSONSerializer, PickleSerializer, TaskCodec, build_codec
from asyncz.serialization.envelope import FORMAT_VERSION, MAGIC, pack_plain

NS = "tasks"
KEY = "codec test key"


def state(task_id: str = "t1", **extra: Any) -> dict[str, Any]:
    return {
        "v": 1,
        "id": task_id,
        "name": "report",
        "fn": "myapp.jobs:send_report",
        "args": [1, "two", (3, 4)],
        "kwargs": {"when": datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC)},
        "trigger": {"type": "interval", "state": {"seconds": 30}},
        "executor": "default",
        "mistrigger_grace_time": 0.5,
        "coalesce": True,
        "max_instances": 1,
        "next_run_time": datetime(2030, 6, 15, 12, 0, 30, tzinfo=UTC),
        **extra,
    }


def codec(serializer: str | None = None, key: str | list[str] | None = None) -> TaskCodec:
    return build_codec(serializer, encryption_key=key, environ={})


@pytest.mark.parametrize("serializer", ["json", "pickle"])
@pytest.mark.parametrize("key", [None, KEY])
def test_roundtrip(serializer: str, key: str | None) -> None:
    chosen = codec(serializer, key)
    payload = chosen.encode(state(), task_id="t1", namespace=NS)
    assert chosen.decode(payload, task_id="t1", namespace=NS) == state()
    assert chosen.encrypted is (key is not None)


def test_plain_envelope_names_its_serializer() -> None:
    payload = codec("json").encode(state(), task_id="t1", namespace=NS)
    assert payload.startswith(MAGIC + bytes((FORMAT_VERSION, ord("P"), 4)) + b"json{")
    payload = codec("pickle").encode(state(), task_id="t1", namespace=NS)
    assert payload.startswith(MAGIC + bytes((FORMAT_VERSION, ord("P"), 6)) + b"pickle\x80")


def test_defaults() -> None:
    assert isinstance(codec().serializer, JSONSerializer)
    pickled = build_codec(pickle_protocol=4, environ={})
    assert isinstance(pickled.serializer, PickleSerializer) and pickled.serializer.protocol == 4
    highest = build_codec("pickle", environ={}).serializer
    assert isinstance(highest, PickleSerializer)
    assert highest.protocol == pickle.HIGHEST_PROTOCOL
    assert codec().key_id is None and "not encrypted" in codec().describe()


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ({"serializer": "yaml"}, "serializer='yaml' is not known"),
        ({"serializer": "json", "pickle_protocol": 4}, "pickle_protocol=4 only applies"),
        ({"serializer": "pickle", "pickle_protocol": 99}, "pickle_protocol=99"),
        ({"pickle_protocol": "5"}, "pickle_protocol='5'"),
        ({"serializer": object()}, "serializer must be"),
    ],
)
def test_bad_options_raise_configuration_error(options: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        build_codec(**options, environ={})


class UpperSerializer:
    """A custom serializer: proves the Serializer protocol is all a codec needs."""

    name: ClassVar[str] = "upper-json"
    executes_code: ClassVar[bool] = False

    def dumps(self, state: dict[str, Any]) -> bytes:
        return JSONSerializer().dumps(state).upper()

    def loads(self, data: bytes) -> dict[str, Any]:
        return JSONSerializer().loads(data.lower())


def test_custom_serializer_is_named_in_its_records() -> None:
    custom = build_codec(UpperSerializer(), environ={})
    simple = {"id": "t1", "args": ["abc"]}
    payload = custom.encode(simple, task_id="t1", namespace=NS)
    assert b"upper-json" in payload
    assert custom.decode(payload, task_id="t1", namespace=NS) == simple
    with pytest.raises(TaskDecodeError, match="serializer 'upper-json', which this store does"):
        codec("json").decode(payload, task_id="t1", namespace=NS)


def test_custom_serializer_needs_a_short_ascii_name() -> None:
    class Nameless(UpperSerializer):
        name: ClassVar[str] = "x" * 300

    with pytest.raises(ConfigurationError, match="1 to 255 ASCII"):
        build_codec(Nameless(), environ={})


def test_encode_errors_name_the_task() -> None:
    with pytest.raises(TaskEncodeError, match="Task 'job-7' cannot be stored.*object"):
        codec("json").encode({"args": [object()]}, task_id="job-7", namespace=NS)
    with pytest.raises(TaskEncodeError, match="Task 'job-8' cannot be stored"):
        codec("pickle").encode({"args": [lambda: None]}, task_id="job-8", namespace=NS)


class ExplodingSerializer(UpperSerializer):
    name: ClassVar[str] = "exploding"

    def dumps(self, state: dict[str, Any]) -> bytes:
        raise KeyError("boom")

    def loads(self, data: bytes) -> dict[str, Any]:
        raise KeyError("boom")


def test_any_serializer_failure_is_a_task_error() -> None:
    exploding = build_codec(ExplodingSerializer(), environ={})
    with pytest.raises(TaskEncodeError, match="KeyError"):
        exploding.encode({}, task_id="t1", namespace=NS)
    with pytest.raises(TaskDecodeError, match="KeyError: 'boom'") as caught:
        exploding.decode(pack_plain("exploding", b"{}"), task_id="t1", namespace=NS)
    assert caught.value.task_id == "t1"


# ------------------------------------------------------------------ unreadable envelopes
@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        (b"", "not an asyncz record"),
        (b'{"id": "legacy"}', "not an asyncz record"),
        (pickle.dumps({"id": "legacy"}), "not an asyncz record"),
        (MAGIC, "truncated"),
        (MAGIC + b"\x01", "truncated"),
        (MAGIC + b"\x01P", "truncated"),
        (MAGIC + b"\x01P\x04js", "truncated"),
        (MAGIC + b"\x02P\x04json{}", "written by a newer asyncz"),
        (MAGIC + b"\x01Z\x04json{}", "written by a newer asyncz"),
        (MAGIC + b"\x01P\x04json{", "cannot read the json payload"),
        (MAGIC + b"\x01P\x04json[]", "not a task state dict"),
        (MAGIC + b"\x01P\x02\xff\xfe{}", "not ASCII"),
        (MAGIC + b"\x01E" + b"\x00" * 20, "truncated encrypted record"),
    ],
)
def test_unreadable_records_say_why(payload: bytes, needle: str) -> None:
    for reader in (codec("json"), codec("pickle")):
        with pytest.raises(TaskDecodeError, match=needle) as caught:
            reader.decode(payload, task_id="t1", namespace=NS)
        assert caught.value.task_id == "t1"
    # With a key, an intact plain envelope is refused before its body is even looked at.
    with pytest.raises(TaskDecodeError, match=f"{needle}|is not encrypted"):
        codec("json", KEY).decode(payload, task_id="t1", namespace=NS)


def test_non_bytes_payload_is_a_decode_error() -> None:
    with pytest.raises(TaskDecodeError, match="not bytes"):
        codec().decode("text", task_id="t1", namespace=NS)  # type: ignore[arg-type]


def test_golden_plain_record_stays_readable() -> None:
    """Format version 1 is a promise: records written today must read tomorrow."""
    golden = (
        b'\x8aAZR\x01P\x04json{"id":"golden","args":[1,"two"],'
        b'"when":{"__az__":"datetime","v":"2030-01-02T03:04:05.000006+00:00"}}'
    )
    expected = {"id": "golden", "args": [1, "two"], "when": datetime(2030, 1, 2, 3, 4, 5, 6, UTC)}
    assert codec().decode(golden, task_id="golden", namespace=NS) == expected


# ------------------------------------------------------------------ pickle rules
class _Pwned:
    def __reduce__(self) -> tuple[Any, ...]:
        return (exec, ("import builtins; builtins._asyncz_pwned = True",))


def evil_pickle_record() -> bytes:
    return pack_plain("pickle", pickle.dumps({"id": "t1", "payload": _Pwned()}))


def test_plain_pickle_is_refused_by_a_json_store_and_never_loaded() -> None:
    import builtins

    for reader in (codec("json"), codec("json", KEY)):
        with pytest.raises(TaskDecodeError, match=r"refused|not encrypted"):
            reader.decode(evil_pickle_record(), task_id="t1", namespace=NS)
    assert not hasattr(builtins, "_asyncz_pwned")


def test_plain_pickle_is_refused_by_a_custom_serializer_store() -> None:
    with pytest.raises(TaskDecodeError, match="can run arbitrary code"):
        build_codec(UpperSerializer(), environ={}).decode(
            evil_pickle_record(), task_id="t1", namespace=NS
        )


def test_plain_pickle_is_read_when_the_store_opted_into_pickle() -> None:
    payload = codec("pickle").encode(state(), task_id="t1", namespace=NS)
    assert codec("pickle").decode(payload, task_id="t1", namespace=NS) == state()


def test_plain_json_is_read_by_a_pickle_store() -> None:
    payload = codec("json").encode(state(), task_id="t1", namespace=NS)
    assert codec("pickle").decode(payload, task_id="t1", namespace=NS) == state()


def test_authenticated_pickle_is_read_by_a_json_store_with_the_key() -> None:
    """The key holder wrote it, so switching a store from pickle to JSON keeps old records."""
    payload = codec("pickle", KEY).encode(state(), task_id="t1", namespace=NS)
    assert codec("json", KEY).decode(payload, task_id="t1", namespace=NS) == state()


# ------------------------------------------------------------------ fuzzing
READERS = (codec("json"), codec("pickle"), codec("json", KEY))
VALID = [
    codec("json").encode(state(), task_id="t1", namespace=NS),
    codec("json", KEY).encode(state(), task_id="t1", namespace=NS),
]


def decode_or_error(reader: TaskCodec, payload: bytes) -> object:
    """The state, or the TaskDecodeError; any other exception fails the test."""
    try:
        return reader.decode(payload, task_id="t1", namespace=NS)
    except TaskDecodeError as exc:
        return exc


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.binary(max_size=60).map(lambda tail: MAGIC + tail))
def test_arbitrary_bytes_only_ever_raise_task_decode_error(payload: bytes) -> None:
    for reader in READERS:
        assert isinstance(decode_or_error(reader, payload), dict | TaskDecodeError)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VALID), st.data())
def test_mutated_records_only_ever_raise_task_decode_error(payload: bytes, data: Any) -> None:
    index = data.draw(st.integers(0, len(payload) - 1))
    replacement = data.draw(st.binary(max_size=8))
    mutated = payload[:index] + replacement + payload[index + 1 :]
    for reader in READERS:
        assert isinstance(decode_or_error(reader, mutated), dict | TaskDecodeError)


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"x":{"__az__":"timedelta","v":[1e400,0,0]}}',
        b'{"x":{"__az__":"datetime","v":"2030-13-45"}}',
        b'{"x":{"__az__":"datetime","v":"2030-01-01T00:00:00","tz":"No/Such_Zone"}}',
        b'{"x":{"__az__":"bytes","v":"***"}}',
        b'{"x":{"__az__":"set","v":[[1]]}}',
    ],
)
def test_hostile_json_bodies_are_decode_errors(body: bytes) -> None:
    with pytest.raises(TaskDecodeError, match="cannot read the json payload"):
        codec().decode(pack_plain("json", body), task_id="t1", namespace=NS)
