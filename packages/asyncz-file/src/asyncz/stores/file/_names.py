"""Task id -> file name, safe for any id.

Rule: the name is built only from ``[a-z0-9_-]``, ``^`` (marks an upper-case letter, so
two ids differing in case never share a file on a case-insensitive file system), ``%hh``
(each UTF-8 byte of any other character) and, for ids whose escaped form would be too
long, ``~`` followed by the SHA-256 of the id. Consequences:

* a name never contains ``/``, ``\\``, NUL or ``..`` and never starts with ``.``, so task
  files cannot escape the directory nor collide with the store's own dot-files;
* distinct ids give distinct names (the escaping is injective; the hashed form is kept
  apart by ``~``, which escaping never produces); the empty id maps to a lone ``%``;
* names stay well under the usual 255-byte limit.

The id itself is kept in each file's header, so nothing ever needs to decode a name.
"""

from __future__ import annotations

import hashlib

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")

#: Longest escaped stem kept as is; longer ones are shortened and hashed.
MAX_STEM = 150


def _id_bytes(task_id: str) -> bytes:
    # surrogatepass: ids are arbitrary Python strings, lone surrogates included.
    return task_id.encode("utf-8", "surrogatepass")


def file_stem(task_id: str) -> str:
    """The file name (without suffix) that holds the task ``task_id``."""
    parts: list[str] = []
    for char in task_id:
        if char in _SAFE:
            parts.append(char)
        elif "A" <= char <= "Z":
            parts.append("^" + char.lower())
        else:
            parts.append("".join(f"%{byte:02x}" for byte in _id_bytes(char)))
    stem = "".join(parts)
    if not stem:
        return "%"
    if len(stem) > MAX_STEM:
        digest = hashlib.sha256(_id_bytes(task_id)).hexdigest()
        stem = f"{stem[: MAX_STEM - len(digest) - 1]}~{digest}"
    return stem


def task_id_of_stem(stem: str) -> str | None:
    """The id whose file is named ``stem``, or ``None`` for a hashed or foreign name.
    Only needed for files whose header cannot be read."""
    if stem == "%":
        return ""
    out = bytearray()
    position = 0
    try:
        while position < len(stem):
            char = stem[position]
            if char in _SAFE:
                out += char.encode()
                position += 1
            elif char == "^" and stem[position + 1 : position + 2] in _SAFE:
                out += stem[position + 1].upper().encode()
                position += 2
            elif char == "%" and len(stem) >= position + 3:
                out.append(int(stem[position + 1 : position + 3], 16))
                position += 3
            else:
                return None
        task_id = out.decode("utf-8", "surrogatepass")
    except ValueError:
        return None
    return task_id if file_stem(task_id) == stem else None
