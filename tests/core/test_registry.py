"""Plugin registry: lookup by alias, actionable errors, in-process plugins."""

from __future__ import annotations

import types

import pytest

from asyncz.exceptions import PluginLoadError, UnknownPluginError
from asyncz.plugins import PluginRegistry, hookimpl
from asyncz.stores.base import BaseStore
from asyncz.stores.memory import MemoryStore


def test_core_plugins_come_through_entry_points() -> None:
    registry = PluginRegistry()
    assert registry.store_class("memory") is MemoryStore
    assert registry.executor_class("asyncio").__name__ == "AsyncIOExecutor"
    assert registry.trigger_class("cron").__name__ == "CronTrigger"
    assert registry.distribution_of("store", "memory") == ("asyncz-core", "0.1.0")


def test_unknown_store_alias_lists_installed_ones_and_the_install_command() -> None:
    registry = PluginRegistry()
    with pytest.raises(UnknownPluginError) as raised:
        registry.store_class("etcd")
    message = str(raised.value)
    assert "'etcd'" in message
    assert "memory" in message  # what is installed
    assert "pip install asyncz-etcd" in message  # derived from the naming rule


def test_unknown_trigger_alias_has_no_install_hint() -> None:
    with pytest.raises(UnknownPluginError) as raised:
        PluginRegistry().trigger_class("sometimes")
    assert "pip install" not in str(raised.value)
    assert "cron" in str(raised.value)


def test_in_process_plugin_registration() -> None:
    class CustomStore(MemoryStore):
        pass

    plugin = types.SimpleNamespace()

    @hookimpl
    def asyncz_register_stores(register):  # type: ignore[no-untyped-def]
        register("custom", CustomStore)

    plugin.asyncz_register_stores = asyncz_register_stores
    registry = PluginRegistry(autoload=False)
    registry.register_plugin(plugin, name="custom-plugin")
    assert registry.store_class("custom") is CustomStore
    assert registry.installed_aliases("store") == ["custom"]


def test_plugin_registering_a_non_store_is_refused() -> None:
    registry = PluginRegistry(autoload=False)
    with pytest.raises(PluginLoadError, match="not a subclass"):
        registry.register_class("store", "bad", dict)


def test_two_plugins_claiming_one_alias_are_named() -> None:
    class A(MemoryStore):
        pass

    class B(MemoryStore):
        pass

    registry = PluginRegistry(autoload=False)
    registry.register_class("store", "dup", A)
    with pytest.raises(PluginLoadError, match="A and .*B"):
        registry.register_class("store", "dup", B)


def test_broken_plugin_names_its_distribution(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    dist = tmp_path / "asyncz_broken-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: asyncz-broken\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(
        '[asyncz.stores]\nbroken = "no_such_module_xyz._plugin"\n'.replace('"', "")
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PluginLoadError) as raised:
        PluginRegistry().store_class("broken")
    message = str(raised.value)
    assert "asyncz-broken 1.2.3" in message and "failed to import" in message
    assert isinstance(raised.value.__cause__, ModuleNotFoundError)


def test_base_store_is_the_contract() -> None:
    with pytest.raises(TypeError):
        BaseStore()  # type: ignore[abstract]
