"""Finding the suggestions of a stored bot message, so a simulated user can tap one.

A suggestion is addressed by ``card_index`` (``None`` for the chip list, ``0`` for a standalone
card, the card's position in a carousel) and ``index`` within that list. Works on GSMA
``RCSMessage`` and Google ``contentMessage`` contents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .records import FMT_GOOGLE, StoredMessage

__all__ = [
    "FoundSuggestion",
    "find_suggestion",
    "metadata_string",
    "suggestions_in",
    "template_metadata",
]

_GSMA_ACTIONS = {
    "dialerAction": "dialer_action",
    "urlAction": "url_action",
    "mapAction": "map_action",
    "calendarAction": "calendar_action",
    "composeAction": "compose_action",
    "deviceAction": "device_action",
    "settingsAction": "settings_action",
}
_GOOGLE_ACTIONS = {
    "dialAction": "dialer_action",
    "openUrlAction": "url_action",
    "viewLocationAction": "map_action",
    "shareLocationAction": "map_action",
    "createCalendarEventAction": "calendar_action",
    "composeAction": "compose_action",
}


@dataclass(frozen=True, slots=True)
class FoundSuggestion:
    """One suggestion: reply or action, its label and postback, where it sits."""

    kind: str
    text: str
    postback: str
    suggestion_type: str
    card_index: int | None
    index: int


def _gsma(item: dict[str, Any], card: int | None, index: int) -> FoundSuggestion | None:
    kind = "reply" if "reply" in item else "action"
    body = item.get(kind)
    if not isinstance(body, dict):
        return None
    postback = body.get("postback")
    data = postback.get("data", "") if isinstance(postback, dict) else ""
    stype = "reply"
    if kind == "action":
        stype = next((v for k, v in _GSMA_ACTIONS.items() if k in body), "action")
    return FoundSuggestion(kind, str(body.get("displayText", "")), str(data), stype, card, index)


def _google(item: dict[str, Any], card: int | None, index: int) -> FoundSuggestion | None:
    kind = "reply" if "reply" in item else "action"
    body = item.get(kind)
    if not isinstance(body, dict):
        return None
    stype = "reply"
    if kind == "action":
        stype = next((v for k, v in _GOOGLE_ACTIONS.items() if k in body), "action")
    text = str(body.get("text", ""))
    return FoundSuggestion(kind, text, str(body.get("postbackData", "")), stype, card, index)


def _lists(content: dict[str, Any], fmt: int) -> list[tuple[int | None, list[Any]]]:
    out: list[tuple[int | None, list[Any]]] = []
    if fmt == FMT_GOOGLE:
        card = content.get("richCard") or {}
        standalone = card.get("standaloneCard")
        if isinstance(standalone, dict):
            out.append((0, (standalone.get("cardContent") or {}).get("suggestions") or []))
        carousel = card.get("carouselCard")
        if isinstance(carousel, dict):
            for i, c in enumerate(carousel.get("cardContents") or []):
                out.append((i, (c or {}).get("suggestions") or []))
        out.append((None, content.get("suggestions") or []))
        return out
    message = (content.get("richcardMessage") or {}).get("message") or {}
    single = message.get("generalPurposeCard")
    if isinstance(single, dict):
        out.append((0, (single.get("content") or {}).get("suggestions") or []))
    carousel = message.get("generalPurposeCardCarousel")
    if isinstance(carousel, dict):
        for i, c in enumerate(carousel.get("content") or []):
            out.append((i, (c or {}).get("suggestions") or []))
    out.append((None, (content.get("suggestedChipList") or {}).get("suggestions") or []))
    return out


def suggestions_in(content: dict[str, Any], fmt: int) -> list[FoundSuggestion]:
    """Every suggestion of a message content: card suggestions first, then chips."""
    reader = _google if fmt == FMT_GOOGLE else _gsma
    found = []
    for card, items in _lists(content, fmt):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                s = reader(item, card, i)
                if s is not None:
                    found.append(s)
    return found


def find_suggestion(
    msg: StoredMessage, card_index: int | None, index: int
) -> FoundSuggestion | None:
    """The suggestion at ``card_index``/``index`` of a stored bot message, or ``None``."""
    for s in suggestions_in(msg.content_json(), msg.fmt):
        if s.card_index == card_index and s.index == index:
            return s
    return None


def template_metadata(
    msg: StoredMessage, found: FoundSuggestion, template_kind: str
) -> dict[str, Any]:
    """Dotgo's template metadata for a tap on a template message (seed 002 2.5.3.1.2)."""
    template_type = {"text": "text_message", "rich_card": "rich_card"}.get(
        template_kind, "carousel"
    )
    meta: dict[str, Any] = {
        "suggestionType": found.suggestion_type,
        "templateType": template_type,
    }
    if template_type == "carousel" and found.card_index is not None:
        meta["cardIndex"] = found.card_index
    meta["suggestionIndex"] = found.index
    meta["msgId"] = msg.msg_id
    meta["a2pMsgDate"] = datetime.fromtimestamp(msg.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[
        :-3
    ]
    meta["templateCode"] = msg.template
    return meta


def metadata_string(meta: dict[str, Any]) -> str:
    """Template metadata as the GSMA flavour sends it: a JSON string (``{ "k": v, ... }``)."""
    return "{ " + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in meta.items()) + " }"
