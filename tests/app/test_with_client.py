"""A bot replying through the real RcsClient (fake transport): the contact form is kept."""

from __future__ import annotations

import json
from typing import Any

from rcskit.app import Bot
from rcskit.client import DotgoConfig, RcsClient
from rcskit.events import UserMessage
from rcskit.transport import FakeTransport, HttpRequest, HttpResponse
from tests.app.asgi_caller import call
from tests.seeds import load


def platform(request: HttpRequest) -> HttpResponse:
    if "oauth" in request.url:
        return HttpResponse.of_json(
            200, {"access_token": "t", "token_type": "bearer", "expires_in": 3600}
        )
    return HttpResponse.of_json(202, {"RCSMessage": {"msgId": "sent-1", "status": "pending"}})


async def test_reply_through_rcs_client_keeps_chat_id_and_msisdn() -> None:
    transport = FakeTransport(platform)
    client = RcsClient(DotgoConfig("OsOsQ0GwNvUdLTV9Bd", "client", "secret"), transport=transport)
    bot = Bot(client, provider="dotgo", dedup="memory")
    results: list[Any] = []

    @bot.on_message()
    async def echo(event: UserMessage, reply: Any) -> None:
        results.append(await reply(f"You wrote: {event.text}"))

    anonymous = load("dotgo_gsma/webhook_message.json")
    anonymous["messageContact"] = {"chatId": "93JF93SEIJFE"}
    anonymous["RCSMessage"]["msgId"] = "anon-1"
    for body in (anonymous, load("dotgo_gsma/webhook_message.json")):
        assert (await call(bot.asgi, "POST", "/webhook", json.dumps(body).encode())).status == 200
    await bot.join()
    await bot.stop()
    await client.aclose()
    sends = [r for r in transport.requests if r.url.endswith("/messages/async")]
    bodies = [r.json for r in sends]
    assert {
        b["messageContact"].get("chatId") or b["messageContact"].get("userContact") for b in bodies
    } == {
        "93JF93SEIJFE",
        "+914253136789",
    }
    by_contact = {json.dumps(b["messageContact"], sort_keys=True): b for b in bodies}
    assert json.dumps({"chatId": "93JF93SEIJFE"}) in by_contact
    assert json.dumps({"userContact": "+914253136789"}) in by_contact
    assert all(b["RCSMessage"]["textMessage"] == "You wrote: hello world" for b in bodies)
    assert len(results) == 2
