"""Building the pymongo client, naming its server without credentials, size limits."""

from __future__ import annotations

from typing import Any

import pymongo.errors
from pymongo import MongoClient

from asyncz.exceptions import ConfigurationError, TaskEncodeError

#: How long an operation waits for a reachable server before failing (pymongo's default is
#: 30 s); short so that a wrong host/port fails the store's start quickly.
SERVER_SELECTION_TIMEOUT_MS = 5000

#: MongoDB's document size limit (the server may announce its own).
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


def build_client(options: dict[str, Any]) -> MongoClient[dict[str, Any]]:
    """A client from the store's keyword arguments (host, port, username, ...).

    ``connect=False``: nothing is contacted and no thread starts until first use, so a store
    that is never started holds no resources.
    """
    settings: dict[str, Any] = {
        "serverSelectionTimeoutMS": SERVER_SELECTION_TIMEOUT_MS,
        "connect": False,
    }
    settings.update(options)
    try:
        return MongoClient(**settings)
    except (pymongo.errors.ConfigurationError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"MongoDBStore client options are invalid: {exc}") from exc


def describe_server(client: MongoClient[dict[str, Any]]) -> str:
    """The seed addresses, e.g. "localhost:27017"; a URI's credentials never appear."""
    addresses = sorted(client.topology_description.server_descriptions())
    return ", ".join(f"{host}:{port}" for host, port in addresses) or "(no host)"


def too_large(task_id: str, size: int, cause: Exception) -> TaskEncodeError:
    detail = str(cause).rstrip(".")
    return TaskEncodeError(
        f"Task {task_id!r} is {size} bytes once encoded, more than a MongoDB document can hold "
        f"({MAX_DOCUMENT_BYTES} bytes, including the other fields): {detail}. Keep large data "
        "outside the task (a file, object storage, a table) and pass a reference to it as an "
        "argument instead."
    )


#: The server's codes for an oversized document (BSONObjectTooLarge and kin).
TOO_LARGE_CODES = frozenset({10334, 17419, 17420})


def is_too_large(exc: pymongo.errors.PyMongoError) -> bool:
    """A server-side refusal of an oversized document (BSONObjectTooLarge)."""
    return isinstance(exc, pymongo.errors.OperationFailure) and exc.code in TOO_LARGE_CODES
