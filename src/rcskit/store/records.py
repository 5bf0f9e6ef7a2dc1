"""What the store returns: frozen records, the recipient and campaign statuses, store errors."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from ..errors import RcsError
from ..message import Message
from .states import MessageState

__all__ = [
    "BillingRecord",
    "Campaign",
    "CampaignStatus",
    "CapabilityResult",
    "ClaimedNumber",
    "HistoryEntry",
    "InboundRecord",
    "InvalidRecord",
    "NewRecipient",
    "OutboundMessage",
    "Recipient",
    "RecipientStatus",
    "Recorded",
    "SchemaOutdated",
    "StoreConflict",
    "StoreError",
    "UnknownRecord",
    "deterministic_id",
]


# ---------------------------------------------------------------- errors


class StoreError(RcsError):
    """Base of the errors the store raises."""


class StoreConflict(StoreError, ValueError):
    """An id is already taken by a record with different data (e.g. an outbox id reused for
    another recipient), or a status names several messages at once."""


class UnknownRecord(StoreError, LookupError):
    """No message, campaign or recipient has the given id."""


class InvalidRecord(StoreError, ValueError):
    """An argument is out of range; the message names the field, the value and the limit."""

    def __init__(self, field: str, value: Any, limit: str) -> None:
        self.field = field
        self.value = value
        self.limit = limit
        super().__init__(f"{field}: {value!r} ({limit})")


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or refuses the connection (server down, wrong host or
    port, unknown database, bad credentials); the message names it with its password masked."""


class SchemaOutdated(StoreError):
    """The database schema is not at the revision this rcskit needs; run ``rcskit db upgrade``."""


# ---------------------------------------------------------------- enums


class RecipientStatus(StrEnum):
    """Where a campaign recipient is. Only :attr:`QUEUED` recipients are claimed by default."""

    QUEUED = "queued"
    """Imported with a valid number; waiting for a worker (maybe not before ``due_at``)."""
    INVALID = "invalid"
    """The number did not parse; ``error`` says why. Never sent."""
    DUPLICATE = "duplicate"
    """The number was already on an earlier line (``error`` names it). Never sent."""
    RCS = "rcs"
    """RCS-capable (checked, or not to be checked); waiting to be sent."""
    SENT = "sent"
    """An outbox message exists for it and the provider accepted it."""
    NOT_RCS = "not_rcs"
    """Not RCS-capable; waiting for the fallback."""
    FALLBACK = "fallback"
    """Handed to the fallback sender (e.g. written to the SMS CSV)."""
    FAILED = "failed"
    """A final error; ``error`` says why."""
    UNKNOWN = "unknown"
    """Sent to a provider without idempotency keys, and the process stopped (or the answer was
    lost) before the outcome was recorded: it may or may not have been accepted. Not resent
    unless asked (``rcskit campaign run --resend-unknown``)."""
    CANCELLED = "cancelled"
    """Still open when the campaign was cancelled (``rcskit campaign cancel``). Never sent."""


