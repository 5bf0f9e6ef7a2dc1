"""SMSBOX webhooks (seed 004, providers.md section 1.5): one envelope, seven request types.

::

    {"data": {...}, "requestType": "incoming_message_text", "agentId", "agentName",
     "clientId": 12123, "msisdn": "+336...", "requestProd": "RCS", "requestSubProd": "rcs",
     "requestDate": "2024-06-01T14:00:00+00:00", "requestUUID": "<uuid>"}

============================  =================================================================
``incoming_message_text``     ``data: {"type": "text", "text", "timestamp"}``
``incoming_message_reply``    ``data: {"type": "reply", "text", "postbackData", "timestamp"}``
``incoming_message_action``   ``data: {"type": "action", "text", "postbackData", "timestamp"}``
``incoming_message_file``     ``data: {"type": "file", "payload": {"mimeType", "fileSizeBytes",
                              "fileName", "fileUri"}, "timestamp"}``
``incoming_message_location``  ``data: {"type": "location", "latitude", "longitude",
                              "timestamp"}``
``incoming_event``            ``data: {"type": "event", "eventType": "IS_TYPING", "timestamp"}``
``status_update``             ``data: {"type": "event", "eventType", "timestamp"}`` and a
                              top-level ``reference`` (the send's reference)
============================  =================================================================

``timestamp`` is a string of Unix seconds; ``clientId`` is the bot's ``account_id``. Status
``eventType``: ``SENT``, ``DELIVERED``, ``READ``; ``REJECTED`` when the number is not RCS
(the device is not compatible), ``FAILED`` for other failures, ``EXPIRED`` when the validity
ran out before delivery. A revoke and an expiry after delivery are not reported (SMSBOX has
no event type for them). Webhooks carry no signature or token (SMSBOX only publishes its
source IP addresses).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from ...config import BotConfig
from ...core.events import (
    OutboundWebhook,
    ResponseEvent,
    StatusEvent,
    TypingEvent,
    UserMessageEvent,
    WebhookEvent,
)

__all__ = ["NOT_RCS_CODE", "reference_of", "render_smsbox"]

_STATUS = {
    "sent": "SENT",
    "delivered": "DELIVERED",
    "displayed": "READ",
    "ttl_revoked": "EXPIRED",
}
NOT_RCS_CODE = "404-A"
"""The delivery core's reason code for a number without RCS (reported as ``REJECTED``)."""


def reference_of(msg_id: str) -> str:
    """The send's reference inside a recipient's message id (``<reference><+number>``)."""
    return msg_id.partition("+")[0]


def _envelope(
    bot: BotConfig, request_type: str, phone: str, data: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {
        "data": {**data, "timestamp": str(int(at.timestamp()))},
        "requestType": request_type,
        "agentId": bot.id,
        "agentName": bot.name,
        "clientId": bot.account_id,
        "msisdn": phone,
        "requestProd": "RCS",
        "requestSubProd": "rcs",
        "requestDate": at.isoformat(timespec="seconds"),
        "requestUUID": str(uuid.uuid4()),
    }


def _render(bot: BotConfig, event: WebhookEvent) -> tuple[dict[str, Any], str] | None:
    if isinstance(event, StatusEvent):
        if event.status == "failed":
            kind = "REJECTED" if event.reason_code == NOT_RCS_CODE else "FAILED"
        else:
            found = _STATUS.get(event.status)
            if found is None:
                return None
            kind = found
        body = _envelope(
            bot, "status_update", event.phone, {"type": "event", "eventType": kind}, event.at
        )
        inner = body.pop("data")
        body = {"data": inner, "reference": reference_of(event.msg_id), **body}
        return body, f"status_update:{kind}"
    if isinstance(event, UserMessageEvent):
        if event.text is not None:
            data: dict[str, Any] = {"type": "text", "text": event.text}
            request_type = "incoming_message_text"
        elif event.file is not None:
            payload = {
                "mimeType": event.file.mime_type,
                "fileSizeBytes": event.file.size,
                "fileName": event.file.name,
                "fileUri": event.file.url,
            }
            data, request_type = {"type": "file", "payload": payload}, "incoming_message_file"
        elif event.location is not None:
            data = {
                "type": "location",
                "latitude": event.location.latitude,
                "longitude": event.location.longitude,
            }
            request_type = "incoming_message_location"
        else:
            return None
        return _envelope(bot, request_type, event.phone, data, event.at), request_type
    if isinstance(event, ResponseEvent):
        data = {"type": event.kind, "text": event.text, "postbackData": event.postback}
        request_type = f"incoming_message_{event.kind}"
        return _envelope(bot, request_type, event.phone, data, event.at), request_type
    if isinstance(event, TypingEvent) and event.active:
        data = {"type": "event", "eventType": "IS_TYPING"}
        return _envelope(bot, "incoming_event", event.phone, data, event.at), "incoming_event"
    return None


def render_smsbox(bot: BotConfig, event: WebhookEvent) -> OutboundWebhook | None:
    """The SMSBOX webhook for ``event`` (``None`` for what SMSBOX does not report)."""
    rendered = _render(bot, event)
    if rendered is None:
        return None
    body, label = rendered
    return OutboundWebhook(body, label)
