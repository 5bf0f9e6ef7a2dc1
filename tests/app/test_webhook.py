"""The webhook app over ASGI: verification, parsing, de-duplication, fast ack, HTTP answers."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from rcskit.app import Bot, MemoryDedup
from rcskit.events import Event, UserMessage
from rcskit.inbound.verify import GoogleSignature, IpAllowList, StaticToken, google_signature
from tests.app.asgi_caller import call, lifespan
from tests.app.conftest import RecordingClient
from tests.seeds import DATA, load

TOKEN = "SJENCPGJESMGUFPY"
GSMA_TEXT = (DATA / "maap/webhook_message.json").read_bytes()


def gsma_text(msg_id: str, text: str = "hello", contact: str = "+14251234567") -> bytes:
    body = load("maap/webhook_message.json")
    body["RCSMessage"].update(msgId=msg_id, textMessage=text)
    body["messageContact"] = {"userContact": contact}
    return json.dumps(body).encode()


def signed_google(event: dict[str, Any], token: str = TOKEN) -> tuple[bytes, dict[str, str]]:
    data = json.dumps(event).encode()
    body = {
        "message": {"data": base64.b64encode(data).decode(), "messageId": "p1"},
        "subscription": "s",
    }
    return json.dumps(body).encode(), {
        "X-Goog-Signature": google_signature(data, token),
        "Content-Type": "application/json",
    }


def recording_bot(**kw: Any) -> tuple[Bot, list[Event]]:
    seen: list[Event] = []
    kw.setdefault("dedup", "memory")
    bot = Bot(RecordingClient(), **kw)

    @bot.on_event
    async def record(event: Event) -> None:
        seen.append(event)

    return bot, seen


async def test_signed_google_event_is_accepted_and_forgery_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot, seen = recording_bot(provider="google", verifier=GoogleSignature(TOKEN))
    event = load("dotgo_google/webhook_user_message_text_reconstructed.json")
    body, headers = signed_google(event)
    answer = await call(bot.asgi, "POST", "/webhook", body, headers)
    assert (answer.status, answer.text) == (200, "OK")
    forged_body, forged_headers = signed_google(
        {**event, "messageId": "forged"}, token="not-the-token"
    )
    with caplog.at_level(logging.WARNING, logger="rcskit.app"):
        forged = await call(bot.asgi, "POST", "/webhook", forged_body, forged_headers)
    assert forged.status == 401 and forged.text == "unauthorized"
    assert "rejected (401)" in caplog.text
    assert TOKEN not in caplog.text and forged_headers["X-Goog-Signature"] not in caplog.text
    await bot.join()
    assert [e.raw.get("messageId") for e in seen] == ["MsWHg8WU3cTjK7scyQ1bv-aA"]
    assert bot.stats["unauthorized"] == 1
    await bot.stop()


async def test_replayed_event_runs_the_handler_once() -> None:
    bot, seen = recording_bot(provider="maap")
    for _ in range(3):
        assert (await call(bot.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    await bot.join()
    assert len(seen) == 1 and bot.stats["duplicates"] == 2
    await bot.stop()


async def test_restart_with_the_same_sqlite_file_still_deduplicates(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    first, seen_first = recording_bot(provider="dotgo", dedup=db)
    assert (await call(first.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    await first.join()
    await first.stop()
    second, seen_second = recording_bot(provider="dotgo", dedup=db)
    assert (await call(second.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    assert (await call(second.asgi, "POST", "/webhook", gsma_text("new-one"))).status == 200
    await second.join()
    assert len(seen_first) == 1
    assert [e.event_id for e in seen_second] == ["new-one"]
    await second.stop()


async def test_a_mixed_stream_loses_nothing(caplog: pytest.LogCaptureFixture) -> None:
    bot, seen = recording_bot(provider="maap", verifier=StaticToken("tok"), max_body_bytes=2048)
    auth = {"Authorization": "Bearer tok"}
    stream: list[tuple[bytes, dict[str, str], int]] = [
        (gsma_text("a"), auth, 200),
        (b'{"RCSMessage": ', auth, 400),
        (json.dumps({"event": "follow", "RCSMessage": {}}).encode(), auth, 200),
        (gsma_text("b", text="x" * 4000), auth, 413),
        (gsma_text("c"), {"Authorization": "Bearer wrong"}, 401),
        (gsma_text("d"), {}, 401),
        (b'{"event": "message", "RCSMessage": {"msgId": "e"}}', auth, 400),
        (gsma_text("a"), auth, 200),  # a replay
        (gsma_text("f", contact="+14251239999"), auth, 200),
    ]
    with caplog.at_level(logging.INFO, logger="rcskit.app"):
        statuses = []
        for body, headers, _ in stream:
            statuses.append(
                (await call(bot.asgi, "POST", "/webhook", body, headers, chunk=512)).status
            )
    assert statuses == [want for _, _, want in stream]
    await bot.join()
    assert [e.event_id for e in seen] == ["a", "f"]
    assert {
        k: bot.stats[k]
        for k in ("accepted", "malformed", "unknown", "too_large", "unauthorized", "duplicates")
    } == {
        "accepted": 2,
        "malformed": 2,
        "unknown": 1,
        "too_large": 1,
        "unauthorized": 2,
        "duplicates": 1,
    }
    assert "unknown GSMA webhook event 'follow'" in caplog.text
    assert "tok" not in caplog.text.replace("token", "")
    await bot.stop()


async def test_400_answers_carry_the_reason() -> None:
    bot, _ = recording_bot(provider="maap")
    answer = await call(bot.asgi, "POST", "/webhook", b"{oops")
    assert answer.status == 400
    assert answer.text == "not JSON: unexpected character, expected a string key at character 1"
    body = b'{"event": "message", "RCSMessage": {"fileMessage": "f.png"}}'
    answer = await call(bot.asgi, "POST", "/webhook", body)
    assert (answer.status, answer.text) == (
        400,
        "$.RCSMessage.fileMessage is a str; expected an object",
    )
    await bot.stop()


async def test_413_from_content_length_without_reading() -> None:
    bot, _ = recording_bot(provider="maap", max_body_bytes=100)
    answer = await call(bot.asgi, "POST", "/webhook", b"{}", {"Content-Length": "101"})
    assert answer.status == 413 and "100 bytes" in answer.text
    await bot.stop()


async def test_handler_errors_are_logged_with_the_event_id_never_5xx(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = Bot(dedup="memory", provider="maap")
    handled: list[str] = []

    @bot.on_message()
    async def fragile(event: UserMessage) -> None:
        if event.text == "boom":
            raise RuntimeError("handler bug")
        handled.append(event.text or "")

    with caplog.at_level(logging.ERROR, logger="rcskit.app"):
        assert (await call(bot.asgi, "POST", "/webhook", gsma_text("x1", "boom"))).status == 200
        assert (await call(bot.asgi, "POST", "/webhook", gsma_text("x2", "fine"))).status == 200
        await bot.join()
    assert handled == ["fine"]
    assert "handler failed on event maap:message:x1" in caplog.text and "event id x1" in caplog.text
    assert "handler bug" in caplog.text
    assert bot.stats["failed"] == 1
    await bot.stop()


async def test_the_webhook_is_acknowledged_before_the_handler_finishes() -> None:
    bot = Bot(dedup="memory", provider="maap")
    release = asyncio.Event()
    finished: list[bool] = []

    @bot.on_message()
    async def slow() -> None:
        await release.wait()
        finished.append(True)

    answer = await asyncio.wait_for(call(bot.asgi, "POST", "/webhook", GSMA_TEXT), 1.0)
    assert answer.status == 200 and finished == []
    release.set()
    await bot.join()
    assert finished == [True]
    await bot.stop()


async def test_dedup_store_failure_answers_503() -> None:
    class Broken(MemoryDedup):
        async def claim(self, key: str) -> bool:
            raise OSError("disk full")

    bot, seen = recording_bot(provider="maap", dedup=Broken())
    answer = await call(bot.asgi, "POST", "/webhook", GSMA_TEXT)
    assert answer.status == 503
    assert seen == [] and bot.stats["store_errors"] == 1
    await bot.stop()


async def test_google_handshake() -> None:
    bot, seen = recording_bot(provider="google", verifier=GoogleSignature(TOKEN))
    body = json.dumps({"clientToken": TOKEN, "secret": "1234567890"}).encode()
    answer = await call(bot.asgi, "POST", "/webhook", body)
    assert (answer.status, answer.text) == (200, "1234567890")
    wrong = json.dumps({"clientToken": "WRONG", "secret": "1234567890"}).encode()
    refused = await call(bot.asgi, "POST", "/webhook", wrong)
    assert refused.status == 403 and "1234567890" not in refused.text
    open_bot, _ = recording_bot(provider="dotgo_google")
    assert (await call(open_bot.asgi, "POST", "/webhook", body)).text == "1234567890"
    assert seen == []
    await bot.stop()
    await open_bot.stop()


async def test_routes_health_404_405_and_validation_get() -> None:
    bot, _ = recording_bot(provider="maap", verifier=StaticToken("tok"), path="/rcs/events/")
    assert bot.path == "/rcs/events"
    health = await call(bot.asgi, "GET", "/health")
    assert health.status == 200 and json.loads(health.body)["status"] == "ok"
    assert health.headers["content-type"] == "application/json"
    assert (await call(bot.asgi, "POST", "/elsewhere", GSMA_TEXT)).status == 404
    assert (await call(bot.asgi, "PUT", "/rcs/events", GSMA_TEXT)).status == 405
    assert (
        await call(bot.asgi, "GET", "/rcs/events", headers={"Authorization": "tok"})
    ).status == 200
    assert (await call(bot.asgi, "GET", "/rcs/events")).status == 401
    ok = await call(bot.asgi, "POST", "/rcs/events/", GSMA_TEXT, {"Authorization": "tok"})
    assert ok.status == 200
    await bot.stop()


async def test_ip_allow_list_uses_the_asgi_client_address() -> None:
    bot, _ = recording_bot(provider="maap", verifier=IpAllowList(["127.0.0.1"]))
    assert (await call(bot.asgi, "POST", "/webhook", GSMA_TEXT)).status == 200
    refused = await call(bot.asgi, "POST", "/webhook", gsma_text("z"), client=("10.9.8.7", 5000))
    assert refused.status == 401
    await bot.stop()


async def test_lifespan_starts_and_stops_the_bot() -> None:
    bot, _ = recording_bot(provider="maap")
    replies = await lifespan(bot.asgi, "startup")
    assert replies == ["lifespan.startup.complete"] and bot.running
    await bot.stop()
    assert await lifespan(bot.asgi, "startup", "shutdown") == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]
    assert not bot.running


async def test_mounted_in_starlette() -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    bot, seen = recording_bot(provider="maap")
    app = Starlette(routes=[Mount("/rcs", app=bot.asgi)])
    answer = await call(app, "POST", "/rcs/webhook", GSMA_TEXT)
    assert (answer.status, answer.text) == (200, "OK")
    assert (await call(app, "GET", "/rcs/health")).status == 200
    await bot.join()
    assert len(seen) == 1 and isinstance(seen[0], UserMessage)
    await bot.stop()


async def test_smsbox_answers_ok_body() -> None:
    bot, seen = recording_bot(provider="smsbox")
    body = (DATA / "smsbox/webhook_location_reconstructed.json").read_bytes()
    answer = await call(bot.asgi, "POST", "/webhook", body)
    assert (answer.status, answer.body) == (200, b"OK")
    await bot.join()
    assert isinstance(seen[0], UserMessage) and seen[0].location is not None
    await bot.stop()
