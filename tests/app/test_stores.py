"""De-duplication and state stores: memory and SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from rcskit.app import InboxEntry, MemoryDedup, MemoryState, SqliteInbox


async def test_memory_dedup_window_and_bound() -> None:
    dedup = MemoryDedup(window=0.05, max_keys=3)
    assert await dedup.claim("a") is True
    assert await dedup.claim("a") is False
    await asyncio.sleep(0.06)
    assert await dedup.claim("a") is True  # forgotten after the window
    for key in "bcd":
        assert await dedup.claim(key)
    assert await dedup.claim("a") is True  # evicted: only 3 keys are kept
    with pytest.raises(ValueError, match="positive"):
        MemoryDedup(window=0)


async def test_sqlite_concurrent_claims_of_one_key_have_one_winner(tmp_path: Path) -> None:
    store = SqliteInbox(tmp_path / "d.sqlite3")
    results = await asyncio.gather(*(store.claim("same") for _ in range(50)))
    assert results.count(True) == 1
    others = await asyncio.gather(*(store.claim(f"k{i}") for i in range(200)))
    assert all(others)
    await store.close()
    conn = sqlite3.connect(tmp_path / "d.sqlite3")
    assert conn.execute("SELECT count(*) FROM rcskit_inbox").fetchone() == (201,)
    conn.close()


async def test_sqlite_survives_reopen_and_honours_the_window(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite3"
    store = SqliteInbox(path, window=0.2)
    assert await store.claim("k") is True
    await store.close()
    reopened = SqliteInbox(path, window=0.2)
    assert await reopened.claim("k") is False
    await asyncio.sleep(0.25)
    assert await reopened.claim("k") is True
    await reopened.close()


async def test_sqlite_state_round_trip(tmp_path: Path) -> None:
    store = SqliteInbox(tmp_path / "s.sqlite3")
    assert await store.load("bot", "+1") == {}
    await store.save("bot", "+1", {"step": "size", "cart": [1, 2]})
    await store.save("other-bot", "+1", {"x": 1})
    assert await store.load("bot", "+1") == {"step": "size", "cart": [1, 2]}
    await store.close()
    again = SqliteInbox(tmp_path / "s.sqlite3")
    assert await again.load("bot", "+1") == {"step": "size", "cart": [1, 2]}
    await again.save("bot", "+1", {})
    assert await again.load("bot", "+1") == {}
    assert await again.load("other-bot", "+1") == {"x": 1}
    with pytest.raises(TypeError):
        await again.save("bot", "+1", {"bad": object()})
    await again.close()


async def test_memory_state() -> None:
    state = MemoryState()
    await state.save("b", "c", {"a": [1]})
    loaded = await state.load("b", "c")
    loaded["a"].append(2)
    assert await state.load("b", "c") == {"a": [1]}
    await state.save("b", "c", {})
    assert await state.load("b", "c") == {}


async def test_sqlite_inbox_keeps_events_until_finished(tmp_path: Path) -> None:
    store = SqliteInbox(tmp_path / "i.sqlite3", finish_delay=0)
    a = InboxEntry("bot:k1", "bot", "maap", b'{"a": 1}')
    b = InboxEntry("bot:k2", "bot", "maap", b'{"b": 2}')
    other = InboxEntry("other:k1", "other", "google", b"{}")
    assert await store.accept([a, b, a]) == [True, True, False]
    assert await store.accept([other]) == [True]
    assert await store.claim("bot:k1") is False
    assert await store.pending("bot") == [a, b]
    store.finish("bot:k1")
    store.finish("bot:k2", "ValueError: bad")
    assert await store.pending("bot") == []
    records = {r.key: r for r in await store.records()}
    assert (records["bot:k1"].state, records["bot:k1"].body, records["bot:k1"].error) == (
        "done",
        None,
        None,
    )
    assert (records["bot:k2"].state, records["bot:k2"].body) == ("failed", b'{"b": 2}')
    assert records["bot:k2"].error == "ValueError: bad"
    assert records["other:k1"].state == "pending"
    assert [r.key for r in await store.records("other")] == ["other:k1"]
    await store.close()


async def test_sqlite_pending_events_are_never_forgotten(tmp_path: Path) -> None:
    store = SqliteInbox(tmp_path / "i.sqlite3", window=0.05, purge_every=0)
    pending = InboxEntry("bot:p", "bot", "maap", b"{}")
    finished = InboxEntry("bot:f", "bot", "maap", b"{}")
    assert await store.accept([pending, finished]) == [True, True]
    store.finish("bot:f")
    await asyncio.sleep(0.08)
    # past the window: the finished key counts as new again, the pending one never does
    assert await store.accept([pending, finished]) == [False, True]
    assert {r.key: r.state for r in await store.records()} == {
        "bot:p": "pending",
        "bot:f": "pending",  # accepted again, as a new event
    }
    store.finish("bot:f")
    await asyncio.sleep(0.08)
    assert await store.claim("bot:x") is True  # a write that purges what is past the window
    keys = {r.key: r.state for r in await store.records()}
    assert keys == {"bot:p": "pending", "bot:x": "done"}
    await store.close()


async def test_sqlite_finish_alone_is_committed_after_its_delay(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite3"
    store = SqliteInbox(path, finish_delay=0.02)
    assert await store.accept([InboxEntry("bot:k", "bot", "maap", b"{}")]) == [True]
    commits = store.commits
    store.finish("bot:k")
    assert store.commits == commits  # not written at once: it waits to share a commit
    await asyncio.sleep(0.1)
    assert store.commits == commits + 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT state FROM rcskit_inbox").fetchall() == [("done",)]
    conn.close()
    await store.close()


async def test_sqlite_a_failed_write_fails_its_requests_and_keeps_the_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SqliteInbox(tmp_path / "i.sqlite3", finish_delay=0)
    assert await store.accept([InboxEntry("bot:k", "bot", "maap", b"{}")]) == [True]
    real_write = store._write

    def full_disk(*args: object) -> list[bool]:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(store, "_write", full_disk)
    store.finish("bot:k")
    with pytest.raises(sqlite3.OperationalError, match="disk is full"):
        await store.accept([InboxEntry("bot:n", "bot", "maap", b"{}")])
    monkeypatch.setattr(store, "_write", real_write)
    records = {r.key: r.state for r in await store.records()}
    assert records == {"bot:k": "done"}  # the finish was retried; the failed accept is absent
    await store.close()


async def test_sqlite_state_saves_share_the_group_commit(tmp_path: Path) -> None:
    store = SqliteInbox(tmp_path / "s.sqlite3")
    await store.accept([InboxEntry("bot:k", "bot", "maap", b"{}")])
    commits = store.commits
    await asyncio.gather(
        store.save("bot", "+1", {"n": 1}),
        store.save("bot", "+2", {"n": 2}),
        store.accept([InboxEntry("bot:k2", "bot", "maap", b"{}")]),
    )
    assert store.commits == commits + 1
    assert await store.load("bot", "+2") == {"n": 2}
    await store.close()


def test_sqlite_store_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        SqliteInbox(tmp_path / "x", max_batch=0)
    with pytest.raises(ValueError, match="commit_interval"):
        SqliteInbox(tmp_path / "x", commit_interval=-1)
    with pytest.raises(ValueError, match="finish_delay"):
        SqliteInbox(tmp_path / "x", finish_delay=-1)
    with pytest.raises(ValueError, match="checkpoint_every"):
        SqliteInbox(tmp_path / "x", checkpoint_every=0)
    assert "1 bytes" in repr(InboxEntry("k", "b", "maap", b"x"))


async def test_sqlite_another_writer_holding_the_lock_never_blocks_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "i.sqlite3"
    store = SqliteInbox(path)
    assert await store.accept([InboxEntry("bot:first", "bot", "maap", b"{}")]) == [True]
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process writing, for a while
    waiting = asyncio.ensure_future(store.accept([InboxEntry("bot:k", "bot", "maap", b"{}")]))
    started = time.monotonic()
    ticks = 0
    while time.monotonic() - started < 0.2:
        await asyncio.sleep(0.01)
        ticks += 1
    assert ticks >= 5  # the loop kept running while the write waited for the lock (~20 if idle)
    assert not waiting.done() and store.busy_writes == 1
    other.execute("COMMIT")
    other.close()
    assert await asyncio.wait_for(waiting, 5) == [True]
    assert [r.key for r in await store.records()] == ["bot:first", "bot:k"]
    await store.close()
