"""The webhook inbox in a SQLite file (see :mod:`rcskit.store.inbox`).

Writes go through one connection and are grouped (group commit): the requests arriving while a
transaction is being written are committed together in the next one, and each is answered
only once its rows are committed. WAL journal, ``synchronous=NORMAL``: a commit is a write to
the WAL without an fsync, and survives a crash of the process (a power loss may lose the last
transactions).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from .inbox import (
    DEFAULT_WINDOW,
    RECORD_COLUMNS,
    GroupedInbox,
    InboxEntry,
    InboxRecord,
    InboxRow,
    inbox_record,
)

__all__ = ["SqliteInbox"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rcskit_inbox (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    bot         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    seen_at     REAL NOT NULL,
    provider    TEXT,
    body        BLOB,
    error       TEXT,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS rcskit_inbox_seen_at ON rcskit_inbox (seen_at);
CREATE INDEX IF NOT EXISTS rcskit_inbox_pending ON rcskit_inbox (bot, seen_at)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS rcskit_state (
    bot        TEXT NOT NULL,
    contact    TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (bot, contact)
) WITHOUT ROWID;
"""

# Rows are appended in arrival order (rowid); only the key index is written at random, so a
# group commit dirties few pages. A key is new when absent, or when its row is older than the
# window and not pending.
_ACCEPT = (
    "INSERT INTO rcskit_inbox (key, bot, state, seen_at, provider, body) "
    "VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET bot = excluded.bot, state = excluded.state, "
    "seen_at = excluded.seen_at, provider = excluded.provider, body = excluded.body, "
    "error = NULL, finished_at = NULL "
    "WHERE rcskit_inbox.seen_at < ? AND rcskit_inbox.state != 'pending'"
)
# A handled event drops its body (it is only needed to re-run it); a failed one keeps it.
_FINISH = (
    "UPDATE rcskit_inbox SET state = ?, error = ?, finished_at = ?, "
    "body = CASE WHEN ? = 'done' THEN NULL ELSE body END "
    "WHERE key = ? AND state = 'pending'"
)
_PURGE = "DELETE FROM rcskit_inbox WHERE seen_at < ? AND state != 'pending'"
_STATE_SAVE = (
    "INSERT INTO rcskit_state (bot, contact, data, updated_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (bot, contact) DO UPDATE SET data = excluded.data, "
    "updated_at = excluded.updated_at"
)
_STATE_DELETE = "DELETE FROM rcskit_state WHERE bot = ? AND contact = ?"

