"""Shared helpers for the server fixtures: free ports, waiting, skip-or-fail policy.

A fixture first honours an environment URL (ASYNCZ_TEST_<NAME>_URL); otherwise it starts
its own server on a free loopback port in a temporary directory and stops it afterwards.
With ASYNCZ_TEST_REQUIRE_SERVERS=1 (set by CI) a server that cannot be had fails the test
instead of skipping it.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def env_url(name: str) -> str | None:
    """The URL given for server ``name`` (e.g. "REDIS") through ASYNCZ_TEST_<NAME>_URL."""
    return os.environ.get(f"ASYNCZ_TEST_{name.upper()}_URL") or None


def servers_required() -> bool:
    return os.environ.get("ASYNCZ_TEST_REQUIRE_SERVERS", "") not in {"", "0", "false", "no"}


def unavailable(reason: str) -> None:
    """Skip (locally) or fail (CI) because a server cannot be had."""
    if servers_required():
        pytest.fail(f"required test server unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - the server is still starting
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not become ready within {timeout:.0f} s")
        time.sleep(0.02)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), 0.2).close()
    except OSError:
        return False
    return True
