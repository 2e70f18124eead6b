"""Time zones and datetimes as triggers read, store and report them.

Rules:

* A trigger's zone is a ``zoneinfo.ZoneInfo`` or a fixed ``datetime.timezone``; it is stored
  as its IANA key, ``"UTC"`` or a ``±HH:MM`` offset.
* A naive wall time is placed in a zone the way cron rule 2 and 3 say (see
  ``asyncz.triggers.cron``): a wall time skipped by a spring-forward gap means the first
  instant after the gap; a wall time that occurs twice means its first occurrence (unless
  ``fold=1`` asks for the second).
* Datetimes a trigger exposes (fire times, ``run_at``, ``start_at``, ``end_at``) carry the
  fixed UTC offset in force at that instant, never the ``ZoneInfo`` itself: inside a
  repeated (fall-back) hour Python ignores ``fold`` between datetimes sharing one
  ``ZoneInfo``, and a ``fold=1`` datetime never compares equal to one in another zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ONE_SECOND = timedelta(seconds=1)
ONE_MICROSECOND = timedelta(microseconds=1)
_ZERO = timedelta(0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})?(?::?(\d{2}))?$")
_TZ_HELP = (
    "pass an IANA name such as 'Europe/Lisbon', 'UTC', an offset such as '+05:30', or a tzinfo"
)


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_timezone(value: str | tzinfo | None, *, default: tzinfo = UTC) -> tzinfo:
    """The zone named by ``value`` (``None`` gives ``default``); ``ValueError`` if unknown."""
    if value is None:
        return default
    if isinstance(value, str):
        return _zone_from_text(value)
    if isinstance(value, ZoneInfo):
        if value.key is None:
            raise ValueError(
                f"timezone {value!r} was loaded from a file and has no IANA key, so it cannot "
                f"be stored; {_TZ_HELP}"
            )
        return value
    if isinstance(value, timezone):
        return value
    if isinstance(value, tzinfo):
        # Third-party zones (pytz, dateutil) that know their IANA name become ZoneInfo.
        key = getattr(value, "key", None) or getattr(value, "zone", None)
        if isinstance(key, str):
            return _zone_from_text(key)
    raise ValueError(f"unsupported timezone {value!r}: {_TZ_HELP}")


def _zone_from_text(text: str) -> tzinfo:
    name = text.strip()
    if name.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.match(name)
    if match:
        sign, hours, minutes, seconds = match.groups()
        offset = timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
        if offset >= timedelta(hours=24):
            raise ValueError(f"timezone offset {text!r} must be less than 24 hours")
        return timezone(-offset if sign == "-" else offset)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown timezone {text!r}: {_TZ_HELP}") from exc


def timezone_name(tz: tzinfo) -> str:
    """The stored form of a zone accepted by ``parse_timezone``."""
    if isinstance(tz, ZoneInfo) and tz.key is not None:
        return tz.key
    offset = tz.utcoffset(None)
    if offset is None:
        raise ValueError(f"cannot store timezone {tz!r}: {_TZ_HELP}")
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta(0) else "+"
    total = int(abs(offset).total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{seconds:02d}" if seconds else text


def parse_datetime(value: datetime | date | str, tz: tzinfo, *, what: str) -> datetime:
    """The instant ``value`` stands for, as wall time in ``tz`` with a fixed offset (see
    ``fixed_offset``). Naive values and ISO strings without an offset are wall times in
    ``tz``; a ``date`` is its midnight."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"{what}={value!r} is not an ISO-8601 date or date-time such as "
                "'2026-01-31' or '2026-01-31 09:30:00+01:00'"
            ) from None
    elif not isinstance(value, datetime):
        if not isinstance(value, date):
            raise ValueError(
                f"{what} must be a datetime, a date or an ISO-8601 string, got {value!r}"
            )
        value = datetime.combine(value, time())
    if value.tzinfo is None or value.utcoffset() is None:
        instants = localize(value.replace(tzinfo=None), tz)
        instant = instants.second if value.fold and instants.second else instants.first
        return fixed_offset(instant, tz)
    return fixed_offset(value, tz)


