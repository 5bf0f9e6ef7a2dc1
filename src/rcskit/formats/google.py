"""The Google RBM ``AgentMessage`` body <-> the neutral model.

This is the body of Google's ``phones.agentMessages.create``, of Dotgo's Google API
(``POST .../v1/phones/{msisdn}/agentMessages/async``, seed 002 section 3.2) and, for the
``contentMessage`` part, of SMSBOX's ``/message`` (seed 004)::

    from rcskit.formats import google
    from rcskit.message import Message, Reply

    body = google.encode(Message("Welcome!", suggestions=[Reply("Hi", "hi")], ttl="30s"))
    # {"contentMessage": {"text": "Welcome!",
    #                     "suggestions": [{"reply": {"text": "Hi", "postbackData": "hi"}}]},
    #  "ttl": "30s"}
    message = google.decode(body).message

What the body does not carry:

- ``Message.message_id`` goes in the URL query (``messageId=``), never in the body: ``encode``
  leaves it out without complaint, and the provider puts it in the URL.
- The typing indicator and read receipts are agent *events* in Google RBM, not messages: use
  :func:`encode_typing` and :func:`encode_read` for the ``agentEvents`` body.
- GSMA-only features (enriched and video calls, device and settings actions, audio messages,
  geolocation pushes, ``in_reply_to``, horizontal carousels, the GSMA-only traffic types)
  raise :class:`~rcskit.errors.UnsupportedFeature`.
- File metadata the GSMA format carries and Google derives itself (names, MIME types, sizes,
  content descriptions; a card's orientation inside a carousel) raise too, all in one error,
  unless ``drop_metadata=True``, which drops them and reports each path in ``dropped``.

``decode`` is strict: an unknown key or a wrong type is an :class:`~rcskit.errors.InvalidMessage`
naming its JSON path, every problem of the body in one error, because an outbound message must
never lose something on its way between formats. A JSON ``null`` counts as an absent member.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal, TypeVar

from ..errors import InvalidMessage, UnsupportedFeature, Violation
from ..message import (
    Audio,
    Card,
    CardWidth,
    Carousel,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    Envelope,
    File,
    GeolocationPush,
    Height,
    ImageAlignment,
    IsTyping,
    Media,
    Message,
    OpenUrl,
    Orientation,
    RecordingType,
    Reply,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Template,
    Text,
    UrlApplication,
    WebviewViewMode,
    parse_rfc3339,
    ttl_seconds,
)
from ._reader import in_json_terms

__all__ = [
    "FORMAT_NAME",
    "FileStyle",
    "decode",
    "encode",
    "encode_read",
    "encode_typing",
    "wire_path",
]

FORMAT_NAME = "Google RBM format"
"""The target name :class:`~rcskit.errors.UnsupportedFeature` errors of this module carry."""

FileStyle = Literal["fileName", "uploadedRbmFile"]
"""How a file uploaded to the provider is referenced.

