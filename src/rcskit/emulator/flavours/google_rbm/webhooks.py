"""Google RBM webhooks: events in the Pub/Sub envelope, signed with ``X-Goog-Signature``.

Each event is a ``UserMessage``, ``UserEvent`` or ``ServerEvent`` (google_rbm.md section 2)::

    {"senderPhoneNumber", "messageId", "sendTime", "agentId", "text" | "userFile" |
     "location" | "suggestionResponse"}                                    # UserMessage
    {"senderPhoneNumber", "eventType": "DELIVERED" | "READ" | "IS_TYPING" | "UNSUBSCRIBE" |
     "SUBSCRIBE", "eventId", "messageId", "sendTime", "agentId"}          # UserEvent
    {"phoneNumber", "messageId", "agentId", "eventType": "TTL_EXPIRATION_REVOKED" |
     "TTL_EXPIRATION_REVOKE_FAILED", "eventId", "sendTime"}                # ServerEvent

posted as (section 3)::

    {"message": {"data": base64(event JSON), "messageId": "<digits>", "publishTime"},
     "subscription": "projects/rbm-<bot id>/subscriptions/rbm-agent-subscription"}

with ``X-Goog-Signature: base64(HMAC-SHA512(key=webhook_token, msg=the decoded data bytes))``
(the bot's ``webhook_token`` is the client token), and ``X-Goog-Webhook-Type:
USER_MESSAGE | USER_EVENT | SERVER_EVENT`` naming the kind of event (Google release notes,
July 2026). Google reports no ``sent``, failure or revoke status, and no billing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from ...bodies.google import user_message_content
from ...config import BotConfig
from ...core.events import (
    OutboundWebhook,
    ResponseEvent,
    StatusEvent,
    SubscriptionEvent,
    TypingEvent,
    UserMessageEvent,
    WebhookEvent,
)

__all__ = [
    "SIGNATURE_HEADER",
    "WEBHOOK_TYPE_HEADER",
    "envelope",
    "render_google_rbm",
    "signature",
]

SIGNATURE_HEADER = "X-Goog-Signature"
WEBHOOK_TYPE_HEADER = "X-Goog-Webhook-Type"

_USER_EVENTS = {"delivered": "DELIVERED", "displayed": "READ"}
_SERVER_EVENTS = {
    "ttl_revoked": "TTL_EXPIRATION_REVOKED",
    "ttl_revoke_failed": "TTL_EXPIRATION_REVOKE_FAILED",
}


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signature(client_token: str, data: bytes) -> str:
    """``X-Goog-Signature`` of the decoded ``message.data`` bytes."""
    digest = hmac.new(client_token.encode(), data, hashlib.sha512).digest()
    return base64.b64encode(digest).decode()


def envelope(bot: BotConfig, payload: dict[str, Any], at: datetime) -> tuple[dict[str, Any], bytes]:
    """The Pub/Sub-style body for ``payload`` and the data bytes it encodes."""
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    body = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "messageId": str(secrets.randbelow(9 * 10**15) + 10**15),
            "publishTime": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        },
        "subscription": f"projects/rbm-{bot.id}/subscriptions/rbm-agent-subscription",
    }
    return body, data


def _payload(
    bot: BotConfig, event: WebhookEvent
) -> tuple[dict[str, Any], str, str, datetime] | None:
    """The event JSON, its log label, its ``X-Goog-Webhook-Type`` and time (or ``None``)."""
    agent = bot.google_agent_id
    if isinstance(event, SubscriptionEvent):
        kind = "SUBSCRIBE" if event.subscribed else "UNSUBSCRIBE"
        subscription = {
            "senderPhoneNumber": event.phone,
            "eventType": kind,
            "eventId": event.event_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        return subscription, kind, "USER_EVENT", event.at
    if isinstance(event, StatusEvent):
        if event.status in _SERVER_EVENTS:
            kind = _SERVER_EVENTS[event.status]
            server = {
                "phoneNumber": event.phone,
                "messageId": event.msg_id,
                "agentId": agent,
                "eventType": kind,
                "eventId": event.event_id,
                "sendTime": _time(event.at),
            }
            return server, kind, "SERVER_EVENT", event.at
        found = _USER_EVENTS.get(event.status)
        if found is None:
            return None
        user_event = {
            "senderPhoneNumber": event.phone,
            "eventType": found,
            "eventId": event.event_id,
            "messageId": event.msg_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        return user_event, found, "USER_EVENT", event.at
    if isinstance(event, TypingEvent):
        if not event.active:
            return None
        typing = {
            "senderPhoneNumber": event.phone,
            "eventType": "IS_TYPING",
            "eventId": event.event_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        return typing, "IS_TYPING", "USER_EVENT", event.at
    if isinstance(event, UserMessageEvent | ResponseEvent):
        message: dict[str, Any] = {
            "senderPhoneNumber": event.phone,
            "messageId": event.msg_id,
            "sendTime": _time(event.at),
            "agentId": agent,
        }
        if isinstance(event, ResponseEvent):
            message["suggestionResponse"] = {
                "postbackData": event.postback,
                "text": event.text,
                "type": event.kind.upper(),
            }
            return message, "suggestionResponse", "USER_MESSAGE", event.at
        message.update(user_message_content(event))
        return message, "message", "USER_MESSAGE", event.at
    return None


def render_google_rbm(bot: BotConfig, event: WebhookEvent) -> OutboundWebhook | None:
    """The signed Pub/Sub webhook for ``event`` (``None`` for what Google does not report)."""
    found = _payload(bot, event)
    if found is None:
        return None
    payload, label, webhook_type, at = found
    body, data = envelope(bot, payload, at)
    headers = {WEBHOOK_TYPE_HEADER: webhook_type}
    if bot.webhook_token is not None:
        headers[SIGNATURE_HEADER] = signature(bot.webhook_token.get_secret_value(), data)
    return OutboundWebhook(body, label, headers)
