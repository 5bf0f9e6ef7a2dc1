"""Reading a Google RBM ``AgentMessage`` body: ``{"contentMessage": {...}, "ttl"|"expireTime"}``.

Used by Google-flavoured surfaces (Dotgo's Google API now; Google RBM direct later).
:func:`user_message_content` is the other way: a user's message as the content of a Google
``UserMessage`` webhook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.events import UserMessageEvent
from .checks import (
    MAX_CHIPS,
    MAX_GOOGLE_TEXT,
    MAX_POSTBACK,
    MAX_SUGGESTION_TEXT,
    WireError,
    check_card,
    check_carousel,
    check_expiry,
    check_length,
    check_suggestion_list,
    one_content_member,
)

__all__ = ["CONTENT_KINDS", "GoogleSend", "parse_google_send", "user_message_content"]

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


def _check_suggestion_texts(body: dict[str, Any], where: str) -> None:
    check_length(body.get("text"), MAX_SUGGESTION_TEXT, f"{where}.text")
    check_length(body.get("postbackData"), MAX_POSTBACK, f"{where}.postbackData")


def _check_suggestions(items: object, path: str, high: int) -> None:
    check_suggestion_list(items, path, high, _check_suggestion_texts)


def _check_card(card: object, path: str) -> None:
    check_card(card, path, _check_suggestions)


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
            check_carousel(
                value["carouselCard"].get("cardContents"),
                "contentMessage.richCard.carouselCard.cardContents",
                _check_card,
            )
        else:
            raise WireError("type", "contentMessage.richCard needs standaloneCard or carouselCard")


def parse_google_send(body: Any, now: float) -> GoogleSend:
    """Check a Google send body; raises :class:`~rcskit.emulator.bodies.checks.WireError`."""
    if not isinstance(body, dict):
        raise WireError("json", "the body must be a JSON object")
    content = body.get("contentMessage")
    if not isinstance(content, dict):
        raise WireError("json", "contentMessage (an object) is required")
    member = one_content_member(content, CONTENT_KINDS, "contentMessage")
    kind = CONTENT_KINDS[member]
    _check_content(kind, member, content)
    if "suggestions" in content:
        _check_suggestions(content["suggestions"], "contentMessage.suggestions", MAX_CHIPS)
    return GoogleSend(content=content, kind=kind, expire_at=check_expiry(body, now))


def user_message_content(event: UserMessageEvent) -> dict[str, Any]:
    """The content of a user's message in a Google ``UserMessage`` (``text``, ``userFile`` or
    ``location``), as Google-format webhooks carry it."""
    if event.text is not None:
        return {"text": event.text}
    if event.file is not None:
        return {
            "userFile": {
                "payload": {
                    "mimeType": event.file.mime_type,
                    "fileSizeBytes": event.file.size,
                    "fileUri": event.file.url,
                    "fileName": event.file.name,
                }
            }
        }
    if event.location is not None:
        return {
            "location": {
                "latitude": event.location.latitude,
                "longitude": event.location.longitude,
            }
        }
    return {}
