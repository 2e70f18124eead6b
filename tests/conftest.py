"""Shared fixtures: real servers (tests/servers) and an isolated plugin registry."""

from __future__ import annotations

import os
import sys

from hypothesis import Phase, settings

# In CI, never shrink: a failing example is reported as found. Shrinking a slow failing
# property can outlast any timeout (pytest-timeout's exception is just another failure to
# hypothesis).
settings.register_profile(
    "ci", phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target], deadline=None
)
if os.environ.get("CI"):
    settings.load_profile("ci")

sys.path.insert(0, os.path.dirname(__file__))

_SERVER_MODULES = ("redis", "mongo", "postgres", "mariadb")

for _name in _SERVER_MODULES:
    try:
        _module = __import__(f"servers.{_name}", fromlist=["*"])
    except ModuleNotFoundError as _exc:
        # Isolated nox sessions lack other backends' drivers: their server fixtures are absent.
        if _exc.name not in {f"servers.{_name}", "redis", "pymongo", "sqlalchemy"}:
            raise
        continue
    for _attr in dir(_module):
        if not _attr.startswith("_"):
            globals().setdefault(_attr, getattr(_module, _attr))
