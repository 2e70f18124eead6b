"""TaskCodec: task state -> serializer -> plain envelope -> (encryption) -> record bytes.

Reading rules (the serializer never sees bytes an attacker could have chosen when a key
is configured, and never sees unauthenticated pickle unless the store opted into pickle):

=========================  ==================  ===============================================
record                     codec               result
=========================  ==================  ===============================================
encrypted, key id known    any key             decrypt; a failed check is ``TaskDecodeError``
encrypted, key id unknown  keys                ``TaskDecodeError`` naming the key id
encrypted                  no key              ``TaskDecodeError``: set the key
plain                      keys                refused (run key rotation to encrypt it)
plain, code-running kind   no key, other kind  refused (pickle can run code)
plain                      no key              read
=========================  ==================  ===============================================

An authenticated record is read whichever built-in serializer wrote it (its writer held
the key), so a store can switch serializers and still read its older records.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.exceptions import InvalidTag

from asyncz.exceptions import ConfigurationError, TaskDecodeError, TaskEncodeError
from asyncz.serialization.envelope import (
    EnvelopeError,
    PlainRecord,
    SealedRecord,
    pack_plain,
    parse_plain,
    parse_record,
)
from asyncz.serialization.keyring import (
    ENCRYPTION_KEY_ENV,
    OLD_KEYS_ENV,
    Keyring,
    keyring_from_config,
)
from asyncz.serialization.serializers import JSONSerializer, PickleSerializer, Serializer

ROTATE_HINT = (
    "`asyncz keys rotate` (asyncz.serialization.rotation.reencrypt_store) encrypts records "
    "written before the key was set"
)


class TaskCodec:
    """Turns task state into record payload bytes and back.

    ``decode`` raises :class:`TaskDecodeError` (never anything else) for bytes it cannot
    turn into a state: the record is then quarantined by its store, not deleted.
    """

    def __init__(self, serializer: Serializer, keyring: Keyring | None = None) -> None:
        self.serializer = serializer
        self.keyring = keyring
        self._name = _checked_name(serializer)
        self._readers: dict[str, Serializer] = {
            "json": JSONSerializer(),
            "pickle": PickleSerializer(),
            self._name: serializer,
        }

    @property
    def encrypted(self) -> bool:
        """True when records are written encrypted (a current key is configured)."""
        return self.keyring is not None

    @property
    def key_id(self) -> str | None:
        """Hex id of the key new records are encrypted with, or ``None``."""
        return None if self.keyring is None else self.keyring.current.key_id_hex

    def describe(self) -> str:
        if self.keyring is None:
            return f"{self._name}, not encrypted"
        others = len(self.keyring.key_ids) - 1
        extra = f" (+{others} older key{'s' if others != 1 else ''})" if others else ""
        return f"{self._name}, encrypted with key id {self.key_id}{extra}"

    # ----------------------------------------------------------------- writing
    def encode(self, state: dict[str, Any], *, task_id: str, namespace: str) -> bytes:
        """The record bytes for ``state``; raises :class:`TaskEncodeError` if the serializer
        cannot keep it."""
        try:
            body = self.serializer.dumps(state)
        except TaskEncodeError as exc:
            raise TaskEncodeError(f"Task {task_id!r} cannot be stored: {exc}") from exc
        except Exception as exc:
            raise TaskEncodeError(
                f"Task {task_id!r} cannot be stored: the {self._name} serializer failed with "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        plain = pack_plain(self._name, body)
        if self.keyring is None:
            return plain
        try:
            return self.keyring.current.seal(plain, task_id=task_id, namespace=namespace)
        except OverflowError as exc:  # AES-GCM takes at most 2 GiB
            raise TaskEncodeError(f"Task {task_id!r} cannot be stored: {exc}") from None

    # ----------------------------------------------------------------- reading
    def decode(self, payload: bytes, *, task_id: str, namespace: str) -> dict[str, Any]:
        """The state in ``payload``, following the reading rules of this module."""
        return self._decode(payload, task_id, namespace, accept_plaintext=False)

    def decode_for_migration(
        self, payload: bytes, *, task_id: str, namespace: str
    ) -> dict[str, Any]:
        """Like :meth:`decode`, but also reads plain records while a key is configured.

        Only for an operator-run migration (key rotation): it trusts whatever plaintext the
        store holds. Unauthenticated pickle is still refused unless the store uses pickle.
        """
        return self._decode(payload, task_id, namespace, accept_plaintext=True)

    def is_current(self, payload: bytes) -> bool:
        """True if ``payload`` is encrypted with the current key (not checked further)."""
        if self.keyring is None:
            return False
        try:
            record = parse_record(payload)
        except EnvelopeError:
            return False
        return isinstance(record, SealedRecord) and record.key_id == self.keyring.current.key_id

    def _decode(
        self, payload: bytes, task_id: str, namespace: str, *, accept_plaintext: bool
    ) -> dict[str, Any]:
        try:
            record = parse_record(payload)
            if isinstance(record, SealedRecord):
                plain = parse_plain(self._open(record, task_id, namespace))
                authenticated = True
            else:
                plain, authenticated = record, False
                if self.keyring is not None and not accept_plaintext:
                    raise TaskDecodeError(
                        "the record is not encrypted, but this store has an encryption key: "
                        "unencrypted records are refused because anyone with write access to "
                        f"the store could have written them. If it predates the key, {ROTATE_HINT}",
                        task_id,
                    )
        except EnvelopeError as exc:
            raise TaskDecodeError(str(exc), task_id) from None
        return self._load(plain, task_id, authenticated=authenticated)

    def _open(self, record: SealedRecord, task_id: str, namespace: str) -> bytes:
        key_id = record.key_id.hex()
        if self.keyring is None:
            raise TaskDecodeError(
                f"the record is encrypted (key id {key_id}) but no encryption key is "
                f"configured: set {ENCRYPTION_KEY_ENV} (or the store's encryption_key option) "
                "to the key it was written with",
                task_id,
            )
        key = self.keyring.get(record.key_id)
        if key is None:
            raise TaskDecodeError(
                f"the record is encrypted with key id {key_id}, which is not among the "
                f"configured keys ({', '.join(self.keyring.key_ids)}): set {ENCRYPTION_KEY_ENV} "
                f"to that key, or add it to {OLD_KEYS_ENV} to read it while writing with the "
                "current key",
                task_id,
            )
        try:
            return key.open(record, task_id=task_id, namespace=namespace)
        except InvalidTag:
            raise TaskDecodeError(
                f"authentication failed for task {task_id!r} (key id {key_id}, store "
                f"{namespace!r}): the record was tampered with, moved from another task or "
                "store, or written with another key",
                task_id,
            ) from None
        except (OverflowError, ValueError) as exc:
            raise TaskDecodeError(f"cannot decrypt the record: {exc}", task_id) from None

    def _load(self, plain: PlainRecord, task_id: str, *, authenticated: bool) -> dict[str, Any]:
        reader = self._readers.get(plain.serializer)
        if reader is None:
            raise TaskDecodeError(
                f"the record was written with the serializer {plain.serializer!r}, which this "
                f"store does not know (it uses {self._name!r}); configure that serializer",
                task_id,
            )
        if not authenticated and reader.executes_code and reader is not self.serializer:
            raise TaskDecodeError(
                f"refused an unencrypted {plain.serializer!r} record: this store uses the "
                f"{self._name!r} serializer, and reading {plain.serializer} data from storage "
                "can run arbitrary code. If you wrote these records, configure "
                f"serializer={plain.serializer!r} to read them, and protect the store with an "
                f"encryption key ({ENCRYPTION_KEY_ENV}, then `asyncz keys rotate`)",
                task_id,
            )
        try:
            return reader.loads(plain.body)
        except Exception as exc:
            raise TaskDecodeError(
                f"cannot read the {plain.serializer} payload: {type(exc).__name__}: {exc}",
                task_id,
            ) from None


def build_codec(
    serializer: str | Serializer | None = None,
    pickle_protocol: int | None = None,
    encryption_key: str | Sequence[str] | None = None,
    environ: Mapping[str, str] = os.environ,
) -> TaskCodec:
    """The codec for a store's options (see :class:`~asyncz.stores.records.RecordStore`).

    ``serializer=None`` means pickle when ``pickle_protocol`` is given, else JSON. Keys come
    from ``encryption_key`` or, when it is not given, from the environment (see
    :mod:`asyncz.serialization.keyring`). Bad options raise :class:`ConfigurationError`.
    """
    if serializer is None:
        serializer = "pickle" if pickle_protocol is not None else "json"
    chosen: Serializer
    if serializer == "pickle":
        chosen = PickleSerializer(_checked_protocol(pickle_protocol))
    elif isinstance(serializer, str):
        if serializer != "json":
            raise ConfigurationError(
                f"serializer={serializer!r} is not known: use 'json' (the default; reading "
                "runs no code), 'pickle' (any argument type) or a Serializer instance"
            )
        chosen = JSONSerializer()
    elif isinstance(serializer, Serializer):
        chosen = serializer
    else:
        raise ConfigurationError(
            f"serializer must be 'json', 'pickle' or an object with name, executes_code, "
            f"dumps() and loads(); got {serializer!r}"
        )
    if pickle_protocol is not None and not isinstance(chosen, PickleSerializer):
        raise ConfigurationError(
            f"pickle_protocol={pickle_protocol!r} only applies to serializer='pickle', but "
            f"serializer={serializer!r}"
        )
    return TaskCodec(chosen, keyring_from_config(encryption_key, environ))


def _checked_protocol(protocol: int | None) -> int:
    if protocol is None:
        return pickle.HIGHEST_PROTOCOL
    if type(protocol) is not int or not 0 <= protocol <= pickle.HIGHEST_PROTOCOL:
        raise ConfigurationError(
            f"pickle_protocol={protocol!r} is not a pickle protocol of this Python "
            f"(0 to {pickle.HIGHEST_PROTOCOL})"
        )
    return protocol


def _checked_name(serializer: Serializer) -> str:
    name = getattr(serializer, "name", None)
    if not isinstance(name, str) or not name or not name.isascii() or len(name) > 255:
        raise ConfigurationError(
            f"serializer {serializer!r} needs a 'name' of 1 to 255 ASCII characters; it is "
            f"written in every record so readers know how to decode it"
        )
    return name


__all__ = ["ROTATE_HINT", "TaskCodec", "build_codec"]
