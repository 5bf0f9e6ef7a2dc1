"""Google-format webhooks: Google RBM direct and the Dotgo Google flavour (seed 002 section 3.8).

Three bodies, each plain or wrapped in a Pub/Sub-style envelope ``{"message": {"data":
"<base64 JSON>", "messageId", "publishTime", "attributes"}, "subscription"}``:

- **UserMessage** ``{senderPhoneNumber, messageId, sendTime, agentId}`` plus one of ``text``,
  ``userFile``, ``location`` or ``suggestionResponse`` (with Dotgo's template ``metadata``).
- **UserEvent** ``{senderPhoneNumber, eventType, eventId, messageId?, sendTime, agentId}`` with
  ``eventType`` ``DELIVERED``, ``READ``, ``IS_TYPING``, ``SUBSCRIBE`` or ``UNSUBSCRIBE``.
- **ServerEvent** ``{phoneNumber, messageId, eventType, eventId, sendTime, agentId}`` with
  ``TTL_EXPIRATION_REVOKED`` or ``TTL_EXPIRATION_REVOKE_FAILED`` (Dotgo prints
  ``TTL_EXPIRATION_REVOKED_FAILED``; both are read).

Google also POSTs a set-up handshake ``{"clientToken", "secret"}`` when the webhook is
configured: it is not an event. :func:`is_handshake` recognises it and :func:`handshake_secret`
checks the client token (constant time) and returns the secret to answer with, as the plain
text body of a 200 (developers.google.com, RBM guides, "Webhooks").
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidSignature, UnknownPayload
from ..events import (
    Event,
    Location,
    MessageStatus,
    StatusEvent,
    Subscription,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from ..message import Audio, File, Text
from .body import (
    MalformedPayload,
    contact_of,
    load_json,
    member,
    optional_float,
    optional_int,
    optional_str,
    parse_time,
    required_str,
)
from .gsma import template_metadata

__all__ = [
    "EVENT_TYPES",
    "WEBHOOK_TYPES",
    "WEBHOOK_TYPE_HEADER",
    "decode_envelope",
    "envelope_data",
    "handshake_secret",
    "is_envelope",
    "is_handshake",
    "parse",
    "user_file",
]

EVENT_TYPES: dict[str, MessageStatus] = {
    "SENT": MessageStatus.SENT,
    "DELIVERED": MessageStatus.DELIVERED,
    "READ": MessageStatus.DISPLAYED,
    "DISPLAYED": MessageStatus.DISPLAYED,
    "FAILED": MessageStatus.FAILED,
    "REVOKED": MessageStatus.REVOKED,
    "CANCELLED": MessageStatus.CANCELLED,
    "TTL_EXPIRATION_REVOKED": MessageStatus.TTL_EXPIRATION_REVOKED,
    "TTL_EXPIRATION_REVOKE_FAILED": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED,
    "TTL_EXPIRATION_REVOKED_FAILED": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED,
}
"""Google/Dotgo ``eventType`` values that are message statuses."""


def is_envelope(payload: Mapping[str, Any]) -> bool:
    """Whether the body is a Pub/Sub-style envelope (``message.data`` is a string)."""
    message = payload.get("message")
    return isinstance(message, dict) and isinstance(message.get("data"), str)


def envelope_data(payload: Mapping[str, Any]) -> bytes:
    """The base64-decoded ``message.data`` bytes of an envelope (what Google signs)."""
    data = payload["message"]["data"]
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except (binascii.Error, ValueError):
            raise MalformedPayload("$.message.data is not base64") from None


def decode_envelope(payload: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """The decoded ``message.data`` bytes and the JSON object they hold (read within
    :func:`rcskit.inbound.body.load_json`'s bounds)."""
    decoded = envelope_data(payload)
    try:
        inner = load_json(decoded)
    except MalformedPayload as err:
        raise MalformedPayload(f"$.message.data does not decode to JSON ({err.reason})") from None
    return decoded, inner


def is_handshake(payload: Mapping[str, Any]) -> bool:
    """Whether the body is Google's webhook set-up handshake ``{"clientToken", "secret"}``."""
    return isinstance(payload.get("clientToken"), str) and isinstance(payload.get("secret"), str)


def handshake_secret(payload: Mapping[str, Any], client_token: str | None) -> str:
    """The ``secret`` to answer a handshake with, after checking ``clientToken``.

    ``client_token`` ``None`` skips the check (a local set-up without a configured token).
    A mismatch raises :class:`~rcskit.errors.InvalidSignature` (compared in constant time;
    neither token appears in the message).
    """
    if not is_handshake(payload):
        raise MalformedPayload("not a webhook handshake: 'clientToken' and 'secret' are needed")
    if client_token is not None and not hmac.compare_digest(
        str(payload["clientToken"]).encode(), client_token.encode()
    ):
        raise InvalidSignature("webhook handshake: clientToken does not match the configured one")
    return str(payload["secret"])


WEBHOOK_TYPE_HEADER = "X-Goog-Webhook-Type"
"""The header naming what a Google webhook carries (Google release notes, July 13 2026)."""

WEBHOOK_TYPES: dict[str, str] = {
    "USER_MESSAGE": "message",
    "USER_EVENT": "event",
    "SERVER_EVENT": "event",
}
"""``X-Goog-Webhook-Type`` values and the body each one announces. The values are read
case-insensitively; a value not listed here (Google may add platform events) is kept on the
event and the body is read by its members, as without the header."""


def parse(
    payload: Mapping[str, Any], *, provider: str = "google", webhook_type: str | None = None
) -> list[Event]:
    """Parse one Google-format body (plain or enveloped) into events.

    ``webhook_type`` is the ``X-Goog-Webhook-Type`` header: when it names a known kind
    (:data:`WEBHOOK_TYPES`) the body is read as that kind, and a body that is not one is
    :class:`MalformedPayload`; it is kept on every event's ``webhook_type``.

    >>> parse({"senderPhoneNumber": "+14251234567", "messageId": "m1", "text": "hi"})[0].text
    'hi'
    """
    envelope: dict[str, Any] | None = None
    body: Mapping[str, Any] = payload
    if is_envelope(payload):
        _, body = decode_envelope(payload)
        envelope = dict(payload)
    if is_handshake(body):
        raise UnknownPayload(
            "a Google webhook set-up handshake, not an event: answer it with handshake_secret()"
        )
    common: dict[str, Any] = {
        "provider": provider,
        "contact": contact_of(
            body.get("senderPhoneNumber") or body.get("phoneNumber"), None, "$.senderPhoneNumber"
        ),
        "timestamp": parse_time(body.get("sendTime")),
        "agent_id": _agent(body),
        "raw": dict(body),
        "envelope": envelope,
        "webhook_type": webhook_type,
    }
    kind = WEBHOOK_TYPES.get(webhook_type.strip().upper()) if webhook_type else None
    if kind == "event":
        if "eventType" not in body:
            raise MalformedPayload(f"{WEBHOOK_TYPE_HEADER} {webhook_type}: $.eventType is missing")
        return [_event(body, common)]
    if kind == "message" and not any(
        k in body for k in ("suggestionResponse", "text", "userFile", "location")
    ):
        raise MalformedPayload(
            f"{WEBHOOK_TYPE_HEADER} {webhook_type}: no text, userFile, location "
            "or suggestionResponse"
        )
    if "suggestionResponse" in body:
        return [_suggestion(body, common)]
    if any(k in body for k in ("text", "userFile", "location")):
        return [_user_message(body, common)]
    if "eventType" in body:
        return [_event(body, common)]
    raise UnknownPayload("not a Google RBM event: no message content and no 'eventType'")


def _agent(body: Mapping[str, Any]) -> str | None:
    agent = optional_str(body, "agentId", "$")
    # Dotgo prints agentId with a leading space (seed 002 3.8.2.1.3/.4): trimmed.
    return agent.strip() if agent is not None else None


def _ids(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    return optional_str(body, "messageId", "$"), optional_str(body, "eventId", "$")


def _user_message(body: Mapping[str, Any], common: dict[str, Any]) -> Event:
    message_id, event_id = _ids(body)
    content: Any
    if "text" in body:
        content = Text(required_str(body, "text", "$"))
    elif "userFile" in body:
        content = _user_file(member(body, "userFile", "$") or {})
    else:
        loc = member(body, "location", "$") or {}
        lat = optional_float(loc, "latitude", "$.location")
        lon = optional_float(loc, "longitude", "$.location")
        if lat is None or lon is None:
            raise MalformedPayload("$.location needs 'latitude' and 'longitude'")
        content = Location(latitude=lat, longitude=lon, label=optional_str(loc, "label", "$"))
    return UserMessage(message_id=message_id, event_id=event_id, content=content, **common)


def user_file(payload: Mapping[str, Any], thumbnail: Mapping[str, Any], path: str) -> File | Audio:
    """A Google ``userFile`` payload (and thumbnail) as File, or Audio for ``audio/*`` types."""
    url = required_str(payload, "fileUri", path)
    mime = optional_str(payload, "mimeType", path)
    name = optional_str(payload, "fileName", path)
    size = optional_int(payload, "fileSizeBytes", path)
    if mime is not None and mime.lower().startswith("audio/"):
        return Audio(url, name=name, mime_type=mime, size=size)
    tp = path.rsplit(".", 1)[0] + ".thumbnail"
    return File(
        url,
        name=name,
        mime_type=mime,
        size=size,
        thumbnail_url=optional_str(thumbnail, "fileUri", tp),
        thumbnail_name=optional_str(thumbnail, "fileName", tp),
        thumbnail_mime_type=optional_str(thumbnail, "mimeType", tp),
        thumbnail_size=optional_int(thumbnail, "fileSizeBytes", tp),
    )


def _user_file(user_file_obj: Mapping[str, Any]) -> File | Audio:
    payload = member(user_file_obj, "payload", "$.userFile")
    if payload is None:
        raise MalformedPayload("$.userFile.payload is missing")
    thumbnail = member(user_file_obj, "thumbnail", "$.userFile") or {}
    return user_file(payload, thumbnail, "$.userFile.payload")


def _suggestion(body: Mapping[str, Any], common: dict[str, Any]) -> Event:
    message_id, event_id = _ids(body)
    path = "$.suggestionResponse"
    response = member(body, "suggestionResponse", "$") or {}
    kind_word = (optional_str(response, "type", path) or "").strip().upper()
    metadata = template_metadata(response.get("metadata"), f"{path}.metadata")
    in_reply_to = metadata.get("msgId") if metadata else None
    return SuggestionResponse(
        message_id=message_id,
        event_id=event_id,
        kind="reply" if kind_word == "REPLY" else "action" if kind_word == "ACTION" else None,
        text=optional_str(response, "text", path),
        postback_data=optional_str(response, "postbackData", path),
        metadata=metadata,
        in_reply_to=in_reply_to if isinstance(in_reply_to, str) else None,
        **common,
    )


def _event(body: Mapping[str, Any], common: dict[str, Any]) -> Event:
    message_id, event_id = _ids(body)
    word = required_str(body, "eventType", "$")
    key = word.strip().upper()
    if key == "IS_TYPING":
        return Typing(event_id=event_id, active=True, **common)
    if key in ("SUBSCRIBE", "RESUBSCRIBE", "UNSUBSCRIBE"):
        return Subscription(event_id=event_id, subscribed=key != "UNSUBSCRIBE", **common)
    status = EVENT_TYPES.get(key)
    if status is None:
        raise UnknownPayload(f"unknown Google RBM event type {word!r}")
    # Failure fields are undocumented (providers.md 3.3): third-party code reads these.
    reason = None
    for name in ("reason", "description", "error", "errorMessage"):
        value = body.get(name)
        if isinstance(value, str) and value:
            reason = value
            break
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            reason = value["message"]
            break
    code = optional_str(body, "code", "$") or optional_str(body, "errorCode", "$")
    return StatusEvent(
        message_id=message_id,
        event_id=event_id,
        status=status,
        provider_status=word,
        reason=reason,
        code=code,
        **common,
    )
