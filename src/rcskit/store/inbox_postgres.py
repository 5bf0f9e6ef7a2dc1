"""The webhook inbox in PostgreSQL (see :mod:`rcskit.store.inbox`), through asyncpg.

For bots that run in several processes (they share the de-duplication: a redelivery to another
process is still a duplicate) or next to a campaign's PostgreSQL store. The tables
(``rcskit_inbox``, ``rcskit_state``) are created on first use, in ``schema`` when one is given.

Writes are grouped as in the SQLite inbox: the accepts queued while one transaction runs are
written together by the next one (one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT``
statement for the whole group), and each caller returns once its rows are committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import asyncpg  # type: ignore[import-untyped]

from .engine import database_url, display_url
from .inbox import (
    DEFAULT_WINDOW,
    RECORD_COLUMNS,
    GroupedInbox,
    InboxEntry,
    InboxRecord,
    InboxRow,
    inbox_record,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["PostgresInbox"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rcskit_inbox (
    key         TEXT PRIMARY KEY,
    bot         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    seen_at     DOUBLE PRECISION NOT NULL,
    provider    TEXT,
    body        BYTEA,
    error       TEXT,
    finished_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS rcskit_inbox_seen_at ON rcskit_inbox (seen_at);
CREATE INDEX IF NOT EXISTS rcskit_inbox_pending ON rcskit_inbox (bot, seen_at)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS rcskit_state (
    bot        TEXT NOT NULL,
    contact    TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (bot, contact)
);
"""

# A key is new when absent, or when its row is older than the window and not pending.
_ACCEPT = """
INSERT INTO rcskit_inbox (key, bot, state, seen_at, provider, body)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::text[], $6::bytea[])
ON CONFLICT (key) DO UPDATE SET bot = excluded.bot, state = excluded.state,
    seen_at = excluded.seen_at, provider = excluded.provider, body = excluded.body,
    error = NULL, finished_at = NULL
WHERE rcskit_inbox.seen_at < $7 AND rcskit_inbox.state <> 'pending'
RETURNING key
"""
# A handled event drops its body (it is only needed to re-run it); a failed one keeps it.
_FINISH = """
UPDATE rcskit_inbox SET state = $1, error = $2, finished_at = $3,
    body = CASE WHEN $1 = 'done' THEN NULL ELSE body END
WHERE key = $4 AND state = 'pending'
"""
_PURGE = "DELETE FROM rcskit_inbox WHERE seen_at < $1 AND state <> 'pending'"
_STATE_SAVE = """
INSERT INTO rcskit_state (bot, contact, data, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (bot, contact) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
"""
_STATE_DELETE = "DELETE FROM rcskit_state WHERE bot = $1 AND contact = $2"


