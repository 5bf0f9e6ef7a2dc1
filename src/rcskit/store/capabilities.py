"""Capability answers: the latest one per (provider, number), with the time it was given.

The re-check policy and bulk planning live in :mod:`rcskit.campaign.capcache`, on top of this.

A campaign's capability stage writes and reads thousands of answers per check, so both go to
the database drivers with one fixed statement each, instead of SQLAlchemy compiling a new
multi-row ``INSERT`` (or ``IN`` list) for every batch:

* **PostgreSQL** (asyncpg): one statement over arrays (``unnest``), prepared once per
  connection, for up to :data:`CHUNK` answers;
* **SQLite**: ``executemany`` of one upsert in the store's own writer (its connection and
  thread: ``BEGIN IMMEDIATE``, the rows and ``COMMIT`` in one hop,
  :class:`~rcskit.store.engine.SqliteWriter`); the lookup is one statement, in aiosqlite's
  thread, whose numbers come as one JSON array (``json_each``).

Rows are those SQLAlchemy writes (:data:`~rcskit.store.schema.capability_results`): on SQLite a
time is naive UTC text with microseconds, ``features`` JSON text or ``NULL`` (``null`` JSON,
which older writes stored, reads as ``None`` as well).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Container, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from .core import StoreCore, check_aware, check_text, chunks, unique
from .engine import (
    driver_connection,
    pg_errors_as_sqlalchemy,
    run_in_sqlite_thread,
    sqlite_errors_as_sqlalchemy,
)
from .records import CapabilityResult, InvalidRecord

__all__ = ["CapabilityRepository"]

T = TypeVar("T")

CHUNK = 10_000
"""Answers per statement (a bulk check's worth: one statement per check)."""

_PG_SAVE = """
INSERT INTO capability_results AS k (provider, number, rcs, features, checked_at)
SELECT u.provider, u.number, u.rcs, u.features::json, u.checked_at
FROM unnest($1::text[], $2::text[], $3::bool[], $4::text[], $5::timestamptz[])
    AS u(provider, number, rcs, features, checked_at)
ON CONFLICT (provider, number) DO UPDATE
SET rcs = excluded.rcs, features = excluded.features, checked_at = excluded.checked_at
WHERE k.checked_at <= excluded.checked_at
"""

_PG_GET = """
SELECT number, rcs, features::text, checked_at FROM capability_results
WHERE provider = $1 AND number = ANY($2::text[])
"""

_SQLITE_SAVE = """
INSERT INTO capability_results (provider, number, rcs, features, checked_at)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (provider, number) DO UPDATE
SET rcs = excluded.rcs, features = excluded.features, checked_at = excluded.checked_at
WHERE capability_results.checked_at <= excluded.checked_at
"""

_SQLITE_GET = """
SELECT number, rcs, features, checked_at FROM capability_results
WHERE provider = ? AND number IN (SELECT value FROM json_each(?))
"""


def _sqlite_time(value: datetime) -> str:
    """A time as SQLAlchemy stores it on SQLite (naive UTC text, microseconds always), so
    that stored times compare as text."""
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d} "
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}"
    )


def _features(text: str | None) -> tuple[str, ...] | None:
    value = None if text is None else json.loads(text)
    return None if value is None else tuple(value)


def _newest(batch: list[CapabilityResult]) -> list[CapabilityResult]:
    """The batch checked, one answer per (provider, number): the newest (the last of equals)."""
    newest: dict[tuple[str, str], CapabilityResult] = {}
    for r in batch:
        if not isinstance(r, CapabilityResult):
            raise InvalidRecord("results", type(r).__name__, "CapabilityResult items")
        check_text("provider", r.provider, 32)
        check_text("number", r.number, 32)
        check_aware("checked_at", r.checked_at)
        key = (r.provider, r.number)
        if key not in newest or newest[key].checked_at <= r.checked_at:
            newest[key] = r
    return list(newest.values())


