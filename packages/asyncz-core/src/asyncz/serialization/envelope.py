"""The record envelope: the few bytes that say what a stored payload is.

Every record starts with ``MAGIC`` (4 bytes), the format version (1 byte) and a kind
(1 byte), so a reader can always tell "not an asyncz record" from "written by a newer
asyncz" from "encrypted with key X", and formats can evolve. Format version 1:

* plain:   ``MAGIC 01 'P' | name length (1) | serializer name (ASCII) | serialized state``
* sealed:  ``MAGIC 01 'E' | key id (8) | nonce (24) | AES-256-GCM ciphertext + tag (16)``;
  the ciphertext is a whole plain envelope. See :mod:`asyncz.serialization.encryption`.
"""

from __future__ import annotations

from dataclasses import dataclass

MAGIC = b"\x8aAZR"
FORMAT_VERSION = 1
KIND_PLAIN = ord("P")
KIND_SEALED = ord("E")

KEY_ID_SIZE = 8
NONCE_SIZE = 24
TAG_SIZE = 16

_PREFIX_SIZE = len(MAGIC) + 2
SEALED_HEADER_SIZE = _PREFIX_SIZE + KEY_ID_SIZE + NONCE_SIZE


class EnvelopeError(ValueError):
    """The bytes are not a record this version of asyncz can read; the message says why."""


@dataclass(frozen=True, slots=True)
class PlainRecord:
    serializer: str
    body: bytes


@dataclass(frozen=True, slots=True)
class SealedRecord:
    #: The header bytes, authenticated as part of the associated data.
    header: bytes
    key_id: bytes
    nonce: bytes
    ciphertext: bytes


def pack_plain(serializer: str, body: bytes) -> bytes:
    name = serializer.encode("ascii")
    return b"".join((MAGIC, bytes((FORMAT_VERSION, KIND_PLAIN, len(name))), name, body))


def sealed_header(key_id: bytes, nonce: bytes) -> bytes:
    return b"".join((MAGIC, bytes((FORMAT_VERSION, KIND_SEALED)), key_id, nonce))


def parse_record(payload: bytes) -> PlainRecord | SealedRecord:
    """The envelope of ``payload``; raises :class:`EnvelopeError` saying what is wrong."""
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise EnvelopeError(f"the payload is a {type(payload).__name__}, not bytes")
    payload = bytes(payload)
    if payload[: len(MAGIC)] != MAGIC:
        raise EnvelopeError(
            f"not an asyncz record (it starts with {payload[:8]!r}, not the asyncz record "
            "header): it was written by another program or version, or is corrupt"
        )
    if len(payload) < _PREFIX_SIZE:
        raise EnvelopeError("truncated record: it ends inside the header")
    version, kind = payload[len(MAGIC)], payload[len(MAGIC) + 1]
    if version != FORMAT_VERSION:
        raise EnvelopeError(
            f"record format version {version} (this asyncz reads version {FORMAT_VERSION}): "
            "written by a newer asyncz? Upgrade asyncz to read it"
        )
    if kind == KIND_PLAIN:
        return _parse_plain(payload)
    if kind == KIND_SEALED:
        return _parse_sealed(payload)
    raise EnvelopeError(
        f"unknown record kind {kind:#04x} in format version {version}: written by a newer "
        "asyncz? Upgrade asyncz to read it"
    )


def parse_plain(payload: bytes) -> PlainRecord:
    """Like :func:`parse_record` for a place where only a plain envelope may appear."""
    record = parse_record(payload)
    if not isinstance(record, PlainRecord):
        raise EnvelopeError("an encrypted record holds another encrypted record")
    return record


def _parse_plain(payload: bytes) -> PlainRecord:
    if len(payload) == _PREFIX_SIZE:
        raise EnvelopeError("truncated record: it ends inside the header")
    name_end = _PREFIX_SIZE + 1 + payload[_PREFIX_SIZE]
    if len(payload) < name_end:
        raise EnvelopeError("truncated record: it ends inside the serializer name")
    try:
        name = payload[_PREFIX_SIZE + 1 : name_end].decode("ascii")
    except UnicodeDecodeError:
        raise EnvelopeError("corrupt record: the serializer name is not ASCII") from None
    return PlainRecord(name, payload[name_end:])


def _parse_sealed(payload: bytes) -> SealedRecord:
    if len(payload) < SEALED_HEADER_SIZE + TAG_SIZE:
        raise EnvelopeError("truncated encrypted record: shorter than its header and tag")
    key_id_end = _PREFIX_SIZE + KEY_ID_SIZE
    return SealedRecord(
        header=payload[:SEALED_HEADER_SIZE],
        key_id=payload[_PREFIX_SIZE:key_id_end],
        nonce=payload[key_id_end:SEALED_HEADER_SIZE],
        ciphertext=payload[SEALED_HEADER_SIZE:],
    )
