"""The store contract as a test suite every store runs, ours or a third party's.

Subclass :class:`StoreConformance` and provide a ``store_factory`` fixture returning a
callable ``make(**options) -> store``. Every store made within one test must share the same
data, and no data from other tests may be visible. ``options`` carry the codec settings the
kit varies (``serializer``, ``encryption_key``); stores that do not encode records (like
``MemoryStore``) set ``codec_variants = {"plain": {}}``.

Optional hooks:

* ``persistent = False`` for stores that do not survive a restart;
* ``record_store = False`` for stores that do not keep encoded records (``RecordStore``);
* ``raw_contents(store) -> bytes``: every byte the backend holds for the store, read
  around the store (a backdoor, as zarr's kit does). With it, the kit proves that nothing
  of a task appears in plaintext when an encryption key is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from asyncz.exceptions import ConflictIdError, TaskDecodeError, TaskLookupError
from asyncz.stores.base import BaseStore
from asyncz.stores.records import RecordStore, TaskRecord
from asyncz.testing.harness import T0, StoreHarness, at, make_task, same_task

KEY = "conformance-key: correct horse battery staple"

_NEEDS = "_conformance_needs"


def _needs(*requirements: str) -> Callable[[Any], Any]:
    """Mark a test as meaningful only where ``requirements`` hold ("key", "plain-json",
    "records", "persistence"); elsewhere it is not collected at all (rather than skipped)."""

    def mark(test: Any) -> Any:
        setattr(test, _NEEDS, requirements)
        return test

    return mark


def _variant_fits(options: dict[str, Any], requirements: tuple[str, ...]) -> bool:
    if "key" in requirements and "encryption_key" not in options:
        return False
    return not (
        "plain-json" in requirements
        and ("encryption_key" in options or options.get("serializer") != "json")
    )


OTHER_KEY = "a different key entirely"
SECRET_MARKER = "s3cr3t-payload-marker"


class StoreConformance:
    """The shared contract tests. See the module docstring for how to use it."""

    codec_variants: ClassVar[dict[str, dict[str, Any]]] = {
        "json": {"serializer": "json"},
        "pickle": {"serializer": "pickle"},
        "json+key": {"serializer": "json", "encryption_key": KEY},
    }
    persistent: ClassVar[bool] = True
    record_store: ClassVar[bool] = True
    #: True when the store implements the claim primitives (several schedulers, one store).
    claims: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in dir(cls):
            test = getattr(cls, name, None)
            requirements: tuple[str, ...] = getattr(test, _NEEDS, ())
            if not requirements:
                continue
            usable = (
                ("persistence" not in requirements or cls.persistent)
                and ("records" not in requirements or cls.record_store)
                and ("claims" not in requirements or cls.claims)
                and any(_variant_fits(o, requirements) for o in cls.codec_variants.values())
            )
            if not usable:
                setattr(cls, name, None)  # not applicable to this store: not collected

    def raw_contents(self, store: BaseStore) -> bytes:
        raise NotImplementedError

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def store_factory(self) -> Callable[..., BaseStore]:
        raise NotImplementedError("StoreConformance subclasses must define a store_factory fixture")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run every test once per entry of ``codec_variants``."""
        if "codec_variant" in metafunc.fixturenames:
            requirements = getattr(metafunc.function, _NEEDS, ())
            variants = [
                name
                for name, options in self.codec_variants.items()
                if _variant_fits(options, requirements)
            ]
            metafunc.parametrize("codec_variant", variants)

    @pytest.fixture
    def harness(
        self, store_factory: Callable[..., BaseStore], codec_variant: str
    ) -> Iterator[StoreHarness]:
        harness = StoreHarness(store_factory, dict(self.codec_variants[codec_variant]))
        yield harness
        harness.close()

    @pytest.fixture
    def store(self, harness: StoreHarness) -> BaseStore:
        return harness.open()

    # ------------------------------------------------------------------ basic contract
    def test_add_then_lookup_round_trips(self, store: BaseStore) -> None:
        task = make_task(
            "t1",
            at(5),
            args=(1, "two"),
            kwargs={"three": 3.0},
            coalesce=False,
            max_instances=3,
            mistrigger_grace_time=2.5,
        )
        store.add_task(task)
        same_task(store.lookup_task("t1"), task)

    def test_lookup_of_unknown_id_is_none(self, store: BaseStore) -> None:
        assert store.lookup_task("nope") is None

    def test_add_with_taken_id_conflicts_and_keeps_original(self, store: BaseStore) -> None:
        store.add_task(make_task("t1", at(1), args=("original",)))
        with pytest.raises(ConflictIdError):
            store.add_task(make_task("t1", at(2), args=("intruder",)))
        found = store.lookup_task("t1")
        assert found is not None and tuple(found.args) == ("original",)

    def test_add_tasks_adds_every_one(self, store: BaseStore) -> None:
        tasks = [make_task(f"b{i}", at(i) if i % 3 else None) for i in range(7)]
        store.add_tasks(tasks)
        store.add_tasks([])
        assert sorted(t.id for t in store.get_all_tasks()) == sorted(t.id for t in tasks)
        assert store.get_next_run_time() == at(1)
        assert [t.id for t in store.get_due_tasks(at(2))] == ["b1", "b2"]

    def test_add_tasks_stops_at_a_taken_or_repeated_id(self, store: BaseStore) -> None:
        """Nothing after the conflict is added (stores that batch add nothing at all), and
        the task holding the id is untouched."""
        store.add_task(make_task("taken", at(1), args=("original",)))
        batch = [make_task("before", at(2)), make_task("taken", at(3)), make_task("after", at(4))]
        with pytest.raises(ConflictIdError):
            store.add_tasks(batch)
        assert store.lookup_task("after") is None
        found = store.lookup_task("taken")
        assert found is not None and tuple(found.args) == ("original",)
        with pytest.raises(ConflictIdError):
            store.add_tasks([make_task("twice", at(5)), make_task("twice", at(6))])
        twice = store.lookup_task("twice")
        assert twice is None or twice.next_run_time == at(5)

    def test_update_replaces_fields_and_index(self, store: BaseStore) -> None:
        store.add_task(make_task("t1", at(100)))
        store.update_task(make_task("t1", at(1), args=("new",)))
        found = store.lookup_task("t1")
        assert found is not None and tuple(found.args) == ("new",)
        assert store.get_next_run_time() == at(1)
        assert [t.id for t in store.get_due_tasks(at(1))] == ["t1"]

    def test_update_of_unknown_id_fails(self, store: BaseStore) -> None:
        with pytest.raises(TaskLookupError):
            store.update_task(make_task("ghost"))
        assert store.lookup_task("ghost") is None

    def test_delete(self, store: BaseStore) -> None:
        store.add_task(make_task("t1", at(1)))
        store.add_task(make_task("t2", at(2)))
        store.delete_task("t1")
        assert store.lookup_task("t1") is None
        assert [t.id for t in store.get_all_tasks()] == ["t2"]
        assert store.get_next_run_time() == at(2)
        with pytest.raises(TaskLookupError):
            store.delete_task("t1")

    def test_remove_all_tasks(self, store: BaseStore) -> None:
        for i in range(5):
            store.add_task(make_task(f"t{i}", at(i) if i % 2 else None))
        store.remove_all_tasks()
        assert store.get_all_tasks() == []
        assert store.get_next_run_time() is None
        assert store.get_due_tasks(at(3600)) == []

    # ------------------------------------------------------------------ ordering and due
    def test_due_tasks_are_ordered_and_bounded_by_now(self, store: BaseStore) -> None:
        store.add_task(make_task("late", at(30)))
        store.add_task(make_task("b", at(10)))
        store.add_task(make_task("a", at(10)))
        store.add_task(make_task("first", at(-5)))
        store.add_task(make_task("paused", None))
        store.add_task(make_task("future", at(3600)))
        assert [t.id for t in store.get_due_tasks(at(30))] == ["first", "a", "b", "late"]
        assert [t.id for t in store.get_due_tasks(at(9))] == ["first"]
        assert store.get_due_tasks(at(-6)) == []

    def test_due_boundary_has_microsecond_precision(self, store: BaseStore) -> None:
        store.add_task(make_task("t", T0))
        assert store.get_due_tasks(T0 - timedelta(microseconds=1)) == []
        assert [t.id for t in store.get_due_tasks(T0)] == ["t"]
        assert store.get_next_run_time() == T0

    def test_next_run_time_ignores_paused_tasks(self, store: BaseStore) -> None:
        assert store.get_next_run_time() is None
        store.add_task(make_task("paused", None))
        assert store.get_next_run_time() is None
        store.add_task(make_task("t", at(42)))
        next_time = store.get_next_run_time()
        assert next_time == at(42) and next_time is not None and next_time.tzinfo is not None

    def test_all_tasks_earliest_first_paused_last(self, store: BaseStore) -> None:
        store.add_task(make_task("p2", None))
        store.add_task(make_task("t2", at(2)))
        store.add_task(make_task("p1", None))
        store.add_task(make_task("t1", at(1)))
        ids = [t.id for t in store.get_all_tasks()]
        assert ids[:2] == ["t1", "t2"]
        assert sorted(ids[2:]) == ["p1", "p2"]

    def test_pausing_and_resuming_through_update(self, store: BaseStore) -> None:
        store.add_task(make_task("t", at(1)))
        store.update_task(make_task("t", None))
        assert store.get_due_tasks(at(100)) == [] and store.get_next_run_time() is None
        found = store.lookup_task("t")
        assert found is not None and found.next_run_time is None
        store.update_task(make_task("t", at(2)))
        assert [t.id for t in store.get_due_tasks(at(100))] == ["t"]

    def test_times_in_other_zones_are_the_same_instant(self, store: BaseStore) -> None:
        lisbon = at(7).astimezone(ZoneInfo("Europe/Lisbon"))
        store.add_task(make_task("t", lisbon))
        found = store.lookup_task("t")
        assert found is not None and found.next_run_time == at(7)
        assert store.get_next_run_time() == at(7)

    # ------------------------------------------------------------------ payloads
    def test_every_trigger_type_round_trips(self, store: BaseStore) -> None:
        from asyncz.triggers import AndTrigger, CronTrigger, DateTrigger, IntervalTrigger, OrTrigger

        lisbon = ZoneInfo("Europe/Lisbon")
        triggers = {
            "date": DateTrigger(run_at=at(60), timezone=lisbon),
            "interval": IntervalTrigger(
                minutes=5, seconds=1.5, start_at=T0, end_at=at(86400), timezone=lisbon, jitter=3
            ),
            "cron": CronTrigger(day_of_week="mon-fri", hour="9-17", minute="*/15", timezone=lisbon),
            "crontab": CronTrigger.from_crontab("0 9 * * 0", timezone=lisbon),
            "and": AndTrigger(
                [IntervalTrigger(hours=1, start_at=T0), CronTrigger(hour="*/2", timezone=UTC)]
            ),
            "or": OrTrigger([DateTrigger(run_at=at(5)), CronTrigger(minute=30, timezone=UTC)]),
        }
        for name, trigger in triggers.items():
            store.add_task(make_task(name, at(1), trigger=trigger))
        for name, trigger in triggers.items():
            found = store.lookup_task(name)
            assert found is not None and found.trigger == trigger, name

    def test_arguments_round_trip(self, store: BaseStore) -> None:
        args = (0, -1, 2**62, 1.5, "", "ünïcødé ✓", None, True, [1, [2, {"x": "y"}]])
        kwargs: dict[str, Any] = {
            "when": datetime(2031, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
            "day": date(2031, 1, 2),
            "span": timedelta(seconds=90),
            "price": Decimal("12.50"),
            "uid": UUID(int=7),
            "blob": b"\x00\xffbytes",
            "nested": {"list": [1, 2], "tuple": (3, 4)},
        }
        store.add_task(make_task("t", at(1), args=args, kwargs=kwargs))
        found = store.lookup_task("t")
        assert found is not None
        assert tuple(found.args) == args
        assert dict(found.kwargs) == kwargs

    def test_large_payload(self, store: BaseStore) -> None:
        big = "x" * (3 * 1024 * 1024)
        store.add_task(make_task("big", at(1), args=(big,)))
        found = store.lookup_task("big")
        assert found is not None and found.args[0] == big

    def test_unusual_ids(self, store: BaseStore) -> None:
        ids = ["a/b", "../escape", "with space", "ünïcødé-ид", "x" * 180, ".hidden", "a:b*c?"]
        for i, task_id in enumerate(ids):
            store.add_task(make_task(task_id, at(i)))
        assert [t.id for t in store.get_due_tasks(at(len(ids)))] == ids
        for task_id in ids:
            found = store.lookup_task(task_id)
            assert found is not None and found.id == task_id
            store.delete_task(task_id)
        assert store.get_all_tasks() == []

    # ------------------------------------------------------------------ concurrency
    def test_concurrent_writers(self, harness: StoreHarness) -> None:
        stores = [harness.open() for _ in range(4)]
        errors: list[BaseException] = []

        def add_many(worker: int, store: BaseStore) -> None:
            try:
                for i in range(25):
                    store.add_task(make_task(f"w{worker}-{i:02d}", at(i)))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=add_many, args=(n, s)) for n, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert len(stores[0].get_all_tasks()) == 100

    def test_concurrent_adds_of_one_id_admit_exactly_one(self, harness: StoreHarness) -> None:
        stores = [harness.open() for _ in range(4)]
        barrier = threading.Barrier(len(stores))
        outcomes: list[str] = []

        def add(n: int, store: BaseStore) -> None:
            barrier.wait()
            try:
                store.add_task(make_task("contended", at(n)))
                outcomes.append("added")
            except ConflictIdError:
                outcomes.append("conflict")

        threads = [threading.Thread(target=add, args=(n, s)) for n, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["added", "conflict", "conflict", "conflict"]
        assert len(stores[0].get_all_tasks()) == 1

    # ------------------------------------------------------------------ persistence
    @_needs("persistence")
    def test_tasks_survive_a_restart(self, harness: StoreHarness) -> None:
        first = harness.open()
        first.add_task(make_task("kept", at(1), args=("still here",)))
        first.add_task(make_task("paused", None))
        first.shutdown()
        second = harness.open()
        found = second.lookup_task("kept")
        assert found is not None and tuple(found.args) == ("still here",)
        assert [t.id for t in second.get_due_tasks(at(1))] == ["kept"]
        assert {t.id for t in second.get_all_tasks()} == {"kept", "paused"}

    # ------------------------------------------------------------------ unreadable records
    def _record_store(self, store: BaseStore) -> RecordStore:
        assert isinstance(store, RecordStore), "record_store = True but the store is no RecordStore"
        return store

    @_needs("records")
    def test_corrupt_record_is_quarantined_not_deleted(self, harness: StoreHarness) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("good", at(1)))
        store.add_task(make_task("bad", at(2)))
        record = store.fetch_record("bad")
        assert record is not None
        store.replace_record(
            TaskRecord("bad", record.next_run_time, b"\x00garbage" + record.payload[8:])
        )
        due = store.get_due_tasks(at(10))
        assert [t.id for t in due] == ["good"]
        assert [q.record.id for q in store.quarantined_records()] == ["bad"]
        assert harness.scheduler.quarantined and harness.scheduler.quarantined[0][1] == "bad"
        # Out of the due index: the scheduler does not wake up for it again.
        assert store.get_next_run_time() == at(1)
        assert [t.id for t in store.get_all_tasks()] == ["good"]

    @_needs("records")
    def test_a_quarantined_id_is_taken_for_add_tasks(self, harness: StoreHarness) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("bad", at(1)))
        store.quarantine_record("bad", "set aside by the test")
        with pytest.raises(ConflictIdError):
            store.add_tasks([make_task("bad", at(2)), make_task("after", at(3))])
        assert store.lookup_task("after") is None
        assert [q.record.id for q in store.quarantined_records()] == ["bad"]

    @_needs("records")
    def test_swapped_record_is_rejected(self, harness: StoreHarness) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("a", at(1), args=("payload of a",)))
        store.add_task(make_task("b", at(2), args=("payload of b",)))
        record_a = store.fetch_record("a")
        assert record_a is not None
        store.replace_record(TaskRecord("b", at(2), record_a.payload))
        assert [t.id for t in store.get_due_tasks(at(10))] == ["a"]
        assert [q.record.id for q in store.quarantined_records()] == ["b"]

    @_needs("records", "key")
    def test_quarantined_task_returns_with_the_right_key(
        self, harness: StoreHarness, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("ASYNCZ_STORE_ENCRYPTION_KEY", raising=False)
        store = self._record_store(harness.open())
        store.add_task(make_task("secret", at(1)))
        for wrong_key in (OTHER_KEY, None):
            other = self._record_store(harness.open(encryption_key=wrong_key))
            assert other.get_due_tasks(at(10)) == []
            assert [q.record.id for q in other.quarantined_records()] == ["secret"]
            with pytest.raises(TaskDecodeError):
                other.decode_record(other.quarantined_records()[0].record)
            # Started again with the right key: the task is back, nothing was lost.
            right = harness.open()
            found = right.lookup_task("secret")
            assert found is not None and found.next_run_time == at(1)
            assert [t.id for t in right.get_due_tasks(at(10))] == ["secret"]

    @_needs("key")
    def test_nothing_in_plaintext_with_a_key(self, harness: StoreHarness) -> None:
        store = harness.open()
        store.add_task(make_task("t", at(1), args=(SECRET_MARKER,), kwargs={"k": SECRET_MARKER}))
        try:
            raw = self.raw_contents(store)
        except NotImplementedError:
            pytest.skip("store test provides no raw_contents backdoor")
        assert raw, "raw_contents returned nothing: the backdoor reads the wrong place"
        for needle in (SECRET_MARKER, "sample_tasks", "echo", "interval"):
            assert needle.encode() not in raw, f"{needle!r} stored in plaintext"

    @_needs("plain-json")
    def test_plaintext_backdoor_sees_data_without_key(self, harness: StoreHarness) -> None:
        store = harness.open()
        store.add_task(make_task("t", at(1), args=(SECRET_MARKER,)))
        try:
            raw = self.raw_contents(store)
        except NotImplementedError:
            pytest.skip("store test provides no raw_contents backdoor")
        assert SECRET_MARKER.encode() in raw

    # ------------------------------------------------------------------ claims
    @_needs("records")
    def test_claim_capability_is_declared(self, store: BaseStore) -> None:
        assert isinstance(store, RecordStore)
        assert type(store).supports_claims == self.claims, (
            "set `claims = True` on the test class exactly when the store supports claims"
        )

    @_needs("records", "claims")
    def test_claims_lease_due_records_earliest_first(self, harness: StoreHarness) -> None:
        store = self._record_store(harness.open())
        for i in range(5):
            store.add_task(make_task(f"t{i}", at(i)))
        store.add_task(make_task("future", at(3600)))
        store.add_task(make_task("paused", None))
        first = store.claim_records(at(10), 3, "alpha", at(40))
        assert [r.id for r in first] == ["t0", "t1", "t2"]
        assert all(r.lease_fire_time is None for r in first)
        second = store.claim_records(at(10), 10, "beta", at(40))
        assert [r.id for r in second] == ["t3", "t4"]
        assert store.claim_records(at(10), 10, "gamma", at(40)) == []
        # Leases hide nothing from reads.
        assert len(store.get_due_tasks(at(10))) == 5
        # An ended lease (its owner died before committing) is claimable again.
        assert [r.id for r in store.claim_records(at(41), 10, "gamma", at(80))] == [
            "t0",
            "t1",
            "t2",
            "t3",
            "t4",
        ]

    @_needs("records", "claims")
    def test_commit_advances_the_fire_atomically_for_the_owner_only(
        self, harness: StoreHarness
    ) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("t", at(1)))
        [record] = store.claim_records(at(5), 10, "alpha", at(35))
        advanced = store.encode_task(make_task("t", at(31)))
        assert not store.commit_claim(advanced, "intruder", at(1), at(35))
        assert store.commit_claim(advanced, "alpha", at(1), at(35))
        assert store.get_due_tasks(at(30)) == []
        assert store.get_next_run_time() == at(31)
        # Running under a live run lease: nobody else claims the next fire yet.
        assert store.claim_records(at(32), 10, "beta", at(60)) == []
        assert store.release_lease("t", "alpha", delete=False)
        assert [r.id for r in store.claim_records(at(32), 10, "beta", at(60))] == ["t"]
        assert record.id == "t"

    @_needs("records", "claims")
    def test_a_run_lease_that_ends_returns_the_fire_for_another_run(
        self, harness: StoreHarness
    ) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("t", at(1)))
        store.claim_records(at(1), 10, "dies", at(31))
        assert store.commit_claim(
            store.encode_task(make_task("t", at(3600))), "dies", at(1), at(31)
        )
        assert store.claim_records(at(30), 10, "heir", at(60)) == []
        [recovered] = store.claim_records(at(32), 10, "heir", at(62))
        assert recovered.id == "t" and recovered.lease_fire_time == at(1)
        assert not store.release_lease("t", "dies", delete=True)
        assert store.release_lease("t", "heir", delete=False)
        found = store.lookup_task("t")
        assert found is not None and found.next_run_time == at(3600)

    @_needs("records", "claims")
    def test_release_with_delete_and_lease_renewal(self, harness: StoreHarness) -> None:
        store = self._record_store(harness.open())
        store.add_task(make_task("once", at(1)))
        store.add_task(make_task("long", at(2)))
        store.claim_records(at(2), 10, "alpha", at(32))
        assert store.commit_claim(
            store.encode_task(make_task("once", None)), "alpha", at(1), at(32)
        )
        assert store.commit_claim(
            store.encode_task(make_task("long", at(100))), "alpha", at(2), at(32)
        )
        assert store.extend_leases(["once", "long", "ghost"], "alpha", at(90)) == ["ghost"]
        assert store.claim_records(at(60), 10, "beta", at(120)) == []  # renewed: still held
        assert store.release_lease("once", "alpha", delete=True)
        assert store.lookup_task("once") is None
        assert store.extend_leases(["long"], "beta", at(200)) == ["long"]

    @_needs("records", "claims")
    def test_concurrent_claimers_never_share_a_record(self, harness: StoreHarness) -> None:
        setup = self._record_store(harness.open())
        for i in range(120):
            setup.add_task(make_task(f"t{i:03d}", at(i % 7)))
        stores = [self._record_store(harness.open()) for _ in range(4)]
        claimed: dict[str, list[str]] = {}
        barrier = threading.Barrier(len(stores))

        def claim(owner: str, store: RecordStore) -> None:
            barrier.wait()
            mine: list[str] = []
            while batch := store.claim_records(at(10), 7, owner, at(100)):
                mine.extend(r.id for r in batch)
            claimed[owner] = mine

        threads = [
            threading.Thread(target=claim, args=(f"owner{n}", s)) for n, s in enumerate(stores)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        every = [task_id for ids in claimed.values() for task_id in ids]
        assert sorted(every) == [f"t{i:03d}" for i in range(120)]

    @_needs("records", "claims")
    def test_batched_commits_and_releases_match_the_single_ones(
        self, harness: StoreHarness
    ) -> None:
        store = self._record_store(harness.open())
        for i in range(4):
            store.add_task(make_task(f"t{i}", at(i)))
        mine = store.claim_records(at(10), 3, "alpha", at(40))
        theirs = store.claim_records(at(10), 10, "beta", at(40))
        assert [r.id for r in mine] == ["t0", "t1", "t2"] and [r.id for r in theirs] == ["t3"]
        commits = [
            (store.encode_task(make_task("t0", None)), at(0)),
            (store.encode_task(make_task("t1", at(100))), at(1)),
            (store.encode_task(make_task("t3", at(100))), at(3)),  # beta's: refused
            (store.encode_task(make_task("t2", at(200))), at(2)),
        ]
        assert store.commit_claims(commits, "alpha", at(40)) == [True, True, False, True]
        assert store.get_next_run_time() == at(3)  # t3 untouched
        released = store.release_leases(
            [("t0", True), ("t1", False), ("t3", False), ("ghost", True)], "alpha"
        )
        assert released == [True, True, False, False]
        assert store.lookup_task("t0") is None
        # At 150: t1 was released (due again), beta's claim on t3 ended, and t2's run lease
        # ended unreleased (its runner "died"), so t2 comes back with the fire it was running.
        claimed = store.claim_records(at(150), 10, "gamma", at(190))
        assert {r.id: r.lease_fire_time for r in claimed} == {"t1": None, "t2": at(2), "t3": None}
