"""The durable inbox: no acknowledged event is lost, none runs twice, failures are recorded."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from rcskit.app import Bot, InboxEntry, SqliteInbox
from rcskit.events import Event, UserMessage
from rcskit.inbound.verify import StaticToken
from tests.app.asgi_caller import call
from tests.app.test_webhook import GSMA_TEXT, gsma_text

ROOT = Path(__file__).resolve().parents[2]


def rows(db: Path) -> list[tuple[Any, ...]]:
    """The inbox as another process sees it: (key, state, body is kept, error)."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(
            "SELECT key, state, body IS NOT NULL, error FROM rcskit_inbox ORDER BY seen_at"
        ).fetchall()
    finally:
        conn.close()


def recording(db: Path, **kw: Any) -> tuple[Bot, list[Event]]:
    seen: list[Event] = []
    bot = Bot(provider="maap", dedup=db, **kw)

    @bot.on_event
    async def record(event: Event) -> None:
        seen.append(event)

    return bot, seen


def blocked(db: Path) -> tuple[Bot, asyncio.Event]:
    """A bot whose handler starts and never finishes (the process will 'die' meanwhile)."""
    started = asyncio.Event()
    bot = Bot(provider="maap", dedup=db)

    @bot.on_event
    async def hang(event: Event) -> None:
        started.set()
        await asyncio.Event().wait()

    return bot, started


