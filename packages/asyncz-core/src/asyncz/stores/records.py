"""Stores that move bytes plus index fields; the core does the rest.

A backend subclasses :class:`RecordStore` and implements the record primitives (insert,
replace, fetch, remove, due query, quarantine). ``RecordStore`` turns tasks into records
through the one codec chain (serializer, then encryption) and back, and quarantines any
record it cannot read: logged with its id and reason, moved out of the due index, kept.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from asyncz.exceptions import ConflictIdError, TaskDecodeError, TaskLookupError
from asyncz.serialization import TaskCodec, build_codec
from asyncz.serialization.serializers import Serializer
from asyncz.stores.base import BaseStore, first_repeated
from asyncz.tasks.state import task_from_state, task_to_state

if TYPE_CHECKING:
    from asyncz.tasks.task import Task
    from asyncz.tasks.types import TaskType

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(moment: datetime) -> int:
    """Whole microseconds since the epoch: the exact, sortable form stores index."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: stores only take aware datetimes")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """What a durable store keeps for one task.

    ``next_run_time`` (UTC, or ``None`` when paused) is the only index field; ``payload``
    is opaque, possibly encrypted bytes produced by the core's codec.
    """

    id: str
    next_run_time: datetime | None
    payload: bytes
    #: Only on records returned by ``claim_records``: the fire a scheduler was running when
    #: its lease expired (it died). The claimer runs that fire again: at-least-once.
    lease_fire_time: datetime | None = None

    @property
    def run_at_micros(self) -> int | None:
        return None if self.next_run_time is None else to_micros(self.next_run_time)


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    record: TaskRecord
    reason: str


