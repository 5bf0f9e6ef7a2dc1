"""The inbox on SQLite and on PostgreSQL: the same behaviour from both, and a Bot on each."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from rcskit.app import Bot, InboxEntry, open_inbox
from rcskit.events import Event
from rcskit.store.inbox import GroupedInbox, InboxRow, inbox_record
from rcskit.store.inbox_postgres import PostgresInbox
from rcskit.store.inbox_sqlite import SqliteInbox
from tests.app.asgi_caller import call
from tests.app.conftest import InboxDatabase
from tests.app.test_webhook import gsma_text


async def test_concurrent_claims_of_one_key_have_one_winner(inbox_database: InboxDatabase) -> None:
    inbox = inbox_database.open()
    results = await asyncio.gather(*(inbox.claim("same") for _ in range(50)))
    assert results.count(True) == 1
    others = await asyncio.gather(*(inbox.claim(f"k{i}") for i in range(200)))
    assert all(others)
    assert len(await inbox.records()) == 201
    await inbox.close()


async def test_accepted_events_stay_pending_until_finished(inbox_database: InboxDatabase) -> None:
    inbox = inbox_database.open(finish_delay=0)
    entries = [InboxEntry(f"bot:e{i}", "bot", "maap", f"body {i}".encode()) for i in range(3)]
    assert await inbox.accept(entries) == [True, True, True]
    # a key twice in one request: the first counts, the second is a duplicate
    again = [InboxEntry("bot:e0", "bot", "maap", b"x"), InboxEntry("bot:new", "bot", "maap", b"n")]
    twice = [InboxEntry("bot:t", "bot", "maap", b"1"), InboxEntry("bot:t", "bot", "maap", b"2")]
    assert await inbox.accept(again) == [False, True]
    assert await inbox.accept(twice) == [True, False]
    assert await inbox.accept([InboxEntry("other:e0", "other", "maap", b"o")]) == [True]
    pending = await inbox.pending("bot")
    assert [e.key for e in pending] == ["bot:e0", "bot:e1", "bot:e2", "bot:new", "bot:t"]
    assert pending[0].body == b"body 0" and pending[-1].body == b"1"
    inbox.finish("bot:e0")
    inbox.finish("bot:e1", "ValueError: boom")
    assert [e.key for e in await inbox.pending("bot")] == ["bot:e2", "bot:new", "bot:t"]
    records = {r.key: r for r in await inbox.records("bot")}
    assert (records["bot:e0"].state, records["bot:e0"].body) == ("done", None)
    assert (records["bot:e1"].state, records["bot:e1"].body) == ("failed", b"body 1")
    assert records["bot:e1"].error == "ValueError: boom"
    assert records["bot:e1"].finished_at is not None
    assert records["bot:e2"].state == "pending" and records["bot:e2"].finished_at is None
    await inbox.close()
    reopened = inbox_database.open()
    assert [e.key for e in await reopened.pending("bot")] == ["bot:e2", "bot:new", "bot:t"]
    assert await reopened.claim("bot:e0") is False
    await reopened.close()


async def test_the_window_forgets_finished_keys_never_pending_ones(
    inbox_database: InboxDatabase,
) -> None:
    inbox = inbox_database.open(window=0.2, finish_delay=0)
    await inbox.accept([InboxEntry("b:done", "b", "maap", b"d"), InboxEntry("b:p", "b", "maap")])
    inbox.finish("b:done")
    await inbox.pending("b")  # writes the finish
    await asyncio.sleep(0.25)
    assert await inbox.claim("b:done") is True  # older than the window: new again
    assert await inbox.accept([InboxEntry("b:p", "b", "maap", b"again")]) == [False]
    assert [e.key for e in await inbox.pending("b")] == ["b:p"]
    await inbox.close()


async def test_conversation_state_round_trip(inbox_database: InboxDatabase) -> None:
    inbox = inbox_database.open()
    assert await inbox.load("bot", "+1") == {}
    await inbox.save("bot", "+1", {"step": "size", "cart": [1, 2]})
    await inbox.save("other", "+1", {"x": 1})
    await inbox.save("bot", "+1", {"step": "pay"})
    await inbox.close()
    again = inbox_database.open()
    assert await again.load("bot", "+1") == {"step": "pay"}
    await again.save("bot", "+1", {})
    assert await again.load("bot", "+1") == {}
    assert await again.load("other", "+1") == {"x": 1}
    await again.close()


async def test_a_bot_on_each_database_runs_each_event_once_and_recovers_pending(
    inbox_database: InboxDatabase,
) -> None:
    seen: list[str | None] = []
    gate = asyncio.Event()

    def make_bot() -> Bot:
        bot = Bot(provider="maap", dedup=inbox_database.open(finish_delay=0))

        @bot.on_event
        async def record(event: Event) -> None:
            await gate.wait()
            seen.append(event.event_id)

        return bot

    first = make_bot()
    for msg_id in ("m1", "m2", "m1"):
        assert (await call(first.asgi, "POST", "/webhook", gsma_text(msg_id))).status == 200
    assert first.stats["duplicates"] == 1
    await first.stop(timeout=0.05)  # the handlers never finished: both stay pending
    assert seen == []
    gate.set()
    second = make_bot()
    await second.start()
    await second.join()
    assert sorted(seen) == ["m1", "m2"]
    assert second.stats["recovered"] == 2
    assert (await call(second.asgi, "POST", "/webhook", gsma_text("m2"))).status == 200
    await second.join()
    assert sorted(seen) == ["m1", "m2"]  # a redelivery after the restart is still a duplicate
    await second.stop()


async def test_two_bots_sharing_postgresql_see_each_others_duplicates(
    inbox_database: InboxDatabase,
) -> None:
    if inbox_database.kind != "postgresql":
        pytest.skip("two processes share de-duplication through PostgreSQL")
    seen: list[str] = []
    bots = []
    for name in ("worker-a", "worker-b"):
        bot = Bot(provider="maap", dedup=inbox_database.open(), name="bot")

        @bot.on_event
        async def record(event: Event, bot: Bot = bot) -> None:
            seen.append(f"{bot.name}:{event.event_id}")

        bots.append(bot)
        del name
    answers = await asyncio.gather(
        *(call(bot.asgi, "POST", "/webhook", gsma_text("same")) for bot in bots)
    )
    assert [a.status for a in answers] == [200, 200]
    for bot in bots:
        await bot.join()
    assert len(seen) == 1
    assert sum(bot.stats["duplicates"] for bot in bots) == 1
    for bot in bots:
        await bot.stop()


def test_open_inbox_picks_the_backend_from_the_url(tmp_path: object) -> None:
    assert isinstance(open_inbox("bot.sqlite3"), SqliteInbox)
    assert isinstance(open_inbox("sqlite:///var/bot.sqlite3"), SqliteInbox)
    pg = open_inbox("postgresql://bot:s3cret@db.example/rcs", schema="bots")
    assert isinstance(pg, PostgresInbox)
    assert "s3cret" not in repr(pg) and "***" in repr(pg)
    with pytest.raises(ValueError, match="mysql:// is not supported"):
        open_inbox("mysql://db/rcs")
    with pytest.raises(ValueError, match="PostgreSQL only"):
        open_inbox("bot.sqlite3", schema="x")


async def test_a_bot_takes_a_database_url(tmp_path: object) -> None:
    bot = Bot(dedup="postgresql://nobody@127.0.0.1:1/none")
    assert isinstance(bot.inbox, PostgresInbox) and bot.state is bot.inbox
    started = time.monotonic()
    with pytest.raises(OSError):
        await bot.start()  # nothing listens there: the error says so at start
    assert time.monotonic() - started < 30


class ListInbox(GroupedInbox):
    """A grouped inbox that keeps what it is given in a list: the shared front half alone."""

    def __init__(self) -> None:
        super().__init__(window=60, max_batch=8, finish_delay=0, purge_every=60)
        self.rows: list[InboxRow] = []

    async def _submit(self, rows: list[InboxRow]) -> list[bool]:
        known = {row[0] for row in self.rows}
        self.rows.extend(rows)
        return [row[0] not in known for row in rows]


async def test_the_grouped_inbox_builds_pending_rows_and_bare_claims(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox = ListInbox()
    monkeypatch.setattr(time, "time", lambda: 1000.0)  # a clock that stands still
    entries = [InboxEntry("b:1", "b", "maap", b"one"), InboxEntry("b:2", "b", "google", b"")]
    assert await inbox.accept(entries) == [True, True]
    assert await inbox.claim("b:1") is False
    assert await inbox.claim("plain") is True
    assert [row[:3] + row[4:] for row in inbox.rows] == [
        ("b:1", "b", "pending", "maap", b"one"),
        ("b:2", "b", "pending", "google", b""),
        ("b:1", "", "done", None, None),
        ("plain", "", "done", None, None),
    ]
    stamps = [row[3] for row in inbox.rows]
    assert stamps[0] == 1000.0
    assert all(later > earlier for earlier, later in itertools.pairwise(stamps))
    assert stamps[-1] - stamps[0] < 1e-3


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"max_batch": 0}, "max_batch"),
        ({"finish_delay": -1}, "finish_delay"),
        ({"window": 0}, "window"),
    ],
)
def test_both_backends_refuse_the_shared_settings_alike(
    tmp_path: Path, settings: dict[str, Any], field: str
) -> None:
    for make in (
        lambda: SqliteInbox(tmp_path / "x.sqlite3", **settings),
        lambda: PostgresInbox("postgresql://bot@127.0.0.1/none", **settings),
    ):
        with pytest.raises(ValueError, match=field):
            make()


def test_an_inbox_record_reads_a_row_in_column_order() -> None:
    row = ("k", "bot", "failed", "maap", memoryview(b"body"), "boom", 1.5, 2.5)
    record = inbox_record(row)
    assert (record.key, record.bot, record.state, record.provider) == ("k", "bot", "failed", "maap")
    assert record.body == b"body" and type(record.body) is bytes
    assert (record.error, record.seen_at, record.finished_at) == ("boom", 1.5, 2.5)
    assert inbox_record(("k", "bot", "done", None, None, None, 1.0, None)).body is None
