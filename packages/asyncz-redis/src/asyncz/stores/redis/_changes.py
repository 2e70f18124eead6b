"""The store's wake-up signal: a pub/sub subscription read by a daemon thread.

Every write script PUBLISHes on ``<tasks key>.changes`` (see ``_scripts``). The listener
calls the scheduler's callback when a message arrives, and also after each (re)subscription:
messages published while the connection was down are lost, so a scheduler that reconnects
looks at the store once more rather than trust that nothing happened.

A burst of changes (a thousand tasks added in a loop, a batch of claimed fires committed)
becomes one call at once and then at most one call per ``COALESCE`` seconds: every wake
costs each scheduler a pass over the store, and a call per message would keep them all
busy while the burst lasts. Between two calls the thread does not read: the burst's
messages pile up in the socket and are taken in one go, so a writer's own listener does
not wake once per write it makes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis
import redis.client

#: How long one read waits for a message; also the most ``stop`` waits for the thread.
READ_TIMEOUT = 0.1

#: Least time between two calls of the callback.
COALESCE = 0.05

#: Most messages one read takes (a writer faster than the reader cannot keep it reading).
_MOST_PER_READ = 10_000

#: Pause between attempts while the server cannot be reached (the client's own retries,
#: about 2.5 s, come on top of it).
RECONNECT_PAUSE = 1.0


class ChangeListener:
    """Calls ``callback`` from a daemon thread whenever ``channel`` carries a message."""

    def __init__(
        self,
        client: redis.Redis,
        channel: str,
        callback: Callable[[], None],
        logger: logging.Logger,
    ) -> None:
        self._channel = channel
        self._callback = callback
        self._logger = logger
        self._stopping = threading.Event()
        self._pubsub: redis.client.PubSub = client.pubsub()
        self._thread = threading.Thread(
            target=self._listen, name=f"asyncz-redis-changes-{channel}", daemon=True
        )

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        """Subscribe (raising if the server cannot be reached), then listen."""
        try:
            self._pubsub.subscribe(self._channel)
        except BaseException:
            self._pubsub.close()
            raise
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (within ``READ_TIMEOUT``) and close its connection."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=READ_TIMEOUT * 20)
        self._pubsub.close()

    def _listen(self) -> None:
        lost = False
        quiet_until = 0.0  # no call before this (monotonic) time
        while not self._stopping.is_set():
            try:
                arrived = self._read(READ_TIMEOUT)
                if arrived:
                    remaining = quiet_until - time.monotonic()
                    if remaining > 0:
                        # Too soon after the last call: let the rest of the burst pile up
                        # unread, then take it in one go, instead of waking per message.
                        self._stopping.wait(remaining)
                        self._read(0.0)
            except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
                if self._stopping.is_set():
                    break
                if not lost:
                    self._logger.warning(
                        "Lost the change notifications of %s (%s); reconnecting. Until then "
                        "the scheduler polls the store.",
                        self._channel,
                        exc,
                    )
                    lost = True
                self._stopping.wait(RECONNECT_PAUSE)
                continue
            except Exception:
                if self._stopping.is_set():
                    break
                self._logger.exception("Reading change notifications of %s failed", self._channel)
                self._stopping.wait(RECONNECT_PAUSE)
                continue
            if lost:
                self._logger.info("Change notifications of %s are back", self._channel)
                lost = False
            if arrived:
                quiet_until = time.monotonic() + COALESCE
                self._notify()

    def _read(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a message, then take every one already there;
        whether any came."""
        arrived = False
        for _ in range(_MOST_PER_READ):
            if self._pubsub.get_message(timeout=timeout) is None:
                break
            arrived, timeout = True, 0.0
        return arrived

    def _notify(self) -> None:
        try:
            self._callback()
        except Exception:
            self._logger.exception("A change-notification callback failed")
