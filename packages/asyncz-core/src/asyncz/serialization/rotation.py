"""Key rotation and encryption migration: rewrite a store's records under the current key.

``reencrypt_store`` is what ``asyncz keys rotate`` runs. It works on any
:class:`~asyncz.stores.records.RecordStore` through its record primitives and the store's
codec (whose first key is the current one):

* a live record already encrypted with the current key is left alone;
* any other live record that the codec can read with *any* configured key, or that is
  plain (the operator asked for this migration, so plaintext is trusted here, once), is
  rewritten encrypted with the current key; its index fields do not change;
* a quarantined record that can now be read is rewritten the same way and restored;
* a record that cannot be read is left exactly as it is and reported with its reason.

It is safe to run again, and to run while schedulers use the store with the new key list
(a record changed by a scheduler between our read and our write is read again). Records
are never deleted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from asyncz.exceptions import ConfigurationError, TaskDecodeError, TaskEncodeError
from asyncz.serialization.keyring import ENCRYPTION_KEY_ENV
from asyncz.stores.records import RecordStore, TaskRecord

Progress = Callable[[int, int], None]

_RETRIES = 3


@dataclass(frozen=True, slots=True)
class RotationFailure:
    task_id: str
    reason: str
    quarantined: bool


@dataclass(slots=True)
class RotationReport:
    """What ``reencrypt_store`` did; ``failed`` records were left untouched."""

    key_id: str
    reencrypted: int = 0
    already_current: int = 0
    restored: int = 0
    failed: list[RotationFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        return (
            f"key id {self.key_id}: {self.reencrypted} re-encrypted, {self.already_current} "
            f"already current, {self.restored} restored from quarantine, "
            f"{len(self.failed)} unreadable"
        )


def reencrypt_store(store: RecordStore, *, progress: Progress | None = None) -> RotationReport:
    """Rewrite every readable record of ``store`` under its codec's current key.

    ``progress(done, total)`` is called once before the first record and after each one.
    Raises :class:`ConfigurationError` when the store has no current encryption key.
    """
    codec = store.codec
    if codec.key_id is None:
        raise ConfigurationError(
            f"key rotation needs a current encryption key: set {ENCRYPTION_KEY_ENV} (or the "
            "store's encryption_key option) to the key records should be encrypted with"
        )
    report = RotationReport(key_id=codec.key_id)
    live = list(store.iter_records())
    quarantined = store.quarantined_records()
    total = len(live) + len(quarantined)
    done = 0
    if progress is not None:
        progress(done, total)
    for record in live:
        _rotate_live(store, record, report)
        done += 1
        if progress is not None:
            progress(done, total)
    for entry in quarantined:
        _restore_quarantined(store, entry.record, report)
        done += 1
        if progress is not None:
            progress(done, total)
    return report


def _rotate_live(store: RecordStore, record: TaskRecord | None, report: RotationReport) -> None:
    for _attempt in range(_RETRIES):
        if record is None:
            return  # deleted meanwhile: nothing to rotate
        if store.codec.is_current(record.payload):
            report.already_current += 1
            return
        try:
            payload = _reencode(store, record)
        except (TaskDecodeError, TaskEncodeError) as exc:
            report.failed.append(RotationFailure(record.id, _reason(exc), quarantined=False))
            return
        latest = store.fetch_record(record.id)
        if latest != record:
            record = latest  # a scheduler rewrote it since we read it: start over
            continue
        store.replace_record(TaskRecord(record.id, record.next_run_time, payload))
        report.reencrypted += 1
        return
    if record is not None:
        reason = "the record kept changing while it was being re-encrypted; run rotation again"
        report.failed.append(RotationFailure(record.id, reason, quarantined=False))


def _restore_quarantined(store: RecordStore, record: TaskRecord, report: RotationReport) -> None:
    try:
        state = _decode(store, record)
        payload = store.codec.encode(state, task_id=record.id, namespace=store.namespace)
    except (TaskDecodeError, TaskEncodeError) as exc:
        report.failed.append(RotationFailure(record.id, _reason(exc), quarantined=True))
        return
    restored = TaskRecord(record.id, _run_time(state, record), payload)
    store.restore_record(restored)
    # restore_record promises the index; make sure the new payload is what is stored.
    current = store.fetch_record(record.id)
    if current is not None and current.payload != payload:
        store.replace_record(restored)
    report.restored += 1


def _reencode(store: RecordStore, record: TaskRecord) -> bytes:
    state = _decode(store, record)
    return store.codec.encode(state, task_id=record.id, namespace=store.namespace)


def _decode(store: RecordStore, record: TaskRecord) -> dict[str, Any]:
    return store.codec.decode_for_migration(
        record.payload, task_id=record.id, namespace=store.namespace
    )


def _run_time(state: dict[str, Any], record: TaskRecord) -> datetime | None:
    """The index value to restore with: the task's own next run time when it has one."""
    value = state.get("next_run_time", record.next_run_time)
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return record.next_run_time


def _reason(exc: TaskDecodeError | TaskEncodeError) -> str:
    return exc.reason if isinstance(exc, TaskDecodeError) else str(exc)


__all__ = ["RotationFailure", "RotationReport", "reencrypt_store"]
