"""Reading a GSMA MaaP send body: ``{"RCSMessage": {...}, "messageContact": {...}}``.

Used by every GSMA-flavoured surface (Dotgo now; Orange and generic MaaP later). Checks the
structure, the single content member, the user's number, the content limits (see
:mod:`rcskit.emulator.bodies.checks`) and the expiry fields. :func:`user_message_content` is
the other way: a user's message as the content member of a GSMA ``message`` webhook.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.events import UserMessageEvent
from ..core.phones import is_e164
from .checks import (
    MAX_CHIPS,
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

__all__ = [
    "CONTENT_KINDS",
    "GsmaSend",
    "check_suggestions",
    "parse_gsma_send",
    "user_message_content",
]

CONTENT_KINDS = {
    "textMessage": "text",
    "fileMessage": "file",
    "audioMessage": "audio",
    "geolocationPushMessage": "geolocation",
    "richcardMessage": "richcard",
    "templateMessage": "template",
    "isTyping": "typing",
}
"""GSMA ``RCSMessage`` content members and the kind names the emulator uses."""


@dataclass(frozen=True, slots=True)
class GsmaSend:
    """A checked GSMA send: to whom, the ``RCSMessage`` object, its kind and expiry."""

    phone: str
    rcs_message: dict[str, Any]
    kind: str
    expire_at: float | None


def _check_suggestion_texts(body: dict[str, Any], where: str) -> None:
    check_length(body.get("displayText"), MAX_SUGGESTION_TEXT, f"{where}.displayText")
    postback = body.get("postback")
    if isinstance(postback, dict):
        check_length(postback.get("data"), MAX_POSTBACK, f"{where}.postback.data")


def check_suggestions(items: object, path: str, high: int) -> None:
    """Check a list of GSMA suggestions (``reply`` or ``action`` each) against the limits."""
    check_suggestion_list(items, path, high, _check_suggestion_texts)


def _check_card(card: object, path: str) -> None:
    check_card(card, path, check_suggestions)


def _check_content(kind: str, rcs: dict[str, Any]) -> None:
    value = rcs[next(k for k, v in CONTENT_KINDS.items() if v == kind)]
    if kind == "text":
        if not isinstance(value, str) or not value:
            raise WireError("type", "RCSMessage.textMessage must be a non-empty string")
    elif kind in ("file", "audio"):
        if not isinstance(value, dict) or not isinstance(value.get("fileUrl"), str):
            raise WireError("type", f"RCSMessage.{kind}Message needs a fileUrl string")
    elif kind == "geolocation":
        if not isinstance(value, dict) or not isinstance(value.get("pos"), str):
            raise WireError("type", "RCSMessage.geolocationPushMessage needs a pos string")
    elif kind == "typing":
        if value not in ("active", "idle"):
            raise WireError("type", f"RCSMessage.isTyping {value!r} must be 'active' or 'idle'")
        if "suggestedChipList" in rcs:
            raise WireError("type", "an isTyping indication carries no suggestedChipList")
    elif kind == "template":
        if not isinstance(value, dict) or not isinstance(value.get("templateCode"), str):
            raise WireError("type", "RCSMessage.templateMessage needs a templateCode string")
    elif kind == "richcard":
        message = value.get("message") if isinstance(value, dict) else None
        if not isinstance(message, dict):
            raise WireError("type", "RCSMessage.richcardMessage needs a message object")
        if isinstance(message.get("generalPurposeCard"), dict):
            _check_card(
                message["generalPurposeCard"].get("content"),
                "RCSMessage.richcardMessage.message.generalPurposeCard.content",
            )
        elif isinstance(message.get("generalPurposeCardCarousel"), dict):
            check_carousel(
                message["generalPurposeCardCarousel"].get("content"),
                "RCSMessage.richcardMessage.message.generalPurposeCardCarousel.content",
                _check_card,
            )
        else:
            raise WireError(
                "type",
                "RCSMessage.richcardMessage.message needs generalPurposeCard or "
                "generalPurposeCardCarousel",
            )


def parse_gsma_send(body: Any, now: float) -> GsmaSend:
    """Check a GSMA send body; raises :class:`~rcskit.emulator.bodies.checks.WireError`."""
    if not isinstance(body, dict):
        raise WireError("json", "the body must be a JSON object")
    rcs = body.get("RCSMessage")
    if not isinstance(rcs, dict):
        raise WireError("json", "RCSMessage (an object) is required")
    contact = body.get("messageContact")
    phone = contact.get("userContact") if isinstance(contact, dict) else None
    if not is_e164(phone):
        raise WireError(
            "phone", f"messageContact.userContact {phone!r} is not an E.164 number (+ and digits)"
        )
    kind = CONTENT_KINDS[one_content_member(rcs, CONTENT_KINDS, "RCSMessage")]
    _check_content(kind, rcs)
    if "suggestedChipList" in rcs:
        chips = rcs["suggestedChipList"]
        if not isinstance(chips, dict):
            raise WireError("json", "RCSMessage.suggestedChipList must be an object")
        check_suggestions(
            chips.get("suggestions"), "RCSMessage.suggestedChipList.suggestions", MAX_CHIPS
        )
    expire_at = check_expiry(body, now)
    assert isinstance(phone, str)
    return GsmaSend(phone=phone, rcs_message=rcs, kind=kind, expire_at=expire_at)


def user_message_content(event: UserMessageEvent) -> dict[str, Any]:
    """The ``RCSMessage`` content member of a user's message (``textMessage``,
    ``fileMessage`` or ``geolocationPushMessage``), as GSMA webhooks carry it."""
    if event.text is not None:
        return {"textMessage": event.text}
    if event.file is not None:
        return {
            "fileMessage": {
                "fileUrl": event.file.url,
                "fileName": event.file.name,
                "fileMIMEType": event.file.mime_type,
                "fileSize": event.file.size,
            }
        }
    if event.location is not None:
        push: dict[str, Any] = {"pos": f"{event.location.latitude} {event.location.longitude}"}
        if event.location.label:
            push["label"] = event.location.label
        return {"geolocationPushMessage": push}
    return {}
