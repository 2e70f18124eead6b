"""SQLAlchemyStore: tasks kept in a SQL table (``pip install asyncz-sqlalchemy``)."""

from asyncz.stores.sqlalchemy._store import SQLAlchemyStore

__all__ = ["SQLAlchemyStore"]
