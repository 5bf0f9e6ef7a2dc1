"""Change notifications for the live views: a version number bumped whenever the platform
changes, and a way for the event streams to wait for the next change without polling.

The feed of a state subscribes to the state's change hook
(:meth:`~rcskit.emulator.core.state.EmulatorState.subscribe`), which fires after every webhook
event, every request-log entry (API requests and webhook delivery attempts) and every admin call
that may change the platform. :meth:`ChangeFeed.notify` is a counter increment and, when a stream
is waiting, an ``asyncio.Event``. Streams coalesce bursts themselves (see
:mod:`rcskit.emulator.ui.stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref

from ..core.state import EmulatorState

__all__ = ["ChangeFeed", "feed_of"]


class ChangeFeed:
    """A change counter the live views wait on."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._waiter: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"ChangeFeed(version={self.version}, closed={self.closed})"

    def notify(self) -> None:
        """Something changed: bump the version and wake every waiting stream."""
        self.version += 1
        waiter, loop = self._waiter, self._loop
        if waiter is None:
            return
        self._waiter = None
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            if not loop.is_closed():
                loop.call_soon_threadsafe(waiter.set)
        else:
            waiter.set()

    async def wait(self, seen: int, timeout: float) -> int:
        """Wait until the version differs from ``seen`` (at most ``timeout`` seconds).

        Returns the current version: still ``seen`` when the wait timed out.
        """
        if self.version != seen or self.closed:
            return self.version
        if self._waiter is None:
            self._waiter = asyncio.Event()
            self._loop = asyncio.get_running_loop()
        waiter = self._waiter
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout)
        return self.version

    def close(self) -> None:
        """End every live stream (the server is stopping)."""
        self.closed = True
        self.notify()


_FEEDS: weakref.WeakKeyDictionary[EmulatorState, ChangeFeed] = weakref.WeakKeyDictionary()


def feed_of(state: EmulatorState) -> ChangeFeed:
    """The change feed of ``state``, created (and subscribed to the state) on first use."""
    feed = _FEEDS.get(state)
    if feed is None:
        feed = _FEEDS[state] = ChangeFeed()
        state.subscribe(feed.notify)
    return feed
