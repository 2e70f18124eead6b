"""MongoDBStore: one document per task, indexed by next run time.

Document shape (namespace ``"<database>.<collection>"``)::

    {_id: task id, next_run_time: int64 epoch microseconds | null, payload: binary,
     lease?: {owner, until, fire, token}}

``lease`` is there only while a scheduler holds the task (see ``_leases``); reads ignore it
and user writes keep it.

A record that cannot be read stays in the same collection with a ``quarantine``
sub-document ``{reason, since}`` and ``next_run_time: null``. Keeping it there is what makes
"an id that is live or quarantined cannot be added again" atomic without transactions: the
unique ``_id`` index refuses the insert. Live queries exclude quarantined documents; a
quarantined document holds no lease.

Every write touches one document (a claim's ``update_many`` and a batch's bulk write decide
document by document), so each is atomic on any MongoDB deployment.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar, Concatenate, NoReturn, ParamSpec, TypeVar

import pymongo.errors
from bson.binary import Binary
from bson.int64 import Int64
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection

from asyncz.exceptions import ConfigurationError, ConflictIdError, StoreUnavailableError
from asyncz.serialization import TaskCodec
from asyncz.serialization.serializers import Serializer
from asyncz.stores.mongo import _leases
from asyncz.stores.mongo._changes import open_change_listener
from asyncz.stores.mongo._connection import (
    TOO_LARGE_CODES,
    build_client,
    describe_server,
    is_too_large,
    too_large,
)
from asyncz.stores.records import (
    QuarantinedRecord,
    RecordStore,
    TaskRecord,
    from_micros,
    missing,
    to_micros,
)

P = ParamSpec("P")
R = TypeVar("R")

Document = dict[str, Any]

LIVE = _leases.LIVE
QUARANTINED: Document = {"quarantine": {"$exists": True}}
SCHEDULED = _leases.SCHEDULED
BY_RUN_TIME = _leases.BY_RUN_TIME
INDEX_NAME = "asyncz_next_run_time"


def _speaks_to_server(
    method: Callable[Concatenate[MongoDBStore, P], R],
) -> Callable[Concatenate[MongoDBStore, P], R]:
    """Turn a lost connection into StoreUnavailableError naming the server."""

    @functools.wraps(method)
    def wrapper(store: MongoDBStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except pymongo.errors.ConnectionFailure as exc:
            raise store.unavailable(exc) from exc

    return wrapper


class MongoDBStore(RecordStore):
    """Keeps tasks in a MongoDB collection.

    Pass either ``client`` (a ``pymongo.MongoClient``, left open at shutdown) or keyword
    arguments for a client the store creates and closes (``host``, ``port``, ``username``,
    ...; ``host`` may be a ``mongodb://`` URI).
    """

    display_name = "mongodb"
    url_schemes: ClassVar[tuple[str, ...]] = ("mongodb", "mongodb+srv")
    supports_claims: ClassVar[bool] = True

    @classmethod
    def from_url(cls, url: str, **options: Any) -> MongoDBStore:
        """``mongodb://host:port/database`` (or ``mongodb+srv://``): the URL goes to the
        client; the database it names, if any, is the store's unless ``database`` is given."""
        database = urllib.parse.unquote(urllib.parse.urlsplit(url).path.lstrip("/"))
        if database:
            options.setdefault("database", database)
        return cls(host=url, **options)

    def __init__(
        self,
        *,
        database: str = "asyncz",
        collection: str = "tasks",
        client: MongoClient[Document] | None = None,
        pickle_protocol: int | None = None,
        serializer: str | Serializer | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
        **client_args: Any,
    ) -> None:
        super().__init__(
            serializer=serializer,
            pickle_protocol=pickle_protocol,
            encryption_key=encryption_key,
            codec=codec,
        )
        if not database or not collection:
            raise ConfigurationError("MongoDBStore database and collection must not be empty.")
        if client is not None and client_args:
            raise ConfigurationError(
                f"MongoDBStore was given a client and client options {sorted(client_args)}; "
                "configure the client itself, or pass only the options."
            )
        self.database, self.collection = database, collection
        self._client_args = client_args
        self._owns_client = client is None
        self._client: MongoClient[Document] | None = (
            build_client(client_args) if client is None else client
        )
        self.server = describe_server(self._client)

    @property
    def namespace(self) -> str:  # type: ignore[override]
        return f"{self.database}.{self.collection}"

    @property
    def client(self) -> MongoClient[Document]:
        """The pymongo client the store talks through (an owned one is made anew after
        shutdown, since a closed MongoClient cannot be reused)."""
        if self._client is None:
            self._client = build_client(self._client_args)
        return self._client

    @property
    def tasks(self) -> Collection[Document]:
        """The collection holding this store's documents, live and quarantined."""
        return self.client[self.database][self.collection]

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        self.alias = alias
        try:
            self.tasks.database.command("ping")
            self.tasks.create_index(BY_RUN_TIME, name=INDEX_NAME)
            self.tasks.create_index(_leases.LEASE_INDEX, name=_leases.LEASE_INDEX_NAME, sparse=True)
        except pymongo.errors.PyMongoError as exc:
            raise self.unavailable(exc) from exc
        super().start(scheduler, alias)

    def shutdown(self) -> None:
        if self._owns_client and self._client is not None:
            self._client.close()  # a closed MongoClient cannot be reused
            self._client = None
        super().shutdown()

    def describe(self) -> str:
        return f"{super().describe()} at {self.server}"

    def unavailable(self, cause: Exception) -> StoreUnavailableError:
        detail = str(cause).split(", Timeout:")[0].rstrip(".")  # drop pymongo's topology dump
        return StoreUnavailableError(
            f"MongoDBStore {self.alias!r} cannot use MongoDB at {self.server} "
            f"(collection {self.namespace}): {detail}. Check that the server is running and "
            "reachable from this host, the store's host/port (or URI), and the credentials."
        )

    # ----------------------------------------------------------------- writes
    @_speaks_to_server
    def insert_record(self, record: TaskRecord) -> None:
        try:
            self.tasks.insert_one(_document(record))
        except pymongo.errors.DuplicateKeyError:
            raise ConflictIdError(record.id, self.alias) from None
        except (pymongo.errors.DocumentTooLarge, pymongo.errors.OperationFailure) as exc:
            self._reraise_size(record, exc)

    @_speaks_to_server
    def replace_record(self, record: TaskRecord) -> None:
        try:
            # $set, not a replacement: a lease a scheduler holds on the task stays.
            result = self.tasks.update_one({"_id": record.id, **LIVE}, {"$set": _fields(record)})
        except (pymongo.errors.DocumentTooLarge, pymongo.errors.OperationFailure) as exc:
            self._reraise_size(record, exc)
        if result.matched_count == 0:
            raise missing(record.id, self)

    @_speaks_to_server
    def remove_record(self, task_id: str) -> None:
        if self.tasks.delete_one({"_id": task_id, **LIVE}).deleted_count == 0:
            raise missing(task_id, self)

    @_speaks_to_server
    def remove_all_records(self) -> None:
        self.tasks.delete_many(LIVE)

    @_speaks_to_server
    def quarantine_record(self, task_id: str, reason: str) -> None:
        aside = {"reason": reason, "since": datetime.now(UTC)}
        self.tasks.update_one(
            {"_id": task_id, **LIVE},
            {"$set": {"quarantine": aside, "next_run_time": None}, "$unset": {"lease": ""}},
        )

    @_speaks_to_server
    def restore_record(self, record: TaskRecord) -> None:
        result = self.tasks.update_one(
            {"_id": record.id, **QUARANTINED},
            {"$set": _fields(record), "$unset": {"quarantine": ""}},
        )
        if result.matched_count == 0:
            raise missing(record.id, self)

    # ----------------------------------------------------------------- claims
    @_speaks_to_server
    def claim_records(
        self, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[TaskRecord]:
        """Four round trips per batch, whatever its size (see ``_leases``)."""
        if limit <= 0:
            return []
        return [
            _record(document, lease_fire_time=_leases.lease_fire_time(document))
            for document in _leases.claim(self.tasks, now, limit, owner, until)
        ]

    @_speaks_to_server
    def commit_claim(
        self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime
    ) -> bool:
        try:
            return _leases.commit(self.tasks, record, _fields(record), owner, fire_time, until)
        except (pymongo.errors.DocumentTooLarge, pymongo.errors.OperationFailure) as exc:
            self._reraise_size(record, exc)

    @_speaks_to_server
    def release_lease(self, task_id: str, owner: str, delete: bool) -> bool:
        return _leases.release(self.tasks, task_id, owner, delete)

    @_speaks_to_server
    def commit_claims(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        """One ordered bulk write, plus a find when only some were committed."""
        if not commits:
            return []
        batch = [(record.id, _fields(record), fire) for record, fire in commits]
        try:
            return _leases.commit_many(self.tasks, batch, owner, until)
        except pymongo.errors.BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or [{}]
            record = commits[errors[0].get("index", 0)][0]
            if errors[0].get("code") in TOO_LARGE_CODES:
                raise too_large(record.id, len(record.payload), exc) from exc
            raise
        except pymongo.errors.DocumentTooLarge as exc:
            record = max((record for record, _ in commits), key=lambda r: len(r.payload))
            raise too_large(record.id, len(record.payload), exc) from exc

    @_speaks_to_server
    def release_leases(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        """A find and one bulk write (see ``_leases.release_many``)."""
        if not releases:
            return []
        return _leases.release_many(self.tasks, releases, owner)

    @_speaks_to_server
    def extend_leases(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        if not task_ids:
            return []
        return _leases.extend(self.tasks, task_ids, owner, until)

    # ----------------------------------------------------------------- change signal
    def subscribe_changes(self, callback: Callable[[], None]) -> Callable[[], None] | None:
        """A change stream read by a daemon thread, where the deployment has change
        streams (replica sets, sharded clusters); ``None`` on a standalone server, so the
        scheduler polls instead."""
        try:
            return open_change_listener(self.tasks, callback, self.logger)
        except pymongo.errors.ConnectionFailure as exc:
            raise self.unavailable(exc) from exc

    def _reraise_size(self, record: TaskRecord, exc: Exception) -> NoReturn:
        if isinstance(exc, pymongo.errors.DocumentTooLarge) or (
            isinstance(exc, pymongo.errors.OperationFailure) and is_too_large(exc)
        ):
            raise too_large(record.id, len(record.payload), exc) from exc
        raise exc

    # ----------------------------------------------------------------- reads
    @_speaks_to_server
    def fetch_record(self, task_id: str) -> TaskRecord | None:
        document = self.tasks.find_one({"_id": task_id, **LIVE})
        return None if document is None else _record(document)

    @_speaks_to_server
    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        if limit is not None and limit <= 0:
            return []
        due = {"next_run_time": {"$gte": _leases.EARLIEST, "$lte": Int64(to_micros(now))}}
        cursor = self.tasks.find(due).sort(BY_RUN_TIME).limit(limit or 0)
        return [_record(document) for document in cursor]

    @_speaks_to_server
    def earliest_run_time(self) -> datetime | None:
        first = self.tasks.find_one(SCHEDULED, {"next_run_time": 1}, sort=_leases.BY_RUN_TIME_ONLY)
        return None if first is None else from_micros(int(first["next_run_time"]))

    @_speaks_to_server
    def iter_records(self) -> Iterable[TaskRecord]:
        """Scheduled records by run time then id, then paused ones by id (MongoDB sorts
        nulls first, hence two queries)."""
        scheduled = self.tasks.find(SCHEDULED).sort(BY_RUN_TIME)
        records = [_record(document) for document in scheduled]
        paused = self.tasks.find({"next_run_time": None, **LIVE}).sort("_id", ASCENDING)
        records.extend(_record(document) for document in paused)
        return records

    @_speaks_to_server
    def quarantined_records(self) -> list[QuarantinedRecord]:
        cursor = self.tasks.find(QUARANTINED).sort("_id", ASCENDING)
        return [
            QuarantinedRecord(_record(document), str(document["quarantine"].get("reason", "")))
            for document in cursor
        ]


def _int64(record: TaskRecord) -> Int64 | None:
    micros = record.run_at_micros
    return None if micros is None else Int64(micros)


def _fields(record: TaskRecord) -> Document:
    """What a write of ``record`` sets: everything but the id and a lease."""
    return {"next_run_time": _int64(record), "payload": Binary(record.payload)}


def _document(record: TaskRecord) -> Document:
    return {"_id": record.id, **_fields(record)}


def _record(document: Document, lease_fire_time: datetime | None = None) -> TaskRecord:
    micros = document.get("next_run_time")
    moment = None if micros is None else from_micros(int(micros))
    payload = bytes(document["payload"])
    return TaskRecord(str(document["_id"]), moment, payload, lease_fire_time=lease_fire_time)
