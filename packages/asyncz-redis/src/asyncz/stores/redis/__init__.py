"""Redis store for asyncz: ``from asyncz.stores.redis import RedisStore`` (alias ``redis``)."""

from asyncz.stores.redis._store import RedisStore

__all__ = ["RedisStore"]
