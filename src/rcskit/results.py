"""Typed results of provider operations.

Every result names the ``provider`` that answered and keeps the decoded body as ``raw``
(providers add fields; nothing they say is lost).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = [
    "BulkCapabilities",
    "BulkJob",
    "Capabilities",
    "FileInfo",
    "MessageStatus",
    "RevokeResult",
    "SendManyResult",
    "SendResult",
    "TesterResult",
]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    raw: Any = None


@dataclass(slots=True, kw_only=True)
class SendResult:
    """A message accepted by the provider.

    ``message_id`` is the id the provider knows the message by (the one it returned, or
    the one rcskit sent where the provider takes client ids); ``status`` its first status
    (usually ``"pending"``); ``conversation_id`` what some MaaPs return for a later revoke;
    ``detail`` the provider's reason for that status, where it gives one (SMSBOX
    ``reason_code``); ``raw`` the decoded answer.

    A plain slotted dataclass rather than a pydantic model: it is made once per send, on the
    hot path, from values the parser has already checked. Treat it as read-only; it is not
    ``frozen`` because a frozen dataclass sets every field through ``object.__setattr__``,
    several times slower to build.
    """

    provider: str
    message_id: str | None
    status: str | None = None
    to: str | None = None
    conversation_id: str | None = None
    detail: str | None = None
    raw: Any = None


class SendManyResult(_Result):
    """One message accepted for several recipients in one request (SMSBOX).

    ``message_id`` is the provider's id of the whole send (SMSBOX ``reference``, the key of a
    later revoke and of its status webhooks); ``results`` holds one :class:`SendResult` per
    recipient the provider listed, in its order.
    """

    message_id: str | None
    results: tuple[SendResult, ...] = ()

    def result_for(self, number: str) -> SendResult | None:
        """The result of recipient ``number`` (E.164), or ``None`` when it is not listed."""
        return next((r for r in self.results if r.to == number), None)


class MessageStatus(_Result):
    """The status of a sent message (``pending``, ``sent``, ``delivered``, ``displayed`` ...)."""

    message_id: str
    status: str | None
    timestamp: str | None = None


class Capabilities(_Result):
    """What one user's device supports. ``rcs_enabled`` is False when the provider says the
    user cannot be reached over RCS (then ``features`` is empty)."""

    number: str
    rcs_enabled: bool
    features: frozenset[str] = frozenset()

    def supports(self, feature: str) -> bool:
        """Whether ``feature`` (``"RICHCARD_CAROUSEL"``, ``"chat"`` ...) is listed."""
        return feature in self.features


class BulkCapabilities(_Result):
    """The result of a bulk reachability check.

    ``reachable`` are the numbers the provider listed as RCS-reachable; ``unreachable`` the
    other numbers asked about (not RCS, or on a carrier where the bot is not launched: the
    providers do not say which); ``unknown`` the numbers asked about that the answer did not
    settle (left out of a per-number answer, or an answer rcskit could not read: see ``raw``).
    ``raw`` holds one decoded body per batch.
    """

    reachable: frozenset[str]
    unreachable: frozenset[str]
    unknown: frozenset[str] = frozenset()

    def is_reachable(self, number: str) -> bool:
        """Whether ``number`` (E.164) was listed as reachable."""
        return number in self.reachable


class BulkJob(_Result):
    """An asynchronous bulk capability check that was submitted (Orange's POST
    ``bulkContactCapabilities``); its result is fetched later.

    The handle is opaque: ``numbers`` are the numbers submitted, ``job_id`` an identifier
    read from the answer on a best-effort basis (``None`` when it carries none), ``raw`` the
    answer as received.
    """

    numbers: tuple[str, ...]
    job_id: str | None = None
    submitted_at: datetime | None = None


class FileInfo(_Result):
    """A file stored on the provider: its id (for file messages), URL, size, status, expiry."""

    file_id: str
    url: str | None = None
    size: int | None = None
    status: str | None = None
    validity: str | None = None


class TesterResult(_Result):
    """A tester invitation sent to ``number``."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name

    number: str
    status: str | None = None
    detail: str | None = None


class RevokeResult(_Result):
    """A revocation request accepted by the provider.

    Acceptance is not confirmation: a message already delivered stays delivered (the
    provider then reports the delivery, or a later failure event).
    """

    message_id: str
    accepted: bool = True
