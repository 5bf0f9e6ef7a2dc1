"""Provider-neutral webhook events; each provider flavour renders them in its own JSON.

The platform core (delivery, user actions, billing) produces these; a flavour's renderer
(``WebhookRenderer``) turns one into the body and headers that provider posts to the bot, or
``None`` when that provider does not report the event (Google has no ``sent`` status).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config import BotConfig

__all__ = [
    "AliasEvent",
    "BillingEvent",
    "FileStatusEvent",
    "NewUserEvent",
    "OutboundWebhook",
    "ResponseEvent",
    "StatusEvent",
    "SubscriptionEvent",
    "TypingEvent",
    "UserFile",
    "UserLocation",
    "UserMessageEvent",
    "WebhookEvent",
    "WebhookRenderer",
]


@dataclass(frozen=True, slots=True)
class StatusEvent:
    """A bot message changed status.

    ``status`` is one of ``sent``, ``delivered``, ``displayed``, ``failed``, ``cancelled``,
    ``ttl_revoked`` (expired and revoked) or ``ttl_revoke_failed`` (expired after delivery).
    """

    bot_id: str
    phone: str
    msg_id: str
    status: str
    at: datetime
    event_id: str
    reason_code: str | None = None
    reason_text: str | None = None


@dataclass(frozen=True, slots=True)
class UserFile:
    """A file a user sent."""

    url: str
    mime_type: str
    size: int
    name: str


@dataclass(frozen=True, slots=True)
class UserLocation:
    """A location a user shared."""

    latitude: float
    longitude: float
    label: str | None = None


@dataclass(frozen=True, slots=True)
class UserMessageEvent:
    """A user sent a message: exactly one of ``text``, ``file``, ``location``."""

    bot_id: str
    phone: str
    msg_id: str
    at: datetime
    text: str | None = None
    file: UserFile | None = None
    location: UserLocation | None = None


@dataclass(frozen=True, slots=True)
class ResponseEvent:
    """A user tapped a suggested reply (``kind="reply"``) or action (``kind="action"``).

    ``metadata`` is the Dotgo template metadata when the message came from a template.
    """

    bot_id: str
    phone: str
    msg_id: str
    at: datetime
    kind: str
    text: str
    postback: str
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class TypingEvent:
    """A user started (or stopped) typing."""

    bot_id: str
    phone: str
    at: datetime
    event_id: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class BillingEvent:
    """A billing update; ``payload`` is already in the provider's shape (Dotgo section 8)."""

    bot_id: str
    phone: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class NewUserEvent:
    """A user opened the conversation with the bot for the first time (GSMA ``newUser``)."""

    bot_id: str
    phone: str
    msg_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AliasEvent:
    """A user disabled anonymization: the bot may now map their chat id to the number."""

    bot_id: str
    phone: str
    msg_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class FileStatusEvent:
    """An uploaded file changed status (``ready``; GSMA ``fileStatus``). No phone is concerned."""

    bot_id: str
    file_id: str
    url: str
    size: int
    status: str
    validity: datetime
    phone: None = None


@dataclass(frozen=True, slots=True)
class SubscriptionEvent:
    """A user unsubscribed from the bot (``subscribed=False``) or subscribed again (Google's
    ``UNSUBSCRIBE`` / ``SUBSCRIBE`` user events, 2026)."""

    bot_id: str
    phone: str
    event_id: str
    at: datetime
    subscribed: bool


WebhookEvent = (
    StatusEvent
    | UserMessageEvent
    | ResponseEvent
    | TypingEvent
    | BillingEvent
    | NewUserEvent
    | AliasEvent
    | FileStatusEvent
    | SubscriptionEvent
)
"""Every event the platform can post to a bot."""


@dataclass(frozen=True, slots=True)
class OutboundWebhook:
    """A rendered webhook: JSON body, extra headers, and a short label for the request log."""

    body: dict[str, Any]
    label: str
    headers: dict[str, str] = field(default_factory=dict)


WebhookRenderer = Callable[[BotConfig, WebhookEvent], OutboundWebhook | None]
"""Renders an event for a bot of one provider flavour (``None``: not reported)."""
