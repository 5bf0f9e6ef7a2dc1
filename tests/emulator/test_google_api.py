"""Dotgo's Google API specifics: messageId de-duplication, templates, events, testers."""

from __future__ import annotations

from typing import Any

from tests.seeds import load

from .conftest import GOOGLE_BOT, GSMA_BOT, Emu
from .test_conformance import same_shape

PHONE = "+919686960276"


async def post(emu: Emu, path: str, body: Any = None, bot_id: str = GOOGLE_BOT) -> Any:
    sep = "&" if "?" in path else "?"
    return await emu.client.post(
        f"/dotgo/rcs/v1/phones/{PHONE}/{path}{sep}botId={bot_id}",
        json=body,
        headers=await emu.auth(bot_id),
    )


async def test_duplicate_message_id_is_rejected(emu: Emu) -> None:
    body = {"contentMessage": {"text": "once"}}
    first = await post(emu, "agentMessages/async?messageId=dup-1", body)
    assert first.status == 200
    again = await post(emu, "agentMessages/async?messageId=dup-1", body)
    assert again.status == 409
    same_shape({**load("dotgo_google/send_response_failed_403.json")}, again.json())
    assert again.json()["messageId"] == "dup-1"
    assert "dup-1" in again.json()["reason"]
    conv = emu.state.conversation(GOOGLE_BOT, PHONE)
    assert [m.msg_id for m in conv.messages] == ["dup-1"]


async def test_rejected_send_does_not_use_up_the_message_id(emu: Emu) -> None:
    bad = await post(emu, "agentMessages/async?messageId=m-2", {"contentMessage": {}})
    assert bad.status == 400
    assert bad.json()["code"] == "400-G"
    good = await post(emu, "agentMessages/async?messageId=m-2", {"contentMessage": {"text": "x"}})
    assert good.status == 200


async def test_platform_assigns_a_message_id(emu: Emu) -> None:
    reply = await post(emu, "agentMessages/async", {"contentMessage": {"text": "x"}})
    assert reply.status == 200
    name = reply.json()["name"]
    assert name.startswith(f"phones/{PHONE}/agentMessages/")
    msg_id = name.rsplit("/", 1)[1]
    assert emu.state.find_message(GOOGLE_BOT, msg_id) is not None
    assert reply.json()["sendTime"] == "2024-01-01T00:00:00.000Z"


async def test_template_through_the_google_api(emu: Emu) -> None:
    body = load("dotgo_google/send_template_request.json")
    reply = await post(emu, "agentMessages/async?messageId=tpl", body)
    assert reply.status == 200
    msg = emu.state.find_message(GOOGLE_BOT, "tpl")
    assert msg is not None
    assert msg.content_json() == {"textMessage": "Hello user, welcome to RCS!"}
    assert msg.template == "template_123"
    assert msg.expire_at == emu.state.ts() + 10
    unknown = await post(
        emu,
        "agentMessages/async?messageId=tpl2",
        {"contentMessage": {"templateMessage": {"templateCode": "zzz"}}},
    )
    assert (unknown.status, unknown.json()["code"]) == (400, "400-D")


async def test_google_content_limits(emu: Emu) -> None:
    cards = [{"title": "t"}] * 11
    reply = await post(
        emu,
        "agentMessages/async?messageId=c",
        {
            "contentMessage": {
                "richCard": {"carouselCard": {"cardWidth": "SMALL", "cardContents": cards}}
            }
        },
    )
    assert reply.status == 400
    assert "11 items (2 to 10)" in reply.json()["reason"]
    text = await post(
        emu, "agentMessages/async?messageId=t", {"contentMessage": {"text": "x" * 3073}}
    )
    assert text.status == 400 and "max 3072" in text.json()["reason"]


async def test_read_event_needs_a_user_message(emu: Emu) -> None:
    reply = await post(emu, "agentEvents?eventId=e1", {"eventType": "READ", "messageId": "nope"})
    assert reply.status == 404
    assert reply.json() == {"status": "Error", "message": "Not found : Message Id"}
    odd = await post(emu, "agentEvents?eventId=e2", {"eventType": "DANCE"})
    assert (odd.status, odd.json()["code"]) == (400, "400-G")


async def test_invalid_phone_in_path(emu: Emu) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/0042/agentMessages/async?botId={GOOGLE_BOT}",
        json={"contentMessage": {"text": "x"}},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert (reply.status, reply.json()["code"]) == (400, "400-H")


async def test_add_tester_twice_and_unlaunched_bot(emu: Emu) -> None:
    bot = emu.state.bot(GOOGLE_BOT)
    assert bot is not None
    bot.launched = False
    caps = await emu.client.get(
        f"/dotgo/rcs/v1/phones/{PHONE}/capabilities?botId={GOOGLE_BOT}",
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert caps.status == 404  # an unlaunched bot sees only its testers
    first = await post(emu, "testers")
    assert first.json() == {"statusCode": "Success", "response": "Submitted, Tester Invite Sent"}
    second = await post(emu, "testers")
    assert second.json()["statusCode"] == "Failure"
    caps = await emu.client.get(
        f"/dotgo/rcs/v1/phones/{PHONE}/capabilities?botId={GOOGLE_BOT}",
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert caps.status == 200


async def test_gsma_api_also_serves_google_bots(emu: Emu) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/bot/v1/{GOOGLE_BOT}/messages/async",
        json={"RCSMessage": {"textMessage": "hi"}, "messageContact": {"userContact": PHONE}},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 202
    other = await emu.client.post(
        f"/dotgo/rcs/v1/phones/{PHONE}/agentMessages/async?botId={GSMA_BOT}",
        json={"contentMessage": {"text": "x"}},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert other.status == 403
