"""Encrypted records: confidentiality, integrity, binding to task and store, key handling."""

from __future__ import annotations

import os
import pickle
import time
from typing import Any

import pytest

from asyncz.exceptions import TaskDecodeError
from asyncz.serialization import TaskCodec, build_codec
from asyncz.serialization.encryption import derive_key
from asyncz.serialization.envelope import (
    FORMAT_VERSION,
    KEY_ID_SIZE,
    MAGIC,
    NONCE_SIZE,
    SEALED_HEADER_SIZE,
    pack_plain,
    parse_record,
)

NS = "tasks"
KEY = "encryption test key: correct horse"
OLD_KEY = "the key we used last year"
FN = "myapp.billing:charge_customer"
SECRET_ARG = "card-4242-4242-4242-4242"


def state(task_id: str = "t1") -> dict[str, Any]:
    return {"v": 1, "id": task_id, "fn": FN, "args": [SECRET_ARG], "kwargs": {"amount": 125}}


def codec(key: str | list[str] | None = KEY, serializer: str = "json") -> TaskCodec:
    return build_codec(serializer, encryption_key=key, environ={})


def sealed(task_id: str = "t1", key: str | list[str] = KEY, namespace: str = NS) -> bytes:
    return codec(key).encode(state(task_id), task_id=task_id, namespace=namespace)


@pytest.mark.parametrize("serializer", ["json", "pickle"])
def test_ciphertext_hides_function_and_arguments(serializer: str) -> None:
    payload = codec(serializer=serializer).encode(state(), task_id="t1", namespace=NS)
    for needle in (FN, "charge_customer", "myapp", SECRET_ARG, "4242", "amount", serializer):
        assert needle.encode() not in payload


def test_header_carries_version_key_id_and_nonce() -> None:
    payload = sealed()
    assert payload[: len(MAGIC) + 2] == MAGIC + bytes((FORMAT_VERSION, ord("E")))
    record = parse_record(payload)
    assert record.key_id == derive_key(KEY).key_id  # type: ignore[union-attr]
    assert len(record.key_id) == KEY_ID_SIZE and len(record.nonce) == NONCE_SIZE  # type: ignore[union-attr]
    assert codec().is_current(payload)


def test_every_write_uses_a_fresh_nonce() -> None:
    payloads = {sealed() for _ in range(50)}
    assert len(payloads) == 50
    nonces = {parse_record(p).nonce for p in payloads}  # type: ignore[union-attr]
    assert len(nonces) == 50


def test_key_derivation_is_stable_and_never_exposes_the_key() -> None:
    key = derive_key("golden test key")
    assert key.key_id.hex() == "1a9da1ceb73009e0"  # pinned: changing it orphans every store
    assert derive_key("golden test key") is key  # cached
    assert derive_key("another key").key_id != key.key_id
    assert key.key_id not in key._record_key
    assert "golden" not in repr(key)


def test_golden_encrypted_record_stays_readable() -> None:
    """Format version 1 with its key derivation is a promise to existing stores."""
    from datetime import UTC, datetime

    golden = bytes.fromhex(
        "8a415a5201451a9da1ceb73009e0b2459eabdc9f443cab6494d8fe11f1729f5b2818817356479d6f7c74"
        "b69dd26b9b86af9bb731690919995b76b7566ca1bb64df4ebf84fa090be7ba31c1bacb1f0e6dd55cc099"
        "440f42c78d57cd2210bc257762e18b5febe0fc12c454127bb6fe154991a66a879ccd011ccb6ee1821bbd"
        "162f1bd0e884c037d6e473472a340d53374bc1d11204c4de374311e9e7f5eded05e7c584d17a51"
    )
    expected = {"id": "golden", "args": [1, "two"], "when": datetime(2030, 1, 2, 3, 4, 5, 6, UTC)}
    reader = codec("golden test key")
    assert reader.decode(golden, task_id="golden", namespace=NS) == expected


# ------------------------------------------------------------------ integrity
def test_flipping_any_byte_is_detected() -> None:
    payload = sealed()
    reader = codec()
    for index in range(len(payload)):
        masks = range(1, 256) if index < SEALED_HEADER_SIZE else (0x01, 0x80, 0xFF)
        for mask in masks:
            tampered = bytearray(payload)
            tampered[index] ^= mask
            with pytest.raises(TaskDecodeError):
                reader.decode(bytes(tampered), task_id="t1", namespace=NS)


def test_truncated_or_extended_records_are_detected() -> None:
    payload = sealed()
    reader = codec()
    for length in range(len(payload)):
        with pytest.raises(TaskDecodeError):
            reader.decode(payload[:length], task_id="t1", namespace=NS)
    with pytest.raises(TaskDecodeError, match="authentication failed"):
        reader.decode(payload + b"\x00", task_id="t1", namespace=NS)


def test_tampered_ciphertext_says_authentication_failed_with_the_task_id() -> None:
    payload = bytearray(sealed("job-42"))
    payload[-1] ^= 1
    with pytest.raises(TaskDecodeError) as caught:
        codec().decode(bytes(payload), task_id="job-42", namespace=NS)
    assert "authentication failed" in caught.value.reason
    assert "'job-42'" in caught.value.reason
    assert "tampered with, moved from another task or store" in caught.value.reason
    assert caught.value.task_id == "job-42"


def test_record_moved_to_another_task_id_fails() -> None:
    with pytest.raises(TaskDecodeError, match="authentication failed"):
        codec().decode(sealed("a"), task_id="b", namespace=NS)


