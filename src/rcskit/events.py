"""Normalized inbound events: what a webhook tells a bot, whatever the provider.

Every provider's webhook body (GSMA MaaP, Google RBM, Dotgo in both flavours, SMSBOX, Orange,
Dotgo billing) is parsed by :mod:`rcskit.inbound` into one of these frozen models::

    Event                       provider, event_id, contact, timestamp, agent_id, raw, envelope
    ├── UserMessage             the user sent text, a file, audio or a location
    ├── SuggestionResponse      the user tapped a suggested reply or action (+ template metadata)
    ├── StatusEvent             a status of a message the bot sent (delivered, displayed ...)
    ├── Typing                  the user is typing (or stopped)
    ├── FileStatus              a file uploaded to the platform changed status (GSMA ``fileStatus``)
    ├── Alias                   the platform revealed the MSISDN behind an anonymous chat id
    ├── NewUser                 the user opened the conversation for the first time
    ├── Subscription            the user subscribed or unsubscribed (Google RBM)
    ├── DeviceSpecifics         the user shared device specifics (GSMA ``sharedData``)
    └── BillingEvent            a Dotgo billing event (seed 002 section 8)

Each event keeps the provider name and the decoded JSON body it came from (``raw``), and has a
stable :attr:`Event.dedup_key` built from the provider's own identity for it (an event id, or a
message id plus the event kind), so that at-least-once deliveries can be de-duplicated.

A handler usually needs only a couple of fields::

    @bot.on_message()
    async def echo(event: UserMessage, reply):
        if event.text is not None:
            await reply(f"You wrote: {event.text}")
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .message import Audio, Contact, File, Text

__all__ = [
    "Alias",
    "BillingEvent",
    "DeviceSpecifics",
    "Event",
    "FileStatus",
    "InboundContent",
    "Location",
    "MessageStatus",
    "NewUser",
    "StatusEvent",
    "Subscription",
    "SuggestionResponse",
    "Typing",
    "UserMessage",
]


class MessageStatus(StrEnum):
    """The status of a message the bot sent, as every provider's spelling maps to it.

    GSMA ``displayed`` and Google ``READ`` are both :attr:`DISPLAYED`; GSMA ``canceled`` and
    ``cancelled`` are :attr:`CANCELLED`. The provider's own word stays on
    :attr:`StatusEvent.provider_status`.
    """

    PENDING = "pending"
    SENT = "sent"
    DELIVERED = "delivered"
    DISPLAYED = "displayed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REVOKED = "revoked"
    TTL_EXPIRATION_REVOKED = "ttl_expiration_revoked"
    TTL_EXPIRATION_REVOKE_FAILED = "ttl_expiration_revoke_failed"


class Location(BaseModel):
    """A location the user shared: WGS 84 decimal degrees and an optional label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["location"] = "location"
    latitude: float
    longitude: float
    label: str | None = None


InboundContent = Annotated[Text | File | Audio | Location, Field(discriminator="kind")]
"""What a user can send: text, a file, an audio message or a location."""


def _canonical_hash(raw: Any) -> str:
    text = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


class Event(BaseModel):
    """Base of every inbound event.

    ``provider`` names where it came from (``dotgo``, ``google``, ``smsbox`` ...); ``event_id``
    is the provider's id for this delivery when it has one (Google ``eventId``, SMSBOX
    ``requestUUID``, the user message's GSMA ``msgId``); ``contact`` is the user, as the
    provider named them (an E.164 MSISDN, an anonymous chat id, or both for an alias);
    ``timestamp`` is when the provider says it happened; ``agent_id`` the bot it was sent to,
    when the body says so. ``raw`` is the decoded JSON object of the event (for a Pub/Sub-style
    envelope, the decoded ``message.data``), ``envelope`` the wrapper around it when there was one.
    ``webhook_type`` is the request's ``X-Goog-Webhook-Type`` header (Google, since July 2026),
    when it had one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = "event"

    provider: str
    event_id: str | None = None
    contact: Contact | None = None
    timestamp: datetime | None = None
    agent_id: str | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)
    envelope: dict[str, Any] | None = Field(default=None, repr=False)
    webhook_type: str | None = None

    def _identity(self) -> str | None:
        """The provider's identity of this event, or ``None`` to fall back to a hash of ``raw``."""
        return self.event_id

    @property
    def dedup_key(self) -> str:
        """A stable key naming this event: ``provider:event_type:identity``.

        The identity is the provider's (an event id, or a message id plus what happened to
        it); when the body carries none, a SHA-256 of the canonical JSON of ``raw``, so that a
        byte-identical redelivery still matches.
        """
        identity = self._identity()
        if identity is None:
            identity = _canonical_hash(self.raw)
        return f"{self.provider}:{self.event_type}:{identity}"

    def describe(self) -> str:
        """A one-line human summary (for logs and ``rcskit tail``); never includes secrets."""
        return self.event_type


