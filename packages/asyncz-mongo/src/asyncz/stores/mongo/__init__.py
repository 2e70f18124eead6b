"""MongoDB store for asyncz: ``from asyncz.stores.mongo import MongoDBStore``
(aliases ``mongodb`` and ``mongo``)."""

from asyncz.stores.mongo._store import MongoDBStore

__all__ = ["MongoDBStore"]
