"""Which keys a store uses: the ``encryption_key`` option or the environment.

* ``encryption_key="secret"``: one key. ``encryption_key=["new", "old", ...]``: the first
  encrypts every write, all of them decrypt (key rotation). ``None``, ``""`` or ``[]``
  mean "not given": the environment decides. An explicit option ignores the environment.
* ``ASYNCZ_STORE_ENCRYPTION_KEY``: the current key.
  ``ASYNCZ_STORE_ENCRYPTION_OLD_KEYS``: keys that only decrypt, either a JSON array of
  strings (``["old-1", "old-2"]``) or one key that does not start with ``[``.
* Surrounding whitespace of a key is ignored (a trailing newline from a key file is not
  part of the key); an empty value means unset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from asyncz.exceptions import ConfigurationError
from asyncz.serialization.encryption import RecordKey, derive_key

ENCRYPTION_KEY_ENV = "ASYNCZ_STORE_ENCRYPTION_KEY"
OLD_KEYS_ENV = "ASYNCZ_STORE_ENCRYPTION_OLD_KEYS"


class Keyring:
    """The keys of one codec: ``current`` encrypts, every key decrypts (looked up by id)."""

    def __init__(self, keys: Sequence[RecordKey]) -> None:
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self.current = keys[0]
        self._by_id: dict[bytes, RecordKey] = {}
        for key in keys:
            self._by_id.setdefault(key.key_id, key)

    def get(self, key_id: bytes) -> RecordKey | None:
        return self._by_id.get(key_id)

    @property
    def key_ids(self) -> list[str]:
        """Hex ids of every key, the current one first."""
        return [key_id.hex() for key_id in self._by_id]

    def __repr__(self) -> str:
        return f"<Keyring current={self.current.key_id_hex} keys={len(self._by_id)}>"


def keyring_from_config(
    encryption_key: str | Sequence[str] | None, environ: Mapping[str, str]
) -> Keyring | None:
    """The keyring the option (or, if not given, the environment) asks for; ``None`` means
    no encryption. Raises :class:`ConfigurationError` naming the bad option or variable."""
    if isinstance(encryption_key, str) and encryption_key.strip():
        return _keyring([_clean(encryption_key, "encryption_key")])
    if encryption_key is None or isinstance(encryption_key, str):
        return _keyring_from_environ(environ)
    if isinstance(encryption_key, bytes | bytearray) or not isinstance(encryption_key, Sequence):
        raise ConfigurationError(
            f"encryption_key must be a string or a list of strings, not "
            f"{type(encryption_key).__name__}"
        )
    if not encryption_key:
        return _keyring_from_environ(environ)
    return _keyring(
        _clean(secret, f"encryption_key[{index}]") for index, secret in enumerate(encryption_key)
    )


def _keyring_from_environ(environ: Mapping[str, str]) -> Keyring | None:
    current = environ.get(ENCRYPTION_KEY_ENV, "").strip()
    old_keys = _parse_old_keys(environ.get(OLD_KEYS_ENV, ""))
    if not current:
        if old_keys:
            raise ConfigurationError(
                f"{OLD_KEYS_ENV} is set but {ENCRYPTION_KEY_ENV} is not: old keys only "
                f"decrypt, so set {ENCRYPTION_KEY_ENV} to the key new writes should use"
            )
        return None
    return _keyring([_clean(current, ENCRYPTION_KEY_ENV), *old_keys])


def _parse_old_keys(value: str) -> list[str]:
    value = value.strip()
    if not value:
        return []
    if not value.startswith("["):
        return [_clean(value, OLD_KEYS_ENV)]
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"{OLD_KEYS_ENV} starts with '[' but is not a JSON array of strings ({exc}); "
            'write it as ["old-key-1", "old-key-2"], or as a single key'
        ) from None
    if not isinstance(parsed, list):
        raise ConfigurationError(f"{OLD_KEYS_ENV} must be a JSON array of strings")
    return [_clean(secret, f"{OLD_KEYS_ENV}[{index}]") for index, secret in enumerate(parsed)]


def _clean(secret: object, where: str) -> str:
    if not isinstance(secret, str):
        raise ConfigurationError(f"{where} must be a string, not {type(secret).__name__}")
    secret = secret.strip()
    if not secret:
        raise ConfigurationError(f"{where} is an empty key")
    try:
        secret.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ConfigurationError(f"{where} is not valid text (lone surrogate)") from None
    return secret


def _keyring(secrets: Iterable[str]) -> Keyring:
    return Keyring([derive_key(secret) for secret in secrets])


__all__ = ["ENCRYPTION_KEY_ENV", "OLD_KEYS_ENV", "Keyring", "keyring_from_config"]