def to_utc(value: datetime, tz: tzinfo) -> datetime:
    """``value`` as an aware UTC datetime (a naive value is a wall time in ``tz``). Do this
    before any arithmetic: adding a timedelta to a ``fold=1`` datetime drops the fold."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        return localize(value, tz).first
    return value.astimezone(UTC)


def format_datetime(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def fixed_offset(instant: datetime, tz: tzinfo) -> datetime:
    """``instant`` as wall time in ``tz`` with the fixed offset in force then."""
    local = instant.astimezone(tz)
    if tz is UTC:  # the common case, on every fire: already fixed
        return local.replace(fold=0) if local.fold else local
    offset = local.utcoffset() or _ZERO
    zone = _FIXED_ZONES.get(offset)
    if zone is None:
        zone = _FIXED_ZONES.setdefault(offset, timezone(offset))
    return local.replace(tzinfo=zone, fold=0)


#: One ``timezone`` per offset seen (a few dozen exist), instead of one per fire time.
_FIXED_ZONES: dict[timedelta, timezone] = {}


class WallInstants(NamedTuple):
    """The UTC instants a wall time stands for. ``first`` is the fire instant: the only one,
    the first of two (fall-back), or the end of the gap that skipped it (spring-forward)."""

    first: datetime
    second: datetime | None = None  # the repeated occurrence in a fall-back
    in_gap: bool = False


def localize(wall: datetime, tz: tzinfo) -> WallInstants:
    """Place the naive ``wall`` time in ``tz`` (see the module rules; ``wall.fold`` is
    ignored)."""
    naive_utc = _rebuild(wall, UTC)
    before = tz.utcoffset(_rebuild(wall)) or _ZERO
    if isinstance(tz, timezone):
        return WallInstants(naive_utc - before)
    after = tz.utcoffset(_rebuild(wall, fold=1)) or _ZERO
    if before == after:
        return WallInstants(naive_utc - before)
    if before > after:
        return WallInstants(naive_utc - before, naive_utc - after)
    return WallInstants(transition_between(naive_utc - after, naive_utc - before, tz), in_gap=True)


def _rebuild(wall: datetime, tz: tzinfo | None = None, fold: int = 0) -> datetime:
    # The constructor is several times faster than datetime.replace, and this is the hot
    # path of every cron search.
    return datetime(
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond,
        tz, fold=fold,
    )  # fmt: skip


def repeated_span(wall: datetime, tz: tzinfo) -> tuple[datetime, datetime] | None:
    """``(start, end)`` naive wall times of the fall-back period containing ``wall``, end
    exclusive; ``None`` when ``wall`` occurs once (or never)."""
    instants = localize(wall, tz)
    if instants.second is None:
        return None
    change = transition_between(instants.first, instants.second, tz)
    old = instants.first.astimezone(tz).utcoffset() or _ZERO
    new = instants.second.astimezone(tz).utcoffset() or _ZERO
    naive_change = change.replace(tzinfo=None)
    return naive_change + new, naive_change + old


def transition_between(early: datetime, late: datetime, tz: tzinfo) -> datetime:
    """The first instant in ``(early, late]`` whose UTC offset in ``tz`` is the one in force
    at ``late``. Zone transitions fall on whole seconds, so bisecting seconds is exact."""
    target = late.astimezone(tz).utcoffset()
    low = (early - _EPOCH) // ONE_SECOND
    high = -((_EPOCH - late) // ONE_SECOND)  # ceiling
    while high - low > 1:
        middle = (low + high) // 2
        if (_EPOCH + timedelta(seconds=middle)).astimezone(tz).utcoffset() == target:
            high = middle
        else:
            low = middle
    return _EPOCH + timedelta(seconds=high)