class PostgresInbox(GroupedInbox):
    """The durable inbox (de-duplication + accepted events) and conversation state, in PostgreSQL.

    ``PostgresInbox("postgresql://bot@db/rcs", schema="bots")``. The connection pool opens on
    first use (``pool_size`` connections at most). :meth:`on_engine` uses the connections of
    a store's SQLAlchemy engine instead (its database and schema, no pool of its own).
    ``finish_delay`` (seconds) is how long a ``done``/``failed`` mark may wait to ride along
    with the next group's transaction.
    """

    def __init__(
        self,
        url: str | os.PathLike[str],
        *,
        window: timedelta | float = DEFAULT_WINDOW,
        schema: str | None = None,
        pool_size: int = 4,
        max_batch: int = 1024,
        finish_delay: float = 0.05,
        purge_every: float = 60.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, not {pool_size}")
        super().__init__(
            window=window, max_batch=max_batch, finish_delay=finish_delay, purge_every=purge_every
        )
        parsed = database_url(os.fspath(url))
        if not parsed.drivername.startswith("postgresql"):
            raise ValueError(f"PostgresInbox needs a postgresql:// URL, not {display_url(parsed)}")
        self._dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        self.url = display_url(parsed)
        """The database URL with its password masked."""
        self.schema = schema
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._engine: AsyncEngine | None = None
        self._tables_ready = False
        self._opening: asyncio.Lock | None = None
        self._finishes: list[tuple[str, str | None, float, str]] = []
        self._writer: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"PostgresInbox({self.url!r}, schema={self.schema!r}, window={self.window}s)"

    @classmethod
    def on_engine(
        cls, engine: AsyncEngine, *, window: timedelta | float = DEFAULT_WINDOW, **kw: Any
    ) -> PostgresInbox:
        """An inbox on the connections of ``engine`` (a PostgreSQL
        :class:`~rcskit.store.Store`'s ``store.engine``): the same database and schema."""
        if engine.dialect.name != "postgresql":
            raise ValueError(
                f"PostgresInbox.on_engine needs a PostgreSQL engine, not {engine.dialect.name}"
            )
        inbox = cls(engine.url.render_as_string(hide_password=False), window=window, **kw)
        inbox._engine = engine
        return inbox

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        """An asyncpg connection: from the engine when there is one, else from the pool."""
        if self._engine is not None:
            async with self._engine.connect() as wrapper:
                raw = await wrapper.get_raw_connection()
                conn = raw.driver_connection
                if not self._tables_ready:
                    await self._create_tables(conn)
                yield conn
            return
        pool = await self._connection_pool()
        async with pool.acquire() as conn:
            yield conn

    async def _create_tables(self, conn: Any) -> None:
        async with conn.transaction():
            # one creator at a time: concurrent CREATE ... IF NOT EXISTS can clash
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('rcskit_inbox'))")
            await conn.execute(_SCHEMA)
        self._tables_ready = True

    # -------------------------------------------------------------- connections

    async def _connection_pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                settings = {"search_path": self.schema} if self.schema else None
                pool = await asyncpg.create_pool(
                    self._dsn, min_size=1, max_size=self.pool_size, server_settings=settings
                )
                assert pool is not None
                try:
                    async with pool.acquire() as conn:
                        await self._create_tables(conn)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    # -------------------------------------------------------------- writing

    def _kick(self) -> None:
        """Start the writer task unless it runs (it loops while work is queued)."""
        if self._writer is None or self._writer.done():
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            self._writer = asyncio.get_running_loop().create_task(self._write_all())

    def _kick_later(self) -> None:
        if self._writer is not None and not self._writer.done():
            return  # the running writer takes the finishes with its next group
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.finish_delay, self._kick)

    async def _write_all(self) -> None:
        while self._accepts or self._finishes:
            batch: list[tuple[list[InboxRow], asyncio.Future[list[bool]]]] = []
            count = 0
            while self._accepts and (
                not batch or count + len(self._accepts[0][0]) <= self.max_batch
            ):
                item = self._accepts.pop(0)
                batch.append(item)
                count += len(item[0])
            finishes, self._finishes = self._finishes, []
            try:
                results = await self._write(batch, finishes)
            except Exception as err:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                self._finishes[:0] = finishes  # retried with the next write
                if not self._accepts:
                    return
                continue
            start = 0
            for rows, future in batch:
                end = start + len(rows)
                if not future.done():
                    future.set_result(results[start:end])
                start = end

    async def _write(
        self,
        batch: list[tuple[list[InboxRow], asyncio.Future[list[bool]]]],
        finishes: list[tuple[str, str | None, float, str]],
    ) -> list[bool]:
        """One transaction: the group's accepted rows, finishes, and a purge when due."""
        rows = [row for group, _ in batch for row in group]
        first: dict[str, int] = {}
        for index, row in enumerate(rows):
            first.setdefault(row[0], index)  # a key twice in one group: the first one counts
        unique = [rows[i] for i in sorted(first.values())]
        now = time.time()
        cutoff = now - self.window
        async with self._connection() as conn, conn.transaction():
            inserted: set[str] = set()
            if unique:
                columns = list(zip(*unique, strict=True))
                records = await conn.fetch(_ACCEPT, *(list(c) for c in columns), cutoff)
                inserted = {record["key"] for record in records}
            if finishes:
                await conn.executemany(_FINISH, finishes)
            if now - self._last_purge >= self.purge_every:
                await conn.execute(_PURGE, cutoff)
                self._last_purge = now
        self.commits += 1
        return [row[0] in inserted and first[row[0]] == i for i, row in enumerate(rows)]

    async def _submit(self, rows: list[InboxRow]) -> list[bool]:
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._accepts.append((rows, future))
        self._kick()
        return await future

    def finish(self, key: str, error: str | None = None) -> None:
        """Mark ``key`` ``done`` (or ``failed`` with ``error``), committed with the next group.

        Call it on the event loop the inbox writes from.
        """
        state = "done" if error is None else "failed"
        self._finishes.append((state, error, time.time(), key))
        self._kick_later()

    async def _drain(self) -> None:
        """Write everything queued now."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._accepts or self._finishes or (self._writer and not self._writer.done()):
            self._kick()
            assert self._writer is not None
            await self._writer
            if self._finishes and not self._accepts:
                # a failed write left finishes behind: one more try, then give up for now
                self._writer = asyncio.get_running_loop().create_task(self._write_all())
                await self._writer
                return

    # -------------------------------------------------------------- reading and state

    async def pending(self, bot: str) -> list[InboxEntry]:
        """The accepted events of ``bot`` not finished yet, oldest first."""
        await self._drain()
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT key, bot, provider, body FROM rcskit_inbox "
                "WHERE bot = $1 AND state = 'pending' ORDER BY seen_at",
                bot,
            )
        return [
            InboxEntry(r["key"], r["bot"], r["provider"] or "", bytes(r["body"] or b""))
            for r in rows
        ]

    async def records(self, bot: str | None = None) -> list[InboxRecord]:
        """Every inbox row (of ``bot``, or of all bots), oldest first: for tests and tools."""
        await self._drain()
        query = f"SELECT {RECORD_COLUMNS} FROM rcskit_inbox"
        async with self._connection() as conn:
            if bot is None:
                rows = await conn.fetch(query + " ORDER BY seen_at")
            else:
                rows = await conn.fetch(query + " WHERE bot = $1 ORDER BY seen_at", bot)
        return [inbox_record(row) for row in rows]

    async def load(self, bot: str, contact: str) -> dict[str, Any]:
        """The stored state of (bot, contact), or ``{}``."""
        async with self._connection() as conn:
            text = await conn.fetchval(
                "SELECT data FROM rcskit_state WHERE bot = $1 AND contact = $2", bot, contact
            )
        return json.loads(text) if text else {}

    async def save(self, bot: str, contact: str, data: dict[str, Any]) -> None:
        """Replace (or delete, when empty) the state; values must be JSON-serialisable."""
        text = json.dumps(data) if data else None
        async with self._connection() as conn:
            if text is None:
                await conn.execute(_STATE_DELETE, bot, contact)
            else:
                await conn.execute(_STATE_SAVE, bot, contact, text, time.time())

    async def close(self) -> None:
        """Write what is queued and close the pool (it reopens on next use); an engine
        given to :meth:`on_engine` stays open (its owner closes it)."""
        await self._drain()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
