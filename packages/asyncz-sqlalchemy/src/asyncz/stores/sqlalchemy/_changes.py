"""The store's wake-up signal on PostgreSQL: NOTIFY in the writes, LISTEN in a thread.

Writer side: every transaction that changes what exists or what is due runs
``SELECT pg_notify(<channel>, <change>)`` inside itself (see ``announce``). PostgreSQL
delivers a notification when its transaction commits and drops it when it rolls back, so
listeners never hear of a change that did not happen. Writes announce whatever driver
they use; listening needs psycopg (3.2+) or psycopg2.

Listener side: a dedicated connection, made the way the engine makes its own (same URL,
``connect_args`` and connect events) but never taken from or returned to its pool, runs
``LISTEN <channel>`` in autocommit mode; a daemon thread waits on it with a short timeout
(so unsubscribing stops it promptly) and calls the scheduler's callback. A burst of changes
becomes one call at once and then at most one call per ``COALESCE`` seconds; between two
calls the thread does not read, so the burst's notifications are taken in one go instead
of waking it once each.

A lost connection (server restart, failover) is replaced with growing pauses between
attempts, with one warning per outage. Notifications sent meanwhile are lost, so the
callback is called once after every re-LISTEN: the scheduler looks at the store again
rather than trust that nothing happened. Until then it polls, as it always does every
``store_poll_interval``.

The channel is ``asyncz_<tablename>`` (case-sensitive: quote it in ``psql``), shortened
with a hash of the table name where that would pass PostgreSQL's 63-byte identifier limit.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import select
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Connection, text
from sqlalchemy.engine import Engine

CHANNEL_PREFIX = "asyncz_"

#: PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1).
_MAX_CHANNEL_BYTES = 63

#: How long one wait for a notification lasts; also about the most ``stop`` waits.
READ_TIMEOUT = 0.1

#: Least time between two calls of the callback.
COALESCE = 0.05

#: Most notifications one read takes (a writer faster than the reader cannot keep it
#: reading).
_MOST_PER_READ = 10_000

#: Pauses between attempts to reconnect: the first, doubling up to the last.
RECONNECT_FIRST_PAUSE = 0.25
RECONNECT_LONGEST_PAUSE = 5.0

_NOTIFY = text("SELECT pg_notify(:channel, :change)")


def channel_name(tablename: str) -> str:
    """``asyncz_<tablename>``, or a shortened name plus a hash of the table name when that
    would pass 63 bytes (different tables keep different channels)."""
    name = CHANNEL_PREFIX + tablename
    if len(name.encode()) <= _MAX_CHANNEL_BYTES:
        return name
    digest = hashlib.sha256(tablename.encode()).hexdigest()[:12]
    room = _MAX_CHANNEL_BYTES - len(f"{CHANNEL_PREFIX}_{digest}")
    head = tablename.encode()[:room].decode(errors="ignore")  # never half a character
    return f"{CHANNEL_PREFIX}{head}_{digest}"


def announce(connection: Connection, channel: str, change: str) -> None:
    """Announce ``change`` on ``channel`` when (and only if) the current transaction
    commits. A no-op on databases other than PostgreSQL."""
    if connection.dialect.name == "postgresql":
        connection.execute(_NOTIFY, {"channel": channel, "change": change})


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class _Listening(Protocol):
    """A connection LISTENing on one channel."""

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; True if notifications arrived."""

    def close(self) -> None: ...


class _PsycopgListening:
    """psycopg 3: ``Connection.notifies(timeout=)`` (psycopg 3.2+)."""

    def __init__(self, connection: Any, channel: str) -> None:
        self._connection = connection
        connection.rollback()  # autocommit can only be switched on outside a transaction
        connection.autocommit = True
        connection.execute(f"LISTEN {_quoted(channel)}")

    def wait(self, timeout: float) -> bool:
        arrived = False
        for _ in range(_MOST_PER_READ):  # the first waits; the rest take what is there
            notifies = self._connection.notifies(timeout=timeout, stop_after=1)
            try:
                if next(notifies, None) is None:
                    break
            finally:
                notifies.close()  # releases the connection's lock at once
            arrived, timeout = True, 0.0
        return arrived

    def close(self) -> None:
        self._connection.close()


class _Psycopg2Listening:
    """psycopg2: wait for the socket with ``select``, then ``poll()`` the connection."""

    def __init__(self, connection: Any, channel: str) -> None:
        self._connection = connection
        connection.rollback()
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"LISTEN {_quoted(channel)}")

    def wait(self, timeout: float) -> bool:
        connection = self._connection
        if not connection.notifies:
            readable, _, _ = select.select([connection], [], [], timeout)
            if readable:
                connection.poll()  # raises if the server closed the connection
        arrived = bool(connection.notifies)
        del connection.notifies[:]
        return arrived

    def close(self) -> None:
        self._connection.close()


