"""GSMA MaaP webhooks (FNW.11 ``WebhookPayload``): generic MaaP, Dotgo GSMA flavour, Orange.

The body is ``{"event": ..., "RCSMessage": {...}, "messageContact": {"userContact" | "chatId"}}``
(``fileStatus`` carries a top-level ``file`` instead of ``RCSMessage``). The seven events of
seed 003 are read: ``message``, ``isTyping``, ``messageStatus``, ``fileStatus``, ``response``,
``alias``, ``newUser``; plus Dotgo's (seed 002 section 2.5) ``ttl_expiration_revoked`` /
``ttl_expiration_revoke_failed`` statuses and template metadata on responses, and
``sharedData`` (device specifics) answers.

A body without ``event`` has it inferred from its content, as Samsung's MaaP SDK does
(``status`` -> messageStatus, ``isTyping`` -> isTyping, ``suggestedResponse`` -> response or
newUser, a content member -> message, both contact forms and nothing else -> alias).
Unknown members are kept (on ``Event.raw``), never rejected.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidMessage, UnknownPayload
from ..events import (
    Alias,
    DeviceSpecifics,
    Event,
    FileStatus,
    Location,
    MessageStatus,
    NewUser,
    StatusEvent,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from ..message import Audio, Contact, File, Text
from .body import (
    MalformedPayload,
    contact_of,
    member,
    optional_float,
    optional_int,
    optional_str,
    parse_time,
    required_str,
)

__all__ = [
    "EVENTS",
    "NEW_USER_POSTBACK",
    "STATUS_WORDS",
    "infer_event",
    "parse",
    "template_metadata",
]

NEW_USER_POSTBACK = "new_bot_user_initiation"
"""The postback data a client sends with the automatic first reply (``newUser``)."""

STATUS_WORDS: dict[str, MessageStatus] = {
    "pending": MessageStatus.PENDING,
    "sent": MessageStatus.SENT,
    "delivered": MessageStatus.DELIVERED,
    "displayed": MessageStatus.DISPLAYED,
    "read": MessageStatus.DISPLAYED,
    "failed": MessageStatus.FAILED,
    "cancelled": MessageStatus.CANCELLED,
    "canceled": MessageStatus.CANCELLED,
    "revoked": MessageStatus.REVOKED,
    "ttl_expiration_revoked": MessageStatus.TTL_EXPIRATION_REVOKED,
    "ttl_expiration_revoke_failed": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED,
    "ttl_expiration_revoked_failed": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED,
}
"""GSMA status words (lower case) to :class:`~rcskit.events.MessageStatus`."""

_CONTENT_KEYS = ("textMessage", "fileMessage", "audioMessage", "geolocationPushMessage")
_LOCATION_KEYS = ("userLocation",)


def parse(payload: Mapping[str, Any], *, provider: str = "maap") -> list[Event]:
    """Parse one GSMA webhook body into events (one per body).

    Raises :class:`~rcskit.inbound.MalformedPayload` when a member has the wrong shape and
    :class:`~rcskit.errors.UnknownPayload` for an event type rcskit does not know.

    >>> body = {"RCSMessage": {"msgId": "m1", "textMessage": "hi"},
    ...         "messageContact": {"userContact": "+14251234567"}, "event": "message"}
    >>> parse(body)[0].text
    'hi'
    """
    name = payload.get("event")
    if name is None:
        name = infer_event(payload)
    if not isinstance(name, str):
        raise MalformedPayload(f"$.event is a {type(name).__name__}; expected a string")
    reader = EVENTS.get(name.strip().lower())
    if reader is None:
        raise UnknownPayload(f"unknown GSMA webhook event {name!r}")
    return [reader(payload, provider)]


def infer_event(payload: Mapping[str, Any]) -> str:
    """Tell the event of a body that has no ``event`` member, from its content."""
    rcs = member(payload, "RCSMessage", "$")
    if rcs is None:
        if isinstance(payload.get("file"), dict):
            return "fileStatus"
        raise UnknownPayload("not a GSMA webhook: no 'event', 'RCSMessage' or 'file' member")
    if "status" in rcs:
        return "messageStatus"
    if "isTyping" in rcs:
        return "isTyping"
    if "sharedData" in rcs:
        return "response"
    if "suggestedResponse" in rcs:
        _, _, data, _ = _suggested(rcs)
        return "newUser" if data == NEW_USER_POSTBACK else "response"
    if any(k in rcs for k in (*_CONTENT_KEYS, *_LOCATION_KEYS)):
        return "message"
    contact = member(payload, "messageContact", "$") or {}
    if contact.get("userContact") and contact.get("chatId"):
        return "alias"
    raise UnknownPayload("cannot tell the GSMA event: no 'event' member and no known content")


# ---------------------------------------------------------------- common parts


def _rcs(payload: Mapping[str, Any]) -> dict[str, Any]:
    rcs = member(payload, "RCSMessage", "$")
    if rcs is None:
        raise MalformedPayload("$.RCSMessage is missing")
    return rcs


def _common(payload: Mapping[str, Any], provider: str, rcs: Mapping[str, Any]) -> dict[str, Any]:
    contact = member(payload, "messageContact", "$") or {}
    return {
        "provider": provider,
        "contact": contact_of(
            contact.get("userContact"), contact.get("chatId"), "$.messageContact"
        ),
        "timestamp": parse_time(rcs.get("timestamp")),
        "raw": dict(payload),
    }


def _message_id(rcs: Mapping[str, Any]) -> str | None:
    return optional_str(rcs, "msgId", "$.RCSMessage")


def _suggested(rcs: Mapping[str, Any]) -> tuple[str | None, str | None, str | None, Any]:
    """(kind, displayText, postback data, postback metadata) of ``suggestedResponse``."""
    path = "$.RCSMessage.suggestedResponse"
    suggested = member(rcs, "suggestedResponse", "$.RCSMessage") or {}
    response = member(suggested, "response", path) or {}
    for kind in ("reply", "action"):
        chosen = member(response, kind, f"{path}.response")
        if chosen is not None:
            inner = f"{path}.response.{kind}"
            postback = member(chosen, "postback", inner) or {}
            return (
                kind,
                optional_str(chosen, "displayText", inner),
                optional_str(postback, "data", f"{inner}.postback"),
                postback.get("metadata"),
            )
    raise MalformedPayload(f"{path}.response has neither 'reply' nor 'action'")


def template_metadata(value: Any, path: str) -> dict[str, Any] | None:
    """Dotgo's template metadata as a dict: a JSON string (GSMA) or an object (Google)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return {"unparsed": value}
        return decoded if isinstance(decoded, dict) else {"unparsed": value}
    raise MalformedPayload(f"{path} is a {type(value).__name__}; expected a JSON object")


