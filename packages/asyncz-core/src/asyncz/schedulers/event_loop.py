"""The event loop a scheduler runs on: the caller's, or its own in a daemon thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any


class LoopHost:
    """Finds or creates the scheduler's loop.

    Started inside a running loop, the scheduler uses it. Started from plain synchronous
    code, it runs a loop of its own in a daemon thread, stopped again at shutdown.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self._thread: threading.Thread | None = None

    def attach(self) -> asyncio.AbstractEventLoop:
        if self.loop is not None and not self.loop.is_closed():
            return self.loop
        try:
            self.loop = asyncio.get_running_loop()
            return self.loop
        except RuntimeError:
            pass
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="asyncz-scheduler", daemon=True)
        self._thread.start()
        ready.wait()
        self.loop = loop
        return loop

    def detach(self) -> None:
        """Stop and close the loop if it is our own; a borrowed loop is left alone."""
        thread, loop = self._thread, self.loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._thread = None
        self.loop = None

    def on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def wait_for(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Run ``coroutine`` on the loop and block until it is done. Not from the loop
        thread itself (it would deadlock): there the coroutine is just closed."""
        loop = self.loop
        if loop is None or loop.is_closed() or self.on_loop_thread():
            coroutine.close()
            return
        asyncio.run_coroutine_threadsafe(coroutine, loop).result()
