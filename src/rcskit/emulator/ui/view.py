"""What a phone shows for a stored message: a small view model read from the wire JSON.

The emulator stores a bot message as it arrived (a GSMA ``RCSMessage`` or a Google
``contentMessage``) and a user message as it recorded it (``text``, ``location``, ``file``,
``response``). :func:`message_view` reads any of them into one neutral, display-oriented
model (:class:`MessageView`) that :mod:`rcskit.emulator.ui.render` turns into HTML. Reading is
forgiving: the API already validated what it accepted, and anything this module does not
recognise becomes a :class:`RawView` showing the JSON, never an error.

Suggestions keep the address the user-action API taps them by (``card_index`` ``None`` for the
chip list, the card's position otherwise, and ``index`` in that list), the same addressing as
:mod:`rcskit.emulator.core.suggestions`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from ..core.records import A2P, FMT_GOOGLE, FMT_USER, StoredMessage

__all__ = [
    "ACTION_NAMES",
    "AudioView",
    "CardView",
    "CarouselView",
    "Content",
    "FileLookup",
    "FileRef",
    "FileView",
    "LocationView",
    "MediaView",
    "MessageView",
    "RawView",
    "ResponseView",
    "SuggestionView",
    "TextView",
    "message_view",
    "no_files",
    "parse_position",
]

ACTION_NAMES: tuple[str, ...] = (
    "open_url",
    "dial_phone_number",
    "dial_enriched_call",
    "dial_video_call",
    "show_location",
    "request_location_push",
    "create_calendar_event",
    "compose_text_message",
    "compose_recording_message",
    "request_device_specifics",
    "disable_anonymization",
    "enable_displayed_notifications",
)
"""The twelve suggested actions, by the names the view uses (as ``rcskit.message`` kinds)."""

_VIDEO_EXTENSIONS = (".mp4", ".m4v", ".webm", ".3gp", ".mov", ".mpeg", ".mpg", ".h263")
_AUDIO_EXTENSIONS = (".mp3", ".wav", ".ogg", ".aac", ".m4a", ".amr", ".3ga")


@dataclass(frozen=True, slots=True)
class FileRef:
    """A file uploaded to the platform, as the UI can show it (``url`` served by the UI)."""

    url: str
    mime_type: str | None
    name: str | None
    size: int | None


FileLookup = Callable[[str], FileRef | None]
"""Resolves an uploaded file id (Google ``fileName``/``uploadedRbmFile``) to a :class:`FileRef`."""


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A suggested reply or action: its label, postback, what tapping it does on a phone."""

    kind: str
    label: str
    postback: str
    action: str | None
    detail: str
    url: str | None
    card_index: int | None
    index: int


@dataclass(frozen=True, slots=True)
class MediaView:
    """A card's media: ``url`` (``None`` when it cannot be resolved), type, display height."""

    url: str | None
    mime_type: str | None
    thumbnail: str | None
    height: str
    description: str | None

    @property
    def is_video(self) -> bool:
        """Whether the media is a video (by MIME type, else by the URL's extension)."""
        return _kind_of(self.mime_type, self.url) == "video"


@dataclass(frozen=True, slots=True)
class TextView:
    """A text message."""

    text: str


@dataclass(frozen=True, slots=True)
class FileView:
    """A file message (image, video or document)."""

    url: str | None
    name: str | None
    mime_type: str | None
    size: int | None
    thumbnail: str | None

    @property
    def kind(self) -> str:
        """``image``, ``video``, ``audio`` or ``document``."""
        return _kind_of(self.mime_type, self.url or self.name)


@dataclass(frozen=True, slots=True)
class AudioView:
    """An audio message; ``seconds`` is its playing length when known."""

    url: str | None
    name: str | None
    mime_type: str | None
    size: int | None
    seconds: int | None


@dataclass(frozen=True, slots=True)
class LocationView:
    """A location: pushed by the bot or shared by the user."""

    latitude: float | None
    longitude: float | None
    label: str | None


@dataclass(frozen=True, slots=True)
class CardView:
    """A rich card: orientation ``vertical``/``horizontal``, image ``left``/``right``."""

    title: str | None
    description: str | None
    media: MediaView | None
    orientation: str
    alignment: str
    suggestions: tuple[SuggestionView, ...]


