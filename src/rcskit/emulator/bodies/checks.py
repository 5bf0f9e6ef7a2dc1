"""What the emulator checks in bodies of any flavour: the error type and the content limits.

Limits (the emulator enforces them so a bot finds its mistakes before a real MaaP does):

=============================== ======= ==============================================
suggestions in a chip list      11      GSMA Samsung SDK; Google AgentContentMessage
suggestions on one card          4      Google reference; GSMA clients (gsma_maap.md 3)
cards in a carousel            2..10    Google CarouselCard; AWS
suggestion text                 25      Google SuggestedReply/Action; Samsung SDK
postback data                 2048      Google SuggestedAction; Samsung SDK
card title / description   200 / 2000   Google CardContent; Samsung SDK
Google text message           3072      Google AgentContentMessage
=============================== ======= ==============================================
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "MAX_CARD_DESCRIPTION",
    "MAX_CARD_SUGGESTIONS",
    "MAX_CARD_TITLE",
    "MAX_CAROUSEL_CARDS",
    "MAX_CHIPS",
    "MAX_GOOGLE_TEXT",
    "MAX_POSTBACK",
    "MAX_SUGGESTION_TEXT",
    "MIN_CAROUSEL_CARDS",
    "WireError",
    "WireErrorKind",
    "check_count",
    "check_length",
]

MAX_CHIPS = 11
MAX_CARD_SUGGESTIONS = 4
MIN_CAROUSEL_CARDS = 2
MAX_CAROUSEL_CARDS = 10
MAX_SUGGESTION_TEXT = 25
MAX_POSTBACK = 2048
MAX_CARD_TITLE = 200
MAX_CARD_DESCRIPTION = 2000
MAX_GOOGLE_TEXT = 3072

WireErrorKind = Literal["json", "type", "phone", "limit", "expiry", "invalid"]


class WireError(ValueError):
    """A request body the platform refuses.

    ``kind``: ``json`` (not the expected JSON structure), ``type`` (no, several or an unknown
    content type), ``phone`` (the user's number is not E.164), ``limit`` (a content limit),
    ``expiry`` (bad ``ttl``/``expireTime``), ``invalid`` (a message the platform refuses, found
    by rcskit's validators: :mod:`rcskit.emulator.bodies.strict`). Each flavour maps kinds to
    its own error codes.
    """

    def __init__(self, kind: WireErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: WireErrorKind = kind
        self.message = message


def check_length(value: object, limit: int, path: str) -> None:
    """Raise a ``limit`` error when the string at ``path`` is longer than ``limit``."""
    if isinstance(value, str) and len(value) > limit:
        raise WireError("limit", f"{path}: {len(value)} characters (max {limit})")


def check_count(items: object, low: int, high: int, path: str) -> list[object]:
    """Return ``items`` as a list, raising when it is not one or has not ``low..high`` entries."""
    if not isinstance(items, list):
        raise WireError("json", f"{path}: must be a list")
    if not low <= len(items) <= high:
        bound = f"max {high}" if low == 0 else f"{low} to {high}"
        raise WireError("limit", f"{path}: {len(items)} items ({bound})")
    return items