class UserMessage(Event):
    """The user sent a message: :class:`~rcskit.message.Text`, :class:`~rcskit.message.File`,
    :class:`~rcskit.message.Audio` or a :class:`Location`.

    ``message_id`` is the provider's id of the user's message (GSMA ``msgId``, Google
    ``messageId``); answer a read receipt with it.
    """

    event_type: ClassVar[str] = "message"

    message_id: str | None = None
    content: InboundContent

    @property
    def text(self) -> str | None:
        """The text, when the user sent text."""
        return self.content.text if isinstance(self.content, Text) else None

    @property
    def location(self) -> Location | None:
        """The location, when the user shared one."""
        return self.content if isinstance(self.content, Location) else None

    @property
    def file(self) -> File | Audio | None:
        """The file or audio message, when the user sent one."""
        return self.content if isinstance(self.content, File | Audio) else None

    def _identity(self) -> str | None:
        if self.message_id is not None:
            return f"{self.message_id}:{self.contact or ''}"
        return self.event_id

    def describe(self) -> str:
        """E.g. ``message text 'hello'`` or ``message location 48.85,2.29``."""
        c = self.content
        if isinstance(c, Text):
            return f"message text {c.text!r}"
        if isinstance(c, Location):
            label = f" {c.label!r}" if c.label else ""
            return f"message location {c.latitude},{c.longitude}{label}"
        return f"message {c.kind} {c.url} ({c.mime_type or 'unknown type'})"


class SuggestionResponse(Event):
    """The user tapped a suggested reply (``kind="reply"``) or action (``kind="action"``).

    ``kind`` is ``None`` when the provider does not say (Google bodies without ``type``).
    ``text`` is the chip's label, ``postback_data`` the data the bot attached to it.
    ``metadata`` is Dotgo's template metadata (``suggestionType``, ``templateType``,
    ``cardIndex``, ``suggestionIndex``, ``msgId``, ``a2pMsgDate``, ``templateCode``) as a dict,
    whether the body sent it as a JSON string (GSMA flavour) or an object (Google flavour);
    a string that is not JSON is kept as ``{"unparsed": "<the string>"}``.
    ``in_reply_to`` is the id of the bot message the suggestion belonged to, when known
    (the template metadata's ``msgId``).
    """

    event_type: ClassVar[str] = "suggestion_response"

    message_id: str | None = None
    kind: Literal["reply", "action"] | None = None
    text: str | None = None
    postback_data: str | None = None
    in_reply_to: str | None = None
    metadata: dict[str, Any] | None = None

    @property
    def template_code(self) -> str | None:
        """The Dotgo template name the tapped suggestion came from, if any."""
        if self.metadata is None:
            return None
        code = self.metadata.get("templateCode")
        return code if isinstance(code, str) else None

    def _identity(self) -> str | None:
        if self.message_id is not None:
            return f"{self.message_id}:{self.contact or ''}"
        return self.event_id

    def describe(self) -> str:
        """E.g. ``reply 'Yes' -> 'yes'``."""
        return f"{self.kind or 'suggestion'} {self.text!r} -> {self.postback_data!r}"


class StatusEvent(Event):
    """A status of a message the bot sent.

    ``message_id`` is the bot message's id; ``status`` the normalized value and
    ``provider_status`` the provider's word for it (``READ``, ``REJECTED``, ``EXPIRED`` ...);
    ``reason`` and ``code`` what the provider gave as the cause, for failures.
    """

    event_type: ClassVar[str] = "status"

    message_id: str | None = None
    status: MessageStatus
    provider_status: str
    reason: str | None = None
    code: str | None = None

    def _identity(self) -> str | None:
        if self.event_id is not None:
            return self.event_id
        if self.message_id is not None:
            return f"{self.message_id}:{self.provider_status}"
        return None

    def describe(self) -> str:
        """E.g. ``status delivered of 334a5db9-...``."""
        why = f" ({self.reason})" if self.reason else ""
        return f"status {self.status.value} of {self.message_id}{why}"


class Typing(Event):
    """The user started (``active=True``) or stopped typing."""

    event_type: ClassVar[str] = "typing"

    active: bool = True

    def _identity(self) -> str | None:
        if self.event_id is not None:
            return self.event_id
        if self.timestamp is not None:
            return f"{self.contact or ''}:{self.timestamp.isoformat()}:{self.active}"
        return None

    def describe(self) -> str:
        """``typing active`` or ``typing idle``."""
        return "typing active" if self.active else "typing idle"


