"""Dotgo billing events (seed 002 section 8), sent on the agent webhook.

Two spellings exist: camelCase (``messageId``, ``billingEventId``, ``billingEventAction`` ...)
in every flow example, and snake_case (``message_id``, ``billing_event_id`` ...) in the refund
example. Both are read into one :class:`~rcskit.events.BillingEvent`. ``billingEventTime`` is
``YYYY-MM-DD HH:MM:SS`` with no time zone and is kept as sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..events import BillingEvent, Event
from .body import contact_of, optional_str

__all__ = ["FIELDS", "is_billing", "parse"]

FIELDS: dict[str, str] = {
    "messageId": "message_id",
    "billingEventId": "billing_event_id",
    "billingEventIdP2A": "billing_event_id_p2a",
    "billingEventAction": "action",
    "billingEventType": "billing_type",
    "billingCategory": "category",
    "billingEventTime": "time",
    "agentId": "agent_id",
    "agentName": "agent_name",
    "userId": "user_id",
    "countryId": "country_id",
    "carrierId": "carrier_id",
}
"""camelCase wire names to BillingEvent fields (the snake_case names are derived)."""


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_SNAKE = {_snake(wire): field for wire, field in FIELDS.items()}


def is_billing(payload: Mapping[str, Any]) -> bool:
    """Whether the body is a Dotgo billing event (has a billing event id, either spelling)."""
    return "billingEventId" in payload or "billing_event_id" in payload


def parse(payload: Mapping[str, Any], *, provider: str = "dotgo") -> list[Event]:
    """Parse one billing event body (camelCase or snake_case).

    >>> parse({"billing_event_id": "b1", "message_id": "m1",
    ...        "billing_event_action": "refund_complete"})[0].is_refund
    True
    """
    fields: dict[str, Any] = {}
    for wire, value in payload.items():
        field = FIELDS.get(wire) or _SNAKE.get(wire)
        if field is not None and value is not None:
            fields[field] = optional_str(payload, wire, "$")
    user = fields.get("user_id")
    return [
        BillingEvent(
            provider=provider,
            event_id=fields.get("message_id"),  # "messageId: Unique Identifier for the event"
            contact=contact_of(user, None, "$.userId"),
            raw=dict(payload),
            **fields,
        )
    ]