def test_record_moved_to_another_store_fails() -> None:
    with pytest.raises(TaskDecodeError, match="authentication failed"):
        codec().decode(sealed("a", namespace="tasks_a"), task_id="a", namespace="tasks_b")


def test_binding_fields_are_length_prefixed() -> None:
    """("ab", "c") and ("a", "bc") must not authenticate each other."""
    payload = sealed("c", namespace="ab")
    with pytest.raises(TaskDecodeError, match="authentication failed"):
        codec().decode(payload, task_id="bc", namespace="a")


def test_nested_encrypted_record_is_refused() -> None:
    key = derive_key(KEY)
    inner = key.seal(pack_plain("json", b"{}"), task_id="t1", namespace=NS)
    outer = key.seal(inner, task_id="t1", namespace=NS)
    with pytest.raises(TaskDecodeError, match="holds another encrypted record"):
        codec().decode(outer, task_id="t1", namespace=NS)


def test_authenticated_garbage_is_still_a_decode_error() -> None:
    payload = derive_key(KEY).seal(b"not an envelope", task_id="t1", namespace=NS)
    with pytest.raises(TaskDecodeError, match="not an asyncz record"):
        codec().decode(payload, task_id="t1", namespace=NS)
    payload = derive_key(KEY).seal(pack_plain("json", b"{oops"), task_id="t1", namespace=NS)
    with pytest.raises(TaskDecodeError, match="cannot read the json payload"):
        codec().decode(payload, task_id="t1", namespace=NS)


# ------------------------------------------------------------------ keys
def test_wrong_key_reports_unknown_key_id_and_what_to_do() -> None:
    with pytest.raises(TaskDecodeError) as caught:
        codec("some other key").decode(sealed(), task_id="t1", namespace=NS)
    reason = caught.value.reason
    assert derive_key(KEY).key_id_hex in reason
    assert derive_key("some other key").key_id_hex in reason  # the keys we do have
    assert "ASYNCZ_STORE_ENCRYPTION_KEY" in reason
    assert "ASYNCZ_STORE_ENCRYPTION_OLD_KEYS" in reason


def test_missing_key_tells_the_user_to_set_it() -> None:
    for serializer in ("json", "pickle"):
        with pytest.raises(TaskDecodeError, match="no encryption key is configured") as caught:
            codec(None, serializer).decode(sealed(), task_id="t1", namespace=NS)
        assert "ASYNCZ_STORE_ENCRYPTION_KEY" in caught.value.reason


def test_same_key_id_but_different_key_fails_authentication() -> None:
    """A forged header naming our key id cannot get past the tag."""
    forged = bytearray(sealed(key="attacker key"))
    forged[len(MAGIC) + 2 : len(MAGIC) + 2 + KEY_ID_SIZE] = derive_key(KEY).key_id
    with pytest.raises(TaskDecodeError, match="authentication failed"):
        codec().decode(bytes(forged), task_id="t1", namespace=NS)


def test_old_key_decrypts_and_new_writes_use_the_current_key() -> None:
    old_record = sealed(key=OLD_KEY)
    rotated = codec([KEY, OLD_KEY])
    assert rotated.decode(old_record, task_id="t1", namespace=NS) == state()
    assert not rotated.is_current(old_record)
    new_record = rotated.encode(state(), task_id="t1", namespace=NS)
    assert parse_record(new_record).key_id == derive_key(KEY).key_id  # type: ignore[union-attr]
    assert rotated.is_current(new_record)
    assert rotated.key_id == derive_key(KEY).key_id_hex
    assert "+1 older key" in rotated.describe()
    # Once the old key is dropped, old records name it instead of failing obscurely.
    with pytest.raises(TaskDecodeError, match=derive_key(OLD_KEY).key_id_hex):
        codec(KEY).decode(old_record, task_id="t1", namespace=NS)


def test_plaintext_is_refused_when_a_key_is_configured() -> None:
    for serializer in ("json", "pickle"):
        plain = codec(None, serializer).encode(state(), task_id="t1", namespace=NS)
        with pytest.raises(TaskDecodeError, match="not encrypted") as caught:
            codec(KEY, serializer).decode(plain, task_id="t1", namespace=NS)
        assert "asyncz keys rotate" in caught.value.reason


def test_five_megabyte_payload_roundtrips() -> None:
    blob = os.urandom(5 * 1024 * 1024)
    big = {"id": "big", "args": [blob, "x" * 1_000_000]}
    for serializer in ("json", "pickle"):
        writer = codec(serializer=serializer)
        payload = writer.encode(big, task_id="big", namespace=NS)
        assert len(payload) > 5 * 1024 * 1024
        assert writer.decode(payload, task_id="big", namespace=NS) == big


def test_encrypted_pickle_roundtrips_arbitrary_objects() -> None:
    value = {"id": "t1", "args": [complex(1, 2), range(3)]}
    writer = codec(serializer="pickle")
    payload = writer.encode(value, task_id="t1", namespace=NS)
    assert pickle.dumps(complex(1, 2)) not in payload
    assert writer.decode(payload, task_id="t1", namespace=NS) == value


def test_encode_and_decode_are_cheap_after_the_first_use() -> None:
    """Not a benchmark (no timing assertion): the key is derived once per process."""
    writer = codec()
    started = time.perf_counter()
    for _ in range(200):
        payload = writer.encode(state(), task_id="t1", namespace=NS)
        writer.decode(payload, task_id="t1", namespace=NS)
    elapsed = time.perf_counter() - started
    print(f"encrypted JSON encode+decode: {elapsed / 200 * 1e6:.1f} us")
    assert codec() is not writer and codec().keyring.current is writer.keyring.current  # type: ignore[union-attr]
