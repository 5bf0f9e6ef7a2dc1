"""What every part of the store shares: the engine, the clock, transactions, argument checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .engine import READ_ONLY, SqliteWriter, display_url, sqlite_path
from .records import InvalidRecord

__all__ = ["Clock", "StoreCore", "check_text", "chunks", "utc_now"]

Clock = Callable[[], datetime]
"""A function returning the current time (aware)."""

T = TypeVar("T")

Insert = postgresql.Insert | sqlite.Insert


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


def chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size``, lazily (for streams of any length)."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def check_text(field: str, value: Any, max_length: int) -> str:
    """``value`` if it is a non-empty string of at most ``max_length`` characters; else raise."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(field, value, "a non-empty string is required")
    if len(value) > max_length:
        raise InvalidRecord(field, value, f"at most {max_length} characters")
    return value


def check_aware(field: str, value: datetime | None) -> datetime | None:
    """``value`` if it is ``None`` or an aware datetime; a naive one names no instant."""
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise InvalidRecord(field, value, "give a time zone (an aware datetime)")
    return value


class StoreCore:
    """The engine, the clock and the transaction helpers the store's parts build on."""

    _engine: AsyncEngine
    _read_engine: AsyncEngine
    _clock: Clock
    _is_postgresql: bool
    _write_lock: asyncio.Lock
    _sqlite_writer: SqliteWriter | None

    def __init__(self, engine: AsyncEngine | StoreCore, *, clock: Clock | None = None) -> None:
        """On ``engine``; or, given another part of a store, on the same database: its engine,
        its clock (unless ``clock`` is given) and its turn for SQLite writes."""
        if isinstance(engine, StoreCore):
            other = engine
            self._engine = other._engine
            self._read_engine = other._read_engine
            self._clock = clock or other._clock
            self._is_postgresql = other._is_postgresql
            self._write_lock = other._write_lock
            self._sqlite_writer = other._sqlite_writer
            return
        self._engine = engine
        self._read_engine = engine.execution_options(**READ_ONLY)
        self._clock = clock or utc_now
        self._is_postgresql = engine.dialect.name == "postgresql"
        # SQLite has one write lock per database: transactions of this process that would
        # wait for it in SQLite's busy handler (which sleeps in steps of up to 100 ms) queue
        # here instead, and start the moment the previous one commits. Every part built on
        # this one shares it.
        self._write_lock = asyncio.Lock()
        # SQLite: the campaign journal's own connection and thread (opened on first use; see
        # rcskit.campaign.sends), shared like the turn.
        path = None if self._is_postgresql else sqlite_path(engine.url)
        self._sqlite_writer = None if path is None else SqliteWriter(path)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({display_url(self._engine.url)!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy async engine (for queries the store does not offer)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise InvalidRecord("clock()", now, "the clock must return an aware datetime")
        return now

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that will write (``BEGIN IMMEDIATE`` on SQLite); commits on success.

        On SQLite the process's write transactions take turns (one asyncio lock per store).
        """
        if self._is_postgresql:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._write_lock, self._engine.begin() as conn:
            yield conn

    async def _close_writer(self) -> None:
        """Close the SQLite writer's connection and thread, if it was opened."""
        if self._sqlite_writer is not None:
            await self._sqlite_writer.close()

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (a deferred ``BEGIN`` on SQLite); rolled back at the end."""
        async with self._read_engine.connect() as conn:
            yield conn

    def _insert(self, table: Table) -> Insert:
        """An INSERT of the engine's dialect (with ``on_conflict_do_*``)."""
        if self._is_postgresql:
            return postgresql.insert(table)
        return sqlite.insert(table)


def require_positive(field: str, value: float, *, integer: bool = False) -> None:
    """Raise :class:`InvalidRecord` unless ``value`` is > 0 (and an int when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise InvalidRecord(field, value, "must be > 0")
    if integer and not isinstance(value, int):
        raise InvalidRecord(field, value, "must be a whole number")


def unique(items: Sequence[T]) -> list[T]:
    """``items`` without repeats, first occurrence kept, order kept."""
    return list(dict.fromkeys(items))
