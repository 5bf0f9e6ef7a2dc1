"""The traffic panel reads in causal order: a webhook comes before the bot's reply it caused,
even when the bot replies inside the webhook and the webhook finishes last."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from rcskit.emulator import ManualClock
from rcskit.emulator.core.request_log import RequestLog
from rcskit.emulator.core.user_actions import send_text
from rcskit.emulator.ui.stream import PhoneView
from rcskit.emulator.ui.view import no_files

from .conftest import GSMA_BOT, Emu, make_config, text_body
from .receiver import Receiver

PHONE = "+14251234567"


def _add(log: RequestLog, target: str, seq: int | None = None) -> None:
    log.add(
        at=0.0,
        kind="api",
        flavour="dotgo",
        method="POST",
        target=target,
        status=200,
        duration_ms=1.0,
        seq=seq,
    )


def test_an_entry_written_late_takes_the_place_it_started_at() -> None:
    log = RequestLog(3)
    _add(log, "a")
    webhook = log.reserve()
    _add(log, "reply")
    _add(log, "webhook", seq=webhook)
    assert [e.target for e in log] == ["a", "webhook", "reply"]
    assert [e.added for e in log] == [1, 3, 2]
    _add(log, "d")  # full: the oldest falls off, order kept
    assert [e.target for e in log] == ["webhook", "reply", "d"]
    late = 1  # started before everything kept: it would be the oldest, so it falls off first
    _add(log, "ancient", seq=late)
    assert [e.target for e in log][-2:] == ["reply", "d"] and len(log) == 3


class ReplyingBot(Receiver):
    """A bot that sends its reply through the emulator's API before it answers the webhook."""

    emu: Emu | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await request.json()
        if self.emu is not None and body.get("event") == "message":
            reply = await self.emu.send_gsma(text_body(PHONE, "echo"))
            assert reply.status == 202
        self.received.append(body)
        return web.Response(text="ok")


@pytest.fixture
async def replying() -> AsyncIterator[tuple[Emu, ReplyingBot]]:
    bot = ReplyingBot()
    await bot.start()
    emu = Emu(make_config(bot.url), ManualClock())
    bot.emu = emu
    await emu.token()  # the token request is logged before the test starts
    yield emu, bot
    bot.emu = None
    await emu.state.aclose()
    await bot.stop()


async def test_the_webhook_comes_before_the_reply_it_caused(
    replying: tuple[Emu, ReplyingBot],
) -> None:
    emu, bot = replying
    view = PhoneView(emu.state, PHONE, GSMA_BOT, no_files)
    view.prime()
    send_text(emu.state, GSMA_BOT, PHONE, "hello")
    await emu.state.webhooks.drain()
    assert [b.get("event") for b in bot.received].count("message") == 1
    entries = [e for e in emu.state.log if e.kind == "webhook" or "messages" in e.target]
    webhook = next(e for e in entries if e.kind == "webhook" and e.event == "message")
    reply = next(e for e in entries if e.kind == "api" and "messages/async" in e.target)
    assert webhook.added > reply.added  # written last...
    assert webhook.seq < reply.seq  # ...but listed first
    page = (await emu.client.get(f"/phones/{PHONE}?bot={GSMA_BOT}")).body.decode()
    assert page.index(f'data-seq="{webhook.seq}"') < page.index(f'data-seq="{reply.seq}"')
    streamed = view.log_entries(0)
    assert [e.seq for e in streamed] == sorted(e.seq for e in streamed)
    assert webhook in streamed and reply in streamed
