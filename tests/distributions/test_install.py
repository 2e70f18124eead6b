"""Installing the distributions into fresh virtual environments, as users and developers do.

Wheels: the core works alone, imports no database driver, and names the distribution to
install for a store it lacks; adding a backend wheel adds its alias. Editable installs: the
namespace level ``asyncz.stores`` spans the core's and the backend's source trees whichever
of them is editable (a pitfall that installing only wheels would hide).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeAlias

import pytest

# The fixtures' classes live in conftest.py, which is not importable by one stable name
# (pytest and mypy each name it their own way), so tests refer to them by alias.
Dist: TypeAlias = Any  # conftest.Dist
FreshVenv: TypeAlias = Any  # conftest.FreshVenv

IMPORT_CORE = """
import json, sys
import asyncz, asyncz.schedulers, asyncz.stores.memory
drivers = set(%r)
print(json.dumps({
    "drivers": sorted(m for m in sys.modules if m.split(".")[0] in drivers),
    "stores": sorted(m for m in sys.modules if m.startswith("asyncz.stores.")),
}))
"""

ASK_FOR_REDIS = """
import json
from asyncz.exceptions import UnknownPluginError
from asyncz.plugins.registry import PluginRegistry
try:
    found = PluginRegistry().store_class("redis")
except UnknownPluginError as exc:
    print(json.dumps({"error": str(exc), "installed": exc.installed}))
else:
    print(json.dumps({"found": f"{found.__module__}.{found.__qualname__}"}))
"""

USE_REDIS = """
import json
import asyncz, asyncz.stores.redis
from asyncz.plugins.registry import PluginRegistry
from asyncz.stores.redis import RedisStore
assert PluginRegistry().store_class("redis") is RedisStore
print(json.dumps({"core": asyncz.__file__, "redis": asyncz.stores.redis.__file__}))
"""


def run_json(venv: FreshVenv, code: str) -> Any:
    return json.loads(venv.run(code).strip().splitlines()[-1])


def test_core_alone_imports_no_database_driver(
    fresh_venv: FreshVenv, dists: dict[str, Dist], drivers: tuple[str, ...]
) -> None:
    fresh_venv.install(dists["asyncz-core"].wheel)
    loaded = run_json(fresh_venv, IMPORT_CORE % (drivers,))
    assert loaded["drivers"] == []
    assert "asyncz.stores.memory" in loaded["stores"]
    backend_leaves = {"file", "redis", "mongo", "sqlalchemy"}
    assert [m for m in loaded["stores"] if m.split(".")[2] in backend_leaves] == []


def test_installing_a_backend_wheel_adds_its_alias(
    fresh_venv: FreshVenv, dists: dict[str, Dist]
) -> None:
    fresh_venv.install(dists["asyncz-core"].wheel)
    missing = run_json(fresh_venv, ASK_FOR_REDIS)
    assert "found" not in missing, missing
    assert "pip install asyncz-redis" in missing["error"]
    assert missing["installed"] == ["memory"]
    assert "memory" in missing["error"], "the error lists the aliases that are installed"

    fresh_venv.install(dists["asyncz-redis"].wheel)
    assert run_json(fresh_venv, ASK_FOR_REDIS) == {"found": "asyncz.stores.redis._store.RedisStore"}
    run_json(fresh_venv, USE_REDIS)


@pytest.mark.parametrize(
    ("core_mode", "redis_mode"),
    [("editable", "editable"), ("wheel", "editable"), ("editable", "wheel")],
)
def test_namespace_spans_editable_and_wheel_installs(
    fresh_venv: FreshVenv, dists: dict[str, Dist], core_mode: str, redis_mode: str
) -> None:
    fresh_venv.install("hatchling", "editables")  # editable builds run in the target venv
    core, redis = dists["asyncz-core"], dists["asyncz-redis"]

    def requirement(dist: Dist, mode: str) -> list[str | Path]:
        return ["-e", dist.project] if mode == "editable" else [dist.wheel]

    fresh_venv.install(*requirement(core, core_mode), *requirement(redis, redis_mode))
    where = run_json(fresh_venv, USE_REDIS)
    for dist, key, mode in ((core, "core", core_mode), (redis, "redis", redis_mode)):
        from_source = Path(where[key]).resolve().is_relative_to(dist.project.resolve())
        assert from_source == (mode == "editable"), f"{key} imported from {where[key]}"
