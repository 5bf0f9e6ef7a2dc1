"""The webhook inbox: the events a bot accepted, and per-conversation state.

An **inbox** is durable de-duplication: in the same write that records an event's
de-duplication key, it stores the event (the request body it came in, and the parser that read
it) as ``pending``; the bot marks it ``done`` when the handler returns, or ``failed`` with the
error when it raised (a failed event is recorded, never re-run). A bot that starts
re-dispatches its ``pending`` events first, so an event that was acknowledged (200) is not lost
when the process dies before its handler ran, and a redelivered event still runs its handler
once. The same database holds the conversation state. Two implementations:

- :class:`~rcskit.store.inbox_sqlite.SqliteInbox`: a SQLite file (the default), group commit
  on the event loop's thread;
- :class:`~rcskit.store.inbox_postgres.PostgresInbox`: PostgreSQL through asyncpg, for bots
  that run in several processes or beside a campaign's PostgreSQL store.

:func:`open_inbox` picks one from a database URL (or a file path). :class:`MemoryDedup` and
:class:`MemoryState` keep keys and state in a dict (lost on restart; an event acknowledged but
not yet handled is lost with the process).

A key is forgotten once it is older than the de-duplication ``window`` (7 days by default,
Google's redelivery horizon), after which the same key counts as new again. Pending events
are never forgotten.
"""

from __future__ import annotations

import json
import os
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import asyncio

    from .inbox_postgres import PostgresInbox
    from .inbox_sqlite import SqliteInbox

__all__ = [
    "DEFAULT_WINDOW",
    "DedupStore",
    "GroupedInbox",
    "Inbox",
    "InboxEntry",
    "InboxRecord",
    "InboxRow",
    "MemoryDedup",
    "MemoryState",
    "StateStore",
    "open_inbox",
    "window_seconds",
]

DEFAULT_WINDOW = timedelta(days=7)
"""How long a seen event is remembered: Google retries webhooks for up to 7 days."""


@runtime_checkable
class DedupStore(Protocol):
    """Remembers event keys: ``claim`` says whether a key is new."""

    async def claim(self, key: str) -> bool:
        """Record ``key``; ``True`` if it was not seen within the window (run the handler)."""

    async def close(self) -> None:
        """Release resources."""


@runtime_checkable
class StateStore(Protocol):
    """A small JSON key-value per (bot, contact)."""

    async def load(self, bot: str, contact: str) -> dict[str, Any]:
        """The stored state (an empty dict when there is none)."""

    async def save(self, bot: str, contact: str, data: dict[str, Any]) -> None:
        """Replace the stored state; an empty dict deletes it."""

    async def close(self) -> None:
        """Release resources."""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """An accepted event as the inbox keeps it: enough to rebuild it after a restart.

    ``key`` is the bot's de-duplication key of the event (``<bot name>:<event.dedup_key>``),
    ``bot`` the bot's name, ``provider`` the parser that read it (a key of
    :data:`rcskit.inbound.PROVIDERS`), ``body`` the request body it came in (decoded from any
    ``Content-Encoding``).
    """

    key: str
    bot: str
    provider: str
    body: bytes = b""

    def __repr__(self) -> str:
        return f"InboxEntry({self.key!r}, provider={self.provider!r}, {len(self.body)} bytes)"


@dataclass(frozen=True, slots=True)
class InboxRecord:
    """One row of the inbox as read back: an entry, its state, and the error of a failure."""

    key: str
    bot: str
    state: Literal["pending", "done", "failed"]
    provider: str | None
    body: bytes | None
    error: str | None
    seen_at: float
    finished_at: float | None