async def test_an_event_acknowledged_then_lost_with_the_process_runs_once_after_restart(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    first, started = blocked(db)
    answer = await call(first.asgi, "POST", "/webhook", GSMA_TEXT)
    assert answer.status == 200
    # committed before the 200: another process already sees it, pending, with its body
    assert rows(db) == [("bot:maap:message:Xs8CI3tdf:+14251234567", "pending", 1, None)]
    await asyncio.wait_for(started.wait(), 2)
    # the process "dies" here: `first` is never stopped, its handler never returns

    second, seen = recording(db)
    await second.start()
    await second.join()
    assert len(seen) == 1 and isinstance(seen[0], UserMessage)
    assert (seen[0].event_id, seen[0].text) == ("Xs8CI3tdf", "hello world")
    assert second.stats["recovered"] == 1
    # the provider redelivers it after the restart: still de-duplicated
    assert (await call(second.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    await second.join()
    assert len(seen) == 1 and second.stats["duplicates"] == 1
    await second.stop()
    assert rows(db) == [("bot:maap:message:Xs8CI3tdf:+14251234567", "done", 0, None)]
    # a third start has nothing left to run
    third, seen_third = recording(db)
    await third.start()
    await third.join()
    assert seen_third == [] and third.stats["recovered"] == 0
    await third.stop()
    await first.stop(timeout=0)  # clean up the abandoned bot's task and connections


async def test_a_stop_before_the_handler_finished_keeps_the_event_pending(
    tmp_path: Path,
) -> None:
    db = tmp_path / "bot.sqlite3"
    first, started = blocked(db)
    for msg_id in ("a1", "a2", "a3"):
        body = gsma_text(msg_id, text=msg_id)
        assert (await call(first.asgi, "POST", "/webhook", body)).status == 200
    await asyncio.wait_for(started.wait(), 2)
    await first.stop(timeout=0.05)  # a1 is running and a2, a3 wait: none finished
    assert [state for _, state, _, _ in rows(db)] == ["pending"] * 3

    second, seen = recording(db)
    await second.start()
    # a new event of the same contact arrives right away: it runs after the recovered ones
    assert (await call(second.asgi, "POST", "/webhook", gsma_text("b1", "b1"))).status == 200
    await second.join()
    assert [e.event_id for e in seen] == ["a1", "a2", "a3", "b1"]
    await second.stop()
    assert [state for _, state, _, _ in rows(db)] == ["done"] * 4


async def test_a_failing_handler_is_recorded_and_never_run_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "bot.sqlite3"
    calls: list[str] = []
    bot = Bot(provider="maap", dedup=db)

    @bot.on_message()
    async def fragile(event: UserMessage) -> None:
        calls.append(event.event_id or "")
        if event.text == "boom":
            raise RuntimeError("handler bug on boom")

    assert (await call(bot.asgi, "POST", "/webhook", gsma_text("f1", "boom"))).status == 200
    assert (await call(bot.asgi, "POST", "/webhook", gsma_text("f2", "fine"))).status == 200
    await bot.join()
    assert calls == ["f1", "f2"] and bot.stats["failed"] == 1
    assert bot.inbox is not None
    records = {r.key: r for r in await bot.inbox.records()}
    failed = records["bot:maap:message:f1:+14251234567"]
    assert failed.state == "failed" and failed.error == "RuntimeError: handler bug on boom"
    assert failed.body is not None and json.loads(failed.body)["RCSMessage"]["msgId"] == "f1"
    assert failed.finished_at is not None
    assert records["bot:maap:message:f2:+14251234567"].state == "done"
    await bot.stop()

    again = Bot(provider="maap", dedup=db)
    again.on_message()(fragile)
    await again.start()
    assert (await call(again.asgi, "POST", "/webhook", gsma_text("f1", "boom"))).status == 200
    await again.join()
    assert calls == ["f1", "f2"]  # not re-run at start, not re-run on redelivery
    assert again.stats["recovered"] == 0 and again.stats["duplicates"] == 1
    await again.stop()


async def test_an_entry_that_no_longer_parses_is_recorded_as_failed(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    store = SqliteInbox(db)
    bad = InboxEntry("bot:maap:message:gone:+1", "bot", "maap", b"{not json")
    moved = InboxEntry("bot:maap:message:other:+1", "bot", "maap", gsma_text("elsewhere"))
    assert await store.accept([bad, moved]) == [True, True]
    await store.close()

    bot, seen = recording(db)
    await bot.start()
    await bot.join()
    assert seen == []
    assert bot.inbox is not None
    errors = {r.key: (r.state, r.error) for r in await bot.inbox.records()}
    assert errors[bad.key][0] == "failed"
    assert "cannot rebuild the event after a restart: MalformedPayload" in str(errors[bad.key][1])
    assert errors[moved.key] == (
        "failed",
        "cannot rebuild the event after a restart: its body no longer parses to it",
    )
    await bot.stop()


async def test_requests_arriving_together_share_one_commit(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    bot, seen = recording(db, verifier=StaticToken("tok"))
    await bot.start()
    assert isinstance(bot.inbox, SqliteInbox)
    before = bot.inbox.commits
    auth = {"Authorization": "Bearer tok"}
    answers = await asyncio.gather(
        *(call(bot.asgi, "POST", "/webhook", gsma_text(f"g{i}"), auth) for i in range(50))
    )
    assert [a.status for a in answers] == [200] * 50
    accept_commits = bot.inbox.commits - before
    assert 1 <= accept_commits <= 3
    await bot.join()
    assert sorted(e.event_id or "" for e in seen) == sorted(f"g{i}" for i in range(50))
    await bot.stop()
    assert [state for _, state, _, _ in rows(db)] == ["done"] * 50


async def test_memory_dedup_has_no_inbox() -> None:
    bot = Bot(dedup="memory")
    assert bot.inbox is None
    await bot.start()
    await bot.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


SERVER = textwrap.dedent(
    """
    import asyncio, pathlib, sys
    import uvicorn
    from rcskit.app import Bot

    db, port, marker = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
    bot = Bot(provider="maap", dedup=db)

    @bot.on_event
    async def hang(event):
        marker.write_text(event.event_id or "")
        await asyncio.Event().wait()

    uvicorn.run(bot.asgi, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    """
)


async def test_sigkill_after_the_ack_loses_nothing(tmp_path: Path) -> None:
    """A real server process, killed with SIGKILL while its handler runs."""
    db, marker, port = tmp_path / "bot.sqlite3", tmp_path / "started", _free_port()
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), str(db), str(port), str(marker)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    reason = proc.stderr.read().decode() if proc.stderr else ""
                    raise AssertionError(f"server exited: {reason}") from None
                assert time.monotonic() < deadline, "server did not start listening"
                await asyncio.sleep(0.05)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhook", data=GSMA_TEXT, method="POST"
        )
        with await asyncio.to_thread(urllib.request.urlopen, request, timeout=5) as response:
            assert response.status == 200
        while not marker.exists():
            assert time.monotonic() < deadline, "the handler never started"
            await asyncio.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()
    assert marker.read_text() == "Xs8CI3tdf"

    bot, seen = recording(db)
    await bot.start()
    await bot.join()
    assert [e.event_id for e in seen] == ["Xs8CI3tdf"]
    assert (await call(bot.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    await bot.join()
    assert len(seen) == 1
    await bot.stop()
