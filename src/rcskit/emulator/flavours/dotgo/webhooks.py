"""Dotgo webhook bodies: GSMA flavour (seed 002 section 2.5) and Google flavour (3.8).

GSMA: ``{"RCSMessage": {...}, "messageContact": {"userContact"}, "event": "message" |
"isTyping" | "messageStatus" | "response"}``; TTL outcomes are ``messageStatus`` events with
status ``ttl_expiration_revoked`` / ``ttl_expiration_revoke_failed``; failures add
``"reason": {"text", "code"}``; template taps carry ``postback.metadata`` as a JSON string.

Google: user messages and events as Google's ``UserMessage``/``UserEvent`` (``senderPhoneNumber``,
``messageId``, ``eventType`` ``DELIVERED``/``READ``/``IS_TYPING``, ``sendTime``, ``agentId``);
TTL outcomes as ``{"phoneNumber", "eventType": "TTL_EXPIRATION_REVOKED"|
"TTL_EXPIRATION_REVOKED_FAILED", ...}``; failures as ``FAILED`` events. Google reports no
``sent`` status and no event for a successful revoke. Billing events (section 8) are the same
for both. The bodies are posted bare (no Pub/Sub envelope, no signature), as the seed shows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...bodies.google import user_message_content as google_user_content
from ...bodies.gsma import user_message_content as gsma_user_content
from ...config import BotConfig
from ...core.events import (
    BillingEvent,
    OutboundWebhook,
    ResponseEvent,
    StatusEvent,
    TypingEvent,
    UserMessageEvent,
    WebhookEvent,
)
from ...core.suggestions import metadata_string

__all__ = ["render_google", "render_gsma"]

_GSMA_STATUS = {
    "ttl_revoked": "ttl_expiration_revoked",
    "ttl_revoke_failed": "ttl_expiration_revoke_failed",
}
_GOOGLE_STATUS = {"delivered": "DELIVERED", "displayed": "READ"}
_GOOGLE_TTL = {
    "ttl_revoked": "TTL_EXPIRATION_REVOKED",
    "ttl_revoke_failed": "TTL_EXPIRATION_REVOKED_FAILED",
}


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _gsma_wrap(event_name: str, phone: str, rcs: dict[str, Any]) -> dict[str, Any]:
    return {"RCSMessage": rcs, "messageContact": {"userContact": phone}, "event": event_name}


def render_gsma(bot: BotConfig, event: WebhookEvent) -> OutboundWebhook | None:
    """The GSMA-flavour webhook for ``event``."""
    if isinstance(event, BillingEvent):
        return OutboundWebhook(event.payload, "billing")
    if isinstance(event, StatusEvent):
        status = _GSMA_STATUS.get(event.status, event.status)
        rcs: dict[str, Any] = {
            "msgId": event.msg_id,
            "status": status,
            "timestamp": _time(event.at),
        }
        body = _gsma_wrap("messageStatus", event.phone, rcs)
        if event.reason_text is not None:
            body["reason"] = {"text": event.reason_text, "code": event.reason_code}
        return OutboundWebhook(body, f"messageStatus:{status}")
    if isinstance(event, UserMessageEvent):
        rcs = {"msgId": event.msg_id, **gsma_user_content(event), "timestamp": _time(event.at)}
        return OutboundWebhook(_gsma_wrap("message", event.phone, rcs), "message")
    if isinstance(event, ResponseEvent):
        postback: dict[str, Any] = {"data": event.postback}
        if event.metadata is not None:
            postback["metadata"] = metadata_string(event.metadata)
        rcs = {
            "msgId": event.msg_id,
            "timestamp": _time(event.at),
            "suggestedResponse": {
                "response": {event.kind: {"displayText": event.text, "postback": postback}}
            },
        }
        return OutboundWebhook(_gsma_wrap("response", event.phone, rcs), "response")
    if isinstance(event, TypingEvent):
        rcs = {"isTyping": "active" if event.active else "idle", "timestamp": _time(event.at)}
        return OutboundWebhook(_gsma_wrap("isTyping", event.phone, rcs), "isTyping")
    return None


def render_google(bot: BotConfig, event: WebhookEvent) -> OutboundWebhook | None:
    """The Google-flavour webhook for ``event`` (``None`` for what Google does not report)."""
    agent = bot.google_agent_id
    if isinstance(event, BillingEvent):
        return OutboundWebhook(event.payload, "billing")
    if isinstance(event, StatusEvent):
        if event.status in _GOOGLE_TTL:
            body: dict[str, Any] = {
                "phoneNumber": event.phone,
                "messageId": event.msg_id,
                "agentId": agent,
                "eventType": _GOOGLE_TTL[event.status],
                "eventId": event.event_id,
                "sendTime": _time(event.at),
            }
            return OutboundWebhook(body, _GOOGLE_TTL[event.status])
        if event.status == "failed":
            body = {
                "senderPhoneNumber": event.phone,
                "eventType": "FAILED",
                "reason": event.reason_text,
                "code": event.reason_code,
                "eventId": event.event_id,
                "messageId": event.msg_id,
                "sendTime": _time(event.at),
                "agentId": agent,
            }
            return OutboundWebhook(body, "FAILED")
        event_type = _GOOGLE_STATUS.get(event.status)
        if event_type is None:
            return None
        body = {
            "senderPhoneNumber": event.phone,
            "eventType": event_type,
            "eventId": event.event_id,
            "messageId": event.msg_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        return OutboundWebhook(body, event_type)
    if isinstance(event, UserMessageEvent):
        body = {
            "senderPhoneNumber": event.phone,
            "messageId": event.msg_id,
            "sendTime": _time(event.at),
            "agentId": agent,
            **google_user_content(event),
        }
        return OutboundWebhook(body, "message")
    if isinstance(event, ResponseEvent):
        response: dict[str, Any] = {
            "postbackData": event.postback,
            "text": event.text,
            "type": event.kind.upper(),
        }
        if event.metadata is not None:
            response["metadata"] = event.metadata
        body = {
            "senderPhoneNumber": event.phone,
            "messageId": event.msg_id,
            "sendTime": _time(event.at),
            "agentId": agent,
            "suggestionResponse": response,
        }
        return OutboundWebhook(body, "suggestionResponse")
    if isinstance(event, TypingEvent):
        if not event.active:
            return None
        body = {
            "senderPhoneNumber": event.phone,
            "eventType": "IS_TYPING",
            "eventId": event.event_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        return OutboundWebhook(body, "IS_TYPING")
    return None
