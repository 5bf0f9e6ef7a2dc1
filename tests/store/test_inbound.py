"""Inbound user events and billing events are stored once each (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rcskit.events import (
    BillingEvent,
    MessageStatus,
    StatusEvent,
    SuggestionResponse,
    UserMessage,
)
from rcskit.inbound import billing, gsma
from rcskit.message import Contact, Text
from rcskit.store import InvalidRecord, Store
from tests.seeds import DATA, load


async def test_user_messages_are_stored_once(store: Store) -> None:
    at = datetime(2025, 5, 1, 10, tzinfo=UTC)
    message = UserMessage(
        provider="google",
        message_id="u1",
        contact=Contact("+33612345678"),
        timestamp=at,
        content=Text("hello"),
        raw={"text": "hello"},
    )
    tap = SuggestionResponse(
        provider="dotgo",
        message_id="u2",
        contact=Contact("+33612345678"),
        kind="reply",
        text="Yes",
        postback_data="yes",
        in_reply_to="our-1",
    )
    assert await store.inbound.record_inbound(message)
    assert not await store.inbound.record_inbound(message)  # a redelivery
    assert await store.inbound.record_inbound(tap)
    stored = await store.inbound.find_inbound(sender="+33612345678")
    assert [(r.kind, r.text, r.postback_data, r.in_reply_to) for r in stored] == [
        ("suggestion_response", "Yes", "yes", "our-1"),
        ("message", "hello", None, None),
    ]
    assert stored[1].occurred_at == at
    assert stored[1].provider_message_id == "u1"
    assert UserMessage.model_validate(stored[1].payload) == message
    assert [r.kind for r in await store.inbound.find_inbound(kind="message")] == ["message"]


async def test_seed_user_messages(store: Store) -> None:
    (event,) = gsma.parse(load("dotgo_gsma/webhook_response_reply.json"), provider="dotgo")
    assert await store.inbound.record_inbound(event)
    assert not await store.inbound.record_inbound(event)
    (stored,) = await store.inbound.find_inbound()
    assert stored.kind == "suggestion_response"
    assert stored.postback_data == "set_by_chatbot_reply_yes"


async def test_statuses_and_billing_are_refused_as_inbound(store: Store) -> None:
    status = StatusEvent(provider="dotgo", status=MessageStatus.SENT, provider_status="sent")
    with pytest.raises(InvalidRecord, match="apply_status_event"):
        await store.inbound.record_inbound(status)
    with pytest.raises(InvalidRecord, match="record_billing"):
        await store.inbound.record_inbound(BillingEvent(provider="dotgo", message_id="m"))
    with pytest.raises(InvalidRecord, match="BillingEvent"):
        await store.inbound.record_billing(status)  # type: ignore[arg-type]


async def test_seed_billing_events_are_stored_once(store: Store) -> None:
    files = sorted((DATA / "dotgo_billing").glob("*.json"))
    assert len(files) >= 10
    events = [e for f in files for e in billing.parse(load(str(f.relative_to(DATA))))]
    assert all(isinstance(e, BillingEvent) for e in events)
    keys = {e.dedup_key for e in events}
    recorded = [await store.inbound.record_billing(e) for e in events]  # type: ignore[arg-type]
    assert sum(recorded) == len(keys)
    assert not any([await store.inbound.record_billing(e) for e in events])  # type: ignore[arg-type]
    stored = await store.inbound.find_billing(limit=1000)
    assert {r.dedup_key for r in stored} == keys
    refund = await store.inbound.find_billing(
        provider_message_id="4683644-3067-5676-9fbf-4488000d2532"
    )
    assert [(r.action, r.time_text, r.recipient) for r in refund] == [
        ("refund_complete", "2024-07-12 14:39:30", "+917774777132")
    ]
