"""Entry point ``asyncz.stores: redis``: registers RedisStore under the alias ``redis``."""

from __future__ import annotations

from asyncz.plugins import hookimpl
from asyncz.plugins.hookspecs import Register


@hookimpl
def asyncz_register_stores(register: Register) -> None:
    from asyncz.stores.redis import RedisStore

    register("redis", RedisStore)
