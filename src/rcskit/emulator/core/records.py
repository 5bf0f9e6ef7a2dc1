"""Compact records of what the platform stores: messages, conversations, files.

Messages use ``__slots__`` classes with float timestamps, interned ids and statuses, and the
content as compact JSON bytes, so that a million stored messages fit in a few hundred MB
(``bench/emulator.py`` measures about 470 bytes each for a short text message, counting the
id index and the conversation lists). The status history is derived from the per-status
timestamps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "A2P",
    "CANCELLED",
    "DELIVERED",
    "DISPLAYED",
    "FAILED",
    "FMT_GOOGLE",
    "FMT_GSMA",
    "FMT_USER",
    "P2A",
    "PENDING",
    "RECEIVED",
    "REVOKED",
    "SENT",
    "Conversation",
    "StoredFile",
    "StoredMessage",
    "compact_json",
    "iso",
]

A2P = 0
"""Direction: agent (bot) to person."""
P2A = 1
"""Direction: person (phone user) to agent."""

FMT_GSMA = 0
"""Content is a GSMA ``RCSMessage`` object."""
FMT_GOOGLE = 1
"""Content is a Google ``contentMessage`` object."""
FMT_USER = 2
"""Content is a user message as recorded (``text``, ``location``, ``file`` or ``response``)."""

PENDING = "pending"
SENT = "sent"
DELIVERED = "delivered"
DISPLAYED = "displayed"
CANCELLED = "cancelled"
REVOKED = "revoked"
FAILED = "failed"
RECEIVED = "received"

_FORMATS = {FMT_GSMA: "gsma", FMT_GOOGLE: "google", FMT_USER: "user"}


def _kind(direction: int, fmt: int) -> int:
    """``direction`` and ``fmt`` in one small int (they are checked: a typo fails loudly)."""
    if direction not in (A2P, P2A):
        raise ValueError(f"direction {direction!r} must be A2P (0) or P2A (1)")
    if fmt not in _FORMATS:
        raise ValueError(f"fmt {fmt!r} must be FMT_GSMA (0), FMT_GOOGLE (1) or FMT_USER (2)")
    return direction | fmt << 1


_COMPACT = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON bytes (how contents are stored): what
    ``json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()`` gives."""
    return _COMPACT.encode(value).encode()


