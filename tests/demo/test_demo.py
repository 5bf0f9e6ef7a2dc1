"""``rcskit demo``: the emulator and the showcase bot behind one real server on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
import typer
from typer.testing import CliRunner

from rcskit.cli.demo import register
from rcskit.demo.server import (
    BOT_PREFIX,
    DEMO_BOT_ID,
    DEMO_PHONE,
    banner,
    base_url_for,
    bind,
    create_demo,
    demo_config,
    webhook_sources,
)
from rcskit.demo.showcase import KEYWORDS, TEMPLATE_CODE, WELCOME_TITLE

from .running import admin, serving, wait_for

PHONE_PATH = "/_emulator/phones/%2B14251234567"


async def messages(session: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    status, body = await admin(
        session, "GET", f"{base}{PHONE_PATH}/conversation?bot_id={DEMO_BOT_ID}"
    )
    assert status == 200
    conversations = body["conversations"]
    return conversations[0]["messages"] if conversations else []


async def test_one_process_one_server_from_hi_to_the_bots_reply() -> None:
    async with serving(create_demo) as demo, aiohttp.ClientSession() as session:
        base = demo.base_url
        # the webhook is registered through the admin API
        status, bot = await admin(session, "GET", f"{base}/_emulator/bots/{DEMO_BOT_ID}")
        assert status == 200 and bot["webhook_url"] == f"{base}{BOT_PREFIX}/webhook"
        # the welcome card (a newUser for the demo phone) is waiting on the phone
        welcome = (await wait_for(lambda: messages(session, base)))[0]
        card = welcome["content"]["richcardMessage"]["message"]["generalPurposeCard"]
        assert card["content"]["title"] == WELCOME_TITLE and welcome["direction"] == "a2p"
        # the user says hi through the admin API; the showcase answers through the API
        status, said = await admin(
            session,
            "POST",
            f"{base}{PHONE_PATH}/actions",
            {"bot_id": DEMO_BOT_ID, "type": "text", "text": "hi"},
        )
        assert status == 201

        async def answered() -> list[dict[str, Any]]:
            found = await messages(session, base)
            ids = [m["msg_id"] for m in found]
            return [m for m in found[ids.index(said["msg_id"]) + 1 :] if m["direction"] == "a2p"]

        [reply] = await wait_for(answered)
        assert reply["content"]["textMessage"] == "What would you like to see?"
        chips = reply["content"]["suggestedChipList"]["suggestions"]
        assert [c["reply"]["postback"]["data"] for c in chips][:2] == ["show:text", "show:file"]
        # the webhook deliveries reached the bot, and the phone page shows the conversation
        status, log = await admin(session, "GET", f"{base}/_emulator/log?kind=webhook&limit=1000")
        assert status == 200 and log["entries"]
        assert all(e["status"] == 200 for e in log["entries"])
        async with session.get(f"{base}/phones/+14251234567") as resp:
            html = await resp.text()
        assert (
            resp.status == 200 and WELCOME_TITLE in html and "What would you like to see?" in html
        )


async def test_every_keyword_is_accepted_by_the_emulator() -> None:
    async with serving(create_demo) as demo, aiohttp.ClientSession() as session:
        base = demo.base_url
        await wait_for(lambda: messages(session, base))
        for word in KEYWORDS:
            status, _ = await admin(
                session,
                "POST",
                f"{base}{PHONE_PATH}/actions",
                {"bot_id": DEMO_BOT_ID, "type": "text", "text": word},
            )
            assert status == 201

        async def all_answered() -> list[dict[str, Any]]:
            found = await messages(session, base)
            bot_messages = [m for m in found if m["direction"] == "a2p"]
            # welcome + 1 each, card 2, typing 1 (the indicator is not a message), actions 2
            return bot_messages if len(bot_messages) >= 1 + len(KEYWORDS) + 2 else []

        sent = await wait_for(all_answered, timeout=20)
        assert not [m for m in sent if m["status"] == "failed"]
        status, log = await admin(session, "GET", f"{base}/_emulator/log?kind=api&limit=1000")
        assert [e for e in log["entries"] if e["status"] >= 400] == []
        texts = [m["content"].get("textMessage") for m in sent]
        assert f"Hello RCS fan! This is the Dotgo template {TEMPLATE_CODE}." in texts
        assert demo.bot.stats["failed"] == 0


def test_demo_config_and_urls() -> None:
    config = demo_config()
    bot = config.bot(DEMO_BOT_ID)
    assert bot is not None and TEMPLATE_CODE in bot.templates
    assert base_url_for("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert base_url_for("::1", 9000) == "http://[::1]:9000"
    assert base_url_for("localhost", 80) == "http://localhost:80"


def test_the_banner_names_the_phone_page_and_no_secret() -> None:
    demo = create_demo("http://127.0.0.1:8123")
    text = banner(demo)
    secret = demo.state.bots[DEMO_BOT_ID].client_secret.get_secret_value()
    assert secret not in text and secret not in repr(demo.client)
    assert f"http://127.0.0.1:8123/phones/{DEMO_PHONE}?bot={DEMO_BOT_ID}" in text
    assert "http://127.0.0.1:8123/_demo_bot/webhook" in text


def test_the_command_is_registered_and_reports_a_busy_port() -> None:
    app = typer.Typer()
    register(app)

    @app.command("other")
    def other() -> None:
        """Keeps typer in multi-command mode."""

    runner = CliRunner()
    shown = runner.invoke(app, ["demo", "--help"])
    assert shown.exit_code == 0 and "--no-browser" in shown.output and "--port" in shown.output
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        failed = runner.invoke(app, ["demo", "--port", str(port), "--no-browser"])
    finally:
        busy.close()
    assert failed.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in failed.output


def test_bind_gives_a_listening_socket_on_a_free_port() -> None:
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
        probe = socket.create_connection(sock.getsockname()[:2], timeout=2)
        probe.close()
    finally:
        sock.close()


async def test_the_demo_bot_takes_webhooks_from_this_machine_only() -> None:
    demo = create_demo("http://127.0.0.1:8123")
    body = (
        b'{"RCSMessage":{"msgId":"Ms1","textMessage":"hi","timestamp":"2024-01-01T00:00:00.000Z"},'
        b'"messageContact":{"userContact":"+14251234567"},"event":"message"}'
    )
    refused = await demo.bot.receive(body, {"content-type": "application/json"}, "203.0.113.9")
    assert refused.status == 401
    accepted = await demo.bot.receive(body, {"content-type": "application/json"}, "127.0.0.1")
    assert accepted.status == 200
    await demo.bot.stop()
    assert webhook_sources("http://127.0.0.1:1")[:2] == ["127.0.0.0/8", "::1/128"]
