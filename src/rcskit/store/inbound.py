"""Inbound user events and billing events, stored once each (providers deliver at least once).

Both are keyed by the event's :attr:`~rcskit.events.Event.dedup_key`: recording a redelivered
event is a no-op that returns ``False``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ..events import BillingEvent, Event, StatusEvent, SuggestionResponse, UserMessage
from .core import StoreCore, check_text, require_positive
from .records import BillingRecord, InboundRecord, InvalidRecord
from .schema import billing_events, inbound_messages

__all__ = ["InboundRepository"]

_I = inbound_messages
_B = billing_events


def _inbound(row: Row[Any]) -> InboundRecord:
    m = row._mapping
    return InboundRecord(
        id=m["id"],
        dedup_key=m["dedup_key"],
        provider=m["provider"],
        kind=m["kind"],
        sender=m["sender"],
        provider_message_id=m["provider_message_id"],
        in_reply_to=m["in_reply_to"],
        text=m["text"],
        postback_data=m["postback_data"],
        occurred_at=m["occurred_at"],
        recorded_at=m["recorded_at"],
        payload=dict(m["payload"]),
    )


def _billing(row: Row[Any]) -> BillingRecord:
    m = row._mapping
    return BillingRecord(
        id=m["id"],
        dedup_key=m["dedup_key"],
        provider=m["provider"],
        provider_message_id=m["provider_message_id"],
        billing_event_id=m["billing_event_id"],
        action=m["action"],
        billing_type=m["billing_type"],
        category=m["category"],
        recipient=m["recipient"],
        time_text=m["time_text"],
        recorded_at=m["recorded_at"],
        payload=dict(m["payload"]),
    )


class InboundRepository(StoreCore):
    """User messages, suggestion taps and other user events; billing events."""

    async def record_inbound(self, event: Event) -> bool:
        """Store a user event (a :class:`~rcskit.events.UserMessage`, a
        :class:`~rcskit.events.SuggestionResponse`, or any other non-status, non-billing event);
        return ``False`` when it was already stored (a redelivery)."""
        if isinstance(event, StatusEvent):
            raise InvalidRecord("event", "StatusEvent", "statuses go to apply_status_event()")
        if isinstance(event, BillingEvent):
            raise InvalidRecord("event", "BillingEvent", "billing events go to record_billing()")
        text = postback = in_reply_to = message_id = None
        if isinstance(event, UserMessage):
            text, message_id = event.text, event.message_id
        elif isinstance(event, SuggestionResponse):
            text, postback = event.text, event.postback_data
            in_reply_to, message_id = event.in_reply_to, event.message_id
        values = {
            "dedup_key": check_text("event.dedup_key", event.dedup_key, 512),
            "provider": event.provider,
            "kind": event.event_type,
            "sender": None if event.contact is None else str(event.contact),
            "provider_message_id": message_id,
            "in_reply_to": in_reply_to,
            "text": text,
            "postback_data": postback,
            "occurred_at": event.timestamp,
            "recorded_at": self._now(),
            "payload": event.model_dump(mode="json"),
        }
        async with self._write() as conn:
            return await self._insert_once(conn, _I, values)

    async def find_inbound(
        self, *, sender: str | None = None, kind: str | None = None, limit: int = 100
    ) -> list[InboundRecord]:
        """Stored inbound events, newest first; ``sender`` as stored (E.164 or ``chat:...``),
        ``kind`` an event type (``message``, ``suggestion_response`` ...)."""
        require_positive("limit", limit, integer=True)
        query = select(_I)
        if sender is not None:
            query = query.where(_I.c.sender == sender)
        if kind is not None:
            query = query.where(_I.c.kind == kind)
        async with self._read() as conn:
            rows = (await conn.execute(query.order_by(_I.c.id.desc()).limit(limit))).all()
        return [_inbound(r) for r in rows]

    async def record_billing(self, event: BillingEvent) -> bool:
        """Store a billing event; return ``False`` when it was already stored."""
        if not isinstance(event, BillingEvent):
            raise InvalidRecord("event", type(event).__name__, "a BillingEvent")
        values = {
            "dedup_key": check_text("event.dedup_key", event.dedup_key, 512),
            "provider": event.provider,
            "provider_message_id": event.message_id,
            "billing_event_id": event.billing_event_id,
            "action": event.action,
            "billing_type": event.billing_type,
            "category": event.category,
            "recipient": event.contact.msisdn if event.contact is not None else event.user_id,
            "time_text": event.time,
            "recorded_at": self._now(),
            "payload": event.model_dump(mode="json"),
        }
        async with self._write() as conn:
            return await self._insert_once(conn, _B, values)

    async def find_billing(
        self, *, provider_message_id: str | None = None, limit: int = 100
    ) -> list[BillingRecord]:
        """Stored billing events (for one provider message id if given), oldest first."""
        require_positive("limit", limit, integer=True)
        query = select(_B)
        if provider_message_id is not None:
            query = query.where(_B.c.provider_message_id == provider_message_id)
        async with self._read() as conn:
            rows = (await conn.execute(query.order_by(_B.c.id).limit(limit))).all()
        return [_billing(r) for r in rows]

    async def _insert_once(self, conn: AsyncConnection, table: Any, values: dict[str, Any]) -> bool:
        result = await conn.execute(
            self._insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(table.c.id)
        )
        return result.first() is not None
