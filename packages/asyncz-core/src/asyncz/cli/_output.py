"""Rendering for humans (aligned tables, local and UTC times) and for machines (JSON)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from asyncz.cli._errors import CLIError
from asyncz.timezones import local_timezone, to_timezone


def display_zone(name: str | None) -> tzinfo:
    """The zone times are shown in: ``--tz`` if given, else the machine's zone."""
    if name is None:
        return local_timezone()
    try:
        return to_timezone(name)
    except ValueError as exc:
        raise CLIError(f"--tz: {exc}") from None


def local_text(moment: datetime | None, zone: tzinfo) -> str:
    """``2025-06-02 09:00:00 WEST``; ``-`` for no time (a paused task)."""
    if moment is None:
        return "-"
    local = moment.astimezone(zone)
    label = local.tzname() or local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {label}"


def utc_text(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def iso_utc(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def iso_local(moment: datetime | None, zone: tzinfo) -> str | None:
    return None if moment is None else moment.astimezone(zone).isoformat()


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [len(header) for header in headers]
    for row in rows:
        for index, cell in enumerate(row):
            widths[index] = max(widths[index], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        return "  ".join(padded).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])


def print_json(data: Any) -> None:
    """Pretty JSON on stdout; values JSON cannot hold (task arguments) become their repr."""
    json.dump(data, sys.stdout, indent=2, default=_fallback, ensure_ascii=False)
    sys.stdout.write("\n")


def _fallback(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return repr(value)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
