"""GSMA webhooks (FNW.11 ``WebhookPayload``, the shapes of seed 003) for MaaP and Orange bots.

``{"RCSMessage": {...}, "messageContact": {...}, "event": ...}`` with ``event`` one of
``message``, ``isTyping``, ``messageStatus``, ``response``, ``alias``, ``newUser``, and
``{"file": {...}, "event": "fileStatus"}`` for uploads. Status values are ``sent``,
``delivered``, ``displayed``, ``failed``, ``cancelled`` and ``revoked`` (expired before
delivery); an expiry after delivery is not reported. Billing events are Dotgo's and are not
sent.

``messageContact`` carries ``userContact`` (the number), or only ``chatId`` for a bot with
``anonymous_contacts``; the ``alias`` event carries both.

Authentication: when the bot has a ``webhook_token`` it is sent as the raw value of the
``Authorization`` header (the Samsung MaaP "verification token" style of gsma_maap.md section
2.3; verifiers should accept it with or without a ``Bearer`` prefix).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...bodies.gsma import user_message_content
from ...config import BotConfig
from ...core.events import (
    AliasEvent,
    FileStatusEvent,
    NewUserEvent,
    OutboundWebhook,
    ResponseEvent,
    StatusEvent,
    TypingEvent,
    UserMessageEvent,
    WebhookEvent,
)
from .contacts import chat_id

__all__ = ["NEW_USER_POSTBACK", "render_gsma_webhook"]

NEW_USER_POSTBACK = "new_bot_user_initiation"
"""The postback of the ``newUser`` event (seed 003; Samsung Messages sends it on first open)."""

_STATUS = {"ttl_revoked": "revoked"}


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _contact(bot: BotConfig, phone: str, *, both: bool = False) -> dict[str, str]:
    if both:
        return {"userContact": phone, "chatId": chat_id(bot.id, phone)}
    if bot.anonymous_contacts:
        return {"chatId": chat_id(bot.id, phone)}
    return {"userContact": phone}


def _headers(bot: BotConfig) -> dict[str, str]:
    if bot.webhook_token is None:
        return {}
    return {"Authorization": bot.webhook_token.get_secret_value()}


def _body(
    bot: BotConfig, event_name: str, phone: str, rcs: dict[str, Any], *, both: bool = False
) -> dict[str, Any]:
    return {
        "RCSMessage": rcs,
        "messageContact": _contact(bot, phone, both=both),
        "event": event_name,
    }


def _message(event: UserMessageEvent) -> dict[str, Any]:
    return {"msgId": event.msg_id, **user_message_content(event), "timestamp": _time(event.at)}


def _render(bot: BotConfig, event: WebhookEvent) -> tuple[dict[str, Any], str] | None:
    if isinstance(event, StatusEvent):
        if event.status == "ttl_revoke_failed":
            return None
        status = _STATUS.get(event.status, event.status)
        rcs: dict[str, Any] = {
            "msgId": event.msg_id,
            "status": status,
            "timestamp": _time(event.at),
        }
        return _body(bot, "messageStatus", event.phone, rcs), f"messageStatus:{status}"
    if isinstance(event, UserMessageEvent):
        return _body(bot, "message", event.phone, _message(event)), "message"
    if isinstance(event, ResponseEvent):
        choice: dict[str, Any] = {"displayText": event.text, "postback": {"data": event.postback}}
        rcs = {
            "msgId": event.msg_id,
            "suggestedResponse": {"response": {event.kind: choice}},
            "timestamp": _time(event.at),
        }
        return _body(bot, "response", event.phone, rcs), "response"
    if isinstance(event, TypingEvent):
        rcs = {
            "msgId": event.event_id,
            "isTyping": "active" if event.active else "idle",
            "timestamp": _time(event.at),
        }
        return _body(bot, "isTyping", event.phone, rcs), "isTyping"
    if isinstance(event, NewUserEvent):
        start: dict[str, Any] = {
            "displayText": "Start Chat",
            "postback": {"data": NEW_USER_POSTBACK},
        }
        rcs = {
            "msgId": event.msg_id,
            "suggestedResponse": {"response": {"reply": start}},
            "timestamp": _time(event.at),
        }
        return _body(bot, "newUser", event.phone, rcs), "newUser"
    if isinstance(event, AliasEvent):
        rcs = {"msgId": event.msg_id, "timestamp": _time(event.at)}
        return _body(bot, "alias", event.phone, rcs, both=True), "alias"
    if isinstance(event, FileStatusEvent):
        file = {
            "fileId": event.file_id,
            "fileUrl": event.url,
            "fileSize": event.size,
            "status": event.status,
            "validity": _time(event.validity),
        }
        return {"file": file, "event": "fileStatus"}, f"fileStatus:{event.status}"
    return None


def render_gsma_webhook(bot: BotConfig, event: WebhookEvent) -> OutboundWebhook | None:
    """The GSMA webhook for ``event`` (``None`` for billing and unreported statuses)."""
    rendered = _render(bot, event)
    if rendered is None:
        return None
    body, label = rendered
    return OutboundWebhook(body, label, _headers(bot))