class FileStatus(Event):
    """A file uploaded to the platform changed status (GSMA ``fileStatus``: ``ready`` ...).

    ``validity`` is the platform's expiry timestamp, as sent.
    """

    event_type: ClassVar[str] = "file_status"

    file_id: str
    status: str
    url: str | None = None
    size: int | None = None
    validity: str | None = None

    def _identity(self) -> str | None:
        return f"{self.file_id}:{self.status}:{self.validity or ''}"

    def describe(self) -> str:
        """E.g. ``file_status ready of MzJm...``."""
        return f"file_status {self.status} of {self.file_id}"


class Alias(Event):
    """The platform paired an anonymous ``chat_id`` with the user's ``msisdn``.

    ``contact`` carries both, so a reply still goes to the form the conversation used.
    """

    event_type: ClassVar[str] = "alias"

    msisdn: str
    chat_id: str

    def _identity(self) -> str | None:
        if self.event_id is not None:
            return self.event_id
        return f"{self.chat_id}:{self.msisdn}"

    def describe(self) -> str:
        """E.g. ``alias chat:93JF... = +1425...``."""
        return f"alias chat:{self.chat_id} = {self.msisdn}"


class NewUser(Event):
    """The user opened the conversation for the first time (GSMA ``newUser``).

    The client sends it as an automatic reply (``text`` ``"Start Chat"``, ``postback_data``
    ``"new_bot_user_initiation"`` on Samsung clients).
    """

    event_type: ClassVar[str] = "new_user"

    message_id: str | None = None
    text: str | None = None
    postback_data: str | None = None

    def _identity(self) -> str | None:
        if self.message_id is not None:
            return f"{self.message_id}:{self.contact or ''}"
        return self.event_id

    def describe(self) -> str:
        """``new_user``."""
        return "new_user"


class Subscription(Event):
    """The user unsubscribed from the agent (``subscribed=False``, Google RBM ``UNSUBSCRIBE``)
    or subscribed again (``subscribed=True``, ``SUBSCRIBE``; ``RESUBSCRIBE`` is read the same).

    Google reports both since 2026 when the user (un)subscribes in Google Messages; handle
    them with ``@bot.on_unsubscribe`` / ``@bot.on_resubscribe``.
    """

    event_type: ClassVar[str] = "subscription"

    subscribed: bool

    def describe(self) -> str:
        """``subscribe`` or ``unsubscribe``."""
        return "subscribe" if self.subscribed else "unsubscribe"


class DeviceSpecifics(Event):
    """The user shared device specifics (GSMA ``sharedData``, answering ``RequestDeviceSpecifics``).

    ``data`` is the ``sharedData`` object as sent (its members are not standardised).
    """

    event_type: ClassVar[str] = "device_specifics"

    message_id: str | None = None
    data: dict[str, Any]

    def describe(self) -> str:
        """E.g. ``device_specifics deviceSpecifics``."""
        return "device_specifics " + ",".join(sorted(self.data))


class BillingEvent(Event):
    """A Dotgo billing event (seed 002 section 8), from the camelCase or the snake_case body.

    ``action`` is ``New``, ``Update``, ``refund_complete`` ... (absent on in-window events);
    ``billing_type`` the charge (``A2P Single Message``, ``P2A Conversation``, ``Trans 24``,
    ``basic_message`` ...); ``category`` the billing category; ``time`` Dotgo's
    ``YYYY-MM-DD HH:MM:SS`` string, which names no time zone (kept as sent, so ``timestamp``
    stays ``None``). ``user_id`` is the phone number as sent (the refund example has no ``+``);
    ``contact`` is its E.164 form.
    """

    event_type: ClassVar[str] = "billing"

    message_id: str | None = None
    billing_event_id: str | None = None
    billing_event_id_p2a: str | None = None
    action: str | None = None
    billing_type: str | None = None
    category: str | None = None
    time: str | None = None
    agent_name: str | None = None
    user_id: str | None = None
    country_id: str | None = None
    carrier_id: str | None = None

    @property
    def is_refund(self) -> bool:
        """Whether this event refunds a charge (``billingEventAction`` starting with ``refund``)."""
        return (self.action or "").strip().lower().startswith("refund")

    def _identity(self) -> str | None:
        if self.message_id is None and self.billing_event_id is None:
            return None
        parts = (self.message_id, self.billing_event_id, self.action, self.billing_type)
        return ":".join(p or "" for p in parts)

    def describe(self) -> str:
        """E.g. ``billing New 'A2P Single Message' for 501b7644-...``."""
        return f"billing {self.action or '-'} {self.billing_type!r} for {self.message_id}"
