"""Building the redis-py client: resilient defaults and a password-free description."""

from __future__ import annotations

from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from asyncz.exceptions import ConfigurationError

#: Commands that fail on a dropped connection (server restart, failover, network blip) are
#: retried with growing pauses: 0.05 s, 0.1 s, ... capped at 1 s, about 2.5 s in all.
RETRIES = 6
BACKOFF_BASE = 0.025
BACKOFF_CAP = 1.0


def resilient_defaults() -> dict[str, Any]:
    """Client options the store uses unless the caller passes its own."""
    return {
        "retry": Retry(ExponentialBackoff(cap=BACKOFF_CAP, base=BACKOFF_BASE), RETRIES),
        "retry_on_error": [redis.ConnectionError, redis.TimeoutError],
        # A pooled connection idle for this long is PINGed before use, so one that died
        # with a restarted server is replaced instead of failing the next command.
        "health_check_interval": 30,
        "socket_connect_timeout": 5.0,
        "socket_timeout": 30.0,
    }


def build_client(
    *, url: str | None, host: str, port: int, database: int, options: dict[str, Any]
) -> redis.Redis:
    """A client for ``url`` if given, else for host/port/database; payloads stay bytes."""
    if options.get("decode_responses"):
        raise ConfigurationError(
            "RedisStore needs decode_responses=False: task payloads are bytes. "
            "Remove decode_responses from the store's options."
        )
    settings = {**resilient_defaults(), **options, "decode_responses": False}
    try:
        if url is None:
            return redis.Redis(host=host, port=port, db=database, **settings)
        return redis.Redis.from_url(url, **settings)
    except TypeError as exc:
        raise ConfigurationError(
            f"RedisStore was given an option that redis.Redis does not accept ({exc}). "
            "Check the spelling of the store's keyword arguments."
        ) from exc
    except ValueError as exc:
        raise ConfigurationError(
            f"RedisStore url is not a Redis URL ({exc}). "
            "Use the form redis://host:port/db, rediss://... or unix:///path/to/socket."
        ) from exc


def check_bytes_client(client: redis.Redis) -> None:
    """Refuse a caller's client that would hand payloads back as text."""
    kwargs = client.connection_pool.connection_kwargs
    if kwargs.get("decode_responses"):
        raise ConfigurationError(
            "RedisStore was given a redis.Redis client with decode_responses=True; task "
            "payloads are bytes. Pass a client created with decode_responses=False."
        )


def describe_server(client: redis.Redis) -> str:
    """Where the client connects, e.g. "localhost:6379/0"; never the credentials."""
    kwargs = client.connection_pool.connection_kwargs
    database = kwargs.get("db", 0)
    if kwargs.get("path"):
        return f"unix:{kwargs['path']} (database {database})"
    host = kwargs.get("host", "localhost")
    port = kwargs.get("port", 6379)
    return f"{host}:{port}/{database}"
