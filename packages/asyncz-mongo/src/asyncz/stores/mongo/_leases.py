"""Leases on task documents: how several schedulers share one collection.

A leased document carries ``lease: {owner, until, fire, token}``: who holds it, until when
(int64 epoch microseconds of the holder's clock), the fire being run (``null`` for a claim
lease, taken but not yet advanced) and the token of the claim that took it. No lease, no
``lease`` field. Every change is a single-document or filtered multi-document update whose
filter re-checks the lease, so two schedulers never both take one document.

A claim costs four round trips whatever the batch size: find the fires whose runner died,
find the due documents, lease them all with one ``update_many`` stamped with a fresh token
(its filter skips any that another scheduler took in between), and read back exactly the
documents that carry this token.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from bson.int64 import Int64
from pymongo import ASCENDING
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


def _no_live_lease(now: Int64) -> Document:
    return {"$or": [{"lease": {"$exists": False}}, {"lease.until": {"$lt": now}}]}


def _due(now: Int64) -> Document:
    # "$ne: None" is implied by "$lte" on MongoDB; spelled out for look-alike servers.
    return {"next_run_time": {"$ne": None, "$lte": now}}


def _ended_run_lease(now: Int64) -> Document:
    return {"lease.fire": {"$ne": None}, "lease.until": {"$lt": now}}


def claimable(now: datetime) -> Document:
    """Live documents without a live lease that are due or hold an ended run lease."""
    at = _micros(now)
    return {
        **LIVE,
        "$or": [
            {**_due(at), "lease": {"$exists": False}},
            {**_due(at), "lease.until": {"$lt": at}},
            _ended_run_lease(at),
        ],
    }


def claim(
    tasks: Collection[Document], now: datetime, limit: int, owner: str, until: datetime
) -> list[Document]:
    """Lease up to ``limit`` claimable documents to ``owner``; returns the ones it won:
    fires whose runner died first, then due ones earliest first."""
    at = _micros(now)
    ended = [d["_id"] for d in tasks.find({**LIVE, **_ended_run_lease(at)}, _ID_ONLY).limit(limit)]
    due_filter = {**LIVE, **_due(at), **_no_live_lease(at)}
    room = limit - len(ended)
    due = []
    if room > 0:
        cursor = tasks.find(due_filter, _ID_ONLY).sort(BY_RUN_TIME).limit(room + len(ended))
        due = [d["_id"] for d in cursor if d["_id"] not in ended][:room]
    candidates = ended + due
    if not candidates:
        return []
    token = uuid.uuid4().hex
    tasks.update_many(
        {"_id": {"$in": candidates}, **claimable(now)},
        {"$set": {"lease.owner": owner, "lease.until": _micros(until), "lease.token": token}},
    )
    won = {d["_id"]: d for d in tasks.find({"_id": {"$in": candidates}, "lease.token": token})}
    return [won[task_id] for task_id in candidates if task_id in won]


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
    held = {"_id": task_id, "lease.owner": owner, **LIVE}
    if delete:
        return tasks.delete_one(held).deleted_count == 1
    return tasks.update_one(held, {"$unset": {"lease": ""}}).matched_count == 1


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
