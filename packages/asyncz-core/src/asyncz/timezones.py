"""Time zones from configuration values, and the machine's local zone."""

from __future__ import annotations

import os
import re
from datetime import UTC, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def to_timezone(value: str | tzinfo) -> tzinfo:
    """A tzinfo from an IANA key ("Europe/Lisbon"), "UTC", an offset ("+05:30") or a tzinfo."""
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a time zone name such as 'Europe/Lisbon', got {value!r}")
    if value.upper() in {"UTC", "Z"}:
        return UTC
    match = _OFFSET.match(value)
    if match:
        sign, hours, minutes = match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-delta if sign == "-" else delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as 'Europe/Lisbon' or 'UTC'"
        ) from exc


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


def timezone_name(tz: tzinfo) -> str:
    """A string ``to_timezone`` turns back into ``tz``."""
    key = getattr(tz, "key", None)
    if key:
        return str(key)
    if tz is UTC:
        return "UTC"
    offset = tz.utcoffset(None)
    if offset is None:
        raise ValueError(f"cannot name time zone {tz!r}")
    total = int(offset.total_seconds() // 60)
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"
