"""Change notifications for the live views: a version number bumped whenever the platform
changes, and a way for the event streams to wait for the next change without polling.

The emulator core has no change hook of its own, so the feed observes the places every change
goes through:

- ``EmulatorState.emit``: every status change, user action, typing event and billing event
  (including the ones timers produce: delivered, displayed, expired);
- ``RequestLog.add``: every API request the flavours served (sends, typing, read receipts,
  revocations) and every webhook delivery attempt, with its outcome;
- :class:`NotifyAfterAdmin`: admin API calls that change state without either (a phone going
  online, a reset, an injected message).

Observing means replacing the bound method on that one instance by a wrapper that calls the
original, then :meth:`ChangeFeed.notify` (a counter increment and, when a stream is waiting, an
``asyncio.Event``): the platform's behaviour and results are unchanged. Streams coalesce
bursts themselves (see :mod:`rcskit.emulator.ui.stream`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import weakref
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from ..state import EmulatorState

__all__ = ["ChangeFeed", "NotifyAfterAdmin", "feed_of"]


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


def _observe(owner: object, name: str, after: Callable[[], None]) -> None:
    """Make ``owner.<name>(...)`` call ``after()`` once the original returned (or raised)."""
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def observed(*args: Any, **kwargs: Any) -> Any:
        try:
            return original(*args, **kwargs)
        finally:
            after()

    setattr(owner, name, observed)


_FEEDS: weakref.WeakKeyDictionary[EmulatorState, ChangeFeed] = weakref.WeakKeyDictionary()


def feed_of(state: EmulatorState) -> ChangeFeed:
    """The change feed of ``state``, created (and the state observed) on first use."""
    feed = _FEEDS.get(state)
    if feed is None:
        feed = _FEEDS[state] = ChangeFeed()
        _observe(state, "emit", feed.notify)
        _observe(state.log, "add", feed.notify)
    return feed


class NotifyAfterAdmin:
    """ASGI middleware: after each state-changing admin request (not GET), notify the feed.

    Every other request passes straight through.
    """

    def __init__(self, app: ASGIApp, feed: ChangeFeed, prefix: str) -> None:
        self.app = app
        self.feed = feed
        self.prefix = prefix.rstrip("/") + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        if not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.feed.notify()