def iso(ts: float | None) -> str | None:
    """POSIX seconds as RFC 3339 UTC with microseconds, or ``None``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class _Rare:
    """The fields few messages set (expiry, template, end), kept out of most messages."""

    __slots__ = ("ended_at", "expire_at", "reason", "template")

    def __init__(self) -> None:
        self.ended_at: float | None = None
        self.expire_at: float | None = None
        self.template: str | None = None
        self.reason: str | None = None


_FIELDS = (
    "msg_id",
    "bot_id",
    "phone",
    "direction",
    "fmt",
    "content",
    "created",
    "status",
    "sent_at",
    "delivered_at",
    "displayed_at",
    "ended_at",
    "expire_at",
    "template",
    "charge",
    "reason",
)


class StoredMessage:
    """One message the platform knows: bot to phone (A2P) or phone to bot (P2A).

    Built and read like a dataclass with the fields ``msg_id, bot_id, phone, direction, fmt,
    content, created`` (required, in that order), then ``status, sent_at, delivered_at,
    displayed_at, ended_at, expire_at, template, charge, reason``; compared by identity. To
    keep a million messages small it has twelve slots: ``direction`` and ``fmt`` share one
    small int, and the rarely set ``ended_at``, ``expire_at``, ``template`` and ``reason``
    live in a side object created when one of them is set.
    """

    __slots__ = (
        "_kind",
        "_rare",
        "bot_id",
        "charge",
        "content",
        "created",
        "delivered_at",
        "displayed_at",
        "msg_id",
        "phone",
        "sent_at",
        "status",
    )

    def __init__(
        self,
        msg_id: str,
        bot_id: str,
        phone: str,
        direction: int,
        fmt: int,
        content: bytes,
        created: float,
        status: str = PENDING,
        sent_at: float | None = None,
        delivered_at: float | None = None,
        displayed_at: float | None = None,
        ended_at: float | None = None,
        expire_at: float | None = None,
        template: str | None = None,
        charge: str | None = None,
        reason: str | None = None,
    ) -> None:
        self.msg_id = msg_id
        self.bot_id = bot_id
        self.phone = phone
        self._kind = _kind(direction, fmt)
        self.content = content
        self.created = created
        self.status = status
        self.sent_at = sent_at
        self.delivered_at = delivered_at
        self.displayed_at = displayed_at
        self.charge = charge
        self._rare: _Rare | None = None
        if not (ended_at is None and expire_at is None and template is None and reason is None):
            rare = self._rare = _Rare()
            rare.ended_at, rare.expire_at = ended_at, expire_at
            rare.template, rare.reason = template, reason

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"StoredMessage({fields})"

    def _rare_fields(self) -> _Rare:
        rare = self._rare
        if rare is None:
            rare = self._rare = _Rare()
        return rare

    @property
    def direction(self) -> int:
        """:data:`A2P` or :data:`P2A`."""
        return self._kind & 1

    @direction.setter
    def direction(self, value: int) -> None:
        self._kind = _kind(value, self.fmt)

    @property
    def fmt(self) -> int:
        """:data:`FMT_GSMA`, :data:`FMT_GOOGLE` or :data:`FMT_USER`."""
        return self._kind >> 1

    @fmt.setter
    def fmt(self, value: int) -> None:
        self._kind = _kind(self.direction, value)

    @property
    def ended_at(self) -> float | None:
        """When the message failed, was cancelled or revoked."""
        return None if self._rare is None else self._rare.ended_at

    @ended_at.setter
    def ended_at(self, value: float | None) -> None:
        if value is not None or self._rare is not None:
            self._rare_fields().ended_at = value

    @property
    def expire_at(self) -> float | None:
        """When the message expires (``ttl``/``expireTime``), if it does."""
        return None if self._rare is None else self._rare.expire_at

    @expire_at.setter
    def expire_at(self, value: float | None) -> None:
        if value is not None or self._rare is not None:
            self._rare_fields().expire_at = value

    @property
    def template(self) -> str | None:
        """The template code the message was built from, if any."""
        return None if self._rare is None else self._rare.template

    @template.setter
    def template(self, value: str | None) -> None:
        if value is not None or self._rare is not None:
            self._rare_fields().template = value

    @property
    def reason(self) -> str | None:
        """Why the message failed (``code: text``), if it did."""
        return None if self._rare is None else self._rare.reason

    @reason.setter
    def reason(self, value: str | None) -> None:
        if value is not None or self._rare is not None:
            self._rare_fields().reason = value

    def content_json(self) -> Any:
        """The stored content, parsed."""
        return json.loads(self.content)

    def history(self) -> list[tuple[str, float]]:
        """``(status, time)`` pairs in the order they happened."""
        first = PENDING if self.direction == A2P else RECEIVED
        out = [(first, self.created)]
        for status, ts in (
            (SENT, self.sent_at),
            (DELIVERED, self.delivered_at),
            (DISPLAYED, self.displayed_at),
        ):
            if ts is not None:
                out.append((status, ts))
        if self.ended_at is not None:
            out.append((self.status, self.ended_at))
        return out

    def last_change(self) -> float:
        """When the status last changed."""
        return self.history()[-1][1]

    def to_json(self) -> dict[str, Any]:
        """The message as the admin API shows it."""
        return {
            "msg_id": self.msg_id,
            "bot_id": self.bot_id,
            "phone": self.phone,
            "direction": "a2p" if self.direction == A2P else "p2a",
            "format": _FORMATS[self.fmt],
            "content": self.content_json(),
            "status": self.status,
            "history": [{"status": s, "at": iso(t)} for s, t in self.history()],
            "expire_at": iso(self.expire_at),
            "template": self.template,
            "charge": self.charge,
            "reason": self.reason,
        }


@dataclass(slots=True, eq=False)
class Conversation:
    """The messages between one bot and one phone, and who is typing."""

    bot_id: str
    phone: str
    messages: list[StoredMessage] = field(default_factory=list)
    agent_typing_until: float = 0.0
    user_typing_until: float = 0.0
    last_p2a_at: float | None = None

    def to_json(self, now: float) -> dict[str, Any]:
        """The conversation as the admin API shows it."""
        return {
            "bot_id": self.bot_id,
            "phone": self.phone,
            "agent_typing": self.agent_typing_until > now,
            "user_typing": self.user_typing_until > now,
            "messages": [m.to_json() for m in self.messages],
        }


@dataclass(slots=True, eq=False)
class StoredFile:
    """A file uploaded to the platform (kept ``file_validity_days``, 60 by default)."""

    file_id: str
    bot_id: str
    name: str
    mime_type: str
    size: int
    created: float
    validity: float
    data: bytes | None = None
    source_url: str | None = None

    def status(self, now: float) -> str:
        """``ready`` until the validity ends, then ``expired``."""
        return "ready" if now < self.validity else "expired"
