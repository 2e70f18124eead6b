"""Time zones from configuration values, and the machine's local zone.

Parsing and naming live with the triggers (``asyncz.triggers._timezones``), which store
zones; this module adds the machine's zone for scheduler and CLI defaults.
"""

from __future__ import annotations

import os
from datetime import UTC, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asyncz.triggers._timezones import parse_timezone, timezone_name

__all__ = ["local_timezone", "timezone_name", "to_timezone"]


def to_timezone(value: str | tzinfo) -> tzinfo:
    """A tzinfo from an IANA key ("Europe/Lisbon"), "UTC", an offset ("+05:30") or a
    tzinfo; ``ValueError`` saying what is accepted otherwise."""
    return parse_timezone(value)


def local_timezone() -> tzinfo:
    """The machine's zone as a ZoneInfo (TZ, then /etc/localtime), else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        try:
            return to_timezone(name)
        except ValueError:
            pass
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return UTC
    marker = "zoneinfo/"
    if marker in target:
        try:
            return ZoneInfo(target.split(marker, 1)[1])
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return UTC