_Finish = tuple[str, str | None, float, str, str]
"""state, error, finished_at, state, key: the parameters of one finish."""
_Save = tuple[str, str, str | None, "asyncio.Future[None]"]
"""bot, contact, JSON text (None deletes), and the future of the caller."""
_BUSY_CODES = (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED


def _is_busy(err: sqlite3.OperationalError) -> bool:
    """Whether ``err`` says another connection holds the lock."""
    code = getattr(err, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(err) or "busy" in str(err)


@dataclass(slots=True)
class _Group:
    """What one transaction writes, with the callers waiting for it."""

    accepts: list[tuple[list[InboxRow], asyncio.Future[list[bool]]]]
    finishes: list[_Finish]
    saves: list[_Save]


class SqliteInbox(GroupedInbox):
    """The durable inbox (de-duplication + accepted events) and conversation state, in SQLite.

    ``SqliteInbox("bot.sqlite3", window=timedelta(days=2))``. The file is opened on first use.

    Every write (accepted events, finished events, state) is queued and committed in one
    transaction with the others queued in the same loop turn (group commit); the callers'
    awaits return once it is committed. In WAL mode with ``synchronous=NORMAL`` a commit
    appends to the WAL without an fsync: a short CPU-bound step, which the event loop's
    thread does itself (handing it to a thread costs more than it takes). It never waits
    there: the first write (while the file is being opened) and any write that finds the
    lock held by another connection (another process on the same file) go to a worker
    thread, which may wait up to 5 s for it. Reads (state, pending events) and WAL
    checkpoints, which fsync, also run in that thread, with a connection of their own.

    ``max_batch`` bounds how many requests one transaction commits; ``commit_interval``
    (seconds, default 0) delays each commit to gather more requests into it (fewer commits,
    that much more latency); ``finish_delay`` (seconds) is how long a ``done``/``failed``
    mark may wait for a commit to ride along with (under load, the next group's; alone, its
    own after that delay; if the process dies before, the event runs again after the
    restart); ``checkpoint_every`` is the number of commits between two background
    checkpoints of the WAL into the database file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        window: timedelta | float = DEFAULT_WINDOW,
        purge_every: float = 60.0,
        max_batch: int = 1024,
        commit_interval: float = 0.0,
        checkpoint_every: int = 200,
        finish_delay: float = 0.05,
    ) -> None:
        super().__init__(
            window=window, max_batch=max_batch, finish_delay=finish_delay, purge_every=purge_every
        )
        if commit_interval < 0:
            raise ValueError(f"commit_interval must not be negative, not {commit_interval}")
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, not {checkpoint_every}")
        self.path = Path(path)
        self.commit_interval = commit_interval
        self.checkpoint_every = checkpoint_every
        self._writer: sqlite3.Connection | None = None
        self._opening: asyncio.Future[sqlite3.Connection] | None = None
        self._reader: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._finishes: list[_Finish] = []
        self._saves: list[_Save] = []
        self._in_flight: set[asyncio.Future[list[bool]]] = set()
        self.busy_writes = 0
        """Groups written by the worker thread because another connection held the lock."""
        self._scheduled: asyncio.Handle | asyncio.TimerHandle | None = None
        self._scheduled_urgent = False
        self._checkpoint: asyncio.Future[None] | None = None
        self._since_checkpoint = 0

    def __repr__(self) -> str:
        return f"SqliteInbox({str(self.path)!r}, window={self.window}s)"

    # -------------------------------------------------------------- connections

    def _open(self, *, writer: bool = False) -> sqlite3.Connection:
        """A connection, schema created; on the worker thread (it may wait for locks)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # the writer is opened here and then used by the loop's thread alone
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=not writer)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
            if writer:
                conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints: worker thread
                conn.execute("PRAGMA busy_timeout=0")  # never wait on the loop's thread
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_writer_soon(self) -> None:
        """Open the loop's writing connection in the worker thread (until then, it writes)."""
        if self._opening is not None:
            return
        self._opening = opening = asyncio.ensure_future(self._in_thread(self._open_writer))

        def opened(done: asyncio.Future[sqlite3.Connection]) -> None:
            self._opening = None
            if not done.cancelled() and done.exception() is None:
                self._writer = done.result()

        opening.add_done_callback(opened)

    def _open_writer(self) -> sqlite3.Connection:
        return self._open(writer=True)

    def _reader_conn(self) -> sqlite3.Connection:
        """The worker thread's connection (reads, checkpoints, writes that must wait)."""
        if self._reader is None:
            self._reader = self._open()
        return self._reader

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="rcskit-sqlite")
            executor = self._executor
        return await asyncio.get_running_loop().run_in_executor(executor, fn, *args)

    # -------------------------------------------------------------- writing (loop thread)

    def _kick(self, *, urgent: bool = True) -> None:
        """Schedule a commit: soon for awaited writes, within ``finish_delay`` for finishes."""
        scheduled = self._scheduled
        if scheduled is not None:
            if not urgent or self._scheduled_urgent:
                return
            scheduled.cancel()
        loop = asyncio.get_running_loop()
        delay = self.commit_interval if urgent else self.finish_delay
        self._scheduled_urgent = urgent
        if delay > 0:
            self._scheduled = loop.call_later(delay, self._commit)
        else:
            self._scheduled = loop.call_soon(self._commit)

    def _commit(self) -> None:
        """Write one group: up to ``max_batch`` accepts, every finish and state save.

        On the loop's thread, without waiting for a lock: when another connection holds the
        write lock (another process on the same file), the group is written by the worker
        thread instead, which waits up to ``busy_timeout``, so the loop never blocks on it.
        """
        self._scheduled = None
        if not (self._accepts or self._finishes or self._saves):
            return
        batch = self._accepts[: self.max_batch]
        del self._accepts[: self.max_batch]
        finishes, self._finishes = self._finishes, []
        saves, self._saves = self._saves, []
        rows = [row for group, _ in batch for row in group]
        group = _Group(batch, finishes, saves)
        now = time.time()
        writer = self._writer
        if writer is None:
            self._open_writer_soon()
            self._write_in_thread(group, rows, now)
            return
        try:
            results = self._write(writer, rows, finishes, saves, now)
        except sqlite3.OperationalError as err:
            if not _is_busy(err):
                self._failed(group, err)
                return
            self.busy_writes += 1
            self._write_in_thread(group, rows, now)
            return
        except Exception as err:
            self._failed(group, err)
            return
        self._succeeded(group, results)

    def _write_in_thread(self, group: _Group, rows: list[InboxRow], now: float) -> None:
        """Write ``group`` with the worker thread's connection, which may wait for the lock."""
        pending = asyncio.ensure_future(
            self._in_thread(self._write_waiting, rows, group.finishes, group.saves, now)
        )
        self._in_flight.add(pending)
        pending.add_done_callback(functools.partial(self._written_in_thread, group))
        self._reschedule()

    def _written_in_thread(self, group: _Group, done: asyncio.Future[list[bool]]) -> None:
        self._in_flight.discard(done)
        if done.cancelled():
            self._failed(group, RuntimeError("the store was closed before the write"))
        elif (err := done.exception()) is not None:
            self._failed(group, err)
        else:
            self._succeeded(group, done.result())

    def _succeeded(self, group: _Group, results: list[bool]) -> None:
        start = 0
        for rows, future in group.accepts:
            end = start + len(rows)
            if not future.done():
                future.set_result(results[start:end])
            start = end
        for *_, saved in group.saves:
            if not saved.done():
                saved.set_result(None)
        self.commits += 1
        self._since_checkpoint += 1
        if self._since_checkpoint >= self.checkpoint_every and self._checkpoint is None:
            self._since_checkpoint = 0
            self._checkpoint = asyncio.ensure_future(self._in_thread(self._wal_checkpoint))
            self._checkpoint.add_done_callback(self._checkpoint_done)
        self._reschedule()

    def _failed(self, group: _Group, err: BaseException) -> None:
        for _, future in group.accepts:
            if not future.done():
                future.set_exception(err)
        for *_, saved in group.saves:
            if not saved.done():
                saved.set_exception(err)
        # finishes are retried with the next write (never in a loop of their own)
        self._finishes[:0] = group.finishes
        self._reschedule()

    def _reschedule(self) -> None:
        if self._accepts or self._saves:
            self._kick()
        elif self._finishes:
            self._kick(urgent=False)

    def _checkpoint_done(self, future: asyncio.Future[None]) -> None:
        self._checkpoint = None
        if not future.cancelled():
            future.exception()  # a failed checkpoint is retried after checkpoint_every commits

    def _write_waiting(
        self,
        rows: list[InboxRow],
        finishes: list[_Finish],
        saves: list[_Save],
        now: float,
    ) -> list[bool]:
        """:meth:`_write` on the worker thread's connection, waiting for the lock if need be."""
        return self._write(self._reader_conn(), rows, finishes, saves, now)

    def _write(
        self,
        conn: sqlite3.Connection,
        rows: list[InboxRow],
        finishes: list[_Finish],
        saves: list[_Save],
        now: float,
    ) -> list[bool]:
        """One transaction: accepted rows, finishes, state saves, and a purge when due."""
        cutoff = now - self.window
        conn.execute("BEGIN IMMEDIATE")
        try:
            execute = conn.execute
            results = [execute(_ACCEPT, (*row, cutoff)).rowcount == 1 for row in rows]
            if finishes:
                conn.executemany(_FINISH, finishes)
            for bot, contact, text, _ in saves:
                if text is None:
                    execute(_STATE_DELETE, (bot, contact))
                else:
                    execute(_STATE_SAVE, (bot, contact, text, now))
            if now - self._last_purge >= self.purge_every:
                execute(_PURGE, (cutoff,))
                self._last_purge = now
            execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return results

    async def _submit(self, rows: list[InboxRow]) -> list[bool]:
        future: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        self._accepts.append((rows, future))
        self._kick()
        return await future

    def finish(self, key: str, error: str | None = None) -> None:
        """Mark ``key`` ``done`` (or ``failed`` with ``error``), committed with the next group.

        Call it on the event loop the store writes from.
        """
        state = "done" if error is None else "failed"
        self._finishes.append((state, error, time.time(), state, key))
        self._kick(urgent=False)

    async def save(self, bot: str, contact: str, data: dict[str, Any]) -> None:
        """Replace (or delete, when empty) the state; values must be JSON-serialisable.

        Committed with the next group; returns once committed.
        """
        text = json.dumps(data) if data else None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._saves.append((bot, contact, text, future))
        self._kick()
        await future

    def _flush_now(self) -> None:
        """Commit everything queued, now (on the loop thread)."""
        while self._accepts or self._finishes or self._saves:
            before = (len(self._accepts), len(self._finishes), len(self._saves))
            if self._scheduled is not None:
                self._scheduled.cancel()
            self._commit()  # unschedules, and reschedules what it leaves
            if (len(self._accepts), len(self._finishes), len(self._saves)) == before:
                return  # the write failed and only finishes are left: retried later

    # -------------------------------------------------------------- reading (worker thread)

    def _wal_checkpoint(self) -> None:
        self._reader_conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _pending(self, bot: str) -> list[InboxEntry]:
        rows = (
            self._reader_conn()
            .execute(
                "SELECT key, bot, provider, body FROM rcskit_inbox "
                "WHERE bot = ? AND state = 'pending' ORDER BY seen_at",
                (bot,),
            )
            .fetchall()
        )
        return [
            InboxEntry(key, name, provider or "", bytes(body or b""))
            for key, name, provider, body in rows
        ]

    def _records(self, bot: str | None) -> list[InboxRecord]:
        query = f"SELECT {RECORD_COLUMNS} FROM rcskit_inbox"
        args: tuple[str, ...] = ()
        if bot is not None:
            query += " WHERE bot = ?"
            args = (bot,)
        rows = self._reader_conn().execute(query + " ORDER BY seen_at", args).fetchall()
        return [inbox_record(row) for row in rows]

    def _load(self, bot: str, contact: str) -> dict[str, Any]:
        row = (
            self._reader_conn()
            .execute("SELECT data FROM rcskit_state WHERE bot = ? AND contact = ?", (bot, contact))
            .fetchone()
        )
        return json.loads(row[0]) if row else {}

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def _drain(self) -> None:
        """Commit what is queued and wait for the groups the worker thread is writing."""
        self._flush_now()
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
            self._flush_now()

    async def pending(self, bot: str) -> list[InboxEntry]:
        """The accepted events of ``bot`` not finished yet, oldest first."""
        await self._drain()
        return await self._in_thread(self._pending, bot)

    async def records(self, bot: str | None = None) -> list[InboxRecord]:
        """Every inbox row (of ``bot``, or of all bots), oldest first: for tests and tools."""
        await self._drain()
        return await self._in_thread(self._records, bot)

    async def load(self, bot: str, contact: str) -> dict[str, Any]:
        """The stored state of (bot, contact), or ``{}``."""
        if self._saves or self._in_flight:
            await self._drain()
        return await self._in_thread(self._load, bot, contact)

    async def close(self) -> None:
        """Commit what is queued, close the file and stop the thread.

        The store can be used again afterwards (it reopens the file).
        """
        await self._drain()
        if self._opening is not None:
            await asyncio.gather(self._opening, return_exceptions=True)
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.get_running_loop().run_in_executor(executor, self._close_reader)
            executor.shutdown(wait=True)
