"""RedisStore passes the shared store contract against a real redis-server."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import redis

from asyncz.stores.base import BaseStore
from asyncz.stores.redis import RedisStore
from asyncz.testing import StoreConformance


def _dump_keys(client: redis.Redis, prefix: str) -> bytes:
    """Every key under ``prefix`` with its fields, members and values, read type by type
    (not DUMP, whose RDB encoding may compress values and hide plaintext)."""
    chunks: list[bytes] = []
    for key in sorted(cast(list[bytes], list(client.scan_iter(match=f"{prefix}*")))):
        kind = client.type(key)
        chunks.append(key)
        if kind == b"hash":
            fields = cast(dict[bytes, bytes], client.hgetall(key))
            for field, value in sorted(fields.items()):
                chunks += [field, value]
        elif kind == b"zset":
            members = cast(list[tuple[bytes, float]], client.zrange(key, 0, -1, withscores=True))
            for member, score in members:
                chunks += [member, repr(score).encode()]
        else:
            raise AssertionError(f"unexpected {kind!r} key {key!r} under the store's prefix")
    return b"\n".join(chunks)


class TestRedisStore(StoreConformance):
    claims = True

    @pytest.fixture
    def store_factory(self, redis_url: str) -> Iterator[Callable[..., BaseStore]]:
        prefix = f"asyncz-conformance.{uuid.uuid4().hex}"

        def make(**options: Any) -> BaseStore:
            return RedisStore(
                url=redis_url,
                tasks_key=f"{prefix}.tasks",
                run_times_key=f"{prefix}.run_times",
                **options,
            )

        yield make
        with redis.Redis.from_url(redis_url) as client:
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)

    def raw_contents(self, store: BaseStore) -> bytes:
        assert isinstance(store, RedisStore)
        prefix = store.tasks_key.removesuffix(".tasks")
        return _dump_keys(store.client, prefix)
