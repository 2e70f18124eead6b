"""What each built wheel and sdist contains.

asyncz-core owns the ``asyncz`` package and the ``asyncz.stores`` namespace level (with no
``__init__``); every backend distribution adds exactly one leaf, ``asyncz/stores/<name>/``,
and nothing above it. No file is in two wheels, so installing any set of them never
overwrites another's file.
"""

from __future__ import annotations

import re
from typing import Any, TypeAlias

# The fixtures' classes live in conftest.py, which is not importable by one stable name
# (pytest and mypy each name it their own way), so tests refer to them by alias.
Dist: TypeAlias = Any  # conftest.Dist


def requirement_names(dist: Dist) -> set[str]:
    return {
        re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0].lower()
        for requirement in dist.metadata().get("Requires-Dist", [])
        if "extra ==" not in requirement
    }


def test_every_distribution_builds_a_wheel_and_an_sdist(any_dist: Dist) -> None:
    assert any_dist.wheel.name.endswith("-py3-none-any.whl")
    assert any_dist.package_files(), f"{any_dist.wheel.name} holds no code"
    assert {"pyproject.toml", "README.md", "PKG-INFO"} <= set(any_dist.sdist_files())
    assert any_dist.metadata()["Requires-Python"] == [">=3.11"]


def test_core_wheel_owns_asyncz_and_the_stores_namespace(dists: dict[str, Dist]) -> None:
    files = set(dists["asyncz-core"].package_files())
    assert {"asyncz/__init__.py", "asyncz/stores/base.py", "asyncz/stores/memory.py"} <= files
    assert "asyncz/stores/__init__.py" not in files, "asyncz.stores must stay a namespace level"
    leaves = sorted(f for f in files if f.startswith("asyncz/stores/") and f.count("/") > 2)
    assert leaves == [], "the core ships store subpackages"


def test_core_depends_on_no_database_driver(
    dists: dict[str, Dist], drivers: tuple[str, ...]
) -> None:
    assert requirement_names(dists["asyncz-core"]).isdisjoint(d.lower() for d in drivers)


def test_backend_wheel_holds_only_its_leaf(backend: Dist) -> None:
    leaf = f"asyncz/stores/{backend.leaf}/"
    files = backend.package_files()
    assert f"{leaf}__init__.py" in files
    assert [f for f in files if not f.startswith(leaf)] == [], f"files outside {leaf}"


def test_backend_sdist_holds_no_shared_level(backend: Dist) -> None:
    files = set(backend.sdist_files())
    assert f"src/asyncz/stores/{backend.leaf}/__init__.py" in files
    assert not {"src/asyncz/__init__.py", "src/asyncz/stores/__init__.py"} & files


def test_no_file_is_in_two_wheels(dists: dict[str, Dist]) -> None:
    owner: dict[str, str] = {}
    for dist in dists.values():
        for path in dist.package_files():
            assert path not in owner, f"{path} is in both {owner[path]} and {dist.name}"
            owner[path] = dist.name


def test_backend_entry_points_follow_the_alias_naming_rule(backend: Dist) -> None:
    """Alias x names a module inside asyncz.stores.x, which the wheel itself ships."""
    stores = backend.entry_points("asyncz.stores")
    expected = {backend.leaf, "mongodb"} if backend.leaf == "mongo" else {backend.leaf}
    assert set(stores) == expected
    for alias, target in stores.items():
        module = target.split(":")[0].strip()
        assert module.startswith(f"asyncz.stores.{backend.leaf}."), f"{alias} -> {target}"
        assert backend.ships_module(module), f"{alias} -> {target}: not in the wheel"
    assert backend.entry_points("asyncz.executors") == {}
    assert backend.entry_points("asyncz.triggers") == {}


def test_core_entry_points_name_modules_it_ships(dists: dict[str, Dist]) -> None:
    core = dists["asyncz-core"]
    assert core.entry_points("asyncz.stores") == {"memory": "asyncz.plugins.builtin"}
    for group in ("asyncz.stores", "asyncz.executors", "asyncz.triggers", "pytest11"):
        for alias, target in core.entry_points(group).items():
            module = target.split(":")[0].strip()
            assert core.ships_module(module), f"{group} {alias} -> {target}: not in the wheel"


def test_versions_move_in_lockstep(dists: dict[str, Dist]) -> None:
    version = dists["asyncz-core"].version
    asyncz = [dist for name, dist in dists.items() if name.startswith("asyncz-")]
    assert {dist.version for dist in asyncz} == {version}
    for dist in asyncz[1:]:
        pins = [r for r in dist.metadata()["Requires-Dist"] if r.startswith("asyncz-core")]
        assert [p.replace(" ", "") for p in pins] == [f"asyncz-core=={version}"], dist.name


def test_third_party_plugin_lives_in_its_own_namespace(dists: dict[str, Dist]) -> None:
    acme = dists["acme-asyncz-sqlite"]
    assert all(f.startswith("acme_asyncz_store/") for f in acme.package_files())
    assert acme.entry_points("asyncz.stores") == {"acme": "acme_asyncz_store.plugin"}
    assert requirement_names(acme) == {"asyncz-core"}
