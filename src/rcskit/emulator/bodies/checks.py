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

from collections.abc import Callable, Mapping
from typing import Any, Literal

from .expiry import ExpiryError, expiry_of

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
    "check_card",
    "check_carousel",
    "check_count",
    "check_expiry",
    "check_length",
    "check_suggestion_list",
    "one_content_member",
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


def one_content_member(container: dict[str, Any], members: Mapping[str, str], path: str) -> str:
    """The one content member of the object at ``path`` (a key of ``members``); a ``type``
    error naming them all when it holds none or several."""
    present = [k for k in members if k in container]
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise WireError(
            "type", f"{path} needs exactly one of {', '.join(members)} (found: {found})"
        )
    return present[0]


def check_suggestion_list(
    items: object, path: str, high: int, check_texts: Callable[[dict[str, Any], str], None]
) -> None:
    """Check a list of at most ``high`` suggestions, each holding one ``reply`` or ``action``
    object; ``check_texts(body, where)`` checks that object's fields (the format's names)."""
    for i, item in enumerate(check_count(items, 0, high, path)):
        where = f"{path}[{i}]"
        if not isinstance(item, dict) or len([k for k in ("reply", "action") if k in item]) != 1:
            raise WireError("json", f"{where}: must hold exactly one of reply or action")
        body = item.get("reply") or item.get("action")
        if not isinstance(body, dict):
            raise WireError("json", f"{where}: reply/action must be an object")
        check_texts(body, where)


def check_card(
    card: object, path: str, check_suggestions: Callable[[object, str, int], None]
) -> None:
    """Check a card object: its title and description lengths, its suggestions (at most
    :data:`MAX_CARD_SUGGESTIONS`, checked by ``check_suggestions``)."""
    if not isinstance(card, dict):
        raise WireError("json", f"{path}: must be an object")
    check_length(card.get("title"), MAX_CARD_TITLE, f"{path}.title")
    check_length(card.get("description"), MAX_CARD_DESCRIPTION, f"{path}.description")
    if "suggestions" in card:
        check_suggestions(card["suggestions"], f"{path}.suggestions", MAX_CARD_SUGGESTIONS)


def check_carousel(cards: object, path: str, check_one: Callable[[object, str], None]) -> None:
    """Check the list of cards at ``path``: ``MIN_CAROUSEL_CARDS..MAX_CAROUSEL_CARDS`` of them,
    each checked by ``check_one(card, path)``."""
    for i, card in enumerate(check_count(cards, MIN_CAROUSEL_CARDS, MAX_CAROUSEL_CARDS, path)):
        check_one(card, f"{path}[{i}]")


def check_expiry(body: dict[str, Any], now: float) -> float | None:
    """The body's expiry (``ttl``/``expireTime``) as a timestamp, or ``None``; an ``expiry``
    error when it is malformed."""
    try:
        return expiry_of(body, now)
    except ExpiryError as exc:
        raise WireError("expiry", str(exc)) from None
