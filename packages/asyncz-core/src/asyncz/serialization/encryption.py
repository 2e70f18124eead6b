"""Authenticated encryption of record envelopes (AES-256-GCM).

Rules this module keeps:

* A secret string becomes a key by scrypt (so a guessed passphrase costs real work to
  test), then HKDF-SHA256 into two independent outputs: the 256-bit record key and an
  8-byte key id. The key id names the key in each record's header; it reveals nothing
  usable about the key. Salts and labels are fixed and carry the format version.
* Every write draws a fresh 24-byte random nonce: the first 12 bytes select a per-record
  subkey (HMAC-SHA256 of the record key), the last 12 are the GCM nonce. Random 96-bit
  nonces alone would call for a new key every ~2**32 writes; with per-record subkeys a
  store can be rewritten forever under one key.
* The associated data is the record header (magic, version, kind, key id, nonce) plus the
  length-prefixed store namespace and task id, so a record moved to another task, another
  store, or given another header fails authentication.
* GCM has no practical size limit here (up to 2 GiB per record).
"""

from __future__ import annotations

import hmac
import os
import struct
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from asyncz.serialization.envelope import KEY_ID_SIZE, NONCE_SIZE, SealedRecord, sealed_header

_SCRYPT_SALT = b"asyncz/store-encryption/v1/scrypt"
_SCRYPT_COST = 2**14  # ~80 ms once per key and process (derived keys are cached)
_HKDF_SALT = b"asyncz/store-encryption/v1/hkdf"
_RECORD_KEY_INFO = b"asyncz/v1/record-key/aes-256-gcm"
_KEY_ID_INFO = b"asyncz/v1/key-id"
_SUBKEY_LABEL = b"asyncz/v1/record-subkey/"
_SUBKEY_SALT_SIZE = NONCE_SIZE - 12


class RecordKey:
    """One derived key: seals plain envelopes into encrypted records and opens them."""

    __slots__ = ("_record_key", "key_id")

    def __init__(self, record_key: bytes, key_id: bytes) -> None:
        self._record_key = record_key
        self.key_id = key_id

    @property
    def key_id_hex(self) -> str:
        return self.key_id.hex()

    def seal(self, plain: bytes, *, task_id: str, namespace: str) -> bytes:
        """The encrypted record holding ``plain``, bound to this task id and namespace."""
        nonce = os.urandom(NONCE_SIZE)
        header = sealed_header(self.key_id, nonce)
        cipher = AESGCM(self._subkey(nonce))
        aad = associated_data(header, namespace=namespace, task_id=task_id)
        return header + cipher.encrypt(nonce[_SUBKEY_SALT_SIZE:], plain, aad)

    def open(self, record: SealedRecord, *, task_id: str, namespace: str) -> bytes:
        """The plain envelope inside ``record``; raises ``cryptography.exceptions.InvalidTag``
        when the record was not sealed by this key for this task id and namespace."""
        cipher = AESGCM(self._subkey(record.nonce))
        aad = associated_data(record.header, namespace=namespace, task_id=task_id)
        return cipher.decrypt(record.nonce[_SUBKEY_SALT_SIZE:], record.ciphertext, aad)

    def _subkey(self, nonce: bytes) -> bytes:
        return hmac.digest(self._record_key, _SUBKEY_LABEL + nonce[:_SUBKEY_SALT_SIZE], "sha256")

    def __repr__(self) -> str:
        return f"<RecordKey id={self.key_id_hex}>"


def associated_data(header: bytes, *, namespace: str, task_id: str) -> bytes:
    """What a record is bound to besides its plaintext; each field length-prefixed so no two
    (namespace, task id) pairs give the same bytes."""
    parts = [header]
    for field in (namespace, task_id):
        data = field.encode("utf-8", "surrogatepass")
        parts.append(struct.pack(">I", len(data)))
        parts.append(data)
    return b"".join(parts)


@lru_cache(maxsize=64)
def derive_key(secret: str) -> RecordKey:
    """The record key and key id for a secret (cached: derivation is deliberately slow)."""
    material = secret.encode("utf-8", "surrogateescape")
    stretched = Scrypt(salt=_SCRYPT_SALT, length=32, n=_SCRYPT_COST, r=8, p=1).derive(material)
    record_key = _hkdf(stretched, _RECORD_KEY_INFO, 32)
    return RecordKey(record_key, _hkdf(stretched, _KEY_ID_INFO, KEY_ID_SIZE))


def _hkdf(material: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=_HKDF_SALT, info=info).derive(
        material
    )


__all__ = ["RecordKey", "associated_data", "derive_key"]