class CampaignStatus(StrEnum):
    """Where a campaign is."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    CANCELLED = "cancelled"


def deterministic_id(campaign_id: str, recipient: str) -> str:
    """The outbox id of ``campaign_id``'s message to ``recipient``: a UUID 5, the same on every
    run and every host, so a resumed campaign finds what it already recorded (and Google uses it
    as its ``messageId`` idempotency key).

    >>> deterministic_id("spring", "+33612345678") == deterministic_id("spring", "+33612345678")
    True
    """
    # uuid.uuid5(_NAMESPACE, f"{campaign_id}\x1f{recipient}"), written out: the hash of the
    # namespace and the campaign is taken once per campaign and copied, and the text is made
    # from the digest directly (a third of uuid5's time, on every send of a campaign)
    digest = _campaign_hash(campaign_id).copy()
    digest.update(recipient.encode())
    h = digest.hexdigest()
    # version 5 in the 13th hex digit; the RFC 4122 variant (10xx) in the 17th
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_NAMESPACE = uuid.UUID("6d2f7f5e-3c39-5b1e-9a57-5f1c2b7a0c11")

_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}
"""A hex digit with its two top bits set to the RFC 4122 variant (binary 10)."""


@lru_cache(maxsize=64)
def _campaign_hash(campaign_id: str) -> Any:
    """SHA-1 fed with the namespace and ``campaign_id`` (uuid5's hash up to the recipient),
    to be copied."""
    return hashlib.sha1(_NAMESPACE.bytes + f"{campaign_id}\x1f".encode(), usedforsecurity=False)


# ---------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A row of the outbox: one message to one recipient through one provider.

    ``content_json`` is the neutral :class:`~rcskit.message.Message` as JSON (read it back with
    :attr:`message`). ``attempts`` counts provider calls begun; ``due_at`` is the earliest time
    a relay may try again; ``claim_owner``/``lease_expires_at`` tell which worker holds it.
    """

    id: str
    provider: str
    recipient: str
    content_json: str
    campaign_id: str | None
    attempts: int
    provider_message_id: str | None
    state: MessageState
    created_at: datetime
    updated_at: datetime
    last_error_code: str | None
    last_error_reason: str | None
    due_at: datetime | None
    claim_owner: str | None
    lease_expires_at: datetime | None

    @property
    def message(self) -> Message:
        """The stored message, decoded."""
        return Message.model_validate_json(self.content_json)


@dataclass(frozen=True, slots=True)
class Recorded:
    """What :meth:`MessageRepository.record_outbound` found or made: the row, and whether it is
    new."""

    message: OutboundMessage
    created: bool


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One event in a message's life: a status as received, and what it did to the state.

    ``status`` is the word as received (``DELIVERED``, ``ttl_expiration_revoked`` ...) or the
    store's own step (``recorded``, ``attempt``, ``sent``, ``error``). ``from_state``/``to_state``
    are the state before and after (equal when it did not move; ``None`` while the status waits
    for its message, see :meth:`MessageRepository.apply_status`). ``at`` is when it happened by
    the source's clock, ``recorded_at`` when the store wrote it.
    """

    id: int
    message_id: str | None
    provider: str
    provider_message_id: str | None
    recipient: str | None
    status: str
    from_state: MessageState | None
    to_state: MessageState | None
    moved: bool
    source: str
    reason: str | None
    code: str | None
    at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class InboundRecord:
    """A stored inbound event (a user message, a suggestion tap ...); ``payload`` is the event
    as JSON (:meth:`pydantic.BaseModel.model_dump` in JSON mode)."""

    id: int
    dedup_key: str
    provider: str
    kind: str
    sender: str | None
    provider_message_id: str | None
    in_reply_to: str | None
    text: str | None
    postback_data: str | None
    occurred_at: datetime | None
    recorded_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BillingRecord:
    """A stored billing event (Dotgo, seed 002 section 8). ``time_text`` is the provider's time
    string as sent (it names no time zone); ``payload`` the whole event as JSON."""

    id: int
    dedup_key: str
    provider: str
    provider_message_id: str | None
    billing_event_id: str | None
    action: str | None
    billing_type: str | None
    category: str | None
    recipient: str | None
    time_text: str | None
    recorded_at: datetime
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CapabilityResult:
    """One capability answer: whether ``number`` is reachable over RCS through ``provider``,
    the features when the check returns them (bulk checks do not: ``None``), and when."""

    provider: str
    number: str
    rcs: bool
    checked_at: datetime
    features: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Campaign:
    """A campaign: what to send (a message or a template code), through which provider, how
    fast (``tps``), from when, outside which quiet hours; ``options`` holds the rest."""

    id: str
    name: str
    provider: str
    status: CampaignStatus
    message_json: str | None
    template: str | None
    tps: float | None
    starts_at: datetime | None
    quiet_hours: str | None
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def message(self) -> Message | None:
        """The campaign's message, decoded (``None`` for a template campaign)."""
        if self.message_json is None:
            return None
        return Message.model_validate_json(self.message_json)


@dataclass(frozen=True, slots=True)
class NewRecipient:
    """A recipient to import: the CSV line number, the E.164 number (``None`` when it did not
    parse, with ``status=INVALID`` and the reason in ``error``) and the row's parameters."""

    line_number: int
    msisdn: str | None
    params: dict[str, Any] = field(default_factory=dict)
    status: RecipientStatus = RecipientStatus.QUEUED
    error: str | None = None


class ClaimedNumber(NamedTuple):
    """A recipient claimed for its number alone (a capability check): its line, number and
    the fence of the claim (see :meth:`~rcskit.store.CampaignRepository.claim_numbers`)."""

    line_number: int
    msisdn: str | None
    fence: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """A campaign recipient as stored."""

    campaign_id: str
    line_number: int
    msisdn: str | None
    params: dict[str, Any]
    status: RecipientStatus
    error: str | None
    due_at: datetime | None
    claim_owner: str | None
    lease_expires_at: datetime | None
    updated_at: datetime
    fence: int = 0
    """Incremented by every claim: the claimer's later writes name it (see
    :mod:`rcskit.store.claims`)."""
