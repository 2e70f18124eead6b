"""The JSON serializer: tagged values round-trip exactly; anything else is refused."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncz.exceptions import TaskEncodeError
from asyncz.serialization import JSONSerializer
from asyncz.serialization.jsontags import TAG

SERIALIZER = JSONSerializer()


def roundtrip(value: Any) -> Any:
    return SERIALIZER.loads(SERIALIZER.dumps({"value": value}))["value"]


def assert_identical(got: Any, want: Any) -> None:
    """Equal, with the same types all the way down (a tuple must not come back a list)."""
    assert type(got) is type(want), f"{got!r} is {type(got)}, expected {type(want)}"
    if isinstance(want, dict):
        assert len(got) == len(want)
        for (got_key, got_item), (want_key, want_item) in zip(
            got.items(), want.items(), strict=True
        ):
            assert_identical(got_key, want_key)
            assert_identical(got_item, want_item)
    elif isinstance(want, list | tuple):
        assert len(got) == len(want)
        for got_item, want_item in zip(got, want, strict=True):
            assert_identical(got_item, want_item)
    elif isinstance(want, datetime | time):
        assert got == want
        assert got.tzinfo == want.tzinfo or got.utcoffset() == want.utcoffset()
        assert got.fold == want.fold
        if isinstance(want.tzinfo, ZoneInfo):
            assert got.tzinfo is want.tzinfo
            assert got.replace(tzinfo=None) == want.replace(tzinfo=None)
    else:
        assert got == want


@pytest.mark.parametrize(
    "value",
    [
        datetime(2030, 6, 15, 12, 0, 0, 123456, tzinfo=UTC),
        datetime(2030, 6, 15, 12, 0, 0, 123456),
        datetime(2030, 6, 15, 12, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        datetime(2030, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),
        datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
        datetime(2024, 3, 10, 2, 30, tzinfo=ZoneInfo("America/New_York")),  # in the DST gap
        date(1999, 12, 31),
        time(23, 59, 59, 999999),
        time(8, 0, tzinfo=timezone(timedelta(hours=2))),
        timedelta(days=-3, seconds=5, microseconds=7),
        Decimal("3.14159265358979323846264338327950288"),
        UUID("12345678-1234-5678-1234-567812345678"),
        b"\x00\xffbytes",
        (1, "two", (3.0, None)),
        {1, 2, 3},
        frozenset({"a", "b"}),
        {1: "int key", (2, 3): "tuple key", None: "none key", frozenset({4}): "set key"},
        {TAG: "datetime", "v": "not a tag, a user dict"},
        {"nested": {TAG: "bytes", "v": "AA=="}},
        [[], {}, (), "", 0, -0.5, True, False, None],
        10**40,
        "unicode ✓ \u2028 \x00",
    ],
)
def test_tagged_values_roundtrip(value: Any) -> None:
    assert_identical(roundtrip(value), value)


def test_user_dict_with_the_tag_key_is_not_read_as_a_tag() -> None:
    lookalike = {TAG: "bytes", "v": "AAAA"}
    assert roundtrip(lookalike) == lookalike
    assert roundtrip([lookalike]) == [lookalike]


def test_a_typical_state_stays_compact_json() -> None:
    state = {"id": "a", "args": [1, "x"], "next_run_time": datetime(2030, 1, 1, tzinfo=UTC)}
    data = SERIALIZER.dumps(state)
    assert b" " not in data  # separators=(",", ":")
    assert json.loads(data)["next_run_time"] == {TAG: "datetime", "v": "2030-01-01T00:00:00+00:00"}


class Color(enum.IntEnum):
    RED = 1


class Custom:
    pass


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (Custom(), "Custom"),
        (Color.RED, "Color"),
        (OrderedDict(a=1), "OrderedDict"),
        (bytearray(b"x"), "bytearray"),
        (1 + 2j, "complex"),
        (ZoneInfo("UTC"), "ZoneInfo"),
    ],
)
def test_other_types_are_refused_naming_type_and_place(value: Any, type_name: str) -> None:
    with pytest.raises(TaskEncodeError) as caught:
        SERIALIZER.dumps({"kwargs": {"when": [1, value]}})
    message = str(caught.value)
    assert type_name in message
    assert "['kwargs']['when'][1]" in message
    assert "serializer='pickle'" in message


def test_self_referencing_state_is_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(TaskEncodeError, match="contains itself"):
        SERIALIZER.dumps({"args": loop})


@pytest.mark.parametrize(
    "payload",
    [
        b'{"x":{"__az__":"nope","v":1}}',
        b'{"x":{"__az__":"bytes"}}',
        b'{"x":{"__az__":"dict","v":[[[1],2]]}}',
        b'{"x":{"__az__":"datetime","v":"2030-01-01T00:00:00+00:00","tz":"UTC"}}',
        b"[1, 2]",
        b"{",
    ],
)
def test_malformed_json_raises(payload: bytes) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the codec turns any of them into TaskDecodeError
        SERIALIZER.loads(payload)


# ------------------------------------------------------------------ property-based
hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(max_size=20),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.uuids(),
    st.dates(),
    st.timedeltas(),
    st.times(timezones=st.none() | st.timezones()),
    st.datetimes(timezones=st.none() | st.timezones(), allow_imaginary=True),
)
hashables = st.recursive(
    hashable_scalars,
    lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
    max_leaves=5,
)
values = st.recursive(
    hashables,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.sets(hashables, max_size=3),
        st.dictionaries(st.text(max_size=6) | st.just(TAG) | st.just("v"), inner, max_size=4),
        st.dictionaries(hashables, inner, max_size=3),
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_supported_value_roundtrips(value: Any) -> None:
    assert_identical(roundtrip(value), value)
