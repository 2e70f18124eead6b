"""On-disk formats: task files and index journal lines.

A task file is one header line, then the payload bytes exactly as the core encoded them::

    asyncz-task 1 <next_run_time µs | -> <id as a JSON string>\\n<payload>

The header is plaintext on purpose: it lets the time index be rebuilt from the task files
alone, and the id and run time are index fields every store keeps in the clear anyway.

A journal line records one index change and carries a CRC-32 of its body, so a line torn
by a crash (or any damage) is recognised and never half-applied::

    <crc32 as 8 hex digits> S <µs | -> <id JSON>\\n     (the task's run time is now ...)
    <crc32 as 8 hex digits> D - <id JSON>\\n            (the task is gone)
    <crc32 as 8 hex digits> L [id, owner, until µs, fire µs]\\n   (lease; owner null: none)
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

TASK_MAGIC = b"asyncz-task 1 "
JOURNAL_MAGIC = b"asyncz-index 1\n"

SET = "S"
DELETE = "D"
LEASE = "L"


class FormatError(ValueError):
    """Bytes that do not follow the format (damaged, truncated or foreign)."""


@dataclass(frozen=True, slots=True)
class Header:
    task_id: str
    run_at: int | None  # epoch microseconds; None = paused
    payload_offset: int


def _encode_time(run_at: int | None) -> bytes:
    return b"-" if run_at is None else str(run_at).encode()


def _decode_time(raw: bytes) -> int | None:
    if raw == b"-":
        return None
    if not raw.lstrip(b"-").isdigit():
        raise FormatError(f"bad run time {raw[:40]!r}")
    return int(raw)


def _decode_id(raw: bytes) -> str:
    inner = raw[1:-1]
    if raw[:1] == raw[-1:] == b'"' and len(raw) >= 2 and b"\\" not in inner and b'"' not in inner:
        # Fast path (most ids): nothing escaped, and the encoder writes ASCII only.
        try:
            return inner.decode("ascii")
        except UnicodeDecodeError as exc:
            raise FormatError(f"bad task id {raw[:60]!r}") from exc
    try:
        task_id = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"bad task id {raw[:60]!r}") from exc
    if not isinstance(task_id, str):
        raise FormatError(f"task id is not a string: {raw[:60]!r}")
    return task_id


def _encode_id(task_id: str) -> bytes:
    # ensure_ascii: one line, no raw newlines or non-ASCII bytes, any string round-trips.
    return json.dumps(task_id, ensure_ascii=True).encode("ascii")


def task_header(task_id: str, run_at: int | None) -> bytes:
    return TASK_MAGIC + _encode_time(run_at) + b" " + _encode_id(task_id) + b"\n"


def parse_task_header(data: bytes) -> Header:
    """The header at the start of ``data`` (which must hold at least the whole first line)."""
    if not data.startswith(TASK_MAGIC):
        raise FormatError("not an asyncz task file (bad magic)")
    end = data.find(b"\n")
    if end < 0:
        raise FormatError("truncated header")
    time_raw, _, id_raw = data[len(TASK_MAGIC) : end].partition(b" ")
    return Header(_decode_id(id_raw), _decode_time(time_raw), end + 1)


@dataclass(frozen=True, slots=True)
class Lease:
    """A scheduler's hold on a task (see ``RecordStore.claim_records``); times in µs."""

    owner: str
    until: int
    fire: int | None  # the fire being run (a run lease), None for a claim lease


@dataclass(frozen=True, slots=True)
class Entry:
    op: str  # SET, DELETE or LEASE
    task_id: str
    run_at: int | None = None  # SET only
    lease: Lease | None = None  # LEASE only; None releases


def journal_line(entry: Entry) -> bytes:
    if entry.op == LEASE:
        lease = entry.lease
        fields: list[object] = [entry.task_id, None, None, None]
        if lease is not None:
            fields = [entry.task_id, lease.owner, lease.until, lease.fire]
        body = b"L " + json.dumps(fields, ensure_ascii=True).encode("ascii")
    else:
        body = (
            entry.op.encode() + b" " + _encode_time(entry.run_at) + b" " + _encode_id(entry.task_id)
        )
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def parse_journal_line(line: bytes) -> Entry:
    """One journal line without its newline; ``FormatError`` if damaged."""
    crc, _, body = line.partition(b" ")
    if len(crc) != 8 or b"%08x" % zlib.crc32(body) != crc:
        raise FormatError(f"journal line fails its checksum: {line[:60]!r}")
    op, _, rest = body.partition(b" ")
    if op == b"L":
        return _parse_lease(rest)
    time_raw, _, id_raw = rest.partition(b" ")
    if op not in (b"S", b"D"):
        raise FormatError(f"unknown journal operation {op!r}")
    return Entry(op.decode(), _decode_id(id_raw), _decode_time(time_raw))


def _parse_lease(raw: bytes) -> Entry:
    try:
        task_id, owner, until, fire = json.loads(raw)
    except ValueError as exc:
        raise FormatError(f"bad lease entry {raw[:60]!r}") from exc
    if owner is None:
        return Entry(LEASE, task_id)
    return Entry(LEASE, task_id, lease=Lease(owner, until, fire))
