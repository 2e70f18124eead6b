"""RedisStore: task records in a hash, their run times in a sorted set.

Key layout (``tasks_key`` is also the store's namespace)::

    <tasks_key>                     HASH  id -> payload (opaque, possibly encrypted bytes)
    <run_times_key>                 ZSET  id -> next run time, epoch microseconds
    <tasks_key>.quarantine          HASH  id -> payload of a record that could not be read
    <tasks_key>.quarantine_reasons  HASH  id -> why it was set aside
    <tasks_key>.leases              HASH  id -> "until|fire|owner": the scheduler holding it
    <tasks_key>.run_leases          ZSET  id -> lease end, for leases with a fire being run
    <tasks_key>.changes             pub/sub channel: a message after each change

Invariants: every id in the ZSET is in the tasks hash; a paused task is in the hash only;
an id is never both live and quarantined; every lease belongs to a live record, and an id is
in ``run_leases`` exactly when its lease has a fire. Scores are whole microseconds, exact
while they fit a double's 53-bit mantissa (until the year 2255). Multi-key writes are Lua
scripts (``_scripts``), so each is atomic.

Leases compare times of the schedulers' clocks (the ``now``/``until`` they pass), never the
server's: the hosts' clocks must agree to well within the lease duration.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import redis

from asyncz.exceptions import ConfigurationError, ConflictIdError, StoreUnavailableError
from asyncz.serialization import TaskCodec
from asyncz.serialization.serializers import Serializer
from asyncz.stores.records import (
    QuarantinedRecord,
    RecordStore,
    TaskRecord,
    from_micros,
    missing,
    to_micros,
)
from asyncz.stores.redis import _scripts
from asyncz.stores.redis._changes import ChangeListener
from asyncz.stores.redis._connection import build_client, check_bytes_client, describe_server

P = ParamSpec("P")
R = TypeVar("R")


def _speaks_to_server(
    method: Callable[Concatenate[RedisStore, P], R],
) -> Callable[Concatenate[RedisStore, P], R]:
    """Turn a lost connection into StoreUnavailableError naming the server (once the
    client's own retries have given up)."""

    @functools.wraps(method)
    def wrapper(store: RedisStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(store, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise store.unavailable(exc) from exc

    return wrapper


class RedisStore(RecordStore):
    """Keeps tasks in Redis (standalone server or Sentinel-managed primary).

    ``url`` (e.g. ``redis://host:6379/0``) overrides ``host``/``port``/``database``;
    ``client`` (a ``redis.Redis`` with ``decode_responses=False``) overrides all three and is
    left open at shutdown. Other keyword arguments go to ``redis.Redis``; by default the
    client retries commands across a server restart (see ``_connection``).
    """

    display_name = "redis"
    url_schemes: ClassVar[tuple[str, ...]] = ("redis", "rediss")
    supports_claims: ClassVar[bool] = True

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        """``redis://[[user]:password@]host:port/db`` or ``rediss://`` (TLS)."""
        return cls(url=url, **options)

    def __init__(
        self,
        *,
        database: int = 0,
        tasks_key: str = "asyncz.tasks",
        run_times_key: str = "asyncz.run_times",
        pickle_protocol: int | None = None,
        host: str = "localhost",
        port: int = 6379,
        url: str | None = None,
        client: redis.Redis | None = None,
        serializer: str | Serializer | None = None,
        encryption_key: str | list[str] | None = None,
        codec: TaskCodec | None = None,
        **connect_args: Any,
    ) -> None:
        super().__init__(
            serializer=serializer,
            pickle_protocol=pickle_protocol,
            encryption_key=encryption_key,
            codec=codec,
        )
        self._keys = _key_layout(tasks_key, run_times_key)
        if client is not None and (url is not None or connect_args):
            raise ConfigurationError(
                "RedisStore was given a client and connection options "
                f"{sorted([*connect_args, *(['url'] if url else [])])}; configure the client "
                "itself, or pass only the options."
            )
        if client is not None:
            check_bytes_client(client)
            self._client, self._owns_client = client, False
        else:
            self._client = build_client(
                url=url, host=host, port=port, database=database, options=connect_args
            )
            self._owns_client = True
        self.server = describe_server(self._client)
        register = self._client.register_script
        self._insert = register(_scripts.INSERT)
        self._insert_many = register(_scripts.INSERT_MANY)
        self._replace = register(_scripts.REPLACE)
        self._remove = register(_scripts.REMOVE)
        self._quarantine_script = register(_scripts.QUARANTINE)
        self._restore = register(_scripts.RESTORE)
        self._due = register(_scripts.DUE)
        self._remove_all = register(_scripts.REMOVE_ALL)
        self._claim = register(_scripts.CLAIM)
        self._commit = register(_scripts.COMMIT)
        self._release = register(_scripts.RELEASE)
        self._commits = register(_scripts.COMMITS)
        self._releases = register(_scripts.RELEASES)
        self._extend = register(_scripts.EXTEND)
        self._all_scripts = (
            self._insert,
            self._insert_many,
            self._replace,
            self._remove,
            self._quarantine_script,
            self._restore,
            self._due,
            self._remove_all,
            self._claim,
            self._commit,
            self._release,
            self._commits,
            self._releases,
            self._extend,
        )

    @property
    def namespace(self) -> str:  # type: ignore[override]
        return self._keys[0]

    @property
    def client(self) -> redis.Redis:
        """The redis-py client the store talks through."""
        return self._client

    @property
    def tasks_key(self) -> str:
        return self._keys[0]

    @property
    def run_times_key(self) -> str:
        return self._keys[1]

    @property
    def changes_channel(self) -> str:
        """The pub/sub channel every change is announced on."""
        return self.tasks_key + _scripts.CHANGES_SUFFIX

    # ----------------------------------------------------------------- lifecycle
    def start(self, scheduler: Any, alias: str) -> None:
        self.alias = alias
        try:
            self._client.ping()
            self._load_scripts()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise self.unavailable(exc) from exc
        super().start(scheduler, alias)

    def _load_scripts(self) -> None:
        """Load every script into the server now (one round trip), so that no first call
        of one pays for a refused EVALSHA and a compile: the first claim is on the path
        from a task's due time to its start. A server restart empties its script cache;
        redis-py then loads a script again on its next call."""
        pipe = self._client.pipeline(transaction=False)
        for script in self._all_scripts:
            pipe.script_load(script.script)
        pipe.execute()

    def shutdown(self) -> None:
        if self._owns_client:
            # The pool reconnects on next use, so the store can be started again.
            self._client.close()
        super().shutdown()

    def describe(self) -> str:
        return f"{super().describe()} at {self.server}"

    def unavailable(self, cause: Exception) -> StoreUnavailableError:
        detail = str(cause).rstrip(".")
        return StoreUnavailableError(
            f"RedisStore {self.alias!r} cannot reach Redis at {self.server}: {detail}. "
            "Check that redis-server is running and reachable from this host, and the "
            "store's host/port/url (and the password, if the server requires one)."
        )

    # ----------------------------------------------------------------- writes
    @_speaks_to_server
    def insert_record(self, record: TaskRecord) -> None:
        if not self._insert(self._keys, [record.id, record.payload, _score(record)]):
            raise ConflictIdError(record.id, self.alias)

    @_speaks_to_server
    def insert_records(self, records: Sequence[TaskRecord]) -> None:
        """One script call: all or none. Batches over ``_INSERT_CHUNK`` records are written
        in such chunks (a script blocks the server while it runs), each all or none."""
        for start in range(0, len(records), _INSERT_CHUNK):
            chunk = records[start : start + _INSERT_CHUNK]
            arguments = [value for r in chunk for value in (r.id, r.payload, _score(r))]
            taken = self._insert_many(self._keys, arguments)
            if taken:
                raise ConflictIdError(taken.decode(), self.alias)

    @_speaks_to_server
    def replace_record(self, record: TaskRecord) -> None:
        if not self._replace(self._keys, [record.id, record.payload, _score(record)]):
            raise missing(record.id, self)

    @_speaks_to_server
    def remove_record(self, task_id: str) -> None:
        if not self._remove(self._keys, [task_id]):
            raise missing(task_id, self)

    @_speaks_to_server
    def remove_all_records(self) -> None:
        self._remove_all(self._keys, [])  # the quarantine keys stay

    @_speaks_to_server
    def quarantine_record(self, task_id: str, reason: str) -> None:
        self._quarantine_script(self._keys, [task_id, reason])

    @_speaks_to_server
    def restore_record(self, record: TaskRecord) -> None:
        if not self._restore(self._keys, [record.id, record.payload, _score(record)]):
            raise missing(record.id, self)

    # ----------------------------------------------------------------- reads
    @_speaks_to_server
    def fetch_record(self, task_id: str) -> TaskRecord | None:
        with self._client.pipeline(transaction=True) as pipe:
            pipe.hget(self.tasks_key, task_id)
            pipe.zscore(self.run_times_key, task_id)
            payload, score = pipe.execute()
        if payload is None:
            return None
        return TaskRecord(task_id, _moment(score), payload)

    @_speaks_to_server
    def due_records(self, now: datetime, limit: int | None = None) -> list[TaskRecord]:
        if limit is not None and limit <= 0:
            return []
        entries, payloads = self._due(self._keys, [to_micros(now), -1 if limit is None else limit])
        records = []
        for index, payload in enumerate(payloads):
            if payload is not None:  # unreachable while the invariants hold
                task_id, score = entries[2 * index], entries[2 * index + 1]
                records.append(TaskRecord(task_id.decode(), _moment(score), payload))
        return records

    @_speaks_to_server
    def earliest_run_time(self) -> datetime | None:
        first = self._client.zrange(self.run_times_key, 0, 0, withscores=True)
        return _moment(first[0][1]) if first else None

    @_speaks_to_server
    def iter_records(self) -> Iterable[TaskRecord]:
        """A consistent snapshot (one MULTI): scheduled ones in ZSET order, which breaks
        ties by id, then the paused ones by id."""
        with self._client.pipeline(transaction=True) as pipe:
            pipe.zrange(self.run_times_key, 0, -1, withscores=True)
            pipe.hgetall(self.tasks_key)
            scheduled, payloads = pipe.execute()
        records = [
            TaskRecord(member.decode(), _moment(score), payloads[member])
            for member, score in scheduled
            if member in payloads
        ]
        scheduled_ids = {member for member, _ in scheduled}
        paused = sorted(member for member in payloads if member not in scheduled_ids)
        records.extend(TaskRecord(member.decode(), None, payloads[member]) for member in paused)
        return records

    @_speaks_to_server
    def quarantined_records(self) -> list[QuarantinedRecord]:
        with self._client.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._keys[2])
            pipe.hgetall(self._keys[3])
            payloads, reasons = pipe.execute()
        return [
            QuarantinedRecord(
                TaskRecord(member.decode(), None, payload),
                reasons.get(member, b"(no reason recorded)").decode(errors="replace"),
            )
            for member, payload in sorted(payloads.items())
        ]

    # ----------------------------------------------------------------- claims
    @_speaks_to_server
    def claim_records(
        self, now: datetime, limit: int, owner: str, until: datetime
    ) -> list[TaskRecord]:
        """One script call per batch (see ``_scripts.CLAIM``). Fires whose runner died
        come first, then due records earliest first."""
        if limit <= 0:
            return []
        flat = self._claim(self._keys, [to_micros(now), limit, owner, to_micros(until)])
        records = []
        for index in range(0, len(flat), 4):
            task_id, payload, score, fire = flat[index : index + 4]
            records.append(
                TaskRecord(
                    task_id.decode(),
                    _moment(score or None),
                    payload,
                    lease_fire_time=_moment(fire or None),
                )
            )
        return records

    @_speaks_to_server
    def commit_claim(
        self, record: TaskRecord, owner: str, fire_time: datetime, until: datetime
    ) -> bool:
        fire, end = to_micros(fire_time), to_micros(until)
        return bool(
            self._commit(self._keys, [record.id, record.payload, _score(record), owner, fire, end])
        )

    @_speaks_to_server
    def release_lease(self, task_id: str, owner: str, delete: bool) -> bool:
        return bool(self._release(self._keys, [task_id, owner, "1" if delete else "0"]))

    @_speaks_to_server
    def commit_claims(
        self, commits: list[tuple[TaskRecord, datetime]], owner: str, until: datetime
    ) -> list[bool]:
        """One script call for the whole batch (see ``_scripts.COMMITS``)."""
        if not commits:
            return []
        args: list[str | bytes | int] = [owner, to_micros(until)]
        for record, fire_time in commits:
            args += [record.id, record.payload, _score(record), to_micros(fire_time)]
        return [bool(done) for done in self._commits(self._keys, args)]

    @_speaks_to_server
    def release_leases(self, releases: list[tuple[str, bool]], owner: str) -> list[bool]:
        """One script call for the whole batch (see ``_scripts.RELEASES``)."""
        if not releases:
            return []
        args: list[str] = [owner]
        for task_id, delete in releases:
            args += [task_id, "1" if delete else "0"]
        return [bool(done) for done in self._releases(self._keys, args)]

    @_speaks_to_server
    def extend_leases(self, task_ids: list[str], owner: str, until: datetime) -> list[str]:
        if not task_ids:
            return []
        lost = self._extend(self._keys, [owner, to_micros(until), *task_ids])
        return [task_id.decode() for task_id in lost]

    # ----------------------------------------------------------------- change signal
    def subscribe_changes(self, callback: Callable[[], None]) -> Callable[[], None] | None:
        """Call ``callback`` from a daemon thread after every change any process makes
        (see ``_changes``); the returned function stops the thread and closes its
        connection."""
        listener = ChangeListener(self._client, self.changes_channel, callback, self.logger)
        try:
            listener.start()
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise self.unavailable(exc) from exc
        return listener.stop


def _key_layout(tasks_key: str, run_times_key: str) -> list[str]:
    """[tasks, run times, quarantine, quarantine reasons, leases, run leases]: the KEYS of
    every script (in this order)."""
    if not tasks_key or not run_times_key:
        raise ConfigurationError("RedisStore tasks_key and run_times_key must not be empty.")
    keys = [
        tasks_key,
        run_times_key,
        f"{tasks_key}.quarantine",
        f"{tasks_key}.quarantine_reasons",
        f"{tasks_key}.leases",
        f"{tasks_key}.run_leases",
    ]
    if len(set(keys)) != len(keys):
        raise ConfigurationError(
            f"RedisStore keys collide: tasks_key={tasks_key!r}, run_times_key="
            f"{run_times_key!r}. Give the run times a key of their own, not one the store "
            "derives from tasks_key (.quarantine, .quarantine_reasons, .leases, .run_leases)."
        )
    return keys


#: Records per insert script.
_INSERT_CHUNK = 5000


def _score(record: TaskRecord) -> str:
    micros = record.run_at_micros
    return "" if micros is None else str(micros)


def _moment(score: float | int | str | bytes | None) -> datetime | None:
    """A ZSET score (float from redis-py, bytes from a script) back to an aware datetime."""
    if score is None:
        return None
    return from_micros(int(float(score)))
