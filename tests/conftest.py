"""Shared fixtures: real servers (tests/servers) and an isolated plugin registry."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

_SERVER_MODULES = ("redis", "mongo", "postgres", "mariadb")

for _name in _SERVER_MODULES:
    try:
        _module = __import__(f"servers.{_name}", fromlist=["*"])
    except ModuleNotFoundError as _exc:
        if _exc.name != f"servers.{_name}":
            raise
        continue
    for _attr in dir(_module):
        if not _attr.startswith("_"):
            globals().setdefault(_attr, getattr(_module, _attr))
