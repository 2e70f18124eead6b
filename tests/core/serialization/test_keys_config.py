"""Where keys come from: the encryption_key option or the environment."""

from __future__ import annotations

from typing import Any

import pytest

from asyncz.exceptions import ConfigurationError
from asyncz.serialization import ENCRYPTION_KEY_ENV, OLD_KEYS_ENV, build_codec
from asyncz.serialization.encryption import derive_key


def key_ids(*secrets: str) -> list[str]:
    return [derive_key(secret).key_id_hex for secret in secrets]


def ids_for(encryption_key: Any = None, **environ: str) -> list[str] | None:
    keyring = build_codec(encryption_key=encryption_key, environ=environ).keyring
    return None if keyring is None else keyring.key_ids


def test_no_key_anywhere_means_no_encryption() -> None:
    assert ids_for() is None
    assert ids_for(**{ENCRYPTION_KEY_ENV: ""}) is None
    assert ids_for(**{ENCRYPTION_KEY_ENV: "  \n"}) is None
    assert ids_for(**{ENCRYPTION_KEY_ENV: "", OLD_KEYS_ENV: ""}) is None


def test_current_key_from_the_environment() -> None:
    assert ids_for(**{ENCRYPTION_KEY_ENV: "env-key"}) == key_ids("env-key")
    # A trailing newline from a key file is not part of the key.
    assert ids_for(**{ENCRYPTION_KEY_ENV: "env-key\n"}) == key_ids("env-key")
    # Commas and brackets inside the current key are just characters.
    assert ids_for(**{ENCRYPTION_KEY_ENV: "[a,b]"}) == key_ids("[a,b]")


@pytest.mark.parametrize(
    ("old_keys", "expected"),
    [
        ("old-1", ["old-1"]),
        ("old,with,commas", ["old,with,commas"]),
        ('["old-1", "old-2"]', ["old-1", "old-2"]),
        ('[\n  "old-1",\n  "old-2"\n]\n', ["old-1", "old-2"]),
        ("[]", []),
        ('["current"]', []),  # the current key again: no duplicate entry
    ],
)
def test_old_keys_from_the_environment(old_keys: str, expected: list[str]) -> None:
    environ = {ENCRYPTION_KEY_ENV: "current", OLD_KEYS_ENV: old_keys}
    assert ids_for(**environ) == key_ids("current", *expected)


@pytest.mark.parametrize(
    ("old_keys", "needle"),
    [
        ('["unterminated"', "not a JSON array"),
        ('[1, "x"]', r"OLD_KEYS\[0\] must be a string"),
        ('["ok", ""]', r"OLD_KEYS\[1\] is an empty key"),
    ],
)
def test_bad_old_keys_name_the_variable(old_keys: str, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle) as caught:
        ids_for(**{ENCRYPTION_KEY_ENV: "current", OLD_KEYS_ENV: old_keys})
    assert OLD_KEYS_ENV in str(caught.value)


def test_old_keys_without_a_current_key_is_an_error() -> None:
    with pytest.raises(ConfigurationError, match=f"{OLD_KEYS_ENV} is set but {ENCRYPTION_KEY_ENV}"):
        ids_for(**{OLD_KEYS_ENV: "old"})


def test_option_wins_over_the_environment() -> None:
    environ = {ENCRYPTION_KEY_ENV: "env-key", OLD_KEYS_ENV: "env-old"}
    assert ids_for("option-key", **environ) == key_ids("option-key")
    assert ids_for(["new", "old"], **environ) == key_ids("new", "old")
    assert ids_for(("new", "old")) == key_ids("new", "old")


def test_empty_option_means_not_given() -> None:
    environ = {ENCRYPTION_KEY_ENV: "env-key"}
    assert ids_for("", **environ) == key_ids("env-key")
    assert ids_for([], **environ) == key_ids("env-key")
    assert ids_for("") is None


@pytest.mark.parametrize(
    ("option", "needle"),
    [
        (["new", ""], r"encryption_key\[1\] is an empty key"),
        (["new", 3], r"encryption_key\[1\] must be a string"),
        (b"bytes-key", "must be a string or a list of strings"),
        (42, "must be a string or a list of strings"),
        ("\ud800x", "not valid text"),
    ],
)
def test_bad_option_names_the_option(option: Any, needle: str) -> None:
    with pytest.raises(ConfigurationError, match=needle):
        ids_for(option)


def test_store_reads_the_real_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, "from-os-environ")
    monkeypatch.setenv(OLD_KEYS_ENV, '["older"]')
    keyring = build_codec().keyring
    assert keyring is not None and keyring.key_ids == key_ids("from-os-environ", "older")
