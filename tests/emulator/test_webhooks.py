"""Webhook delivery: retries with exponential backoff on the emulator clock, order, the log."""

from __future__ import annotations

import socket

from .conftest import GSMA_BOT, Emu, text_body
from .receiver import Receiver


def webhook_log(emu: Emu) -> list[dict[str, object]]:
    return [e.to_json() for e in emu.state.log.query(kind="webhook", limit=1000)]


async def test_failing_webhook_is_retried_with_backoff(emu: Emu, receiver: Receiver) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.billing_events = False
    receiver.statuses = [500, 503]
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    assert receiver.attempts == 1 and receiver.received == []
    await emu.state.advance(0.9)
    assert receiver.attempts == 1  # first retry after base_delay_s = 1 s
    await emu.state.advance(0.1)
    assert receiver.attempts == 2
    await emu.state.advance(1.9)
    assert receiver.attempts == 2  # second retry 2 s later
    await emu.state.advance(0.1)
    # The held-back events of the same conversation follow, in order.
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    log = webhook_log(emu)
    first = [e for e in log if e["event"] == "messageStatus:sent"]
    assert [(e["attempt"], e["status"], e["error"]) for e in first] == [
        (1, 500, "HTTP 500"),
        (2, 503, "HTTP 503"),
        (3, 200, None),
    ]
    assert all(e["target"] == receiver.url for e in log)
    assert '"status":"sent"' in str(first[0]["request_body"])


async def test_down_webhook_gives_up_after_the_configured_attempts(emu: Emu) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    emu.state.webhooks.config.attempts = 3
    emu.state.webhooks.config.max_delay_s = 1.5
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.webhook_url = f"http://127.0.0.1:{port}/hook?token=s3cret"
    bot.billing_events = False
    await emu.client.post(
        "/_emulator/phones/+14251234567/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "hi"},
    )
    await emu.state.run_due()
    await emu.state.advance(1)
    await emu.state.advance(1.5)  # capped at max_delay_s instead of 2 s
    log = webhook_log(emu)
    assert [e["attempt"] for e in log] == [1, 2, 3]
    assert all(e["status"] is None and "Connect" in str(e["error"]) for e in log)
    assert all("s3cret" not in str(e["target"]) for e in log)
    assert str(log[0]["target"]).endswith("/hook?token=%2A%2A%2A")
    assert emu.state.webhooks.failed == 1
    assert emu.state.webhooks.pending() == 0
    await emu.state.advance(60)
    assert len(webhook_log(emu)) == 3


async def test_bot_without_webhook_is_logged(emu: Emu) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.webhook_url = None
    await emu.send_gsma(text_body())
    await emu.state.run_due()
    log = webhook_log(emu)
    assert log and all(e["error"] == "not delivered: the bot has no webhook URL" for e in log)
    assert {e["event"] for e in log} >= {"billing", "messageStatus:sent"}


async def test_register_webhook_through_admin(emu: Emu, receiver: Receiver) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.webhook_url = None
    reply = await emu.client.put(f"/_emulator/bots/{GSMA_BOT}/webhook", json={"url": receiver.url})
    assert reply.status == 200 and reply.json()["webhook_url"] == receiver.url
    bad = await emu.client.put(f"/_emulator/bots/{GSMA_BOT}/webhook", json={"url": "ftp://x"})
    assert bad.status == 400
    await emu.send_gsma(text_body())
    await emu.state.run_due()
    assert receiver.events("messageStatus")
