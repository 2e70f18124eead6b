"""Entry point of the ``sqlalchemy`` store alias."""

from __future__ import annotations

from asyncz.plugins import hookimpl
from asyncz.plugins.hookspecs import Register


@hookimpl
def asyncz_register_stores(register: Register) -> None:
    from asyncz.stores.sqlalchemy._store import SQLAlchemyStore

    register("sqlalchemy", SQLAlchemyStore)
