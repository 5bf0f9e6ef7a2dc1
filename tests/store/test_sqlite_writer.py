"""The SQLite writer (:class:`rcskit.store.engine.SqliteWriter`): the campaign journal's own
connection and thread, a whole transaction in one hop, set up as the engine's connections."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from rcskit.campaign.sends import CampaignSends, OutcomeKind, SendOutcome, SendStart
from rcskit.message import Message
from rcskit.store import NewRecipient, RecipientStatus, Store, deterministic_id
from rcskit.store.engine import SqliteWriter
from tests.store.conftest import FakeClock


def _table(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x INTEGER NOT NULL)")


def _rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [x for (x,) in db.execute("SELECT x FROM t ORDER BY x")]


async def test_a_transaction_commits_on_a_connection_set_up_as_the_engines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(path)
    try:

        def write(db: sqlite3.Connection) -> tuple[Any, ...]:
            assert db.in_transaction  # BEGIN IMMEDIATE came first
            db.execute("INSERT INTO t VALUES (1)")
            return tuple(
                db.execute(f"PRAGMA {p}").fetchone()[0]
                for p in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            )

        pragmas = await writer.transaction(write)
        # WAL, synchronous=NORMAL (1), foreign keys on, a 30 s busy timeout
        assert pragmas == ("wal", 1, 1, 30000)
        assert _rows(path) == [1]  # committed: another connection sees it
    finally:
        await writer.close()


async def test_a_failing_transaction_writes_nothing_and_the_writer_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(path)
    try:

        def fail(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO t VALUES (1)")
            raise ValueError("boom")

        with pytest.raises(ValueError, match="boom"):
            await writer.transaction(fail)
        assert _rows(path) == []
        await writer.transaction(lambda db: db.execute("INSERT INTO t VALUES (2)"))
        assert _rows(path) == [2]
    finally:
        await writer.close()


async def test_a_cancelled_caller_gets_its_cancellation_once_the_transaction_ended(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(path)
    started, release = threading.Event(), threading.Event()

    def slow(db: sqlite3.Connection) -> None:
        db.execute("INSERT INTO t VALUES (1)")
        started.set()
        release.wait(10)

    try:
        task = asyncio.create_task(writer.transaction(slow))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        await asyncio.sleep(0.05)
        assert not task.done()  # still waiting for the transaction to end
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        # it ended (committed): the database's write lock is free at once
        with sqlite3.connect(path, timeout=0) as other:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        assert _rows(path) == [1]
    finally:
        release.set()
        await writer.close()


async def test_close_ends_the_thread_and_a_later_transaction_opens_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "w.db"
    _table(path)
    writer = SqliteWriter(path)
    names: list[str] = []

    def write(db: sqlite3.Connection) -> None:
        names.append(threading.current_thread().name)
        db.execute("INSERT INTO t VALUES (?)", (len(names),))

    await writer.transaction(write)
    [thread] = [t for t in threading.enumerate() if t.name == names[0]]
    await writer.close()
    thread.join(5)
    assert not thread.is_alive()
    await writer.transaction(write)
    await writer.close()
    assert _rows(path) == [1, 2]
    assert all(n.startswith("rcskit-sqlite-writer") for n in names)


async def _claimed(store: Store, n: int) -> tuple[CampaignSends, list[SendStart], dict[int, int]]:
    sends = CampaignSends(store)
    await store.campaigns.create_campaign("spring", "dotgo", id="c1", message=Message("Hello"))
    await sends.import_recipients(
        "c1", [NewRecipient(i + 2, f"+3361234{i:04d}", {}) for i in range(n)]
    )
    claimed = await store.campaigns.claim_batch(
        "c1", "w1", n, 60, statuses=[RecipientStatus.QUEUED]
    )
    starts = [
        SendStart(r.line_number, deterministic_id("c1", r.msisdn or ""), r.msisdn or "", "{}")
        for r in claimed
    ]
    return sends, starts, {r.line_number: r.fence for r in claimed}


async def test_the_journal_on_sqlite_uses_the_writer_not_the_pool(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(str(tmp_path / "j.db"), clock=clock)
    try:
        sends, starts, fences = await _claimed(store, 4)
        assert sends._sqlite_writer is store._sqlite_writer is not None
        checkouts: list[object] = []
        event.listen(store.engine.sync_engine.pool, "checkout", lambda *a: checkouts.append(a))
        begun = await sends.journal("c1", "w1", "dotgo", starts=starts[:2], fences=fences)
        await sends.journal(
            "c1",
            "w1",
            "dotgo",
            outcomes=[
                SendOutcome(b.line_number, b.id, OutcomeKind.SENT, provider_message_id=f"p{n}")
                for n, b in enumerate(begun)
            ],
            starts=starts[2:],
            fences=fences,
        )
        assert checkouts == []  # no pooled connection: the writer's own, one hop per group
        message = await store.messages.get_message(starts[0].id)
        assert message is not None and message.provider_message_id == "p0"
    finally:
        await store.close()


async def test_the_journal_on_sqlite_waits_for_the_stores_write_turn(
    tmp_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(str(tmp_path / "j.db"), clock=clock)
    try:
        sends, starts, fences = await _claimed(store, 1)
        async with store._write_lock:
            task = asyncio.create_task(
                sends.journal("c1", "w1", "dotgo", starts=starts, fences=fences)
            )
            await asyncio.sleep(0.05)
            assert not task.done()
        [begun] = await asyncio.wait_for(task, 10)
        assert begun.attempts == 1
    finally:
        await store.close()