@dataclass(frozen=True, slots=True)
class CarouselView:
    """A carousel of cards; ``width`` is ``small`` or ``medium``."""

    width: str
    orientation: str
    cards: tuple[CardView, ...]


@dataclass(frozen=True, slots=True)
class ResponseView:
    """The user's tap on a suggestion, shown as the message the phone sends."""

    kind: str
    text: str
    postback: str


@dataclass(frozen=True, slots=True)
class RawView:
    """Content the view does not know: shown as JSON with a note."""

    json_text: str
    note: str


Content = (
    TextView
    | FileView
    | AudioView
    | LocationView
    | CardView
    | CarouselView
    | ResponseView
    | RawView
)


@dataclass(frozen=True, slots=True)
class MessageView:
    """One message as the phone shows it."""

    msg_id: str
    from_bot: bool
    content: Content
    chips: tuple[SuggestionView, ...]
    status: str
    created: float
    template: str | None
    reason: str | None


# ------------------------------------------------------------------ small readers


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _url(value: Any) -> str | None:
    """A URL the page may load or link to: ``http(s)://...`` or a path on the emulator; any
    other scheme (``javascript:``, ``data:`` ...) is dropped."""
    text = _str(value)
    if text is None:
        return None
    lowered = text.strip().lower()
    if lowered.startswith(("http://", "https://")):
        return text.strip()
    if text.startswith("/") and not text.startswith("//"):
        return text
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _kind_of(mime: str | None, name: str | None) -> str:
    if mime:
        major = mime.split("/", 1)[0].lower()
        if major in ("image", "video", "audio"):
            return major
        return "document"
    lowered = (name or "").lower().split("?", 1)[0]
    if lowered.endswith(_VIDEO_EXTENSIONS):
        return "video"
    if lowered.endswith(_AUDIO_EXTENSIONS):
        return "audio"
    if lowered.endswith((".pdf", ".txt", ".doc", ".docx", ".zip", ".vcf", ".csv")):
        return "document"
    return "image"


def parse_position(pos: Any) -> tuple[float | None, float | None]:
    """Latitude and longitude of a GSMA ``pos`` (``"48.85 2.29"``, ``"48.85,2.29"``,
    ``"geo:48.85,2.29"``); ``(None, None)`` when it does not parse or is out of range."""
    if not isinstance(pos, str):
        return None, None
    text = pos.strip()
    if text.lower().startswith("geo:"):
        text = text[4:].split(";", 1)[0]
    parts = text.replace(",", " ").split()
    if len(parts) != 2:
        return None, None
    lat, lon = _float(parts[0]), _float(parts[1])
    if lat is None or lon is None or not -90 <= lat <= 90 or not -180 <= lon <= 180:
        return None, None
    return lat, lon


def _height(value: Any) -> str:
    name = str(value or "").upper().removesuffix("_HEIGHT")
    return {"SHORT": "short", "TALL": "tall"}.get(name, "medium")


def _width(value: Any) -> str:
    name = str(value or "").upper().removesuffix("_WIDTH")
    return "small" if name == "SMALL" else "medium"


def _orientation(value: Any) -> str:
    return "horizontal" if str(value or "").upper() == "HORIZONTAL" else "vertical"


def _alignment(value: Any) -> str:
    return "right" if str(value or "").upper() == "RIGHT" else "left"


def _map_url(lat: float | None, lon: float | None, query: str | None) -> str | None:
    if lat is not None and lon is not None:
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"
    if query:
        return f"https://www.openstreetmap.org/search?query={quote(query)}"
    return None


# ------------------------------------------------------------------ suggestions


def _action(name: str, detail: str, url: str | None = None) -> tuple[str, str, str | None]:
    return name, detail, url


