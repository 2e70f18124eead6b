"""Entry points ``asyncz.stores: mongodb, mongo``: both aliases name MongoDBStore."""

from __future__ import annotations

from asyncz.plugins import hookimpl
from asyncz.plugins.hookspecs import Register


@hookimpl
def asyncz_register_stores(register: Register) -> None:
    from asyncz.stores.mongo import MongoDBStore

    register("mongodb", MongoDBStore)
    register("mongo", MongoDBStore)
