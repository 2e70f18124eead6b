"""Every configuration form resolves stores and executors; bad options are explained."""

from __future__ import annotations

import pytest

from asyncz.exceptions import ConfigurationError, UnknownPluginError
from asyncz.executors import ThreadPoolExecutor
from asyncz.schedulers import AsyncIOScheduler
from asyncz.stores.memory import MemoryStore


@pytest.mark.parametrize(
    "spec",
    [
        MemoryStore(),
        MemoryStore,
        "memory",
        {"type": "memory"},
        {"class": "asyncz.stores.memory:MemoryStore"},
        {"class": MemoryStore},
    ],
    ids=["instance", "class", "alias", "type-dict", "class-ref", "class-obj"],
)
def test_store_config_forms(spec: object) -> None:
    scheduler = AsyncIOScheduler(stores={"default": spec}, timezone="UTC")
    assert isinstance(scheduler.stores["default"], MemoryStore)


def test_flat_prefixed_global_config() -> None:
    scheduler = AsyncIOScheduler(
        {
            "asyncz.stores.default.type": "memory",
            "asyncz.executors.pool.type": "threadpool",
            "asyncz.executors.pool.max_workers": "4",
            "asyncz.task_defaults.coalesce": "false",
            "asyncz.task_defaults.max_instances": "3",
            "asyncz.timezone": "Europe/Lisbon",
            "unrelated.setting": 1,
        }
    )
    pool = scheduler.executors["pool"]
    assert isinstance(pool, ThreadPoolExecutor) and pool.max_workers == 4
    assert scheduler.task_defaults.coalesce is False
    assert scheduler.task_defaults.max_instances == 3
    assert str(scheduler.timezone) == "Europe/Lisbon"


def test_add_store_by_alias() -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_store("memory", "extra")
    assert isinstance(scheduler.stores["extra"], MemoryStore)
    with pytest.raises(ValueError, match="already exists"):
        scheduler.add_store("memory", "extra")


def test_bad_option_names_the_plugin_option_and_reason() -> None:
    with pytest.raises(ConfigurationError) as raised:
        AsyncIOScheduler(executors={"pool": {"type": "threadpool", "max_workers": "many"}})
    message = str(raised.value)
    assert "'pool'" in message and "ThreadPoolExecutor" in message and "max_workers" in message


def test_unknown_option_lists_accepted_ones() -> None:
    with pytest.raises(ConfigurationError, match="unknown option 'max_worker'.*max_workers"):
        AsyncIOScheduler(executors={"pool": {"type": "threadpool", "max_worker": 3}})


def test_unknown_scheduler_option_is_not_silently_ignored() -> None:
    with pytest.raises(ConfigurationError, match="unknown scheduler option 'timezon'"):
        AsyncIOScheduler(timezon="UTC")


def test_unknown_store_alias_in_config() -> None:
    with pytest.raises(UnknownPluginError, match="pip install asyncz-nosuchstore"):
        AsyncIOScheduler(stores={"default": {"type": "nosuchstore"}})


def test_bad_task_defaults() -> None:
    with pytest.raises(ConfigurationError, match="max_instances"):
        AsyncIOScheduler(task_defaults={"max_instances": 0})
