"""Billing events (seed 002 section 8): the A2P, P2A, Trans 24 and refund flows on the webhook."""

from __future__ import annotations

from typing import Any

from tests.seeds import load

from .conftest import GSMA_BOT, Emu, text_body
from .receiver import Receiver

PHONE = "+916362412935"  # the seed's billing examples' user
RICH = "x" * 161  # longer than a Basic Message


def keys(file: str) -> set[str]:
    return set(load(f"dotgo_billing/{file}"))


async def a2p(emu: Emu, text: str = RICH) -> str:
    reply = await emu.send_gsma(text_body(phone=PHONE, text=text))
    assert reply.status == 202
    msg_id: str = reply.json()["RCSMessage"]["msgId"]
    return msg_id


async def p2a(emu: Emu) -> str:
    reply = await emu.client.post(
        f"/_emulator/phones/{PHONE}/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "ok"},
    )
    assert reply.status == 201
    msg_id: str = reply.json()["msg_id"]
    return msg_id


async def billing(emu: Emu, receiver: Receiver) -> list[dict[str, Any]]:
    await emu.state.run_due()
    return receiver.billing()


def common(event: dict[str, Any]) -> None:
    assert event["agentId"] == GSMA_BOT
    assert event["agentName"] == "Dotgo demo bot"
    assert event["userId"] == PHONE
    assert event["countryId"] == "IN"
    assert event["carrierId"] == "404045"
    assert event["billingEventTime"] == "2024-01-01 00:00:00"


async def test_a2p_flow(emu: Emu, receiver: Receiver) -> None:
    first = await a2p(emu)
    answer = await p2a(emu)
    third = await a2p(emu)
    fourth = await a2p(emu)
    fifth = await p2a(emu)
    e1, e2, e3, e4a, e4b = await billing(emu, receiver)
    assert set(e1) == keys("a2p_flow_1_first_a2p_message.json")
    assert (e1["billingEventId"], e1["messageId"], e1["billingEventAction"]) == (
        first,
        first,
        "New",
    )
    assert e1["billingEventType"] == e1["billingCategory"] == "A2P Single Message"
    assert set(e2) == keys("a2p_flow_2_first_p2a_message.json")
    assert (e2["billingEventId"], e2["billingEventType"], e2["billingEventAction"]) == (
        answer,
        "P2A Message",
        "New",
    )
    assert set(e3) == keys("a2p_flow_3_a2p_conversation_update.json")
    assert e3["billingEventId"] == f"{first}_conv"
    assert (e3["messageId"], e3["billingEventIdP2A"]) == (third, answer)
    assert (e3["billingEventAction"], e3["billingEventType"], e3["billingCategory"]) == (
        "Update",
        "A2P Conversation",
        "Conversational",
    )
    assert set(e4a) == keys("a2p_flow_4a_within_window_a2p.json")
    assert set(e4b) == keys("a2p_flow_4b_within_window_p2a.json")
    assert (e4a["messageId"], e4b["messageId"]) == (fourth, fifth)
    for e in (e4a, e4b):
        assert e["billingEventId"] == f"{first}_conv"
        assert e["billingEventType"] == "A2P Conversation"
    for e in (e1, e2, e3, e4a, e4b):
        common(e)


async def test_p2a_flow(emu: Emu, receiver: Receiver) -> None:
    first = await p2a(emu)
    reply = await a2p(emu)
    later = await p2a(emu)
    e1, e2, e3 = await billing(emu, receiver)
    assert set(e1) == keys("p2a_flow_1_first_p2a_message.json")
    assert (e1["billingEventId"], e1["billingEventType"]) == (first, "P2A Message")
    assert set(e2) == keys("p2a_flow_2_p2a_conversation_update.json")
    assert (e2["billingEventId"], e2["messageId"], e2["billingEventAction"]) == (
        f"{first}_conv",
        reply,
        "Update",
    )
    assert e2["billingEventType"] == "P2A Conversation"
    assert set(e3) == keys("p2a_flow_3_within_window.json")
    assert (e3["billingEventId"], e3["messageId"], e3["billingCategory"]) == (
        f"{first}_conv",
        later,
        "Conversational",
    )


async def test_trans24_flow(emu: Emu, receiver: Receiver) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.trans24 = True
    first = await a2p(emu)
    second = await a2p(emu)
    user = await p2a(emu)
    e1, e2, e3 = await billing(emu, receiver)
    assert set(e1) == keys("trans24_1_first_a2p_message.json")
    assert set(e2) == keys("trans24_2_second_a2p_message.json")
    assert set(e3) == keys("trans24_3_p2a_message.json")
    assert (e2["billingEventId"], e2["messageId"], e2["billingEventAction"]) == (
        f"{first}_conv",
        second,
        "Update",
    )
    assert e2["billingEventType"] == e2["billingCategory"] == "Trans 24"
    assert (e3["billingEventId"], e3["messageId"], e3["billingEventType"]) == (
        f"{first}_conv",
        user,
        "Trans 24",
    )


async def test_basic_message_and_new_session_after_the_window(emu: Emu, receiver: Receiver) -> None:
    first = await a2p(emu, text="short")
    emu.clock.advance(86_400)
    second = await a2p(emu, text="short")
    e1, e2 = await billing(emu, receiver)
    assert (e1["billingEventType"], e1["billingEventId"]) == ("Basic Message", first)
    assert (e2["billingEventType"], e2["billingEventId"], e2["billingEventAction"]) == (
        "Basic Message",
        second,
        "New",
    )


async def test_refund_on_expiry(emu: Emu, receiver: Receiver) -> None:
    reply = await emu.send_gsma(text_body(phone="+14255550100", text="short", ttl="5s"))
    msg_id = reply.json()["RCSMessage"]["msgId"]
    await emu.state.advance(5)
    charge, refund = receiver.billing()
    assert charge["billingEventType"] == "Basic Message"
    assert set(refund) == set(load("dotgo_billing/refund_event.json"))
    assert refund == {
        "message_id": msg_id,
        "billing_event_id": msg_id,
        "billing_event_action": "refund_complete",
        "billing_category": "basic_message",
        "billing_event_type": "basic_message",
        "billing_event_time": "2024-01-01 00:00:05",
        "agent_id": GSMA_BOT,
        "agent_name": "Dotgo demo bot",
        "user_id": "14255550100",
        "country_id": "US",
    }


async def test_billing_events_can_be_switched_off(emu: Emu, receiver: Receiver) -> None:
    bot = emu.state.bot(GSMA_BOT)
    assert bot is not None
    bot.billing_events = False
    await a2p(emu)
    await p2a(emu)
    assert await billing(emu, receiver) == []
    assert receiver.events("messageStatus")