def _reason(rcs: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """A failure's reason text and code: ``reason`` as text or ``{"text", "code"}``, ``code``."""
    path = "$.RCSMessage"
    code = optional_str(rcs, "code", path) or optional_str(rcs, "errorCode", path)
    reason_value = rcs.get("reason")
    if isinstance(reason_value, dict):
        return (
            optional_str(reason_value, "text", f"{path}.reason"),
            code or optional_str(reason_value, "code", f"{path}.reason"),
        )
    return optional_str(rcs, "reason", path), code


def _built(factory: Callable[..., Any], path: str, **fields: Any) -> Any:
    """Build a neutral content model; its validation errors become MalformedPayload."""
    try:
        return factory(**fields)
    except InvalidMessage as err:
        raise MalformedPayload(f"{path}: {err}") from None


# ---------------------------------------------------------------- the events


def _message(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = _rcs(payload)
    if "suggestedResponse" in rcs or "sharedData" in rcs:
        return _response(payload, provider)
    common = _common(payload, provider, rcs)
    msg_id = _message_id(rcs)
    return UserMessage(event_id=msg_id, message_id=msg_id, content=_content(rcs), **common)


def _content(rcs: Mapping[str, Any]) -> Any:
    base = "$.RCSMessage"
    if "textMessage" in rcs:
        return _built(Text, f"{base}.textMessage", text=required_str(rcs, "textMessage", base))
    file_msg = member(rcs, "fileMessage", base)
    if file_msg is not None:
        p = f"{base}.fileMessage"
        return _built(
            File,
            p,
            url=required_str(file_msg, "fileUrl", p),
            name=optional_str(file_msg, "fileName", p),
            mime_type=optional_str(file_msg, "fileMIMEType", p),
            size=optional_int(file_msg, "fileSize", p),
            thumbnail_url=optional_str(file_msg, "thumbnailUrl", p),
            thumbnail_name=optional_str(file_msg, "thumbnailFileName", p),
            thumbnail_mime_type=optional_str(file_msg, "thumbnailMIMEType", p),
            thumbnail_size=optional_int(file_msg, "thumbnailFileSize", p),
        )
    audio = member(rcs, "audioMessage", base)
    if audio is not None:
        p = f"{base}.audioMessage"
        return _built(
            Audio,
            p,
            url=required_str(audio, "fileUrl", p),
            name=optional_str(audio, "fileName", p),
            mime_type=optional_str(audio, "fileMIMEType", p),
            size=optional_int(audio, "fileSize", p),
            playing_length=optional_int(audio, "playingLength", p),
        )
    for key in ("geolocationPushMessage", *_LOCATION_KEYS):
        geo = member(rcs, key, base)
        if geo is not None:
            return _location(geo, f"{base}.{key}")
    raise MalformedPayload(
        f"{base} has no content (textMessage, fileMessage, audioMessage or geolocationPushMessage)"
    )


def _location(geo: Mapping[str, Any], path: str) -> Location:
    """A location from ``pos`` ("lat lon", WGS 84) or ``latitude``/``longitude`` members."""
    label = optional_str(geo, "label", path)
    pos = optional_str(geo, "pos", path)
    if pos is not None:
        parts = pos.replace(",", " ").split()
        try:
            lat, lon = (float(p) for p in parts)
        except ValueError:
            raise MalformedPayload(
                f"{path}.pos is {pos!r}; expected 'latitude longitude' in decimal degrees"
            ) from None
    else:
        lat_v = optional_float(geo, "latitude", path)
        lon_v = optional_float(geo, "longitude", path)
        if lat_v is None or lon_v is None:
            raise MalformedPayload(f"{path} has neither 'pos' nor 'latitude' and 'longitude'")
        lat, lon = lat_v, lon_v
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise MalformedPayload(f"{path}: ({lat}, {lon}) is outside WGS 84 ranges")
    return Location(latitude=lat, longitude=lon, label=label)


def _response(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = _rcs(payload)
    common = _common(payload, provider, rcs)
    msg_id = _message_id(rcs)
    shared = member(rcs, "sharedData", "$.RCSMessage")
    if shared is not None:
        return DeviceSpecifics(event_id=msg_id, message_id=msg_id, data=shared, **common)
    kind, text, data, raw_meta = _suggested(rcs)
    metadata = template_metadata(
        raw_meta, f"$.RCSMessage.suggestedResponse.response.{kind}.postback.metadata"
    )
    in_reply_to = metadata.get("msgId") if metadata else None
    return SuggestionResponse(
        event_id=msg_id,
        message_id=msg_id,
        kind="action" if kind == "action" else "reply",
        text=text,
        postback_data=data,
        metadata=metadata,
        in_reply_to=in_reply_to if isinstance(in_reply_to, str) else None,
        **common,
    )


def _new_user(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = _rcs(payload)
    common = _common(payload, provider, rcs)
    msg_id = _message_id(rcs)
    text = data = None
    if "suggestedResponse" in rcs:
        _, text, data, _ = _suggested(rcs)
    return NewUser(event_id=msg_id, message_id=msg_id, text=text, postback_data=data, **common)


def _is_typing(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = _rcs(payload)
    value = required_str(rcs, "isTyping", "$.RCSMessage")
    state = value.strip().lower()
    if state not in ("active", "idle"):
        raise MalformedPayload(f"$.RCSMessage.isTyping is {value!r}; expected 'active' or 'idle'")
    return Typing(
        event_id=_message_id(rcs), active=state == "active", **_common(payload, provider, rcs)
    )


def _message_status(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = _rcs(payload)
    word = required_str(rcs, "status", "$.RCSMessage")
    status = STATUS_WORDS.get(word.strip().lower())
    if status is None:
        raise UnknownPayload(f"unknown GSMA message status {word!r}")
    reason, code = _reason(rcs)
    return StatusEvent(
        message_id=_message_id(rcs),
        status=status,
        provider_status=word,
        reason=reason,
        code=code,
        **_common(payload, provider, rcs),
    )


def _file_status(payload: Mapping[str, Any], provider: str) -> Event:
    file = member(payload, "file", "$")
    if file is None:
        raise MalformedPayload("$.file is missing")
    p = "$.file"
    contact = member(payload, "messageContact", "$") or {}
    return FileStatus(
        provider=provider,
        contact=contact_of(contact.get("userContact"), contact.get("chatId"), "$.messageContact"),
        file_id=required_str(file, "fileId", p),
        status=required_str(file, "status", p),
        url=optional_str(file, "fileUrl", p),
        size=optional_int(file, "fileSize", p),
        validity=optional_str(file, "validity", p),
        raw=dict(payload),
    )


def _alias(payload: Mapping[str, Any], provider: str) -> Event:
    rcs = member(payload, "RCSMessage", "$") or {}
    common = _common(payload, provider, rcs)
    contact: Contact | None = common["contact"]
    if contact is None or contact.msisdn is None or contact.chat_id is None:
        raise MalformedPayload("an alias event needs both messageContact.userContact and chatId")
    return Alias(
        event_id=_message_id(rcs), msisdn=contact.msisdn, chat_id=contact.chat_id, **common
    )


EVENTS: dict[str, Callable[[Mapping[str, Any], str], Event]] = {
    "message": _message,
    "istyping": _is_typing,
    "messagestatus": _message_status,
    "filestatus": _file_status,
    "response": _response,
    "alias": _alias,
    "newuser": _new_user,
}
"""The GSMA webhook events (lower-cased names) and their readers."""
