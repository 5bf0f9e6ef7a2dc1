"""Reading a Google RBM ``AgentMessage`` body: ``{"contentMessage": {...}, "ttl"|"expireTime"}``.

Used by Google-flavoured surfaces (Dotgo's Google API now; Google RBM direct later).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .checks import (
    MAX_CARD_DESCRIPTION,
    MAX_CARD_SUGGESTIONS,
    MAX_CARD_TITLE,
    MAX_CAROUSEL_CARDS,
    MAX_CHIPS,
    MAX_GOOGLE_TEXT,
    MAX_POSTBACK,
    MAX_SUGGESTION_TEXT,
    MIN_CAROUSEL_CARDS,
    WireError,
    check_count,
    check_length,
)
from .expiry import ExpiryError, expiry_of

__all__ = ["CONTENT_KINDS", "GoogleSend", "parse_google_send"]

CONTENT_KINDS = {
    "text": "text",
    "fileName": "file",
    "uploadedRbmFile": "file",
    "contentInfo": "file",
    "richCard": "richcard",
    "templateMessage": "template",
}
"""Google ``contentMessage`` content members (plus Dotgo's ``templateMessage``)."""


@dataclass(frozen=True, slots=True)
class GoogleSend:
    """A checked Google send: the ``contentMessage`` object, its kind and expiry."""

    content: dict[str, Any]
    kind: str
    expire_at: float | None


def _check_suggestions(items: Any, path: str, high: int) -> None:
    for i, item in enumerate(check_count(items, 0, high, path)):
        where = f"{path}[{i}]"
        if not isinstance(item, dict) or len([k for k in ("reply", "action") if k in item]) != 1:
            raise WireError("json", f"{where}: must hold exactly one of reply or action")
        body = item.get("reply") or item.get("action")
        if not isinstance(body, dict):
            raise WireError("json", f"{where}: reply/action must be an object")
        check_length(body.get("text"), MAX_SUGGESTION_TEXT, f"{where}.text")
        check_length(body.get("postbackData"), MAX_POSTBACK, f"{where}.postbackData")


def _check_card(card: Any, path: str) -> None:
    if not isinstance(card, dict):
        raise WireError("json", f"{path}: must be an object")
    check_length(card.get("title"), MAX_CARD_TITLE, f"{path}.title")
    check_length(card.get("description"), MAX_CARD_DESCRIPTION, f"{path}.description")
    if "suggestions" in card:
        _check_suggestions(card["suggestions"], f"{path}.suggestions", MAX_CARD_SUGGESTIONS)


def _check_content(kind: str, member: str, content: dict[str, Any]) -> None:
    value = content[member]
    if kind == "text":
        if not isinstance(value, str) or not value:
            raise WireError("type", "contentMessage.text must be a non-empty string")
        check_length(value, MAX_GOOGLE_TEXT, "contentMessage.text")
    elif member == "fileName":
        if not isinstance(value, str) or not value:
            raise WireError("type", "contentMessage.fileName must be a non-empty string")
    elif member == "uploadedRbmFile":
        if not isinstance(value, dict) or not isinstance(value.get("fileName"), str):
            raise WireError("type", "contentMessage.uploadedRbmFile needs a fileName string")
    elif member == "contentInfo":
        if not isinstance(value, dict) or not isinstance(value.get("fileUrl"), str):
            raise WireError("type", "contentMessage.contentInfo needs a fileUrl string")
    elif kind == "template":
        if not isinstance(value, dict) or not isinstance(value.get("templateCode"), str):
            raise WireError("type", "contentMessage.templateMessage needs a templateCode string")
    elif kind == "richcard":
        if not isinstance(value, dict):
            raise WireError("type", "contentMessage.richCard must be an object")
        if isinstance(value.get("standaloneCard"), dict):
            _check_card(
                value["standaloneCard"].get("cardContent"),
                "contentMessage.richCard.standaloneCard.cardContent",
            )
        elif isinstance(value.get("carouselCard"), dict):
            path = "contentMessage.richCard.carouselCard.cardContents"
            cards = check_count(
                value["carouselCard"].get("cardContents"),
                MIN_CAROUSEL_CARDS,
                MAX_CAROUSEL_CARDS,
                path,
            )
            for i, card in enumerate(cards):
                _check_card(card, f"{path}[{i}]")
        else:
            raise WireError("type", "contentMessage.richCard needs standaloneCard or carouselCard")


def parse_google_send(body: Any, now: float) -> GoogleSend:
    """Check a Google send body; raises :class:`~rcskit.emulator.bodies.checks.WireError`."""
    if not isinstance(body, dict):
        raise WireError("json", "the body must be a JSON object")
    content = body.get("contentMessage")
    if not isinstance(content, dict):
        raise WireError("json", "contentMessage (an object) is required")
    present = [k for k in CONTENT_KINDS if k in content]
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise WireError(
            "type",
            f"contentMessage needs exactly one of {', '.join(CONTENT_KINDS)} (found: {found})",
        )
    kind = CONTENT_KINDS[present[0]]
    _check_content(kind, present[0], content)
    if "suggestions" in content:
        _check_suggestions(content["suggestions"], "contentMessage.suggestions", MAX_CHIPS)
    try:
        expire_at = expiry_of(body, now)
    except ExpiryError as exc:
        raise WireError("expiry", str(exc)) from None
    return GoogleSend(content=content, kind=kind, expire_at=expire_at)