class RecordStore(BaseStore):
    """Base for stores that keep encoded records.

    Options every durable store takes:

    * ``serializer``: ``"json"`` (no code runs when a record is read), ``"pickle"`` (any
      argument type), or a :class:`~asyncz.serialization.Serializer`. Default: pickle when
      ``pickle_protocol`` is given, otherwise JSON.
    * ``pickle_protocol``: the pickle protocol (implies ``serializer="pickle"``).
    * ``encryption_key``: a secret, or a list whose first entry encrypts and the rest only
      decrypt (rotation). Default: the ``ASYNCZ_STORE_ENCRYPTION_KEY`` environment
      variable, read when the store starts. ``ASYNCZ_STORE_ENCRYPTION_OLD_KEYS`` adds
      decrypt-only keys (one key, or a JSON array); ``asyncz keys rotate`` re-encrypts every
      record under the current key.
    """

    #: The codec in force; built by ``start`` unless one was passed in.
    codec: TaskCodec

    #: Stable name of this store's data within its backend (table, key prefix, collection);
    #: encrypted payloads are bound to it and to the task id. Backends may override it with
    #: an attribute or a property.
    namespace: str = "tasks"

    def __init__(
        self,
        *,
        serializer: str | Serializer | None = None,
        pickle_protocol: int | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
    ) -> None:
        self._codec_options: dict[str, Any] = {
            "serializer": serializer,
            "pickle_protocol": pickle_protocol,
            "encryption_key": encryption_key,
        }
        # Build now so option errors surface at construction; rebuilt at start() so a key
        # set in the environment afterwards is honoured.
        self.codec = codec or build_codec(**self._codec_options)
        self._explicit_codec = codec is not None

    # ----------------------------------------------------------------- record primitives
    @abstractmethod
    def insert_record(self, record: TaskRecord) -> None:
        """Atomically add; ``ConflictIdError`` if the id exists (live or quarantined)."""

    @abstractmethod
    def replace_record(self, record: TaskRecord) -> None:
        """Atomically replace payload and index; ``TaskLookupError`` if the id is absent."""

    @abstractmethod
    def fetch_record(self, task_id: str) -> TaskRecord | None:
        """The live record with this id, or ``None``."""

    @abstractmethod
    def remove_record(self, task_id: str) -> None:
        """Delete the live record; ``TaskLookupError`` if absent."""

    @abstractmethod
    def remove_all_records(self) -> None:
        """Delete every live record (quarantined ones stay, for the operator to inspect)."""

    @abstractmethod
    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        """Live records with ``next_run_time <= now``, ascending (ties by id), at most
        ``limit``. Cost must not grow with the number of records that are not due."""

    @abstractmethod
    def earliest_run_time(self) -> datetime | None:
        """Smallest non-null ``next_run_time`` of the live records, in O(log N) or better."""

    @abstractmethod
    def iter_records(self) -> Iterable[TaskRecord]:
        """Every live record, ascending ``next_run_time``, paused (``None``) last."""

    @abstractmethod
    def quarantine_record(self, task_id: str, reason: str) -> None:
        """Move the live record aside with ``reason``: out of the due index, bytes kept.
        A record that is already gone is ignored."""

    @abstractmethod
    def quarantined_records(self) -> list[QuarantinedRecord]:
        """Every quarantined record with the reason it was set aside."""

    @abstractmethod
    def restore_record(self, record: TaskRecord) -> None:
        """Move a quarantined record back among the live ones, with ``record``'s index."""

    def insert_records(self, records: Sequence[TaskRecord]) -> None:
        """``insert_record`` for several records with distinct ids; ``ConflictIdError`` for
        the first id that exists (live or quarantined). Backends override it to write them
        in one round trip, all or none; the default inserts one by one (those before a
        conflict stay)."""
        for record in records:
            self.insert_record(record)

    # ----------------------------------------------------------------- claims (optional)
    # A lease is three index fields kept beside each record: owner, until (UTC) and
    # fire_time. A *claim* lease has fire_time NULL (taken, not yet advanced); a *run* lease
    # has the fire being run. A lease is live while ``until >= now`` of the claimer's clock.
    # Reads (due, lookup, listing) ignore leases; user writes (replace) keep them.

    #: True when the backend implements the four claim primitives below; several
    #: schedulers may then share the store and every fire runs once.
    supports_claims: ClassVar[bool] = False

    def claim_records(
        self, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[TaskRecord]:
        """Atomically lease up to ``limit`` live records to ``owner`` until ``until``.

        Claimable: records without a live lease (none, or ``until < now``) that are either
        due (``next_run_time <= now``) or hold an ended run lease (``fire_time`` set: their
        owner died mid-run). Earliest ``next_run_time`` first (ties by id; ended run leases
        may come in any order). The claim sets owner and until and keeps ``fire_time``,
        which is returned as ``TaskRecord.lease_fire_time``. Two concurrent callers never
        receive the same record while its lease lasts.
        """
        raise NotImplementedError

    def commit_claim(
        self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime
    ) -> bool:
        """If ``owner`` holds the lease on ``record.id`` (live or ended, as long as nobody
        else claimed it since): in one atomic step replace payload and ``next_run_time``
        with ``record``'s and make the lease a run lease (``fire_time``, ``until``).
        Returns False and changes nothing when the lease belongs to another owner or the
        record is gone."""
        raise NotImplementedError

    def release_lease(self, task_id: str, owner: str, delete: bool) -> bool:
        """If ``owner`` holds the lease: clear owner, until and fire_time, or delete the
        record when ``delete`` (the task has no further fire). Returns False otherwise."""
        raise NotImplementedError

    def commit_claims(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        """``commit_claim`` for many records (``(record, fire_time)`` pairs) at once, each
        with the same all-or-nothing rule per record; one result per pair, in order.
        Backends override it to use one round trip; the default commits one by one."""
        return [self.commit_claim(record, owner, fire, until) for record, fire in commits]

    def release_leases(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        """``release_lease`` for many ``(task_id, delete)`` pairs at once; one result per
        pair, in order. Backends override it to use one round trip."""
        return [self.release_lease(task_id, owner, delete) for task_id, delete in releases]

    def extend_leases(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        """Set ``until`` on the records among ``task_ids`` whose lease ``owner`` holds;
        return the ids it does not hold (lost or gone)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        if not self._explicit_codec:
            self.codec = build_codec(**self._codec_options)
        self.readmit_quarantined()

    def readmit_quarantined(self) -> int:
        """Restore quarantined records that can now be read (e.g. the right key is back)."""
        restored = 0
        for entry in self.quarantined_records():
            try:
                task = self.decode_record(entry.record)
            except TaskDecodeError:
                continue
            self.restore_record(
                TaskRecord(entry.record.id, _utc(task.next_run_time), entry.record.payload)
            )
            self.logger.warning(
                "Task %r in store %r is readable again and was restored from quarantine",
                entry.record.id,
                self.alias,
            )
            restored += 1
        return restored

    # ----------------------------------------------------------------- encoding
    def encode_task(self, task: TaskType) -> TaskRecord:
        state = task_to_state(task)  # type: ignore[arg-type]
        state["next_run_time"] = _utc(task.next_run_time)
        payload = self.codec.encode(state, task_id=task.id, namespace=self.namespace)
        return TaskRecord(task.id, state["next_run_time"], payload)

    def decode_record(self, record: TaskRecord) -> Task:
        state = self.codec.decode(record.payload, task_id=record.id, namespace=self.namespace)
        task = task_from_state(state, self._trigger_lookup())
        if task.id != record.id:
            raise TaskDecodeError(
                f"record {record.id!r} holds the task {task.id!r}: it was moved or swapped",
                record.id,
            )
        task.store_alias = self.alias
        task.scheduler = self.scheduler
        return task

    def _trigger_lookup(self) -> Any:
        registry = getattr(self.scheduler, "registry", None)
        if registry is None:
            from asyncz.plugins.registry import default_registry

            registry = default_registry()
        return registry.trigger_class

    def read_record(self, record: TaskRecord) -> Task | None:
        """The task in ``record``; ``None`` when it cannot be read, after quarantining it."""
        try:
            return self.decode_record(record)
        except TaskDecodeError as exc:
            self._quarantine(record.id, exc.reason)
            return None

    def _decode_or_quarantine(self, records: Iterable[TaskRecord]) -> list[TaskType]:
        return [task for task in map(self.read_record, records) if task is not None]

    def _quarantine(self, task_id: str, reason: str) -> None:
        self.logger.error(
            "Task %r in store %r cannot be read and was quarantined (kept, not run): %s",
            task_id,
            self.alias,
            reason,
        )
        self.quarantine_record(task_id, reason)
        notify = getattr(self.scheduler, "notify_quarantined", None)
        if notify is not None:
            notify(self.alias, task_id, reason)

    # ----------------------------------------------------------------- the task contract
    def get_due_tasks(self, now: datetime) -> list[TaskType]:
        return self._decode_or_quarantine(self.due_records(_utc(now)))  # type: ignore[arg-type]

    def get_due_batch(self, now: datetime, limit: int) -> list[TaskType]:
        return self._decode_or_quarantine(self.due_records(_utc(now), limit))  # type: ignore[arg-type]

    def lookup_task(self, task_id: str) -> TaskType | None:
        record = self.fetch_record(task_id)
        if record is None:
            return None
        try:
            return self.decode_record(record)
        except TaskDecodeError as exc:
            self._quarantine(record.id, exc.reason)
            raise

    def delete_task(self, task_id: str) -> None:
        self.remove_record(task_id)

    def remove_all_tasks(self) -> None:
        self.remove_all_records()

    def get_next_run_time(self) -> datetime | None:
        return self.earliest_run_time()

    def get_all_tasks(self) -> list[TaskType]:
        return self._decode_or_quarantine(self.iter_records())

    def add_task(self, task: TaskType) -> None:
        self.insert_record(self.encode_task(task))

    def add_tasks(self, tasks: Sequence[TaskType]) -> None:
        repeated = first_repeated(task.id for task in tasks)
        if repeated is not None:
            raise ConflictIdError(repeated, self.alias)
        self.insert_records([self.encode_task(task) for task in tasks])

    def update_task(self, task: TaskType) -> None:
        self.replace_record(self.encode_task(task))

    def describe(self) -> str:
        return f"{super().describe()} [{self.namespace}]"


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def missing(task_id: str, store: RecordStore) -> TaskLookupError:
    """The error every backend raises for an absent id."""
    return TaskLookupError(task_id, store.alias)


__all__ = [
    "QuarantinedRecord",
    "RecordStore",
    "TaskRecord",
    "from_micros",
    "missing",
    "to_micros",
]