def _gsma_action(body: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """The action name, what it does, and a link, of a GSMA ``action`` object."""
    if "urlAction" in body:
        url = _url(_obj(_obj(body["urlAction"]).get("openUrl")).get("url"))
        return _action("open_url", f"Opens {url}" if url else "Opens a web page", url)
    if "dialerAction" in body:
        dialer = _obj(body["dialerAction"])
        if "dialEnrichedCall" in dialer:
            inner = _obj(dialer["dialEnrichedCall"])
            subject = _str(inner.get("subject"))
            detail = f"Enriched call to {inner.get('phoneNumber', '?')}"
            return _action("dial_enriched_call", detail + (f": {subject}" if subject else ""))
        if "dialVideoCall" in dialer:
            number = _obj(dialer["dialVideoCall"]).get("phoneNumber", "?")
            return _action("dial_video_call", f"Video call to {number}")
        number = _obj(dialer.get("dialPhoneNumber")).get("phoneNumber", "?")
        return _action("dial_phone_number", f"Calls {number}")
    if "mapAction" in body:
        mapping = _obj(body["mapAction"])
        if "requestLocationPush" in mapping:
            return _action("request_location_push", "Asks you to share your location")
        location = _obj(_obj(mapping.get("showLocation")).get("location"))
        return _show_location(
            _float(location.get("latitude")),
            _float(location.get("longitude")),
            _str(location.get("label")),
            _str(location.get("query")),
        )
    if "calendarAction" in body:
        event = _obj(_obj(body["calendarAction"]).get("createCalendarEvent"))
        return _calendar(event)
    if "composeAction" in body:
        return _compose(_obj(body["composeAction"]))
    if "deviceAction" in body:
        return _action("request_device_specifics", "Shares your device's specifics with the bot")
    if "settingsAction" in body:
        settings = _obj(body["settingsAction"])
        if "enableDisplayedNotifications" in settings:
            return _action("enable_displayed_notifications", "Turns on read receipts for the bot")
        return _action("disable_anonymization", "Shares your phone number with the bot")
    return None, "An action this emulator does not know", None


def _show_location(
    lat: float | None, lon: float | None, label: str | None, query: str | None
) -> tuple[str, str, str | None]:
    if lat is not None and lon is not None:
        where = f"{label} ({lat:.5f}, {lon:.5f})" if label else f"{lat:.5f}, {lon:.5f}"
    else:
        where = label or query or "a place"
    return _action("show_location", f"Shows {where} on a map", _map_url(lat, lon, query))


def _calendar(event: dict[str, Any]) -> tuple[str, str, str | None]:
    title = _str(event.get("title")) or "an event"
    start, end = _str(event.get("startTime")), _str(event.get("endTime"))
    when = f" ({start} to {end})" if start and end else ""
    return _action("create_calendar_event", f"Adds '{title}' to your calendar{when}")


def _compose(compose: dict[str, Any]) -> tuple[str, str, str | None]:
    if "composeRecordingMessage" in compose:
        inner = _obj(compose["composeRecordingMessage"])
        kind = str(inner.get("type", "")).upper()
        medium = "a video" if "VIDEO" in kind else "an audio"
        number = inner.get("phoneNumber", "?")
        return _action("compose_recording_message", f"Records {medium} message for {number}")
    inner = _obj(compose.get("composeTextMessage"))
    draft = _str(inner.get("text"))
    detail = f"Drafts a message to {inner.get('phoneNumber', '?')}"
    return _action("compose_text_message", detail + (f": '{draft}'" if draft else ""))


def _google_action(body: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """The action name, what it does, and a link, of a Google ``action`` object."""
    if "openUrlAction" in body:
        inner = _obj(body["openUrlAction"])
        url = _url(inner.get("url"))
        webview = str(inner.get("application", "")).upper() == "WEBVIEW"
        where = " in a webview" if webview else ""
        return _action("open_url", f"Opens {url}{where}" if url else "Opens a web page", url)
    if "dialAction" in body:
        return _action("dial_phone_number", f"Calls {_obj(body['dialAction']).get('phoneNumber')}")
    if "viewLocationAction" in body:
        inner = _obj(body["viewLocationAction"])
        lat_long = _obj(inner.get("latLong"))
        return _show_location(
            _float(lat_long.get("latitude")),
            _float(lat_long.get("longitude")),
            _str(inner.get("label")),
            _str(inner.get("query")),
        )
    if "shareLocationAction" in body:
        return _action("request_location_push", "Asks you to share your location")
    if "createCalendarEventAction" in body:
        return _calendar(_obj(body["createCalendarEventAction"]))
    if "composeAction" in body:
        return _compose(_obj(body["composeAction"]))
    return None, "An action this emulator does not know", None


def _suggestion(
    item: Any, google: bool, card_index: int | None, index: int
) -> SuggestionView | None:
    item = _obj(item)
    kind = "reply" if "reply" in item else "action" if "action" in item else None
    if kind is None:
        return None
    body = _obj(item[kind])
    if google:
        label = str(body.get("text", ""))
        postback = str(body.get("postbackData", ""))
    else:
        label = str(body.get("displayText", ""))
        postback = str(_obj(body.get("postback")).get("data", ""))
    if kind == "reply":
        return SuggestionView(
            "reply", label, postback, None, "Sends this reply", None, card_index, index
        )
    name, detail, url = (_google_action if google else _gsma_action)(body)
    fallback = _url(body.get("fallbackUrl"))
    return SuggestionView(
        "action", label, postback, name, detail, url or fallback, card_index, index
    )


def _suggestions(items: Any, google: bool, card_index: int | None) -> tuple[SuggestionView, ...]:
    found = (_suggestion(item, google, card_index, i) for i, item in enumerate(_list(items)))
    return tuple(s for s in found if s is not None)


# ------------------------------------------------------------------ contents


def _gsma_media(media: dict[str, Any]) -> MediaView:
    return MediaView(
        url=_url(media.get("mediaUrl")),
        mime_type=_str(media.get("mediaContentType")),
        thumbnail=_url(media.get("thumbnailUrl")),
        height=_height(media.get("height")),
        description=_str(media.get("contentDescription")),
    )


def _google_source(
    source: dict[str, Any], files: FileLookup
) -> tuple[str | None, str | None, str | None, str | None, int | None]:
    """``(url, thumbnail, mime, name, size)`` of a Google file reference."""
    info = _obj(source.get("contentInfo"))
    if info:
        return _url(info.get("fileUrl")), _url(info.get("thumbnailUrl")), None, None, None
    uploaded = _obj(source.get("uploadedRbmFile"))
    file_id = _str(uploaded.get("fileName")) or _str(source.get("fileName"))
    if file_id is None:
        return None, None, None, None, None
    ref = files(file_id)
    thumb_id = _str(uploaded.get("thumbnailName"))
    thumb = files(thumb_id) if thumb_id else None
    if ref is None:
        return None, thumb.url if thumb else None, None, file_id, None
    return ref.url, thumb.url if thumb else None, ref.mime_type, ref.name, ref.size


def _google_media(media: dict[str, Any], files: FileLookup) -> MediaView:
    url, thumb, mime, _, _ = _google_source(media, files)
    return MediaView(url, mime, thumb, _height(media.get("height")), None)


def _gsma_card_content(
    content: dict[str, Any], card_index: int, orientation: str, alignment: str
) -> CardView:
    media = _obj(content.get("media"))
    return CardView(
        title=_str(content.get("title")),
        description=_str(content.get("description")),
        media=_gsma_media(media) if media else None,
        orientation=orientation,
        alignment=alignment,
        suggestions=_suggestions(content.get("suggestions"), False, card_index),
    )


def _google_card_content(
    content: dict[str, Any], files: FileLookup, card_index: int, orientation: str, alignment: str
) -> CardView:
    media = _obj(content.get("media"))
    return CardView(
        title=_str(content.get("title")),
        description=_str(content.get("description")),
        media=_google_media(media, files) if media else None,
        orientation=orientation,
        alignment=alignment,
        suggestions=_suggestions(content.get("suggestions"), True, card_index),
    )


def _raw(content: Any, note: str) -> RawView:
    return RawView(json.dumps(content, indent=2, ensure_ascii=False), note)


def _gsma_content(rcs: dict[str, Any]) -> Content:
    if isinstance(rcs.get("textMessage"), str):
        return TextView(rcs["textMessage"])
    if "fileMessage" in rcs:
        f = _obj(rcs["fileMessage"])
        return FileView(
            url=_url(f.get("fileUrl")),
            name=_str(f.get("fileName")),
            mime_type=_str(f.get("fileMIMEType")),
            size=_int(f.get("fileSize")),
            thumbnail=_url(f.get("thumbnailUrl")),
        )
    if "audioMessage" in rcs:
        a = _obj(rcs["audioMessage"])
        return AudioView(
            url=_url(a.get("fileUrl")),
            name=_str(a.get("fileName")),
            mime_type=_str(a.get("fileMIMEType")),
            size=_int(a.get("fileSize")),
            seconds=_int(a.get("playingLength")),
        )
    if "geolocationPushMessage" in rcs:
        g = _obj(rcs["geolocationPushMessage"])
        lat, lon = parse_position(g.get("pos"))
        return LocationView(lat, lon, _str(g.get("label")))
    message = _obj(_obj(rcs.get("richcardMessage")).get("message"))
    if "generalPurposeCard" in message:
        card = _obj(message["generalPurposeCard"])
        layout = _obj(card.get("layout"))
        return _gsma_card_content(
            _obj(card.get("content")),
            0,
            _orientation(layout.get("cardOrientation")),
            _alignment(layout.get("imageAlignment")),
        )
    if "generalPurposeCardCarousel" in message:
        carousel = _obj(message["generalPurposeCardCarousel"])
        layout = _obj(carousel.get("layout"))
        orientation = _orientation(layout.get("cardOrientation"))
        cards = tuple(
            _gsma_card_content(_obj(c), i, orientation, "left")
            for i, c in enumerate(_list(carousel.get("content")))
        )
        return CarouselView(_width(layout.get("cardWidth")), orientation, cards)
    return _raw(rcs, "A GSMA message this emulator's web UI does not display")


def _google_content(content: dict[str, Any], files: FileLookup) -> Content:
    if isinstance(content.get("text"), str):
        return TextView(content["text"])
    rich = _obj(content.get("richCard"))
    if "standaloneCard" in rich:
        card = _obj(rich["standaloneCard"])
        return _google_card_content(
            _obj(card.get("cardContent")),
            files,
            0,
            _orientation(card.get("cardOrientation")),
            _alignment(card.get("thumbnailImageAlignment")),
        )
    if "carouselCard" in rich:
        carousel = _obj(rich["carouselCard"])
        cards = tuple(
            _google_card_content(_obj(c), files, i, "vertical", "left")
            for i, c in enumerate(_list(carousel.get("cardContents")))
        )
        return CarouselView(_width(carousel.get("cardWidth")), "vertical", cards)
    if any(k in content for k in ("contentInfo", "fileName", "uploadedRbmFile")):
        url, thumb, mime, name, size = _google_source(content, files)
        return FileView(url, name, mime, size, thumb)
    return _raw(content, "A Google message this emulator's web UI does not display")


def _user_content(content: dict[str, Any]) -> Content:
    if isinstance(content.get("text"), str):
        return TextView(content["text"])
    if "location" in content:
        loc = _obj(content["location"])
        return LocationView(
            _float(loc.get("latitude")), _float(loc.get("longitude")), _str(loc.get("label"))
        )
    if "file" in content:
        f = _obj(content["file"])
        name, mime, url = _str(f.get("name")), _str(f.get("mime_type")), _url(f.get("url"))
        if _kind_of(mime, name or url) == "audio":
            return AudioView(url, name, mime, _int(f.get("size")), None)
        return FileView(url, name, mime, _int(f.get("size")), None)
    if "response" in content:
        r = _obj(content["response"])
        return ResponseView(
            str(r.get("kind", "reply")), str(r.get("text", "")), str(r.get("postback", ""))
        )
    return _raw(content, "A user message this emulator's web UI does not display")


def message_view(msg: StoredMessage, files: FileLookup) -> MessageView:
    """The view of a stored message (``files`` resolves uploaded file ids)."""
    try:
        content: Any = msg.content_json()
    except ValueError:
        content = msg.content.decode("utf-8", "replace")
    chips: tuple[SuggestionView, ...] = ()
    body = content if isinstance(content, dict) else {}
    if not isinstance(content, dict):
        view: Content = _raw(content, "Stored content is not a JSON object")
    elif msg.fmt == FMT_USER:
        view = _user_content(body)
    elif msg.fmt == FMT_GOOGLE:
        view = _google_content(body, files)
        chips = _suggestions(body.get("suggestions"), True, None)
    else:
        view = _gsma_content(body)
        chips = _suggestions(_obj(body.get("suggestedChipList")).get("suggestions"), False, None)
    return MessageView(
        msg_id=msg.msg_id,
        from_bot=msg.direction == A2P,
        content=view,
        chips=chips,
        status=msg.status,
        created=msg.created,
        template=msg.template,
        reason=msg.reason,
    )


def no_files(file_id: str) -> FileRef | None:
    """A :data:`FileLookup` that knows no file (for tests and previews)."""
    return None
