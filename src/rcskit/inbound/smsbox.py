"""SMSBOX RCS webhooks (seed 004; data shapes from providers.md section 1.5).

Every body is one envelope ``{"data": {...}, "requestType", "agentId", "agentName", "clientId",
"msisdn", "requestProd", "requestSubProd", "requestDate", "requestUUID"}``; dispatch is on
``requestType`` (``data.type`` is ``"event"`` for both typing and statuses):

==============================  ==========================================================
``incoming_message_text``       ``data.text``                                -> UserMessage
``incoming_message_file``       ``data.payload{mimeType, fileSizeBytes,
                                fileName, fileUri}``                         -> UserMessage
``incoming_message_location``   ``data.latitude``, ``data.longitude``         -> UserMessage
``incoming_message_reply``      ``data.text``, ``data.postbackData``          -> SuggestionResponse
``incoming_message_action``     ``data.text``, ``data.postbackData``          -> SuggestionResponse
``incoming_event``              ``data.eventType`` ``IS_TYPING``              -> Typing
``status_update``               ``data.eventType`` + top-level ``reference``  -> StatusEvent
==============================  ==========================================================

``requestUUID`` is the event id (de-duplication); ``data.timestamp`` is Unix seconds as a
string. SMSBOX signs nothing: its only documented protection is a source-IP allow-list
(:data:`rcskit.inbound.verify.SMSBOX_WEBHOOK_IPS`). It expects a 200 with the body ``OK``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import UnknownPayload
from ..events import (
    Event,
    Location,
    MessageStatus,
    StatusEvent,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from ..message import Text
from .body import (
    MalformedPayload,
    contact_of,
    member,
    optional_float,
    optional_str,
    parse_time,
    required_str,
)
from .google import user_file

__all__ = ["REQUEST_TYPES", "STATUS_WORDS", "parse"]

STATUS_WORDS: dict[str, tuple[MessageStatus, str | None]] = {
    "SENT": (MessageStatus.SENT, None),
    "DELIVERED": (MessageStatus.DELIVERED, None),
    "READ": (MessageStatus.DISPLAYED, None),
    "REJECTED": (MessageStatus.FAILED, "rejected: the device may not be RCS compatible"),
    "FAILED": (MessageStatus.FAILED, "unreachable on this channel"),
    "EXPIRED": (MessageStatus.FAILED, "expired: the validity elapsed before delivery"),
}
"""SMSBOX ``status_update`` event types, their status and the cause SMSBOX documents."""


def parse(payload: Mapping[str, Any], *, provider: str = "smsbox") -> list[Event]:
    """Parse one SMSBOX webhook body into events (one per body).

    >>> body = {"requestType": "incoming_message_text", "msisdn": "+33612345678",
    ...         "requestUUID": "u1", "data": {"type": "text", "text": "hi"}}
    >>> parse(body)[0].text
    'hi'
    """
    request_type = required_str(payload, "requestType", "$")
    reader = REQUEST_TYPES.get(request_type.strip().lower())
    if reader is None:
        raise UnknownPayload(f"unknown SMSBOX requestType {request_type!r}")
    data = member(payload, "data", "$")
    if data is None:
        raise MalformedPayload("$.data is missing")
    agent = optional_str(payload, "agentId", "$")
    common = {
        "provider": provider,
        "event_id": optional_str(payload, "requestUUID", "$"),
        "contact": contact_of(payload.get("msisdn"), None, "$.msisdn"),
        "timestamp": parse_time(data.get("timestamp")) or parse_time(payload.get("requestDate")),
        "agent_id": agent,
        "raw": dict(payload),
    }
    return [reader(payload, data, common)]


def _text(_: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
    return UserMessage(content=Text(required_str(data, "text", "$.data")), **common)


def _file(_: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
    payload = member(data, "payload", "$.data")
    if payload is None:
        raise MalformedPayload("$.data.payload is missing")
    thumbnail = member(data, "thumbnail", "$.data") or {}
    return UserMessage(content=user_file(payload, thumbnail, "$.data.payload"), **common)


def _location(_: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
    lat = optional_float(data, "latitude", "$.data")
    lon = optional_float(data, "longitude", "$.data")
    if lat is None or lon is None:
        raise MalformedPayload("$.data needs 'latitude' and 'longitude'")
    return UserMessage(content=Location(latitude=lat, longitude=lon), **common)


def _suggestion(
    kind: str,
) -> Callable[[Mapping[str, Any], Mapping[str, Any], dict[str, Any]], Event]:
    def read(_: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
        text = optional_str(data, "text", "$.data")
        postback = optional_str(data, "postbackData", "$.data")
        if text is None and postback is None:
            raise MalformedPayload("$.data needs 'text' or 'postbackData'")
        return SuggestionResponse(
            kind="action" if kind == "action" else "reply",
            text=text,
            postback_data=postback,
            **common,
        )

    return read


def _typing(_: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
    word = optional_str(data, "eventType", "$.data") or "IS_TYPING"
    if word.strip().upper() != "IS_TYPING":
        raise UnknownPayload(f"unknown SMSBOX incoming_event type {word!r}")
    return Typing(active=True, **common)


def _status(payload: Mapping[str, Any], data: Mapping[str, Any], common: dict[str, Any]) -> Event:
    word = required_str(data, "eventType", "$.data")
    found = STATUS_WORDS.get(word.strip().upper())
    if found is None:
        raise UnknownPayload(f"unknown SMSBOX status {word!r}")
    status, reason = found
    return StatusEvent(
        message_id=optional_str(payload, "reference", "$"),
        status=status,
        provider_status=word,
        reason=reason,
        **common,
    )


REQUEST_TYPES: dict[
    str, Callable[[Mapping[str, Any], Mapping[str, Any], dict[str, Any]], Event]
] = {
    "incoming_message_text": _text,
    "incoming_message_file": _file,
    "incoming_message_location": _location,
    "incoming_message_reply": _suggestion("reply"),
    "incoming_message_action": _suggestion("action"),
    "incoming_event": _typing,
    "status_update": _status,
}
"""The seven SMSBOX webhook request types and their readers."""