``"fileName"``: ``{"fileName": id}`` (Dotgo seed 002 3.2 Example 6; deprecated by Google).
``"uploadedRbmFile"``: ``{"uploadedRbmFile": {"fileName": id, "thumbnailName": id}}`` (Google).
"""

_log = logging.getLogger(__name__)

# Neutral traffic type <-> Google messageTrafficType. The Google values are UNCERTAIN
# (not confirmed against the current Google reference page: kept configurable).
_TRAFFIC_TO_GOOGLE = {
    "advertisement": "PROMOTION",
    "authentication": "AUTHENTICATION",
    "transaction": "TRANSACTION",
    "serviceRequest": "SERVICEREQUEST",
    "acknowledgement": "ACKNOWLEDGEMENT",
}
_TRAFFIC_FROM_GOOGLE = {v: k for k, v in _TRAFFIC_TO_GOOGLE.items()}

# ComposeRecordingMessage.type. UNCERTAIN: Google's generated model types it as a plain string;
# ACTION_TYPE_AUDIO / ACTION_TYPE_VIDEO are the enum names of Google's reference page as we
# remember it, not confirmed against a stored copy. Change both maps together if wrong.
_RECORDING_TO_GOOGLE = {
    RecordingType.AUDIO: "ACTION_TYPE_AUDIO",
    RecordingType.VIDEO: "ACTION_TYPE_VIDEO",
}
_RECORDING_FROM_GOOGLE = {v: k for k, v in _RECORDING_TO_GOOGLE.items()}

_FILE_METADATA = (
    "name",
    "mime_type",
    "size",
    "thumbnail_name",
    "thumbnail_mime_type",
    "thumbnail_size",
)
_MEDIA_METADATA = (
    "content_type",
    "size",
    "thumbnail_content_type",
    "thumbnail_size",
)
RECOMPUTED = frozenset(
    {
        "mime_type",
        "size",
        "thumbnail_mime_type",
        "content_type",
        "thumbnail_content_type",
        "thumbnail_size",
    }
)
"""Neutral fields Google computes itself from the file (MIME types and sizes): dropped by
default when a message carrying them is encoded, each reported."""

_GSMA_ONLY_ACTION = "a GSMA MaaP action with no Google RBM equivalent"


# ================================================================ encode


def encode(
    message: Message,
    *,
    file_style: FileStyle = "fileName",
    drop_metadata: bool = False,
    strict: bool = False,
    dropped: list[str] | None = None,
) -> dict[str, Any]:
    """The Google RBM ``AgentMessage`` body of ``message``.

    Returns ``{"contentMessage": {...}}`` plus ``messageTrafficType`` and ``ttl`` or
    ``expireTime`` when set; never a key with a null value. ``message.message_id`` is not part
    of the body (it is the ``messageId`` URL query parameter) and is left out.

    ``file_style`` chooses how an uploaded file (``file_id``) is referenced, see
    :data:`FileStyle`. A media ``content_description`` becomes the card media's alt text
    (``media.contentDescription``, Google release notes, November 2026).

    GSMA metadata Google cannot carry is handled in three ways:

    - by default, what Google recomputes from the file itself (MIME types and sizes, see
      :data:`RECOMPUTED`) is dropped, and each dropped field's neutral path
      (``"content.media.content_type"``) is appended to ``dropped`` (logged at INFO when
      ``dropped`` is ``None``); the rest (file names, a card's orientation or image alignment
      inside a carousel) raises one :class:`~rcskit.errors.UnsupportedFeature` listing every
      such field;
    - ``strict=True`` refuses every such field, MIME types and sizes included;
    - ``drop_metadata=True`` drops every such field, reporting each.

    Raises :class:`~rcskit.errors.UnsupportedFeature` for anything else Google RBM cannot
    express (GSMA-only actions and contents, ``in_reply_to``, horizontal carousels, GSMA-only
    traffic types), naming the feature and where it is.
    """
    if not isinstance(message, Message):
        raise InvalidMessage([Violation("message", message, "must be a rcskit.message.Message")])
    if strict and drop_metadata:
        raise ValueError("strict=True and drop_metadata=True contradict each other")
    meta: list[str] = []
    content = message.content
    encoder = _CONTENT_ENCODERS.get(type(content))
    if encoder is None:
        raise _unsupported_content(content)
    cm = encoder(content, file_style, meta)
    if message.suggestions:
        cm["suggestions"] = _suggestions(message.suggestions, "suggestions")
    if message.in_reply_to is not None:
        raise UnsupportedFeature(
            "Message.in_reply_to",
            FORMAT_NAME,
            "an AgentMessage cannot answer a given user message (GSMA msgId only)",
        )
    body: dict[str, Any] = {"contentMessage": cm}
    traffic = message.traffic_type
    if traffic is not None:
        google_traffic = _TRAFFIC_TO_GOOGLE.get(traffic)
        if google_traffic is None:
            raise UnsupportedFeature(
                f"traffic type {traffic!r}",
                FORMAT_NAME,
                "messageTrafficType knows only " + ", ".join(_TRAFFIC_TO_GOOGLE),
            )
        body["messageTrafficType"] = google_traffic
    if message.ttl is not None:
        body["ttl"] = message.ttl
    elif message.expire_time is not None:
        body["expireTime"] = message.expire_time
    if meta:
        refused = (
            meta if strict else [] if drop_metadata else [p for p in meta if not _recomputed(p)]
        )
        if refused:
            layout = any(p.endswith((".orientation", ".image_alignment")) for p in refused)
            files = any(not p.endswith((".orientation", ".image_alignment")) for p in refused)
            why = [
                *(["Google RBM derives file metadata itself"] if files else []),
                *(["it has no per-card layout in a carousel"] if layout else []),
            ]
            raise UnsupportedFeature(
                "metadata (" + ", ".join(refused) + ")",
                FORMAT_NAME,
                " and ".join(why) + "; pass drop_metadata=True to drop these fields",
            )
        if dropped is not None:
            dropped.extend(meta)
        else:
            _log.info("dropped fields Google RBM cannot carry: %s", ", ".join(meta))
    return body


def _recomputed(path: str) -> bool:
    return path.rsplit(".", 1)[-1] in RECOMPUTED


def encode_typing() -> dict[str, Any]:
    """The ``agentEvents`` body of a typing indicator: ``{"eventType": "IS_TYPING"}``.

    Google RBM sends the typing indicator as an agent event, not as a message (seed 002 3.3.2).
    """
    return {"eventType": "IS_TYPING"}


def encode_read(message_id: str) -> dict[str, Any]:
    """The ``agentEvents`` body of a read receipt for the user's message ``message_id``.

    ``{"eventType": "READ", "messageId": message_id}`` (seed 002 3.3.1).
    """
    return {"eventType": "READ", "messageId": message_id}


def _unsupported_content(content: Any) -> UnsupportedFeature:
    if isinstance(content, IsTyping):
        return UnsupportedFeature(
            "IsTyping",
            FORMAT_NAME,
            "a typing indicator is an agentEvent in Google RBM, not a message: "
            "send the body of rcskit.formats.google.encode_typing() to agentEvents",
        )
    if isinstance(content, Audio):
        return UnsupportedFeature(
            "Audio", FORMAT_NAME, "Google RBM has no audio message; send the audio as a File"
        )
    if isinstance(content, GeolocationPush):
        return UnsupportedFeature(
            "GeolocationPush",
            FORMAT_NAME,
            "Google RBM cannot push a location; offer a ShowLocation suggestion instead",
        )
    return UnsupportedFeature(type(content).__name__, FORMAT_NAME, "unknown content")


def _encode_text(content: Text, file_style: FileStyle, meta: list[str]) -> dict[str, Any]:
    return {"text": content.text}


def _encode_file(content: File, file_style: FileStyle, meta: list[str]) -> dict[str, Any]:
    for field in _FILE_METADATA:
        if getattr(content, field) is not None:
            meta.append("content." + field)
    return _file_source(content, file_style, "content")


def _file_source(src: File | Media, file_style: FileStyle, path: str) -> dict[str, Any]:
    """``{"contentInfo": ...}``, ``{"fileName": ...}`` or ``{"uploadedRbmFile": ...}`` of src."""
    if src.url is not None:
        if src.thumbnail_file_id is not None:
            raise UnsupportedFeature(
                "a thumbnail_file_id with a url",
                FORMAT_NAME,
                f"contentInfo takes a thumbnailUrl only ({path}.thumbnail_file_id)",
            )
        info: dict[str, Any] = {"fileUrl": src.url}
        if src.thumbnail_url is not None:
            info["thumbnailUrl"] = src.thumbnail_url
        if src.force_refresh is not None:
            info["forceRefresh"] = src.force_refresh
        return {"contentInfo": info}
    if src.thumbnail_url is not None:
        raise UnsupportedFeature(
            "a thumbnail_url with a file_id",
            FORMAT_NAME,
            f"an uploaded file takes an uploaded thumbnail only ({path}.thumbnail_url)",
        )
    if src.force_refresh is not None:
        raise UnsupportedFeature(
            "force_refresh with a file_id",
            FORMAT_NAME,
            f"only contentInfo (a file by url) has forceRefresh ({path}.force_refresh)",
        )
    if file_style == "uploadedRbmFile":
        uploaded: dict[str, Any] = {"fileName": src.file_id}
        if src.thumbnail_file_id is not None:
            uploaded["thumbnailName"] = src.thumbnail_file_id
        return {"uploadedRbmFile": uploaded}
    if src.thumbnail_file_id is not None:
        raise UnsupportedFeature(
            "a thumbnail_file_id with file_style='fileName'",
            FORMAT_NAME,
            f"the fileName form has no thumbnail ({path}.thumbnail_file_id); "
            "use file_style='uploadedRbmFile'",
        )
    return {"fileName": src.file_id}


def _encode_media(
    media: Media, file_style: FileStyle, path: str, meta: list[str]
) -> dict[str, Any]:
    for field in _MEDIA_METADATA:
        if getattr(media, field) is not None:
            meta.append(f"{path}.{field}")
    out: dict[str, Any] = {}
    if media.height is not None:
        out["height"] = media.height.value
    out.update(_file_source(media, file_style, path))
    if media.content_description is not None:
        out["contentDescription"] = media.content_description
    return out


def _card_content(card: Card, file_style: FileStyle, path: str, meta: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if card.title is not None:
        out["title"] = card.title
    if card.description is not None:
        out["description"] = card.description
    if card.media is not None:
        out["media"] = _encode_media(card.media, file_style, path + ".media", meta)
    if card.suggestions:
        out["suggestions"] = _suggestions(card.suggestions, path + ".suggestions")
    return out


def _encode_card(content: Card, file_style: FileStyle, meta: list[str]) -> dict[str, Any]:
    # Key order of seed 002 3.2 Example 7: cardContent, thumbnailImageAlignment, cardOrientation.
    card: dict[str, Any] = {"cardContent": _card_content(content, file_style, "content", meta)}
    if content.image_alignment is not None:
        card["thumbnailImageAlignment"] = content.image_alignment.value
    if content.orientation is not None:
        card["cardOrientation"] = content.orientation.value
    return {"richCard": {"standaloneCard": card}}


def _encode_carousel(content: Carousel, file_style: FileStyle, meta: list[str]) -> dict[str, Any]:
    if content.orientation is Orientation.HORIZONTAL:
        raise UnsupportedFeature(
            "a HORIZONTAL carousel",
            FORMAT_NAME,
            "Google RBM carousels are always vertical (content.orientation)",
        )
    # VERTICAL is Google's only carousel layout: accepted, nothing to emit.
    cards = []
    for i, card in enumerate(content.cards):
        path = f"content.cards[{i}]"
        if card.orientation is not None:
            meta.append(path + ".orientation")
        if card.image_alignment is not None:
            meta.append(path + ".image_alignment")
        cards.append(_card_content(card, file_style, path, meta))
    carousel: dict[str, Any] = {}
    if content.card_width is not None:
        carousel["cardWidth"] = content.card_width.value
    carousel["cardContents"] = cards
    return {"richCard": {"carouselCard": carousel}}


def _encode_template(content: Template, file_style: FileStyle, meta: list[str]) -> dict[str, Any]:
    # Dotgo's extension (seed 002 3.2 Example 1): customParams is a JSON *string*. It is sent
    # even when empty ("{}"), the shape every Dotgo example has.
    try:
        params = json.dumps(content.params, ensure_ascii=False)
    except (TypeError, ValueError) as err:
        raise InvalidMessage(
            [Violation("content.params", content.params, f"must be JSON-serialisable ({err})")]
        ) from None
    return {"templateMessage": {"templateCode": content.code, "customParams": params}}


_CONTENT_ENCODERS: dict[type, Callable[[Any, FileStyle, list[str]], dict[str, Any]]] = {
    Text: _encode_text,
    File: _encode_file,
    Card: _encode_card,
    Carousel: _encode_carousel,
    Template: _encode_template,
}


def _open_url(a: OpenUrl) -> dict[str, Any]:
    out: dict[str, Any] = {"url": a.url}
    if a.application is not None:
        out["application"] = a.application.value
    if a.webview_view_mode is not None:
        out["webviewViewMode"] = a.webview_view_mode.value
    if a.description is not None:
        out["description"] = a.description
    return out


def _dial(a: DialPhoneNumber) -> dict[str, Any]:
    return {"phoneNumber": a.phone_number}


def _view_location(a: ShowLocation) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if a.latitude is not None:
        out["latLong"] = {"latitude": a.latitude, "longitude": a.longitude}
    if a.label is not None:
        out["label"] = a.label
    if a.query is not None:
        out["query"] = a.query
    return out


def _share_location(a: RequestLocationPush) -> dict[str, Any]:
    return {}


def _calendar(a: CreateCalendarEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"startTime": a.start_time, "endTime": a.end_time, "title": a.title}
    if a.description is not None:
        out["description"] = a.description
    return out


def _compose_text(a: ComposeTextMessage) -> dict[str, Any]:
    return {"composeTextMessage": {"phoneNumber": a.phone_number, "text": a.draft}}


def _compose_recording(a: ComposeRecordingMessage) -> dict[str, Any]:
    return {
        "composeRecordingMessage": {
            "phoneNumber": a.phone_number,
            "type": _RECORDING_TO_GOOGLE[a.recording_type],
        }
    }


_ACTION_ENCODERS: dict[type, tuple[str, Callable[[Any], dict[str, Any]]]] = {
    OpenUrl: ("openUrlAction", _open_url),
    DialPhoneNumber: ("dialAction", _dial),
    ShowLocation: ("viewLocationAction", _view_location),
    RequestLocationPush: ("shareLocationAction", _share_location),
    CreateCalendarEvent: ("createCalendarEventAction", _calendar),
    ComposeTextMessage: ("composeAction", _compose_text),
    ComposeRecordingMessage: ("composeAction", _compose_recording),
}

_UNSUPPORTED_ACTIONS: dict[type, str] = {
    DialEnrichedCall: "an enriched call is GSMA only; use DialPhoneNumber",
    DialVideoCall: "a video call is GSMA only; use DialPhoneNumber",
    RequestDeviceSpecifics: _GSMA_ONLY_ACTION,
    DisableAnonymization: _GSMA_ONLY_ACTION,
    EnableDisplayedNotifications: _GSMA_ONLY_ACTION,
}


def _suggestions(items: Sequence[Any], path: str) -> list[dict[str, Any]]:
    out = []
    for i, s in enumerate(items):
        kind = type(s)
        if kind is Reply:
            reply: dict[str, Any] = {"text": s.text}
            if s.postback_data is not None:
                reply["postbackData"] = s.postback_data
            out.append({"reply": reply})
            continue
        found = _ACTION_ENCODERS.get(kind)
        if found is None:
            why = _UNSUPPORTED_ACTIONS.get(kind, "unknown suggestion")
            raise UnsupportedFeature(kind.__name__, FORMAT_NAME, f"{why} ({path}[{i}])")
        member, build = found
        action: dict[str, Any] = {"text": s.text}
        if s.postback_data is not None:
            action["postbackData"] = s.postback_data
        if s.fallback_url is not None:
            action["fallbackUrl"] = s.fallback_url
        action[member] = build(s)
        out.append({"action": action})
    return out


# ================================================================ decode

_CONTENT_KEYS = (
    "text",
    "fileName",
    "uploadedRbmFile",
    "richCard",
    "contentInfo",
    "templateMessage",
)
_BODY_KEYS = frozenset({"contentMessage", "messageTrafficType", "ttl", "expireTime"})
_CONTENT_MESSAGE_KEYS = frozenset((*_CONTENT_KEYS, "suggestions"))
_ACTION_MEMBERS = (
    "dialAction",
    "viewLocationAction",
    "createCalendarEventAction",
    "openUrlAction",
    "shareLocationAction",
    "composeAction",
)
_ACTION_KEYS = frozenset(("text", "postbackData", "fallbackUrl", *_ACTION_MEMBERS))

_E = TypeVar("_E", bound=StrEnum)
_M = TypeVar("_M")


def _values(enum: type[_E]) -> dict[str, _E]:
    return {m.value: m for m in enum}


_HEIGHTS = _values(Height)
_WIDTHS = _values(CardWidth)
_ORIENTATIONS = _values(Orientation)
_ALIGNMENTS = _values(ImageAlignment)
_APPLICATIONS = _values(UrlApplication)
_VIEW_MODES = _values(WebviewViewMode)


def decode(body: Mapping[str, Any]) -> Envelope:
    """The neutral message of a Google RBM ``AgentMessage`` body (``to`` is always ``None``).

    Accepts the full body (``{"contentMessage": ..., "ttl": ...}``) or a bare
    ``contentMessage`` (a body without a ``contentMessage`` key but with content keys, as
    SMSBOX nests it). Reads both ``fileName`` and ``uploadedRbmFile`` and parses
    ``customParams`` (a JSON string) into ``Template.params``.

    Raises :class:`~rcskit.errors.InvalidMessage` listing every unknown key, wrong type or
    invalid value with its JSON path (``contentMessage.richCard.standaloneCard.foo``).
    """
    r = _Reader()
    if not isinstance(body, Mapping):
        raise InvalidMessage([Violation("(body)", body, "must be a JSON object")])
    if "contentMessage" not in body and any(k in body for k in _CONTENT_MESSAGE_KEYS):
        fields = r.content_message(body, "")
        top: Mapping[str, Any] = {}
    else:
        r.only(body, "", _BODY_KEYS)
        if body.get("contentMessage") is None:
            r.fail("contentMessage", None, "required field is missing")
            fields = None
        elif not isinstance(body["contentMessage"], Mapping):
            r.fail("contentMessage", body["contentMessage"], "must be a JSON object")
            fields = None
        else:
            fields = r.content_message(body["contentMessage"], "contentMessage")
        top = body
    traffic = r.enum(top, "messageTrafficType", "", _TRAFFIC_FROM_GOOGLE)
    ttl = r.str_(top, "ttl", "")
    if ttl is not None and ttl_seconds(ttl) is None:
        r.fail("ttl", ttl, "must be a duration in seconds like '30s' (up to 9 fractional digits)")
    expire = r.str_(top, "expireTime", "")
    if expire is not None and parse_rfc3339(expire) is None:
        r.fail("expireTime", expire, "must be an RFC 3339 timestamp like '2024-10-02T15:01:23Z'")
    if ttl is not None and expire is not None:
        r.fail("ttl", ttl, "give ttl or expireTime, never both")
    if r.errors or fields is None:
        raise InvalidMessage(r.errors or [Violation("contentMessage", None, "invalid")])
    message = r.build(
        Message,
        "",
        {**_MESSAGE_FIELDS, "suggestions": "contentMessage.suggestions"},
        content=fields[0],
        suggestions=fields[1],
        traffic_type=traffic,
        ttl=ttl,
        expire_time=expire,
    )
    r.raise_if_errors()
    assert message is not None  # build() returned None only with errors recorded
    return Envelope(message=message)


_MEDIA_MEMBERS = {
    "height": "height",
    "url": "contentInfo.fileUrl",
    "thumbnail_url": "contentInfo.thumbnailUrl",
    "content_description": "contentDescription",
}
_REPLY_MEMBERS = {"text": "text", "postback_data": "postbackData"}
_ACTION_COMMON = {"text": "text", "postback_data": "postbackData", "fallback_url": "fallbackUrl"}


class _Reader:
    """Reads decoded JSON, recording every problem with its path; raises once at the end."""

    def __init__(self) -> None:
        self.errors: list[Violation] = []

    def fail(self, path: str, value: Any, rule: str) -> None:
        self.errors.append(Violation(path, value, rule))

    def raise_if_errors(self) -> None:
        if self.errors:
            raise InvalidMessage(self.errors)

    def obj(self, value: Any, path: str) -> Mapping[str, Any]:
        if isinstance(value, Mapping):
            return value
        self.fail(path, value, "must be a JSON object")
        return {}

    def only(self, d: Mapping[str, Any], path: str, allowed: frozenset[str]) -> None:
        for key in d:
            if key not in allowed:
                self.fail(_join(path, key), d[key], "unknown field in the Google RBM format")

    def str_(self, d: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> Any:
        value = d.get(key)
        if value is None:
            if required:
                self.fail(_join(path, key), None, "required field is missing")
            return None
        if not isinstance(value, str):
            self.fail(_join(path, key), value, "must be a string")
            return None
        return value

    def num(self, d: Mapping[str, Any], key: str, path: str) -> Any:
        value = d.get(key)
        if value is None:
            self.fail(_join(path, key), None, "required field is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(_join(path, key), value, "must be a number")
            return None
        return float(value)

    def bool_(self, d: Mapping[str, Any], key: str, path: str) -> Any:
        value = d.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(_join(path, key), value, "must be true or false")
            return None
        return value

    def enum(
        self, d: Mapping[str, Any], key: str, path: str, values: Mapping[str, _M]
    ) -> _M | None:
        value = d.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or value not in values:
            self.fail(_join(path, key), value, "must be one of " + ", ".join(values))
            return None
        return values[value]

    def build(
        self,
        cls: Callable[..., _M],
        path: str,
        fields: Mapping[str, str] | None = None,
        /,
        **kw: Any,
    ) -> _M | None:
        """``cls(**kw)``, or None with the model's complaints recorded at JSON paths under
        ``path`` (``fields`` maps neutral fields to their members, see ``in_json_terms``)."""
        try:
            return cls(**kw)
        except InvalidMessage as err:
            self.errors.extend(in_json_terms(err, path, fields))
            return None

    def one_of(self, d: Mapping[str, Any], path: str, keys: Sequence[str]) -> str | None:
        present = [k for k in keys if d.get(k) is not None]
        if len(present) == 1:
            return present[0]
        found = ", ".join(present) if present else "none"
        self.fail(path or "(body)", None, f"needs exactly one of {', '.join(keys)} (found {found})")
        return None

    # ------------------------------------------------------------ content

    def content_message(
        self, cm: Mapping[str, Any], path: str
    ) -> tuple[Any, tuple[Any, ...]] | None:
        self.only(cm, path, _CONTENT_MESSAGE_KEYS)
        n = len(self.errors)
        suggestions = self.suggestions(cm, path)
        key = self.one_of(cm, path, _CONTENT_KEYS)
        content: Any = None
        if key == "text":
            text = self.str_(cm, "text", path)
            content = (
                None
                if text is None
                else self.build(Text, _join(path, "text"), {"text": ""}, text=text)
            )
        elif key in ("fileName", "uploadedRbmFile", "contentInfo"):
            src = self.file_source(cm, key, path)
            content = None if src is None else self.build(File, _join(path, key), **src)
        elif key == "richCard":
            content = self.rich_card(
                self.obj(cm["richCard"], _join(path, "richCard")), _join(path, "richCard")
            )
        elif key == "templateMessage":
            content = self.template(cm["templateMessage"], _join(path, "templateMessage"))
        if content is None or len(self.errors) != n:
            return None
        return content, suggestions

    def file_source(self, d: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
        """The File/Media source fields of ``d[key]`` (contentInfo, fileName or uploadedRbmFile)."""
        n = len(self.errors)
        p = _join(path, key)
        out: dict[str, Any] = {}
        if key == "fileName":
            out["file_id"] = self.str_(d, "fileName", path, required=True)
        elif key == "uploadedRbmFile":
            u = self.obj(d[key], p)
            self.only(u, p, frozenset({"fileName", "thumbnailName"}))
            out["file_id"] = self.str_(u, "fileName", p, required=True)
            thumb = self.str_(u, "thumbnailName", p)
            if thumb is not None:
                out["thumbnail_file_id"] = thumb
        else:
            info = self.obj(d[key], p)
            self.only(info, p, frozenset({"fileUrl", "thumbnailUrl", "forceRefresh"}))
            out["url"] = self.str_(info, "fileUrl", p, required=True)
            thumb = self.str_(info, "thumbnailUrl", p)
            if thumb is not None:
                out["thumbnail_url"] = thumb
            refresh = self.bool_(info, "forceRefresh", p)
            if refresh is not None:
                out["force_refresh"] = refresh
        return out if len(self.errors) == n else None

    def rich_card(self, rc: Mapping[str, Any], path: str) -> Card | Carousel | None:
        self.only(rc, path, frozenset({"standaloneCard", "carouselCard"}))
        key = self.one_of(rc, path, ("standaloneCard", "carouselCard"))
        if key is None:
            return None
        p = _join(path, key)
        d = self.obj(rc[key], p)
        if key == "standaloneCard":
            self.only(
                d, p, frozenset({"cardContent", "thumbnailImageAlignment", "cardOrientation"})
            )
            orientation = self.enum(d, "cardOrientation", p, _ORIENTATIONS)
            alignment = self.enum(d, "thumbnailImageAlignment", p, _ALIGNMENTS)
            if d.get("cardContent") is None:
                self.fail(_join(p, "cardContent"), None, "required field is missing")
                return None
            fields = self.card_content(d["cardContent"], _join(p, "cardContent"))
            if fields is None:
                return None
            return self.build(
                Card,
                _join(p, "cardContent"),
                orientation=orientation,
                image_alignment=alignment,
                **fields,
            )
        self.only(d, p, frozenset({"cardWidth", "cardContents"}))
        width = self.enum(d, "cardWidth", p, _WIDTHS)
        raw = d.get("cardContents")
        pc = _join(p, "cardContents")
        if not isinstance(raw, list):
            self.fail(pc, raw, "must be a JSON array of card contents")
            return None
        cards = []
        for i, item in enumerate(raw):
            fields = self.card_content(item, f"{pc}[{i}]")
            card = None if fields is None else self.build(Card, f"{pc}[{i}]", **fields)
            cards.append(card)
        if any(c is None for c in cards):
            return None
        return self.build(Carousel, p, cards=cards, card_width=width)

    def card_content(self, value: Any, path: str) -> dict[str, Any] | None:
        n = len(self.errors)
        d = self.obj(value, path)
        self.only(d, path, frozenset({"title", "description", "media", "suggestions"}))
        out: dict[str, Any] = {
            "title": self.str_(d, "title", path),
            "description": self.str_(d, "description", path),
            "suggestions": self.suggestions(d, path),
        }
        if d.get("media") is not None:
            out["media"] = self.media(d["media"], _join(path, "media"))
        return out if len(self.errors) == n else None

    def media(self, value: Any, path: str) -> Media | None:
        d = self.obj(value, path)
        self.only(
            d,
            path,
            frozenset(
                {"height", "contentInfo", "fileName", "uploadedRbmFile", "contentDescription"}
            ),
        )
        height = self.enum(d, "height", path, _HEIGHTS)
        alt = self.str_(d, "contentDescription", path)
        key = self.one_of(d, path, ("contentInfo", "fileName", "uploadedRbmFile"))
        if key is None:
            return None
        src = self.file_source(d, key, path)
        if src is None:
            return None
        if alt is not None:
            src["content_description"] = alt
        return self.build(Media, path, _MEDIA_MEMBERS, height=height, **src)

    def template(self, value: Any, path: str) -> Template | None:
        d = self.obj(value, path)
        self.only(d, path, frozenset({"templateCode", "customParams"}))
        code = self.str_(d, "templateCode", path, required=True)
        raw = self.str_(d, "customParams", path)
        params: Any = {}
        if raw is not None:
            try:
                params = json.loads(raw)
            except ValueError as err:
                self.fail(_join(path, "customParams"), raw, f"must be a JSON object string ({err})")
                return None
            if not isinstance(params, dict):
                self.fail(_join(path, "customParams"), raw, "must be a JSON object string")
                return None
        if code is None:
            return None
        return self.build(Template, path, code=code, params=params)

    # ------------------------------------------------------------ suggestions

    def suggestions(self, d: Mapping[str, Any], path: str) -> tuple[Any, ...]:
        raw = d.get("suggestions")
        if raw is None:
            return ()
        p = _join(path, "suggestions")
        if not isinstance(raw, list):
            self.fail(p, raw, "must be a JSON array of suggestions")
            return ()
        out = []
        for i, item in enumerate(raw):
            ip = f"{p}[{i}]"
            s = self.obj(item, ip)
            self.only(s, ip, frozenset({"reply", "action"}))
            key = self.one_of(s, ip, ("reply", "action"))
            if key == "reply":
                out.append(self.reply(s["reply"], ip + ".reply"))
            elif key == "action":
                out.append(self.action(s["action"], ip + ".action"))
        return tuple(out)

    def reply(self, value: Any, path: str) -> Reply | None:
        d = self.obj(value, path)
        self.only(d, path, frozenset({"text", "postbackData"}))
        text = self.str_(d, "text", path, required=True)
        postback = self.str_(d, "postbackData", path)
        if text is None:
            return None
        return self.build(Reply, path, _REPLY_MEMBERS, text=text, postback_data=postback)

    def action(self, value: Any, path: str) -> Any:
        d = self.obj(value, path)
        self.only(d, path, _ACTION_KEYS)
        common = {
            "text": self.str_(d, "text", path, required=True),
            "postback_data": self.str_(d, "postbackData", path),
            "fallback_url": self.str_(d, "fallbackUrl", path),
        }
        key = self.one_of(d, path, _ACTION_MEMBERS)
        if key is None:
            return None
        p = _join(path, key)
        m = self.obj(d[key], p)
        n = len(self.errors)
        cls: Callable[..., Any]
        fields: dict[str, Any]
        if key == "openUrlAction":
            self.only(m, p, frozenset({"url", "application", "webviewViewMode", "description"}))
            cls = OpenUrl
            fields = {
                "url": self.str_(m, "url", p, required=True),
                "application": self.enum(m, "application", p, _APPLICATIONS),
                "webview_view_mode": self.enum(m, "webviewViewMode", p, _VIEW_MODES),
                "description": self.str_(m, "description", p),
            }
        elif key == "dialAction":
            self.only(m, p, frozenset({"phoneNumber"}))
            cls = DialPhoneNumber
            fields = {"phone_number": self.str_(m, "phoneNumber", p, required=True)}
        elif key == "viewLocationAction":
            self.only(m, p, frozenset({"latLong", "label", "query"}))
            cls = ShowLocation
            fields = {"label": self.str_(m, "label", p), "query": self.str_(m, "query", p)}
            if m.get("latLong") is not None:
                pl = _join(p, "latLong")
                ll = self.obj(m["latLong"], pl)
                self.only(ll, pl, frozenset({"latitude", "longitude"}))
                fields["latitude"] = self.num(ll, "latitude", pl)
                fields["longitude"] = self.num(ll, "longitude", pl)
        elif key == "shareLocationAction":
            self.only(m, p, frozenset())
            cls = RequestLocationPush
            fields = {}
        elif key == "createCalendarEventAction":
            self.only(m, p, frozenset({"startTime", "endTime", "title", "description"}))
            cls = CreateCalendarEvent
            fields = {
                "start_time": self.str_(m, "startTime", p, required=True),
                "end_time": self.str_(m, "endTime", p, required=True),
                "title": self.str_(m, "title", p, required=True),
                "description": self.str_(m, "description", p),
            }
        else:  # composeAction
            self.only(m, p, frozenset({"composeTextMessage", "composeRecordingMessage"}))
            which = self.one_of(m, p, ("composeTextMessage", "composeRecordingMessage"))
            if which is None:
                return None
            pc = _join(p, which)
            c = self.obj(m[which], pc)
            if which == "composeTextMessage":
                self.only(c, pc, frozenset({"phoneNumber", "text"}))
                cls = ComposeTextMessage
                fields = {
                    "phone_number": self.str_(c, "phoneNumber", pc, required=True),
                    "draft": self.str_(c, "text", pc, required=True),
                }
            else:
                self.only(c, pc, frozenset({"phoneNumber", "type"}))
                cls = ComposeRecordingMessage
                kind = self.enum(c, "type", pc, _RECORDING_FROM_GOOGLE)
                if kind is None and c.get("type") is None:
                    self.fail(_join(pc, "type"), None, "required field is missing")
                fields = {
                    "phone_number": self.str_(c, "phoneNumber", pc, required=True),
                    "recording_type": kind,
                }
        if len(self.errors) != n or common["text"] is None:
            return None
        member, names = _ACTION_FIELDS[cls]
        wire = {f: f"{member}.{w}" for f, w in names.items()}
        return self.build(cls, path, {**wire, **_ACTION_COMMON}, **common, **fields)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# ================================================================ wire_path

_ACTION_FIELDS: dict[type, tuple[str, dict[str, str]]] = {
    OpenUrl: (
        "openUrlAction",
        {
            "url": "url",
            "application": "application",
            "webview_view_mode": "webviewViewMode",
            "description": "description",
        },
    ),
    DialPhoneNumber: ("dialAction", {"phone_number": "phoneNumber"}),
    ShowLocation: (
        "viewLocationAction",
        {
            "latitude": "latLong.latitude",
            "longitude": "latLong.longitude",
            "label": "label",
            "query": "query",
        },
    ),
    RequestLocationPush: ("shareLocationAction", {}),
    CreateCalendarEvent: (
        "createCalendarEventAction",
        {
            "start_time": "startTime",
            "end_time": "endTime",
            "title": "title",
            "description": "description",
        },
    ),
    ComposeTextMessage: (
        "composeAction",
        {"phone_number": "composeTextMessage.phoneNumber", "draft": "composeTextMessage.text"},
    ),
    ComposeRecordingMessage: (
        "composeAction",
        {
            "phone_number": "composeRecordingMessage.phoneNumber",
            "recording_type": "composeRecordingMessage.type",
        },
    ),
}
_MESSAGE_FIELDS = {
    "traffic_type": "messageTrafficType",
    "ttl": "ttl",
    "expire_time": "expireTime",
    "message_id": "messageId",
}


def wire_path(
    message: Message, path: Sequence[str | int], *, file_style: FileStyle = "fileName"
) -> str:
    """The JSON path in the Google RBM body of a neutral-model ``path`` of ``message``.

    ``wire_path(msg, ("content", "cards", 1, "suggestions", 0, "text"))`` is
    ``"contentMessage.richCard.carouselCard.cardContents[1].suggestions[0].action.text"`` when
    that suggestion is an action (``...reply.text`` for a reply). Used to name violations in
    the user's own format. ``("message_id",)`` gives ``"messageId"``, the URL query parameter.

    Fields the Google body does not have (GSMA metadata such as ``("content", "mime_type")``)
    and paths that do not fit ``message`` are returned in neutral notation
    (``"content.mime_type"``) so they still name something the user recognises.
    """
    found = _wire_path(message, tuple(path), file_style)
    return found if found is not None else _neutral(path)


def _neutral(path: Sequence[str | int]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


def _wire_path(message: Message, path: tuple[str | int, ...], style: FileStyle) -> str | None:
    if not path:
        return "(body)"
    head, rest = path[0], path[1:]
    if head == "suggestions":
        return _suggestions_path(message.suggestions, rest, "contentMessage.suggestions")
    if head != "content":
        wire = _MESSAGE_FIELDS.get(head) if isinstance(head, str) else None
        return wire if wire is not None and not rest else None
    content = message.content
    if isinstance(content, Text):
        if not rest:
            return "contentMessage.text"
        return "contentMessage.text" if rest == ("text",) else None
    if isinstance(content, File):
        return _source_path(content, rest, "contentMessage", style)
    if isinstance(content, Card):
        base = "contentMessage.richCard.standaloneCard"
        if not rest:
            return base
        if rest == ("orientation",):
            return base + ".cardOrientation"
        if rest == ("image_alignment",):
            return base + ".thumbnailImageAlignment"
        return _card_path(content, rest, base + ".cardContent", style)
    if isinstance(content, Carousel):
        base = "contentMessage.richCard.carouselCard"
        if not rest:
            return base
        if rest == ("card_width",):
            return base + ".cardWidth"
        if rest[0] != "cards":
            return None
        if len(rest) == 1:
            return base + ".cardContents"
        i = rest[1]
        if not isinstance(i, int) or not -len(content.cards) <= i < len(content.cards):
            return None
        return _card_path(content.cards[i], rest[2:], f"{base}.cardContents[{i}]", style)
    if isinstance(content, Template):
        base = "contentMessage.templateMessage"
        if not rest:
            return base
        if rest[0] == "code" and len(rest) == 1:
            return base + ".templateCode"
        # Template parameters live inside the customParams JSON string.
        return base + ".customParams" if rest[0] == "params" else None
    return None


def _source_path(
    src: File | Media, rest: tuple[str | int, ...], base: str, style: FileStyle
) -> str | None:
    if src.url is not None:
        node = base + ".contentInfo"
        fields = {
            "url": "fileUrl",
            "thumbnail_url": "thumbnailUrl",
            "force_refresh": "forceRefresh",
        }
    elif style == "uploadedRbmFile":
        node = base + ".uploadedRbmFile"
        fields = {"file_id": "fileName", "thumbnail_file_id": "thumbnailName"}
    else:
        if not rest or rest == ("file_id",):
            return base + ".fileName"
        return None
    if not rest:
        return node
    wire = fields.get(rest[0]) if len(rest) == 1 and isinstance(rest[0], str) else None
    return None if wire is None else f"{node}.{wire}"


def _card_path(card: Card, rest: tuple[str | int, ...], base: str, style: FileStyle) -> str | None:
    if not rest:
        return base
    head = rest[0]
    if head in ("title", "description") and len(rest) == 1:
        return f"{base}.{head}"
    if head == "suggestions":
        return _suggestions_path(card.suggestions, rest[1:], base + ".suggestions")
    if head == "media" and card.media is not None:
        if rest[1:] == ("height",):
            return base + ".media.height"
        if rest[1:] == ("content_description",):
            return base + ".media.contentDescription"
        return _source_path(card.media, rest[1:], base + ".media", style)
    return None


def _suggestions_path(items: Sequence[Any], rest: tuple[str | int, ...], base: str) -> str | None:
    if not rest:
        return base
    i = rest[0]
    if not isinstance(i, int) or not -len(items) <= i < len(items):
        return None
    s = items[i]
    node = f"{base}[{i}]"
    if len(rest) == 1:
        return node
    field = rest[1]
    if len(rest) != 2 or not isinstance(field, str):
        return None
    if isinstance(s, Reply):
        wire = {"text": "text", "postback_data": "postbackData"}.get(field)
        return None if wire is None else f"{node}.reply.{wire}"
    common = {"text": "text", "postback_data": "postbackData", "fallback_url": "fallbackUrl"}
    if field in common:
        return f"{node}.action.{common[field]}"
    found = _ACTION_FIELDS.get(type(s))
    if found is None:
        return None
    member, fields = found
    wire = fields.get(field)
    return None if wire is None else f"{node}.action.{member}.{wire}"