class CapabilityRepository(StoreCore):
    """Store and read capability answers."""

    async def save_capabilities(self, results: Iterable[CapabilityResult]) -> int:
        """Store answers (any iterable, in chunks); return how many rows were written.

        Per (provider, number) the newest answer wins: an answer older than the stored one
        (a late bulk result) does not replace it.
        """
        written = 0
        for batch in chunks(results, CHUNK):
            rows = _newest(batch)
            written += await self._save_columns(
                [r.provider for r in rows],
                [r.number for r in rows],
                [bool(r.rcs) for r in rows],
                [None if r.features is None else json.dumps(list(r.features)) for r in rows],
                [r.checked_at for r in rows],
            )
        return written

    async def save_bulk_answers(
        self,
        provider: str,
        numbers: Sequence[str],
        reachable: Container[str],
        checked_at: datetime,
    ) -> int:
        """Store a bulk check's answers, all given at ``checked_at`` and without features:
        each of ``numbers`` (each once) is RCS when it is in ``reachable``. The same rows as
        :meth:`save_capabilities` of one :class:`CapabilityResult` per number (the newest
        answer wins), without building them; returns how many rows were written."""
        check_text("provider", provider, 32)
        check_aware("checked_at", checked_at)
        written = 0
        for batch in chunks(unique(list(numbers)), CHUNK):
            for number in batch:
                check_text("number", number, 32)
            n = len(batch)
            written += await self._save_columns(
                [provider] * n, batch, [x in reachable for x in batch], [None] * n, [checked_at] * n
            )
        return written

    async def _save_columns(
        self,
        providers: list[str],
        numbers: list[str],
        rcs: list[bool],
        features: list[str | None],
        checked_at: list[datetime],
    ) -> int:
        """Upsert one chunk of answers given as columns (one answer per (provider, number),
        checked); returns how many rows were written."""
        if self._is_postgresql:
            status = await self._on_pg(
                "execute", _PG_SAVE, providers, numbers, rcs, features, checked_at
            )
            return int(str(status).rsplit(" ", 1)[-1])
        times = {t: _sqlite_time(t) for t in set(checked_at)}  # a bulk answer has one
        params = [
            (p, n, 1 if r else 0, f, times[t])
            for p, n, r, f, t in zip(providers, numbers, rcs, features, checked_at, strict=True)
        ]

        def save(db: sqlite3.Connection) -> int:
            return db.executemany(_SQLITE_SAVE, params).rowcount

        return await self._sqlite_write(save)

    async def get_capabilities(
        self, provider: str, numbers: Iterable[str]
    ) -> dict[str, CapabilityResult]:
        """The stored answers for these numbers through ``provider`` (numbers never checked are
        absent)."""
        found: dict[str, CapabilityResult] = {}
        for batch in chunks(unique(list(numbers)), CHUNK):
            if self._is_postgresql:
                rows = await self._on_pg("fetch", _PG_GET, provider, batch)
                for number, rcs, features, checked_at in rows:
                    found[number] = CapabilityResult(
                        provider, number, bool(rcs), checked_at.astimezone(UTC), _features(features)
                    )
                continue
            wanted = json.dumps(batch)

            def get(db: sqlite3.Connection, wanted: str = wanted) -> list[Any]:
                return db.execute(_SQLITE_GET, (provider, wanted)).fetchall()

            async with self._read() as conn:
                rows = await self._on_sqlite(conn, get)
            for number, rcs, features, checked_at in rows:
                found[number] = CapabilityResult(
                    provider,
                    number,
                    bool(rcs),
                    datetime.fromisoformat(checked_at).replace(tzinfo=UTC),
                    _features(features),
                )
        return found

    async def _on_pg(self, method: str, statement: str, *args: Any) -> Any:
        """asyncpg's ``method`` (``execute``, ``fetch``) of ``statement`` on a pooled
        connection, outside any transaction (one statement: its own); asyncpg's errors raised
        as SQLAlchemy's, as the other writes do."""
        async with self._engine.connect() as conn:
            pg = await driver_connection(conn)
            return await pg_errors_as_sqlalchemy(
                "capabilities", conn, pg, getattr(pg, method)(statement, *args)
            )

    async def _sqlite_write(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call(sqlite3 connection)`` in a write transaction of the store's SQLite writer
        (its own connection and thread: ``BEGIN IMMEDIATE``, the work and ``COMMIT`` in one
        hop), in the store's turn for writes; sqlite3's errors raised as SQLAlchemy's."""
        writer = self._sqlite_writer
        assert writer is not None  # (every SQLite store is a file, and has its writer)
        async with self._write_lock:
            return await sqlite_errors_as_sqlalchemy("capabilities", writer.transaction(call))

    @staticmethod
    async def _on_sqlite(conn: AsyncConnection, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call(sqlite3 connection)`` in aiosqlite's thread, in ``conn``'s transaction;
        sqlite3's errors raised as SQLAlchemy's."""
        aio = await driver_connection(conn)
        return await sqlite_errors_as_sqlalchemy("capabilities", run_in_sqlite_thread(aio, call))
