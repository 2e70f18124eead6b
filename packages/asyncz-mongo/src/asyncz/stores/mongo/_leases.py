"""Leases on task documents: how several schedulers share one collection.

A leased document carries ``lease: {owner, until, fire, token}``: who holds it, until when
(int64 epoch microseconds of the holder's clock), the fire being run (``null`` for a claim
lease, taken but not yet advanced) and the token of the claim (or batched commit) that last
wrote it. No lease, no ``lease`` field. Every change is a single-document or filtered
multi-document update whose filter re-checks the lease, so two schedulers never both take
one document.

A claim costs four round trips whatever the batch size (five when fires of a dead runner
are taken over too): find the fires whose runner died, find the due documents, lease them
with one ``update_many`` stamped with a fresh token (its filter skips any that another
scheduler took in between), and read back exactly the documents that carry this token.
Batched commits and releases (``commit_many``, ``release_many``) are one bulk write each,
with the same per-document filters as the single ones; a bulk result only counts, so a
token or a find says which items took effect.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING, DeleteOne, UpdateOne
from pymongo.collection import Collection

from asyncz.stores.records import TaskRecord, from_micros, to_micros

Document = dict[str, Any]

LIVE: Document = {"quarantine": {"$exists": False}}
BY_RUN_TIME = [("next_run_time", ASCENDING), ("_id", ASCENDING)]

#: Index over lease ends; sparse, so only leased documents are in it.
LEASE_INDEX = [("lease.until", ASCENDING)]
LEASE_INDEX_NAME = "asyncz_lease_until"

_ID_ONLY = {"_id": 1}


def _micros(moment: datetime) -> Int64:
    return Int64(to_micros(moment))


#: The smallest int64: ``{"$gte": EARLIEST}`` matches every scheduled run time, never null.
EARLIEST = Int64(-(2**63))

#: Scheduled (not paused, not quarantined: both have a null run time) documents.
SCHEDULED: Document = {"next_run_time": {"$gte": EARLIEST}}

#: Ascending run times, for queries that need no tie order: the index still serves them.
BY_RUN_TIME_ONLY = [("next_run_time", ASCENDING)]


def _due(now: Int64) -> Document:
    """A closed range on the indexed field and nothing else, so that every server serves
    it from the index (null, for paused and quarantined documents, is outside any
    numeric range; ``$ne`` or ``$exists`` beside it made look-alike servers scan)."""
    return {"next_run_time": {"$gte": EARLIEST, "$lte": now}}


def _ended_run_lease(now: Int64) -> Document:
    """Live documents whose run lease has ended: fires of a scheduler that died."""
    return {**LIVE, "lease.fire": {"$ne": None}, "lease.until": {"$lt": now}}


def _free_due_filter(at: Int64) -> Document:
    """Due, and any lease on it has ended (``$not`` also matches a document without one).
    No ``$or``: beside an ``_id`` clause every server then finds the documents by ``_id``
    (a top-level ``$or`` made look-alike servers scan the collection per claim)."""
    return {**LIVE, **_due(at), "lease.until": {"$not": {"$gte": at}}}


def claim(
    tasks: Collection[Document], now: datetime, limit: int, owner: str, until: datetime
) -> list[Document]:
    """Lease up to ``limit`` claimable documents to ``owner``; returns the ones it won:
    fires whose runner died first, then due ones earliest first."""
    at = _micros(now)
    ended = [d["_id"] for d in tasks.find(_ended_run_lease(at), _ID_ONLY).limit(limit)]
    due = _free_due(tasks, at, limit - len(ended), set(ended))
    if not ended and not due:
        return []
    token = uuid.uuid4().hex
    lease = {"$set": {"lease.owner": owner, "lease.until": _micros(until), "lease.token": token}}
    # Each filter re-checks what made the document claimable, so one another scheduler
    # took since the find is skipped.
    if ended:
        tasks.update_many({"_id": {"$in": ended}, **_ended_run_lease(at)}, lease)
    if due:
        tasks.update_many({"_id": {"$in": due}, **_free_due_filter(at)}, lease)
    candidates = ended + due
    won = {d["_id"]: d for d in tasks.find({"_id": {"$in": candidates}, "lease.token": token})}
    return [won[task_id] for task_id in candidates if task_id in won]


def _free_due(tasks: Collection[Document], at: Int64, room: int, skip: set[str]) -> list[str]:
    """Up to ``room`` ids of due documents without a live lease, earliest first. The query
    is the due range alone (served by the index); leased documents are passed over here,
    reading a window twice the room, and a wider one when they filled even that (rare:
    leased due documents are fires other claims are about to commit)."""
    window = 2 * room + len(skip)
    while room > 0:
        page = list(
            tasks.find(_due(at), {"_id": 1, "lease.until": 1}).sort(BY_RUN_TIME).limit(window)
        )
        free = [d["_id"] for d in page if d["_id"] not in skip and _lease_ended(d, at)]
        if len(free) >= room or len(page) < window:
            return free[:room]
        window *= 2
    return []


def _lease_ended(document: Document, at: Int64) -> bool:
    until = (document.get("lease") or {}).get("until")
    return until is None or until < at


def commit(
    tasks: Collection[Document],
    record: TaskRecord,
    fields: Document,
    owner: str,
    fire_time: datetime,
    until: datetime,
) -> bool:
    """Replace ``fields`` (payload, run time) and turn the lease into a run lease, if
    ``owner`` still holds it."""
    result = tasks.update_one(
        {"_id": record.id, "lease.owner": owner, **LIVE},
        {"$set": {**fields, "lease.fire": _micros(fire_time), "lease.until": _micros(until)}},
    )
    return result.matched_count == 1


def release(tasks: Collection[Document], task_id: str, owner: str, delete: bool) -> bool:
    held = _held(task_id, owner)
    if delete:
        return tasks.delete_one(held).deleted_count == 1
    return tasks.update_one(held, {"$unset": {"lease": ""}}).matched_count == 1


def commit_many(
    tasks: Collection[Document],
    commits: list[tuple[str, Document, datetime]],
    owner: str,
    until: datetime,
) -> list[bool]:
    """``commit`` for each ``(id, fields, fire_time)`` in order, as one ordered bulk write.

    Each update is stamped with a fresh token, so when the bulk's matched count says some
    but not all were committed, one find of the token tells which (two round trips)."""
    token = uuid.uuid4().hex
    end = _micros(until)
    operations = [
        UpdateOne(
            _held(task_id, owner),
            {
                "$set": {
                    **fields,
                    "lease.fire": _micros(fire),
                    "lease.until": end,
                    "lease.token": token,
                }
            },
        )
        for task_id, fields, fire in commits
    ]
    matched = tasks.bulk_write(operations, ordered=True).matched_count
    if matched in (0, len(operations)):
        return [matched > 0] * len(operations)
    ids = list({task_id for task_id, _, _ in commits})
    stamped = {d["_id"] for d in tasks.find({"_id": {"$in": ids}, "lease.token": token}, _ID_ONLY)}
    return [task_id in stamped for task_id, _, _ in commits]


def release_many(
    tasks: Collection[Document], releases: list[tuple[str, bool]], owner: str
) -> list[bool]:
    """``release`` for each ``(id, delete)`` in order: a find of the leases ``owner``
    holds, then one bulk write for those (an update and a delete command: three round trips
    at most). A release ends the lease, so only the first release of an id can succeed.

    If the bulk's counts fall short (the lease ended and another scheduler took it, or the
    task was deleted, between the two), a fourth round trip reads what became of them."""
    ids = list(dict.fromkeys(task_id for task_id, _ in releases))
    held_filter = {"_id": {"$in": ids}, "lease.owner": owner, **LIVE}
    held = {d["_id"] for d in tasks.find(held_filter, _ID_ONLY)}
    chosen: dict[str, bool] = {}  # held id -> delete, from its first release
    first: list[bool] = []
    for task_id, delete in releases:
        first.append(task_id in held and task_id not in chosen)
        if first[-1]:
            chosen[task_id] = delete
    if not chosen:
        return first
    operations: list[DeleteOne | UpdateOne] = [
        DeleteOne(_held(task_id, owner))
        if delete
        else UpdateOne(_held(task_id, owner), {"$unset": {"lease": ""}})
        for task_id, delete in chosen.items()
    ]
    result = tasks.bulk_write(operations, ordered=False)
    deletes = sum(chosen.values())
    if result.deleted_count == deletes and result.matched_count == len(chosen) - deletes:
        return first
    released = _released(tasks, chosen)
    pairs = zip(first, releases, strict=True)
    return [is_first and task_id in released for is_first, (task_id, _) in pairs]


def _held(task_id: str, owner: str) -> Document:
    return {"_id": task_id, "lease.owner": owner, **LIVE}


def _released(tasks: Collection[Document], chosen: dict[str, bool]) -> set[str]:
    """Which releases took effect, read afterwards: a deleted task is gone, a released one
    is live without a lease (one taken by another scheduler since counts as lost)."""
    after = {
        d["_id"]: d
        for d in tasks.find({"_id": {"$in": list(chosen)}}, {"lease": 1, "quarantine": 1})
    }
    return {
        task_id for task_id, delete in chosen.items() if _took_effect(after.get(task_id), delete)
    }


def _took_effect(document: Document | None, delete: bool) -> bool:
    if delete:
        return document is None
    return document is not None and "lease" not in document and "quarantine" not in document


def extend(
    tasks: Collection[Document], task_ids: list[str], owner: str, until: datetime
) -> list[str]:
    """Extend the leases ``owner`` holds; returns the ids it does not hold. The update goes
    first: a document still held after it was extended by it."""
    held = {"_id": {"$in": task_ids}, "lease.owner": owner, **LIVE}
    tasks.update_many(held, {"$set": {"lease.until": _micros(until)}})
    still_held = {d["_id"] for d in tasks.find(held, _ID_ONLY)}
    return [task_id for task_id in task_ids if task_id not in still_held]


def lease_fire_time(document: Document) -> datetime | None:
    fire = (document.get("lease") or {}).get("fire")
    return None if fire is None else from_micros(int(fire))
