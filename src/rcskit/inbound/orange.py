"""Orange RCS BotHub webhooks: the GSMA MaaP format (providers.md section 2.5).

Orange documents no webhook body of its own; its "GSMA Webhook" wording and its send examples
(seed 001) say the bot receives GSMA ``WebhookPayload`` bodies, read by :mod:`.gsma`. One
Orange trait is kept: a send may carry a top-level ``msgId`` "received on the GSMA Webhook
during Triggering", so a top-level ``msgId`` on a webhook body is taken as the message id when
``RCSMessage`` has none. A reply to an Orange event carries that id back
(``Message.in_reply_to``; see :class:`rcskit.app.Bot`).

Webhook authentication is undocumented: use a verifier you arranged (static token, Basic,
IP allow-list or a shared-secret HMAC, :mod:`rcskit.inbound.verify`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..events import Event
from . import gsma
from .body import optional_str

__all__ = ["parse"]


def parse(payload: Mapping[str, Any], *, provider: str = "orange") -> list[Event]:
    """Parse one Orange (GSMA-format) webhook body into events."""
    events = gsma.parse(payload, provider=provider)
    top_id = optional_str(payload, "msgId", "$")
    if top_id is None:
        return events
    out: list[Event] = []
    for event in events:
        update: dict[str, Any] = {}
        if "message_id" in type(event).model_fields and getattr(event, "message_id", None) is None:
            update["message_id"] = top_id
        if event.event_id is None:
            update["event_id"] = top_id
        out.append(event.model_copy(update=update) if update else event)
    return out