@runtime_checkable
class Inbox(Protocol):
    """A durable de-duplication store that also keeps each accepted event until it is handled."""

    async def accept(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """Record the entries as ``pending`` in one durable write; per entry, ``True`` if new.

        Returns once the write is committed: only then may the request be acknowledged.
        """

    def finish(self, key: str, error: str | None = None) -> None:
        """Mark an accepted event ``done`` (``failed`` with ``error``), written later."""

    async def pending(self, bot: str) -> list[InboxEntry]:
        """The events of ``bot`` accepted and not finished, oldest first."""

    async def claim(self, key: str) -> bool:
        """Record a key without an event; ``True`` if it was not seen within the window."""

    async def close(self) -> None:
        """Write what is queued and release resources."""


InboxRow = tuple[str, str, str, float, str | None, bytes | None]
"""key, bot, state, seen_at, provider, body: one row an inbox inserts."""

RECORD_COLUMNS = "key, bot, state, provider, body, error, seen_at, finished_at"
"""The inbox columns :func:`inbox_record` reads, in its order."""


def inbox_record(row: Sequence[Any]) -> InboxRecord:
    """An :class:`InboxRecord` from a row of :data:`RECORD_COLUMNS` (a tuple or a driver's
    record), the body copied to ``bytes``."""
    key, bot, state, provider, body, error, seen_at, finished_at = row
    return InboxRecord(
        key=key,
        bot=bot,
        state=state,
        provider=provider,
        body=None if body is None else bytes(body),
        error=error,
        seen_at=seen_at,
        finished_at=finished_at,
    )


class GroupedInbox(ABC):
    """What the inboxes that group their writes share: the rows of :meth:`accept` and
    :meth:`claim`, stamped with a strictly increasing ``seen_at``.

    A backend keeps the rest: :meth:`_submit` queues the rows (in ``_accepts``, with the
    caller's future) for its next grouped write and returns, per row, whether its key was new,
    once that write is committed. ``max_batch`` bounds the rows of one write, ``finish_delay``
    (seconds) how long a ``done``/``failed`` mark may wait to ride along with a write, and
    ``purge_every`` (seconds) how often a write also drops the keys older than ``window``.
    """

    def __init__(
        self,
        *,
        window: timedelta | float,
        max_batch: int,
        finish_delay: float,
        purge_every: float,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        if finish_delay < 0:
            raise ValueError(f"finish_delay must not be negative, not {finish_delay}")
        self.window = window_seconds(window)
        self.max_batch = max_batch
        self.finish_delay = finish_delay
        self.purge_every = purge_every
        self.commits = 0
        """Transactions committed so far (for tests and benchmarks)."""
        self._accepts: list[tuple[list[InboxRow], asyncio.Future[list[bool]]]] = []
        self._last_purge = 0.0
        self._last_seen = 0.0

    def _seen_at(self) -> float:
        """Now, strictly increasing within this inbox (orders the pending events)."""
        now = time.time()
        if now <= self._last_seen:
            now = self._last_seen + 1e-6
        self._last_seen = now
        return now

    async def accept(self, entries: Sequence[InboxEntry]) -> list[bool]:
        """Record the entries as ``pending`` events; per entry, ``True`` if its key is new.

        Returns once the transaction holding them is committed.
        """
        seen_at = self._seen_at
        rows: list[InboxRow] = [
            (entry.key, entry.bot, "pending", seen_at(), entry.provider, entry.body)
            for entry in entries
        ]
        return await self._submit(rows)

    async def claim(self, key: str) -> bool:
        """Record ``key`` alone (nothing to re-run); ``True`` if not seen within the window."""
        return (await self._submit([(key, "", "done", self._seen_at(), None, None)]))[0]

    @abstractmethod
    async def _submit(self, rows: list[InboxRow]) -> list[bool]:
        """Write ``rows`` with the next group; per row, ``True`` if its key was new."""


def window_seconds(window: timedelta | float) -> float:
    """``window`` in seconds; a window that is not positive is a ``ValueError``."""
    seconds = window.total_seconds() if isinstance(window, timedelta) else float(window)
    if seconds <= 0:
        raise ValueError(f"the de-duplication window must be positive, not {window!r}")
    return seconds


class MemoryDedup:
    """In-memory de-duplication (lost on restart). ``max_keys`` bounds memory (oldest go first)."""

    def __init__(
        self, window: timedelta | float = DEFAULT_WINDOW, *, max_keys: int = 1_000_000
    ) -> None:
        self.window = window_seconds(window)
        self.max_keys = max_keys
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._next_purge = 0.0

    def __repr__(self) -> str:
        return f"MemoryDedup(window={self.window}s, keys={len(self._seen)})"

    async def claim(self, key: str) -> bool:
        """Record ``key``; ``True`` if new within the window."""
        now = time.monotonic()
        seen = self._seen.get(key)
        if seen is not None:
            if now - seen < self.window:
                return False
            del self._seen[key]  # expired: counts as new, and moves to the end
        self._seen[key] = now
        if len(self._seen) > self.max_keys or now >= self._next_purge:
            self._purge(now)
        return True

    def _purge(self, now: float) -> None:
        """Drop the keys older than the window and the oldest beyond ``max_keys``."""
        cutoff = now - self.window
        seen = self._seen
        while seen:
            oldest_key, oldest = next(iter(seen.items()))
            if oldest >= cutoff and len(seen) <= self.max_keys:
                break
            del seen[oldest_key]
        self._next_purge = now + min(self.window, 1.0)

    async def close(self) -> None:
        """Forget everything."""
        self._seen.clear()


class MemoryState:
    """In-memory conversation state (lost on restart)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"MemoryState(conversations={len(self._data)})"

    async def load(self, bot: str, contact: str) -> dict[str, Any]:
        """The stored state, as a fresh dict."""
        text = self._data.get((bot, contact))
        return json.loads(text) if text else {}

    async def save(self, bot: str, contact: str, data: dict[str, Any]) -> None:
        """Replace (or delete, when empty) the state; values must be JSON-serialisable."""
        if data:
            self._data[(bot, contact)] = json.dumps(data)
        else:
            self._data.pop((bot, contact), None)

    async def close(self) -> None:
        """Forget everything."""
        self._data.clear()


def open_inbox(
    database: str | os.PathLike[str],
    *,
    window: timedelta | float = DEFAULT_WINDOW,
    schema: str | None = None,
) -> SqliteInbox | PostgresInbox:
    """The inbox for ``database``: a ``postgresql://`` URL, or a SQLite file path (or
    ``sqlite:///path`` URL). ``schema`` places PostgreSQL's tables in that schema.

    >>> open_inbox("bot.sqlite3")
    SqliteInbox('bot.sqlite3', window=604800.0s)
    """
    text = os.fspath(database)
    lowered = text.strip().lower()
    if lowered.startswith(("postgresql://", "postgres://", "postgresql+asyncpg://")):
        from .inbox_postgres import PostgresInbox

        return PostgresInbox(text, window=window, schema=schema)
    if "://" in lowered:
        prefix = next(
            (p for p in ("sqlite:///", "sqlite+aiosqlite:///") if lowered.startswith(p)), None
        )
        if prefix is None:
            scheme = lowered.split("://", 1)[0]
            raise ValueError(
                f"inbox database {scheme}:// is not supported: give a SQLite file path "
                "or a postgresql:// URL"
            )
        text = text.strip()[len(prefix) :]
    if schema is not None:
        raise ValueError("schema applies to PostgreSQL only, not to a SQLite inbox")
    from .inbox_sqlite import SqliteInbox

    return SqliteInbox(text, window=window)
