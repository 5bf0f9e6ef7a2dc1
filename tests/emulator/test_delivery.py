"""Delivery on simulated phones: statuses with delays, offline queueing, expiry, revocation."""

from __future__ import annotations

from typing import Any

from tests.seeds import load

from .conftest import GOOGLE_BOT, GSMA_BOT, Emu, text_body
from .receiver import Receiver
from .test_conformance import same_shape

OFFLINE = "+14255550100"


async def status_of(emu: Emu, msg_id: str) -> dict[str, Any]:
    reply = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/{msg_id}/status", headers=await emu.auth()
    )
    assert reply.status == 200
    result: dict[str, Any] = reply.json()["RCSMessage"]
    return result


async def google_send(emu: Emu, phone: str, message_id: str, **extra: Any) -> None:
    reply = await emu.client.post(
        f"/dotgo/rcs/v1/phones/{phone}/agentMessages/async?botId={GOOGLE_BOT}&messageId={message_id}",
        json={"contentMessage": {"text": "hi"}, **extra},
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 200, reply.body


def google_events(receiver: Receiver) -> list[dict[str, Any]]:
    return [b for b in receiver.received if "eventType" in b and "billingEventType" not in b]


async def test_statuses_follow_the_phone_delays(emu: Emu, receiver: Receiver) -> None:
    await emu.client.patch(
        "/_emulator/phones/+14251234567", json={"delivered_delay_s": 2, "displayed_delay_s": 3}
    )
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    assert receiver.statuses_of(msg_id) == ["sent"]
    assert (await status_of(emu, msg_id))["status"] == "sent"
    await emu.state.advance(1.9)
    assert receiver.statuses_of(msg_id) == ["sent"]
    await emu.state.advance(0.1)
    assert receiver.statuses_of(msg_id) == ["sent", "delivered"]
    await emu.state.advance(3)
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    got = await status_of(emu, msg_id)
    assert got == {"msgId": msg_id, "status": "displayed", "timestamp": "2024-01-01T00:00:05"}
    event = receiver.events("messageStatus")[-1]
    same_shape(load("dotgo_gsma/webhook_message_status.json"), event)
    assert event["RCSMessage"]["timestamp"] == "2024-01-01T00:00:05.000000Z"
    assert event["messageContact"] == {"userContact": "+14251234567"}


async def test_offline_phone_queues_until_online(emu: Emu, receiver: Receiver) -> None:
    first = (await emu.send_gsma(text_body(phone=OFFLINE, text="one"))).json()["RCSMessage"][
        "msgId"
    ]
    second = (await emu.send_gsma(text_body(phone=OFFLINE, text="two"))).json()["RCSMessage"][
        "msgId"
    ]
    await emu.state.advance(3600)
    assert receiver.statuses_of(first) == ["sent"]
    assert [m.msg_id for m in emu.state.queued[OFFLINE]] == [first, second]
    reply = await emu.client.post(f"/_emulator/phones/{OFFLINE}/online")
    assert reply.status == 200 and reply.json()["online"] is True
    await emu.state.run_due()
    assert receiver.statuses_of(first) == ["sent", "delivered", "displayed"]
    assert receiver.statuses_of(second) == ["sent", "delivered", "displayed"]
    delivered = [
        b["RCSMessage"]["msgId"]
        for b in receiver.events("messageStatus")
        if b["RCSMessage"]["status"] == "delivered"
    ]
    assert delivered == [first, second]
    assert OFFLINE not in emu.state.queued


async def test_phone_going_offline_before_delivery_queues(emu: Emu, receiver: Receiver) -> None:
    await emu.client.patch("/_emulator/phones/+14251234567", json={"delivered_delay_s": 5})
    msg_id = (await emu.send_gsma(text_body())).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    await emu.client.post("/_emulator/phones/+14251234567/offline")
    await emu.state.advance(10)
    assert receiver.statuses_of(msg_id) == ["sent"]
    await emu.client.post("/_emulator/phones/+14251234567/online")
    await emu.state.advance(5)
    assert receiver.statuses_of(msg_id)[-1] == "displayed"


async def test_ttl_expiry_revokes_an_undelivered_message(emu: Emu, receiver: Receiver) -> None:
    msg_id = (await emu.send_gsma(text_body(phone=OFFLINE, ttl="8s"))).json()["RCSMessage"]["msgId"]
    await emu.state.advance(7.9)
    assert receiver.statuses_of(msg_id) == ["sent"]
    await emu.state.advance(0.1)
    assert receiver.statuses_of(msg_id) == ["sent", "ttl_expiration_revoked"]
    event = receiver.events("messageStatus")[-1]
    same_shape(load("dotgo_gsma/webhook_ttl_expiration_revoked.json"), event)
    assert (await status_of(emu, msg_id))["status"] == "revoked"
    await emu.client.post(f"/_emulator/phones/{OFFLINE}/online")
    await emu.state.run_due()
    assert receiver.statuses_of(msg_id) == ["sent", "ttl_expiration_revoked"]
    refunds = [b for b in receiver.billing() if b.get("message_id") == msg_id]
    assert len(refunds) == 1


async def test_expire_time_after_delivery_reports_revoke_failed(
    emu: Emu, receiver: Receiver
) -> None:
    body = text_body(expireTime="2024-01-01T00:01:00.5Z")
    msg_id = (await emu.send_gsma(body)).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    await emu.state.advance(60)
    assert receiver.statuses_of(msg_id) == ["sent", "delivered", "displayed"]
    await emu.state.advance(0.5)
    assert receiver.statuses_of(msg_id)[-1] == "ttl_expiration_revoke_failed"
    same_shape(
        load("dotgo_gsma/webhook_ttl_expiration_revoke_failed.json"),
        receiver.events("messageStatus")[-1],
    )
    assert (await status_of(emu, msg_id))["status"] == "displayed"


async def test_google_flavour_expiry_events(emu: Emu, receiver: Receiver) -> None:
    await google_send(emu, OFFLINE, "g-offline", ttl="10s")
    await google_send(emu, "+919686960276", "g-online", ttl="10s")
    await emu.state.advance(10)
    events = {e["messageId"]: e for e in google_events(receiver) if "phoneNumber" in e}
    revoked, failed = events["g-offline"], events["g-online"]
    same_shape(load("dotgo_google/webhook_ttl_expiration_revoked.json"), revoked)
    same_shape(load("dotgo_google/webhook_ttl_expiration_revoke_failed.json"), failed)
    assert revoked["eventType"] == "TTL_EXPIRATION_REVOKED"
    assert failed["eventType"] == "TTL_EXPIRATION_REVOKED_FAILED"
    assert revoked["agentId"] == "ggl8dp2wxq4rty7zb1_agent@rbm.goog"


async def test_google_flavour_status_events(emu: Emu, receiver: Receiver) -> None:
    await google_send(emu, "+919686960276", "g-1")
    await emu.state.run_due()
    events = [e for e in google_events(receiver) if e.get("messageId") == "g-1"]
    assert [e["eventType"] for e in events] == ["DELIVERED", "READ"]  # Google reports no "sent"
    same_shape(load("dotgo_google/webhook_message_status_delivered_reconstructed.json"), events[0])
    assert events[0]["senderPhoneNumber"] == "+919686960276"


async def test_gsma_cancel_before_and_after_delivery(emu: Emu, receiver: Receiver) -> None:
    headers = await emu.auth()
    cancel = {"RCSMessage": {"status": "cancelled"}}
    queued = (await emu.send_gsma(text_body(phone=OFFLINE), headers=headers)).json()
    queued_id = queued["RCSMessage"]["msgId"]
    done = (await emu.send_gsma(text_body(), headers=headers)).json()["RCSMessage"]["msgId"]
    await emu.state.run_due()
    for msg_id in (queued_id, done):
        url = f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/{msg_id}/status"
        assert (await emu.client.put(url, json=cancel, headers=headers)).status == 204
    await emu.state.run_due()
    assert receiver.statuses_of(queued_id) == ["sent", "cancelled"]
    assert (await status_of(emu, queued_id))["status"] == "cancelled"
    assert (await status_of(emu, done))["status"] == "displayed"
    await emu.client.post(f"/_emulator/phones/{OFFLINE}/online")
    await emu.state.run_due()
    assert receiver.statuses_of(queued_id) == ["sent", "cancelled"]


async def test_google_revoke_after_delivery_is_404(emu: Emu) -> None:
    await google_send(emu, "+919686960276", "g-delivered")
    await emu.state.run_due()
    reply = await emu.client.delete(
        f"/dotgo/rcs/v1/phones/+919686960276/agentMessages/g-delivered?botId={GOOGLE_BOT}",
        headers=await emu.auth(GOOGLE_BOT),
    )
    assert reply.status == 404
    assert reply.json() == load("dotgo_google/revoke_response_404.json")


async def test_unknown_message_status_is_404(emu: Emu) -> None:
    reply = await emu.client.get(
        f"/dotgo/rcs/bot/v1/{GSMA_BOT}/messages/nope/status", headers=await emu.auth()
    )
    assert reply.status == 404
    assert reply.json() == {"status": "Error", "message": "Not found : Message Id"}


async def test_agent_typing_and_a_message_clears_it(emu: Emu) -> None:
    typing = load("dotgo_gsma/istyping_request.json")
    reply = await emu.send_gsma(typing)
    assert reply.status == 202
    same_shape(load("dotgo_gsma/istyping_response_202.json"), reply.json())
    conv = emu.state.conversation(GSMA_BOT, "+914253136789")
    assert conv.agent_typing_until == emu.state.ts() + 20
    assert conv.messages == []
    await emu.send_gsma(text_body(phone="+914253136789"))
    assert conv.agent_typing_until == 0.0
    assert len(conv.messages) == 1