_LISTENING_BY_DRIVER: dict[str, type[_PsycopgListening] | type[_Psycopg2Listening]] = {
    "psycopg": _PsycopgListening,
    "psycopg2": _Psycopg2Listening,
    "psycopg2cffi": _Psycopg2Listening,
}


def why_not_supported(engine: Engine) -> str | None:
    """None if this engine's driver can LISTEN here; otherwise why not, for the log."""
    driver = engine.dialect.driver
    if driver not in _LISTENING_BY_DRIVER:
        return f"the {driver!r} driver is not one asyncz can LISTEN with (psycopg 3.2+ or psycopg2)"
    if driver == "psycopg":
        import psycopg

        if "timeout" not in inspect.signature(psycopg.Connection.notifies).parameters:
            return f"psycopg {psycopg.__version__} is too old to wait for notifications (3.2+)"
    return None


class ChangeListener:
    """Calls ``callback`` from a daemon thread whenever ``channel`` carries a notification.

    ``describe_error`` turns an exception into text for the log (without the password);
    ``who`` names the store in log messages.
    """

    def __init__(
        self,
        engine: Engine,
        channel: str,
        callback: Callable[[], None],
        *,
        logger: logging.Logger,
        who: str,
        describe_error: Callable[[BaseException], str],
    ) -> None:
        self._engine = engine
        self._kind = _LISTENING_BY_DRIVER[engine.dialect.driver]
        self._channel = channel
        self._callback = callback
        self._logger = logger
        self._who = who
        self._describe_error = describe_error
        self._stopping = threading.Event()
        self._listening: _Listening | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"asyncz-sql-changes-{channel}", daemon=True
        )

    def start(self) -> None:
        """LISTEN (raising if the server cannot be reached), then wait in the thread: every
        change committed after ``start`` returns is heard."""
        self._listening = self._open()
        try:
            self._thread.start()
        except BaseException:
            self._close()
            raise

    def stop(self) -> None:
        """Stop the thread, which closes its connection: within about ``READ_TIMEOUT``, or
        once a connection attempt under way ends (this waits for that 2 s at most; the
        daemon thread then finishes on its own)."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=READ_TIMEOUT * 20)

    def _open(self) -> _Listening:
        """A fresh connection, made by a throwaway copy of the engine's pool (same creator
        and events), detached from it, LISTENing on the channel."""
        pool = self._engine.pool.recreate()
        try:
            proxied = pool.connect()
            connection: Any = proxied.driver_connection
            proxied.detach()
        finally:
            pool.dispose()
        try:
            return self._kind(connection, self._channel)
        except BaseException:
            connection.close()
            raise

    def _run(self) -> None:
        try:
            self._listen()
        finally:
            self._close()

    def _listen(self) -> None:
        pending = False  # a change arrived that the callback has not been told about
        quiet_until = 0.0  # no call before this (monotonic) time
        outage = False
        pause = RECONNECT_FIRST_PAUSE
        while not self._stopping.is_set():
            if self._listening is None:
                try:
                    self._listening = self._open()
                except Exception as exc:
                    if not outage:
                        self._warn_lost(exc)
                        outage = True
                    self._stopping.wait(pause)
                    pause = min(pause * 2, RECONNECT_LONGEST_PAUSE)
                    continue
                self._logger.info("%s hears change notifications again", self._who)
                outage, pause = False, RECONNECT_FIRST_PAUSE
                pending = True  # what changed while we were away was not announced to us
            try:
                arrived = self._listening.wait(0.0 if pending else READ_TIMEOUT) or pending
                remaining = quiet_until - time.monotonic()
                if arrived and remaining > 0:
                    # Too soon after the last call: let the rest of the burst pile up
                    # unread, then take it in one go, instead of waking per notification.
                    self._stopping.wait(remaining)
                    self._listening.wait(0.0)
            except Exception as exc:
                self._close()
                if self._stopping.is_set():
                    break
                if not outage:
                    self._warn_lost(exc)
                    outage = True
                continue  # reconnect at once: most drops are one connection, not the server
            if arrived:
                pending = False
                quiet_until = time.monotonic() + COALESCE
                self._notify()

    def _warn_lost(self, exc: BaseException) -> None:
        """Once per outage."""
        self._logger.warning(
            "%s lost its change notifications (%s); reconnecting. Until then the "
            "scheduler polls the store every store_poll_interval.",
            self._who,
            self._describe_error(exc),
        )

    def _close(self) -> None:
        listening, self._listening = self._listening, None
        if listening is not None:
            try:
                listening.close()
            except Exception as exc:  # already broken: nothing left to release
                self._logger.debug("Closing the notification connection failed: %s", exc)

    def _notify(self) -> None:
        try:
            self._callback()
        except Exception:
            self._logger.exception("A change-notification callback failed")
