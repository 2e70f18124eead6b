"""``--store URL``: the scheme picks the store plugin by convention (``url_schemes`` and
``from_url`` on the store class), never through a table in the core."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from asyncz.cli._errors import CLIError
from asyncz.cli._stores import redact, resolve_scheme, store_from_url
from asyncz.plugins import PluginRegistry
from asyncz.plugins.registry import default_registry
from asyncz.stores.memory import MemoryStore
from support.cli import CLI, StoreCase, populate


class _SqlLike(MemoryStore):
    url_schemes: ClassVar[tuple[str, ...]] = ("sqlish", "sqlish+fast")

    def __init__(self, url: str = "", tablename: str = "tasks") -> None:
        super().__init__()
        self.url, self.tablename = url, tablename

    @classmethod
    def from_url(cls, url: str, **options: Any) -> _SqlLike:
        return cls(url, **options)


class _DriverSpecific(_SqlLike):
    url_schemes: ClassVar[tuple[str, ...]] = ("sqlish+special",)


class _NoUrls(MemoryStore):
    url_schemes: ClassVar[tuple[str, ...]] = ()


def _registry() -> PluginRegistry:
    registry = PluginRegistry(autoload=False)
    registry.register_class("store", "sql", _SqlLike)
    registry.register_class("store", "special", _DriverSpecific)
    registry.register_class("store", "plain", _NoUrls)
    return registry


def test_a_scheme_resolves_to_the_class_that_lists_it() -> None:
    registry = _registry()
    assert resolve_scheme("sqlish", registry) == ("sql", _SqlLike)
    assert resolve_scheme("sqlish+fast", registry) == ("sql", _SqlLike)
    # "+driver" variants fall back to the base scheme, unless a class claims them exactly
    assert resolve_scheme("sqlish+other", registry) == ("sql", _SqlLike)
    assert resolve_scheme("sqlish+special", registry) == ("special", _DriverSpecific)


def test_from_url_gets_the_url_and_validated_options() -> None:
    store = store_from_url("SQLish://host/db", {"tablename": "jobs"}, _registry())
    assert isinstance(store, _SqlLike)
    assert (store.url, store.tablename) == ("SQLish://host/db", "jobs")
    with pytest.raises(Exception, match="unknown option 'colour'"):
        store_from_url("sqlish://host/db", {"colour": "blue"}, _registry())


def test_an_unclaimed_scheme_lists_what_is_installed() -> None:
    with pytest.raises(CLIError) as raised:
        resolve_scheme("etcd", _registry())
    message = str(raised.value)
    assert "no installed store understands etcd:// URLs" in message
    assert "sql (sqlish://, sqlish+fast://)" in message
    assert "plain (no URLs)" in message


def test_passwords_never_reach_messages() -> None:
    assert redact("redis://:s3cret@host:6379/0") == "redis://:***@host:6379/0"
    assert redact("postgresql://bob:pw@db/x") == "postgresql://bob:***@db/x"
    assert redact("sqlite:///./a.db") == "sqlite:///./a.db"


def _require_url_support(case: StoreCase) -> None:
    """The backends adopt ``url_schemes``/``from_url`` (proposed with the CLI); until a
    backend has them, its URL form cannot work."""
    alias = {"file": "file", "sqlite": "sqlalchemy", "redis": "redis"}[case.name]
    cls = default_registry().store_class(alias)
    scheme = case.url.split(":", 1)[0]
    if scheme not in getattr(cls, "url_schemes", ()):
        pytest.skip(f"{cls.__name__} does not list {scheme!r} in url_schemes yet")


def test_tasks_list_and_pause_by_url(cli: CLI, store_case: StoreCase, tmp_path: Path) -> None:
    _require_url_support(store_case)
    store = store_case.open()
    tasks = populate(store, tmp_path / "marker")
    listed = cli("tasks", "list", *store_case.url_args(), "--json")
    assert listed.code == 0, listed.stderr
    times = {t["id"]: t["next_run_time"] for t in listed.json()["tasks"]}
    assert datetime.fromisoformat(times["greeter"]) == tasks["greeter"].next_run_time
    assert cli("tasks", "pause", "report", *store_case.url_args()).code == 0
    report = store.lookup_task("report")
    assert report is not None and report.next_run_time is None
    doctor = cli("doctor", *store_case.url_args())
    assert doctor.code == 0, doctor.stdout
    assert "3 in all: 3 readable" in doctor.stdout
