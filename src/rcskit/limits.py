"""Every limit rcskit enforces, in one table, and the pure check of a message against them.

``LIMITS`` maps a rule name to a :class:`Limit` (value, unit, and the source it comes from: a seed
file and section, or a public spec). ``PROFILES`` holds the per-provider values that differ
(``gsma``, ``google``, ``dotgo``, ``orange``, ``smsbox``); derive your own with
:meth:`Profile.replace`.

Check a message before sending it::

    from rcskit.limits import Policy, check, validate
    from rcskit.message import Message, Reply

    msg = Message("Hello", suggestions=[Reply("A much too long chip text here", "x")])
    check(msg, "google")           # -> [LimitViolation(path="suggestions[0].text", ...)]
    validate(msg, "google")        # raises InvalidMessage listing every violation
    validate(msg, "google", Policy.WARN)   # logs one warning per violation, returns them

:func:`check` returns hard errors; :func:`recommendations` returns advisory findings (the
recommended media sizes of seed 002 section 4.3), which are never errors. Nothing here
truncates or rewrites a message: a violation is reported, and the caller decides.

Each violation is a :class:`LimitViolation`: ``path`` is the neutral dotted path
(``content.cards[2].suggestions[4].text``), ``path_tuple`` the same as a tuple
(``("content", "cards", 2, "suggestions", 4, "text")``) for the wire formats to translate into
their own JSON paths, and ``rule`` the key of the broken entry in ``LIMITS``.

Sizes: "KB" and "MB" in the sources are read as 1024 and 1024 * 1024 bytes. Text lengths are
counted in Python characters (Unicode code points).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urlsplit

from .errors import InvalidMessage, Violation
from .message import (
    Audio,
    Card,
    Carousel,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    File,
    GeolocationPush,
    Height,
    IsTyping,
    Media,
    Message,
    OpenUrl,
    Orientation,
    Reply,
    ShowLocation,
    Template,
    Text,
    parse_rfc3339,
)
from .phones import e164_syntax_problem

__all__ = [
    "KB",
    "LIMITS",
    "MB",
    "PROFILES",
    "RECIPIENT_LIMITS",
    "Limit",
    "LimitViolation",
    "Policy",
    "Profile",
    "check",
    "check_recipients",
    "check_validity_minutes",
    "dotted_path",
    "estimate_payload_bytes",
    "profile",
    "recommendations",
    "validate",
]

logger = logging.getLogger("rcskit.limits")

KB: Final = 1024
MB: Final = 1024 * KB

LimitValue = int | float | str | tuple[int | float | str, ...]
"""What a limit holds: a number, a (min, max) range, a list of allowed values, or a rule text."""

Path = tuple[str | int, ...]

# Short names for the sources, expanded in every ``Limit.source``.
_S000 = "seed 000 (Orange RCS BotHub FAQ)"
_S002 = "seed 002 (Dotgo RBM API)"
_S003 = "seed 003 (rcs_chatbot SDK, PyPI)"
_S004 = "seed 004 (SMSBOX RCS API 2.1.0)"
_GD = "https://developers.google.com/business-communications/rcs-business-messaging/"
_GREF = _GD + "reference/rest/v1/phones.agentMessages"
_GCARDS = _GD + "guides/learn/rich-cards"
_GMAAP = "GSMA MaaP chatbot API (FNW.11 / RCC.07) and the Samsung MaaP SDK"
_GRBM = "Google RBM API reference"


@dataclass(frozen=True, slots=True)
class Limit:
    """One limit: its ``value`` in ``unit``, the ``source`` it comes from, and a ``note``.

    ``value`` is a number, a ``(min, max)`` tuple for ranges, a tuple of allowed values, or a
    short text for rules that are not numbers (``unit == "rule"``).
    """

    name: str
    value: LimitValue
    unit: str
    source: str
    note: str = ""


_DOTGO_FILE_TYPES = (
    "application/pdf",
    "image/jpeg",
    "image/gif",
    "image/png",
    "video/h263",
    "video/m4v",
    "video/mp4",
    "video/mpeg4",
    "video/mpeg",
    "video/webm",
)
_RICH_CARD_TYPES = (
    "image/jpeg",
    "image/jpg",
    "image/gif",
    "image/png",
    "video/h263",
    "video/m4v",
    "video/mp4",
    "video/mpeg4",
    "video/mpeg",
    "video/webm",
)
_GOOGLE_FILE_TYPES = (
    *_RICH_CARD_TYPES,
    "application/pdf",
    "audio/aac",
    "audio/mp3",
    "audio/mpeg",
    "audio/mpg",
    "audio/mp4",
    "audio/mp4-latm",
    "audio/3gpp",
    "application/ogg",
    "audio/ogg",
)

_TABLE: tuple[Limit, ...] = (
    # ---- text and payload
    Limit(
        "text_chars",
        3072,
        "characters",
        f"Google RBM AgentContentMessage.text, {_GREF} ({_GRBM})",
        "GSMA MaaP documents no text limit (gsma_maap.md section 3): profiles without "
        "max_text_chars rely on the total payload limit.",
    ),
    Limit(
        "payload_bytes",
        256 * KB,
        "bytes",
        f"{_S002} section 4.1: 'The maximum size of text that can be sent in an RBM message is "
        "256KB. This includes the text that makes up the JSON payload'",
        "Measured on the encoded JSON; Google RBM allows 250 KB (payload_bytes_google).",
    ),
    Limit(
        "payload_bytes_google",
        250 * KB,
        "bytes",
        f"Google RBM send guide, {_GD}guides/build/messages/send: the stringified AgentMessage "
        f"is limited to 250 KB ({_GRBM})",
        "Also used for providers that relay to Google RBM (Orange, SMSBOX).",
    ),
    Limit(
        "text_required",
        "text content must not be empty",
        "rule",
        f"Google RBM AgentContentMessage: text is the content member ({_GREF}); "
        f"GSMA textMessage ({_GMAAP})",
    ),
    # ---- suggestions
    Limit(
        "suggestions_per_message",
        11,
        "suggestions",
        f"Google RBM AgentContentMessage.suggestions 'maximum 11' ({_GREF}); GSMA "
        f"suggestedChipList max 11 ({_GMAAP}, Samsung MaaP SDK)",
    ),
    Limit(
        "suggestions_per_card",
        4,
        "suggestions",
        f"Google RBM CardContent.suggestions 'maximum 4' ({_GREF}, {_GCARDS}); GSMA rich card "
        f"max 4 ({_GMAAP})",
        "The 2025-07 Google Java model says 10 (google_rbm.md section 4, uncertain): "
        "configurable per profile.",
    ),
    Limit(
        "suggestion_text_chars",
        25,
        "characters",
        f"Google RBM SuggestedReply.text / SuggestedAction.text ({_GREF}); GSMA displayText "
        f"({_GMAAP})",
    ),
    Limit(
        "suggestion_text_required",
        "suggestion text must not be empty",
        "rule",
        f"Google RBM SuggestedReply.text / SuggestedAction.text are required ({_GREF})",
    ),
    Limit(
        "postback_data_chars",
        2048,
        "characters",
        f"Google RBM SuggestedAction.postbackData ({_GREF}); GSMA postback.data ({_GMAAP})",
    ),
    Limit(
        "url_chars",
        2048,
        "characters",
        f"Google RBM SuggestedAction.fallbackUrl and OpenUrlAction.url: RFC 3986 URI of at most "
        f"2048 characters ({_GREF}, {_GRBM})",
        "Applies to fallback_url and OpenUrl.url.",
    ),
    Limit(
        "url_scheme",
        "absolute http or https URL",
        "rule",
        f"Google RBM fileUrl / openUrlAction.url / fallbackUrl are web URIs ({_GREF}); seed 002 "
        "section 1.1 requires HTTPS webhooks and all seed media URLs are https",
        "Applies to every URL of a message: media, thumbnails, files, audio, open-URL, fallback.",
    ),
    # ---- cards
    Limit(
        "card_title_chars",
        200,
        "characters",
        f"Google RBM CardContent.title ({_GREF}); GSMA card title ({_GMAAP})",
    ),
    Limit(
        "card_description_chars",
        2000,
        "characters",
        f"Google RBM CardContent.description ({_GREF}); GSMA card description ({_GMAAP})",
    ),
    Limit(
        "media_content_description_chars",
        200,
        "characters",
        f"GSMA media contentDescription ({_GMAAP}, Samsung MaaP SDK)",
    ),
    Limit(
        "carousel_cards",
        (2, 10),
        "cards",
        f"Google RBM CarouselCard.cardContents 'minimum 2, maximum 10' ({_GREF}); AWS "
        f"API_RcsCarousel ({_GMAAP})",
    ),
    Limit(
        "image_alignment_requires_horizontal",
        "image_alignment only with orientation HORIZONTAL",
        "rule",
        f"{_S003} Richcard setImageAlignment; GSMA layout.imageAlignment ({_GMAAP}); "
        f"Google thumbnailImageAlignment 'only for HORIZONTAL' ({_GRBM})",
    ),
    Limit(
        "carousel_card_layout",
        "no orientation or image_alignment on a card inside a carousel",
        "rule",
        f"GSMA generalPurposeCardCarousel has no per-card layout ({_GMAAP}); Google "
        f"CarouselCard has no cardOrientation ({_GREF})",
    ),
    Limit(
        "carousel_media_height",
        "no TALL media height in a carousel",
        "rule",
        f"Google rule, mirrored by AWS rcs-carousels ({_GMAAP})",
        "Uncertain for MaaP clients (gsma_maap.md section 2.4): Profile.allow_tall_in_carousel.",
    ),
    Limit(
        "thumbnail_metadata",
        "thumbnail_url requires the thumbnail content type and size",
        "rule",
        f"{_S003} Richcard setMedia: 'The thumbnailUrl property is optional, but if used, "
        f"thumbnailContentType and thumbnailFileSize must be provided as well' ({_GMAAP})",
        "Media: per profile (GSMA-format providers). File (thumbnail_mime_type, thumbnail_size): "
        "gsma profile only.",
    ),
    # ---- calendar
    Limit(
        "calendar_title_chars",
        100,
        "characters",
        f"Google RBM CreateCalendarEventAction.title ({_GREF}, {_GRBM})",
    ),
    Limit(
        "calendar_description_chars",
        500,
        "characters",
        f"Google RBM CreateCalendarEventAction.description ({_GREF}, {_GRBM})",
    ),
    Limit(
        "calendar_times",
        "start_time and end_time RFC 3339, end after start",
        "rule",
        f"Google RBM CreateCalendarEventAction startTime/endTime are Timestamps ({_GREF}); GSMA "
        f"createCalendarEvent ({_GMAAP})",
    ),
    # ---- files and media
    Limit(
        "file_media_types",
        _DOTGO_FILE_TYPES,
        "MIME types",
        f"{_S002} section 4.2 table (Media Type column)",
        "Dotgo profile. Google-relayed profiles use google_file_media_types; gsma checks none.",
    ),
    Limit(
        "google_file_media_types",
        _GOOGLE_FILE_TYPES,
        "MIME types",
        f"Google RBM CreateFileRequest supported types ({_GRBM}; {_GMAAP})",
    ),
    Limit(
        "rich_card_media_types",
        _RICH_CARD_TYPES,
        "MIME types",
        f"{_S002} section 4.2 table, rows with 'Works with rich cards: Yes' (PDF: No); "
        f"image/jpg from Google RBM ({_GRBM})",
    ),
    Limit(
        "file_bytes",
        100 * MB,
        "bytes",
        f"{_S002} section 4.2: max size 100 MB per file; Google RBM ContentInfo 100 MB ({_GRBM})",
        "Applies to file and audio messages, not to rich card media (section 4.3 gives "
        "recommendations there).",
    ),
    Limit(
        "positive_size",
        "sizes, when given, are at least 1 byte",
        "rule",
        f"GSMA fileSize 'should not be 0' (developers.webexconnect.io/reference/rcs-api, {_GMAAP})",
    ),
    Limit(
        "thumbnail_bytes",
        100 * KB,
        "bytes",
        f"Google RBM ContentInfo.thumbnailUrl max 100 kB ({_GCARDS}, {_GRBM}); "
        f"{_S002} section 4.3 recommended maximum 100 KB",
    ),
    # ---- section 4.3 recommendations (advisory, never errors)
    Limit(
        "card_image_bytes_recommended",
        2 * MB,
        "bytes",
        f"{_S002} section 4.3: recommended maximum image in a standalone rich card",
        "Recommendation: reported by recommendations(), never an error.",
    ),
    Limit(
        "card_video_bytes_recommended",
        10 * MB,
        "bytes",
        f"{_S002} section 4.3: recommended maximum video in a standalone rich card",
        "Recommendation.",
    ),
    Limit(
        "card_thumbnail_bytes_recommended",
        40 * KB,
        "bytes",
        f"{_S002} section 4.3: recommended optimal thumbnail in a standalone rich card (the "
        "100 KB recommended maximum is the hard thumbnail_bytes limit)",
        "Recommendation.",
    ),
    Limit(
        "carousel_image_bytes_recommended",
        1 * MB,
        "bytes",
        f"{_S002} section 4.3: recommended maximum image in a rich card carousel",
        "Recommendation.",
    ),
    Limit(
        "carousel_video_bytes_recommended",
        5 * MB,
        "bytes",
        f"{_S002} section 4.3: recommended maximum video in a rich card carousel",
        "Recommendation.",
    ),
    Limit(
        "carousel_thumbnail_bytes_recommended",
        40 * KB,
        "bytes",
        f"{_S002} section 4.3: recommended optimal thumbnail in a rich card carousel",
        "Recommendation.",
    ),
    Limit(
        "media_types",
        "content types from the profile's lists",
        "rule",
        f"{_S002} section 4.2",
        "Lists: file_media_types, google_file_media_types, rich_card_media_types.",
    ),
    # ---- locations
    Limit(
        "latitude",
        (-90.0, 90.0),
        "degrees",
        f"Google RBM LatLng.latitude [-90.0, +90.0] ({_GREF}); WGS 84 ({_S003} GeolocationPush)",
    ),
    Limit(
        "longitude",
        (-180.0, 180.0),
        "degrees",
        f"Google RBM LatLng.longitude [-180.0, +180.0] ({_GREF}); WGS 84 ({_S003} GeolocationPush)",
    ),
    Limit(
        "geolocation_pos",
        "'<latitude> <longitude>' in decimal degrees",
        "rule",
        f"{_S003} GeolocationPushMessage.pos: 'coordinates in WGS 84 (latitude, longitude) "
        "decimal notation'",
    ),
    # ---- phone numbers, templates
    Limit(
        "phone_e164",
        "E.164 syntax: + then 1 to 15 digits, the first not 0",
        "rule",
        f"ITU-T E.164 (at most 15 digits, country codes do not start with 0); Google RBM "
        f"DialAction.phoneNumber '+E164' ({_GREF}); {_S003} dialer and compose examples "
        "('+1650253000')",
        "Numbers inside dial and compose actions: syntax only, so that any number the "
        "platforms accept passes. Recipients are checked more strictly (a possible number "
        "for its country) by rcskit.phones.normalize_msisdn.",
    ),
    Limit(
        "template_code",
        "template code must not be empty",
        "rule",
        f"{_S002} section 2.1.1.1 Example 1: templateMessage.templateCode",
    ),
    # ---- expiry
    Limit(
        "ttl_syntax",
        r"^\d+(\.\d{1,9})?s$",
        "regex",
        f"{_S002} section 2.1.1 Message Expiry: 'A duration in seconds with up to nine "
        "fractional digits, ending with 's''",
    ),
    Limit(
        "expire_time",
        "RFC 3339 timestamp after now",
        "rule",
        f"{_S002} section 2.1.1 Message Expiry: 'RFC3339 UTC Zulu format ... up to nine "
        "fractional digits'; 'if any older dates or invalid formats are used such messages "
        "will be rejected'",
    ),
    # ---- SMSBOX
    Limit(
        "smsbox_validity_minutes",
        (1, 10080),
        "minutes",
        f"{_S004} Send text message, validity: 'Max 10080 minutes (7 days), min: 1 minute'",
    ),
    Limit(
        "smsbox_recipients_per_send",
        5000,
        "numbers",
        f"{_S004} Send text message: recipients 'Array of strings <= 5000 items'",
    ),
    Limit(
        "smsbox_recipients_per_revoke",
        5000,
        "numbers",
        f"{_S004} Revoke a message: recipients 'Array of strings <= 5000 items'",
    ),
    Limit(
        "smsbox_testers_per_call",
        10,
        "numbers",
        f"{_S004} Add Tester: recipients 'Array of strings <= 10 items'",
    ),
    Limit(
        "smsbox_capability_numbers_per_call",
        500,
        "numbers",
        f"{_S004} Capabilities, Perform a check: recipients 'Array of strings <= 500 items'",
    ),
    Limit(
        "smsbox_event_recipients_per_call",
        1,
        "numbers",
        f"{_S004} Send read event: recipients 'Array of strings <= 1 items'",
    ),
    # ---- capability checks and throttling
    Limit(
        "bulk_capability_numbers",
        10000,
        "numbers",
        f"{_S000} 'BULK Capa ... max 10K MSISDN'; {_S002} section 2.6 'up to 10,000 phone "
        f"numbers per bulk capability check'; Google users.batchGet ({_GRBM}, "
        "uncertain)",
    ),
    Limit(
        "orange_bulk_capability_window",
        ("22:00", "07:00", "CET"),
        "local time window",
        f"{_S000}: 'Execute those requests only on timeslots from 10 PM CET to 7 AM CET'; "
        "HTTP 405 outside",
        "CET is read as Europe/Paris civil time (CET/CEST): uncertain, keep configurable.",
    ),
    Limit(
        "dotgo_token_requests_per_minute",
        60,
        "requests per minute",
        f"{_S002} section 1.4: token endpoint 'transactions per minute (TPM) will be 60 per "
        "client'",
    ),
    Limit(
        "dotgo_tps_burst",
        0.2,
        "fraction of the configured TPS",
        f"{_S002} section 6: 'short time spikes of 20% of the configured TPS, as long as the "
        "load is below the configured TPS over a 30 second period'",
    ),
    Limit(
        "dotgo_tps_window_seconds",
        30,
        "seconds",
        f"{_S002} section 6: average TPS is enforced over a 30 second window",
    ),
)

LIMITS: dict[str, Limit] = {limit.name: limit for limit in _TABLE}
"""Every limit rcskit knows, by name. Each cites its ``source``."""


def _int(name: str) -> int:
    value = LIMITS[name].value
    if not isinstance(value, int):
        raise TypeError(f"limit {name} is not an integer")
    return value


def _pair(name: str) -> tuple[float, float]:
    value = LIMITS[name].value
    if not isinstance(value, tuple) or len(value) != 2:
        raise TypeError(f"limit {name} is not a range")
    low, high = value
    if isinstance(low, str) or isinstance(high, str):
        raise TypeError(f"limit {name} is not a numeric range")
    return float(low), float(high)


def _types(name: str) -> frozenset[str]:
    value = LIMITS[name].value
    if not isinstance(value, tuple):
        raise TypeError(f"limit {name} is not a list")
    return frozenset(str(v) for v in value)


_CAROUSEL_MIN, _CAROUSEL_MAX = (int(v) for v in _pair("carousel_cards"))
_LAT = _pair("latitude")
_LON = _pair("longitude")
_VALIDITY = tuple(int(v) for v in _pair("smsbox_validity_minutes"))
_TTL_RE = re.compile(str(LIMITS["ttl_syntax"].value))


# ---------------------------------------------------------------- profiles


@dataclass(frozen=True, slots=True)
class Profile:
    """The values of one provider (or wire format) that ``check`` applies.

    ``max_text_chars=None`` means no separate text limit (the payload limit applies);
    ``*_media_types=None`` means the types are not checked. ``wire_format`` (``"gsma"`` or
    ``"google"``) is the body the provider takes: rules of one format only (the GSMA thumbnail
    metadata) apply only to it; :func:`check` can override it for a body of the other format.
    Derive a variant with :meth:`replace`: ``profile("google").replace(suggestions_per_card=10)``.
    """

    name: str
    max_payload_bytes: int = _int("payload_bytes")
    max_text_chars: int | None = None
    suggestions_per_message: int = _int("suggestions_per_message")
    suggestions_per_card: int = _int("suggestions_per_card")
    suggestion_text_chars: int = _int("suggestion_text_chars")
    postback_data_chars: int = _int("postback_data_chars")
    url_chars: int = _int("url_chars")
    card_title_chars: int = _int("card_title_chars")
    card_description_chars: int = _int("card_description_chars")
    media_content_description_chars: int = _int("media_content_description_chars")
    carousel_min_cards: int = _CAROUSEL_MIN
    carousel_max_cards: int = _CAROUSEL_MAX
    calendar_title_chars: int | None = _int("calendar_title_chars")
    calendar_description_chars: int | None = _int("calendar_description_chars")
    max_file_bytes: int = _int("file_bytes")
    max_thumbnail_bytes: int | None = _int("thumbnail_bytes")
    wire_format: str = "gsma"
    allow_tall_in_carousel: bool = False
    image_alignment_needs_horizontal: bool = True
    media_thumbnail_needs_metadata: bool = True
    file_thumbnail_needs_metadata: bool = False
    file_media_types: frozenset[str] | None = None
    rich_card_media_types: frozenset[str] | None = field(
        default_factory=lambda: _types("rich_card_media_types")
    )

    def replace(self, **changes: Any) -> Profile:
        """A copy with some values changed: ``profile("dotgo").replace(max_text_chars=3072)``."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown profile field(s) {unknown}; known: {sorted(known)}")
        return replace(self, **changes)


_GOOGLE_LIKE: dict[str, Any] = {
    "max_payload_bytes": _int("payload_bytes_google"),
    "max_text_chars": _int("text_chars"),
    "file_media_types": _types("google_file_media_types"),
}

_DOTGO = Profile(
    name="dotgo",
    file_media_types=_types("file_media_types"),
    max_thumbnail_bytes=None,
    image_alignment_needs_horizontal=False,
)

PROFILES: dict[str, Profile] = {
    # Generic MaaP (FNW.11): no documented text limit or media-type list; thumbnail metadata
    # required on cards and files (seed 003); calendar limits undocumented.
    "gsma": Profile(
        name="gsma",
        max_thumbnail_bytes=None,
        calendar_title_chars=None,
        calendar_description_chars=None,
        file_thumbnail_needs_metadata=True,
        rich_card_media_types=None,
    ),
    # Google RBM: 3072 characters of text, 250 KB per message, Google's file types; thumbnails
    # are plain URLs (no content type or size on the wire).
    # A thumbnailImageAlignment on a vertical card is ignored by Google (Dotgo's own seed example
    # 3.2 Example 7 sends one): a recommendation there, an error for GSMA MaaP (seed 003).
    "google": Profile(
        name="google",
        wire_format="google",
        media_thumbnail_needs_metadata=False,
        image_alignment_needs_horizontal=False,
        **_GOOGLE_LIKE,
    ),
    # Dotgo serves both formats; seed 002 sections 4.1 and 4.2 give its own numbers.
    # Section 4.3 calls 100 KB thumbnails a recommended maximum, so it is advice, not an error.
    "dotgo": _DOTGO,
    # Dotgo's Google-style API: Dotgo's own numbers (seed 002 section 4 is "common for both
    # the GSMA API and the Google API"), plus the text limit of the Google AgentContentMessage
    # it takes (3072 characters), which a Google-format message cannot exceed.
    # Its thumbnails are plain URLs, as in Google's format (seed 002 section 3.2 Example 7).
    "dotgo_google": _DOTGO.replace(
        name="dotgo_google", wire_format="google", max_text_chars=_int("text_chars")
    ),
    # Orange BotHub speaks GSMA but relays to Google RBM (providers.md section 2.3).
    "orange": Profile(name="orange", **_GOOGLE_LIKE),
    # SMSBOX sends Google's AgentContentMessage (providers.md section 1.3).
    "smsbox": Profile(
        name="smsbox",
        wire_format="google",
        media_thumbnail_needs_metadata=False,
        image_alignment_needs_horizontal=False,
        **_GOOGLE_LIKE,
    ),
}
"""The built-in profiles, by name."""


def profile(name: str | Profile) -> Profile:
    """The built-in profile ``name`` (a :class:`Profile` is returned as is).

    Raises :class:`ValueError` naming the valid profiles when ``name`` is unknown.
    """
    if isinstance(name, Profile):
        return name
    found = PROFILES.get(name)
    if found is None:
        raise ValueError(f"unknown limits profile {name!r}; valid: {', '.join(sorted(PROFILES))}")
    return found


# ---------------------------------------------------------------- violations and policy


@dataclass(frozen=True, slots=True)
class LimitViolation(Violation):
    """A :class:`~rcskit.errors.Violation` that also carries ``path_tuple`` and ``rule``.

    ``path_tuple`` is the neutral path as a tuple (``("content", "cards", 2, "title")``);
    ``rule`` is the key of the broken limit in :data:`LIMITS`.
    """

    path_tuple: Path = ()
    rule: str = ""


class Policy(StrEnum):
    """What :func:`validate` does with violations: raise, log, or skip checking."""

    STRICT = "strict"
    WARN = "warn"
    OFF = "off"


def dotted_path(path: Path) -> str:
    """Render a path tuple: ``("content", "cards", 2, "title")`` -> ``content.cards[2].title``.

    The empty path (the whole message) renders as ``(message)``.
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = f"{out}.{part}" if out else part
    return out or "(message)"


def _add(out: list[LimitViolation], path: Path, value: Any, limit: str, rule: str) -> None:
    out.append(LimitViolation(dotted_path(path), value, limit, path, rule))


def _too_long(out: list[LimitViolation], path: Path, value: str, limit: int, rule: str) -> None:
    _add(out, path, value, f"at most {limit} characters ({limit} < {len(value)})", rule)


# ---------------------------------------------------------------- cached leaf checks


@lru_cache(maxsize=4096)
def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "must be an absolute http(s) URL (does not parse)"
    if parts.scheme.lower() not in ("http", "https"):
        return f"must be an absolute http(s) URL (scheme {parts.scheme or 'missing'!r})"
    if not parts.hostname:
        return "must be an absolute http(s) URL (no host)"
    if any(c.isspace() for c in url):
        return "must be an absolute http(s) URL (contains whitespace)"
    return None


@lru_cache(maxsize=4096)
def _phone_problem(number: str) -> str | None:
    return e164_syntax_problem(number)


def _mime(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


# ---------------------------------------------------------------- the walk


def _url(out: list[LimitViolation], url: str, path: Path) -> None:
    problem = _url_problem(url)
    if problem is not None:
        _add(out, path, url, problem, "url_scheme")


def _size(
    out: list[LimitViolation], size: int | None, path: Path, limit: int | None, rule: str, what: str
) -> None:
    if size is None:
        return
    if size < 1:
        _add(out, path, size, "must be at least 1 byte", "positive_size")
    elif limit is not None and size > limit:
        _add(out, path, size, f"{what} at most {limit} bytes ({limit} < {size})", rule)


def _strings(obj: Any) -> int:
    """Characters in every string field of a model (for the payload upper bound)."""
    n = 0
    for v in obj.__dict__.values():
        if type(v) is str:
            n += len(v)
    return n


def _params_chars(value: Any) -> int:
    """A generous character count of template parameters (keys, values, punctuation)."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, dict):
        return sum(_params_chars(k) + _params_chars(v) + 2 for k, v in value.items()) + 2
    if isinstance(value, list | tuple):
        return sum(_params_chars(v) + 1 for v in value) + 2
    return 32


def _suggestion(out: list[LimitViolation], p: Profile, s: Any, base: Path) -> int:
    text = s.text
    n = len(text)
    if n > p.suggestion_text_chars:
        _too_long(out, (*base, "text"), text, p.suggestion_text_chars, "suggestion_text_chars")
    elif not text or text.isspace():
        _add(out, (*base, "text"), text, "must not be empty", "suggestion_text_required")
    pb = s.postback_data
    if pb is not None and len(pb) > p.postback_data_chars:
        _too_long(out, (*base, "postback_data"), pb, p.postback_data_chars, "postback_data_chars")
    kind = type(s)
    if kind is Reply:
        return n + (len(pb) if pb is not None else 0)
    fallback = s.fallback_url
    if fallback is not None:
        if len(fallback) > p.url_chars:
            _too_long(out, (*base, "fallback_url"), fallback, p.url_chars, "url_chars")
        _url(out, fallback, (*base, "fallback_url"))
    if kind is OpenUrl:
        if len(s.url) > p.url_chars:
            _too_long(out, (*base, "url"), s.url, p.url_chars, "url_chars")
        _url(out, s.url, (*base, "url"))
    elif kind in _PHONE_ACTIONS:
        problem = _phone_problem(s.phone_number)
        if problem is not None:
            _add(out, (*base, "phone_number"), s.phone_number, problem, "phone_e164")
    elif kind is ShowLocation:
        _lat_lon(out, s.latitude, s.longitude, (*base, "latitude"), (*base, "longitude"))
    elif kind is CreateCalendarEvent:
        _calendar(out, p, s, base)
    return _strings(s)


_PHONE_ACTIONS = frozenset(
    {
        DialPhoneNumber,
        DialEnrichedCall,
        DialVideoCall,
        ComposeTextMessage,
        ComposeRecordingMessage,
    }
)


def _lat_lon(
    out: list[LimitViolation], lat: float | None, lon: float | None, lat_path: Path, lon_path: Path
) -> None:
    if lat is not None and not (_LAT[0] <= lat <= _LAT[1]):
        _add(out, lat_path, lat, f"latitude between {_LAT[0]:g} and {_LAT[1]:g}", "latitude")
    if lon is not None and not (_LON[0] <= lon <= _LON[1]):
        _add(out, lon_path, lon, f"longitude between {_LON[0]:g} and {_LON[1]:g}", "longitude")


def _calendar(out: list[LimitViolation], p: Profile, s: CreateCalendarEvent, base: Path) -> None:
    if p.calendar_title_chars is not None and len(s.title) > p.calendar_title_chars:
        _too_long(out, (*base, "title"), s.title, p.calendar_title_chars, "calendar_title_chars")
    desc = s.description
    if (
        desc is not None
        and p.calendar_description_chars is not None
        and len(desc) > p.calendar_description_chars
    ):
        _too_long(
            out,
            (*base, "description"),
            desc,
            p.calendar_description_chars,
            "calendar_description_chars",
        )
    start = parse_rfc3339(s.start_time)
    end = parse_rfc3339(s.end_time)
    if start is None:
        _add(out, (*base, "start_time"), s.start_time, "must be RFC 3339", "calendar_times")
    if end is None:
        _add(out, (*base, "end_time"), s.end_time, "must be RFC 3339", "calendar_times")
    if start is not None and end is not None and end <= start:
        _add(
            out,
            (*base, "end_time"),
            s.end_time,
            f"must be after start_time ({s.start_time})",
            "calendar_times",
        )


def _suggestions(
    out: list[LimitViolation], p: Profile, items: tuple[Any, ...], base: Path, limit: int, rule: str
) -> int:
    n = len(items)
    if n > limit:
        _add(out, base, n, f"at most {limit} suggestions ({limit} < {n})", rule)
    chars = 0
    for i, s in enumerate(items):
        chars += _suggestion(out, p, s, (*base, i))
    return chars


def _media(out: list[LimitViolation], p: Profile, m: Media, base: Path, in_carousel: bool) -> int:
    if m.url is not None:
        _url(out, m.url, (*base, "url"))
    if m.thumbnail_url is not None:
        _url(out, m.thumbnail_url, (*base, "thumbnail_url"))
        if p.media_thumbnail_needs_metadata and p.wire_format == "gsma":
            for name in ("thumbnail_content_type", "thumbnail_size"):
                if getattr(m, name) is None:
                    _add(
                        out,
                        (*base, name),
                        None,
                        "required when thumbnail_url is set",
                        "thumbnail_metadata",
                    )
    allowed = p.rich_card_media_types
    if m.content_type is not None and allowed is not None and _mime(m.content_type) not in allowed:
        _add(
            out,
            (*base, "content_type"),
            m.content_type,
            f"a rich card media type of profile {p.name} ({', '.join(sorted(allowed))})",
            "media_types",
        )
    _size(out, m.size, (*base, "size"), None, "positive_size", "media")
    _size(
        out,
        m.thumbnail_size,
        (*base, "thumbnail_size"),
        p.max_thumbnail_bytes,
        "thumbnail_bytes",
        "thumbnail",
    )
    cd = m.content_description
    if cd is not None and len(cd) > p.media_content_description_chars:
        _too_long(
            out,
            (*base, "content_description"),
            cd,
            p.media_content_description_chars,
            "media_content_description_chars",
        )
    if in_carousel and m.height is Height.TALL and not p.allow_tall_in_carousel:
        _add(
            out,
            (*base, "height"),
            m.height.value,
            "TALL is not allowed in a carousel (SHORT or MEDIUM)",
            "carousel_media_height",
        )
    return _strings(m)


def _card(out: list[LimitViolation], p: Profile, c: Card, base: Path, in_carousel: bool) -> int:
    chars = 0
    if c.title is not None:
        chars += len(c.title)
        if len(c.title) > p.card_title_chars:
            _too_long(out, (*base, "title"), c.title, p.card_title_chars, "card_title_chars")
    if c.description is not None:
        chars += len(c.description)
        if len(c.description) > p.card_description_chars:
            _too_long(
                out,
                (*base, "description"),
                c.description,
                p.card_description_chars,
                "card_description_chars",
            )
    if c.media is not None:
        chars += _media(out, p, c.media, (*base, "media"), in_carousel)
    chars += _suggestions(
        out,
        p,
        c.suggestions,
        (*base, "suggestions"),
        p.suggestions_per_card,
        "suggestions_per_card",
    )
    if in_carousel:
        for name in ("orientation", "image_alignment"):
            value = getattr(c, name)
            if value is not None:
                _add(
                    out,
                    (*base, name),
                    value.value,
                    "not allowed on a card inside a carousel",
                    "carousel_card_layout",
                )
    elif (
        p.image_alignment_needs_horizontal
        and c.image_alignment is not None
        and c.orientation is not Orientation.HORIZONTAL
    ):
        shown = c.orientation.value if c.orientation is not None else "unset"
        _add(
            out,
            (*base, "image_alignment"),
            c.image_alignment.value,
            f"only with orientation HORIZONTAL (orientation is {shown})",
            "image_alignment_requires_horizontal",
        )
    return chars


def _file(out: list[LimitViolation], p: Profile, f: File, base: Path) -> None:
    if f.url is not None:
        _url(out, f.url, (*base, "url"))
    if f.thumbnail_url is not None:
        _url(out, f.thumbnail_url, (*base, "thumbnail_url"))
        if p.file_thumbnail_needs_metadata and p.wire_format == "gsma":
            for name in ("thumbnail_mime_type", "thumbnail_size"):
                if getattr(f, name) is None:
                    _add(
                        out,
                        (*base, name),
                        None,
                        "required when thumbnail_url is set",
                        "thumbnail_metadata",
                    )
    types = p.file_media_types
    if f.mime_type is not None and types is not None and _mime(f.mime_type) not in types:
        _add(
            out,
            (*base, "mime_type"),
            f.mime_type,
            f"a file type of profile {p.name} ({', '.join(sorted(types))})",
            "media_types",
        )
    _size(out, f.size, (*base, "size"), p.max_file_bytes, "file_bytes", "file")
    _size(
        out,
        f.thumbnail_size,
        (*base, "thumbnail_size"),
        p.max_thumbnail_bytes,
        "thumbnail_bytes",
        "thumbnail",
    )


def _content(out: list[LimitViolation], p: Profile, c: Any) -> tuple[int, int]:
    """Check the content; return (string characters, structural nodes) for the size bound."""
    base: Path = ("content",)
    kind = type(c)
    if kind is Text:
        text = c.text
        n = len(text)
        if p.max_text_chars is not None and n > p.max_text_chars:
            _too_long(out, (*base, "text"), text, p.max_text_chars, "text_chars")
        elif not text or text.isspace():
            _add(out, (*base, "text"), text, "must not be empty", "text_required")
        return n, 1
    if kind is Card:
        return _card(out, p, c, base, False), 2 + len(c.suggestions)
    if kind is Carousel:
        cards = c.cards
        n = len(cards)
        if n < p.carousel_min_cards:
            lim = p.carousel_min_cards
            _add(out, (*base, "cards"), n, f"at least {lim} cards ({n} < {lim})", "carousel_cards")
        elif n > p.carousel_max_cards:
            lim = p.carousel_max_cards
            _add(out, (*base, "cards"), n, f"at most {lim} cards ({lim} < {n})", "carousel_cards")
        chars = 0
        nodes = 1
        for i, card in enumerate(cards):
            chars += _card(out, p, card, (*base, "cards", i), True)
            nodes += 2 + len(card.suggestions)
        return chars, nodes
    if kind is File:
        _file(out, p, c, base)
        return _strings(c), 1
    if kind is Audio:
        _url(out, c.url, (*base, "url"))
        _size(out, c.size, (*base, "size"), p.max_file_bytes, "file_bytes", "file")
        return _strings(c), 1
    if kind is GeolocationPush:
        coords = c.coordinates
        if coords is None or not all(map(math.isfinite, coords)):
            _add(
                out,
                (*base, "pos"),
                c.pos,
                "must be '<latitude> <longitude>' in decimal degrees",
                "geolocation_pos",
            )
        else:
            _lat_lon(out, coords[0], coords[1], (*base, "pos"), (*base, "pos"))
        return _strings(c), 1
    if kind is Template:
        if not c.code or c.code.isspace():
            _add(out, (*base, "code"), c.code, "must not be empty", "template_code")
        return len(c.code) + _params_chars(c.params), 1
    if kind is IsTyping:
        return 0, 1
    raise TypeError(f"unknown content type {kind.__name__}")  # pragma: no cover - model guards


# A per-node allowance for keys, punctuation, enums and numbers in the JSON; generous on purpose.
_NODE_BYTES = 512
# The worst-case bytes one Python character takes in JSON (a control character -> \u00XX).
_CHAR_BYTES = 6


def estimate_payload_bytes(message: Message) -> int:
    """The UTF-8 size of the message's neutral JSON: an estimate of the wire payload size.

    ``json.dumps(message.model_dump(mode="json", exclude_none=True))`` in compact form,
    without ASCII escaping. The wire formats name fields differently, so pass the real encoded
    size to :func:`check` (``encoded_size=``) when you have it.
    """
    data = message.model_dump(mode="json", exclude_none=True)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return len(text.encode("utf-8"))


def check(
    message: Message,
    profile: Profile | str = "gsma",
    *,
    now: datetime | None = None,
    encoded_size: int | None = None,
    wire_format: str | None = None,
) -> list[LimitViolation]:
    """Every limit ``message`` breaks under ``profile``, as a list (empty when it is fine).

    Pure: nothing is raised for a bad message, logged, or changed. The items are
    :class:`LimitViolation` (``path``, ``value``, ``limit``, ``path_tuple``, ``rule``).

    ``now`` (aware; default: the current UTC time) is what ``expire_time`` must be after.
    ``encoded_size`` is the size in bytes of the encoded wire payload when the caller has
    it; otherwise the payload size is estimated with :func:`estimate_payload_bytes`, but only
    when a cheap upper bound (6 bytes per string character plus 512 bytes per element) could
    exceed the profile's limit, so ordinary messages never pay for the encoding.
    ``wire_format`` (``"gsma"`` or ``"google"``) names the body format the message came in or
    goes out as, when it is not the profile's own (``validate -p dotgo`` of a Google body):
    format-only rules, such as GSMA's thumbnail metadata, follow it.

    Anything but a :class:`~rcskit.message.Message` raises
    :class:`~rcskit.errors.InvalidMessage` naming ``message``.

    >>> from rcskit.message import Message
    >>> check(Message("hello"))
    []
    """
    if type(message) is not Message and not isinstance(message, Message):
        raise InvalidMessage([Violation("message", message, _NOT_A_MESSAGE)])
    p = profile if type(profile) is Profile else _resolve(profile)
    if wire_format is not None and wire_format != p.wire_format:
        if wire_format not in _WIRE_FORMATS:
            raise ValueError(f"wire_format must be gsma or google, not {wire_format!r}")
        p = replace(p, wire_format=wire_format)
    if now is not None and (not isinstance(now, datetime) or now.tzinfo is None):
        raise ValueError("now must be a timezone-aware datetime")
    out: list[LimitViolation] = []
    chars, nodes = _content(out, p, message.content)
    if message.suggestions:
        chars += _suggestions(
            out,
            p,
            message.suggestions,
            ("suggestions",),
            p.suggestions_per_message,
            "suggestions_per_message",
        )
        nodes += len(message.suggestions)
    ttl = message.ttl
    if ttl is not None and _TTL_RE.match(ttl) is None:
        _add(
            out,
            ("ttl",),
            ttl,
            "seconds with up to nine fractional digits ending in 's' (e.g. '30s', '1.5s')",
            "ttl_syntax",
        )
    expire = message.expire_time
    if expire is not None:
        when = parse_rfc3339(expire)
        if when is None:
            _add(
                out,
                ("expire_time",),
                expire,
                "must be RFC 3339 (e.g. '2024-10-02T15:01:23Z')",
                "expire_time",
            )
        else:
            current = datetime.now(UTC) if now is None else now
            if when <= current:
                _add(
                    out,
                    ("expire_time",),
                    expire,
                    f"must be in the future (now is {current.isoformat()})",
                    "expire_time",
                )
    limit = p.max_payload_bytes
    size = encoded_size
    estimated = False
    if size is None:
        chars += _strings(message)
        if _CHAR_BYTES * chars + _NODE_BYTES * (nodes + 1) > limit:
            size = estimate_payload_bytes(message)
            estimated = True
    if size is not None and size > limit:
        how = "estimated " if estimated else ""
        _add(
            out,
            (),
            size,
            f"payload size at most {limit} bytes of JSON ({limit} < {how}size {size})",
            _payload(p),
        )
    return out


_NOT_A_MESSAGE = "must be a rcskit.message.Message"
_WIRE_FORMATS = ("gsma", "google")


def _payload(p: Profile) -> str:
    google = p.max_payload_bytes == _int("payload_bytes_google")
    return "payload_bytes_google" if google else "payload_bytes"


def _resolve(value: Profile | str) -> Profile:
    return profile(value)


def recommendations(message: Message, profile: Profile | str = "gsma") -> list[LimitViolation]:
    """Advisory findings: rich card media above the recommended sizes of seed 002 section 4.3,
    and (where the profile tolerates it) an image alignment the platform will ignore.

    Never errors: send anyway, but expect slow loading. Needs ``Media.size`` /
    ``thumbnail_size`` and a ``content_type`` starting with ``image/`` or ``video/``.
    """
    p = _resolve(profile)
    out: list[LimitViolation] = []
    content = message.content
    if (
        isinstance(content, Card)
        and not p.image_alignment_needs_horizontal
        and content.image_alignment is not None
        and content.orientation is not Orientation.HORIZONTAL
    ):
        _add(
            out,
            ("content", "image_alignment"),
            content.image_alignment.value,
            "ignored: image alignment applies only to HORIZONTAL cards",
            "image_alignment_requires_horizontal",
        )
    if isinstance(content, Card):
        if content.media is not None:
            _recommend(out, content.media, ("content", "media"), "card")
    elif isinstance(content, Carousel):
        for i, card in enumerate(content.cards):
            if card.media is not None:
                _recommend(out, card.media, ("content", "cards", i, "media"), "carousel")
    return out


_WHERE = {"card": "a standalone rich card", "carousel": "a rich card carousel"}


def _recommend(out: list[LimitViolation], m: Media, base: Path, where: str) -> None:
    family = _mime(m.content_type).split("/", 1)[0] if m.content_type else ""
    if m.size is not None and family in ("image", "video"):
        rule = f"{where}_{family}_bytes_recommended"
        limit = _int(rule)
        if m.size > limit:
            _add(
                out,
                (*base, "size"),
                m.size,
                f"recommended at most {limit} bytes for {family} in {_WHERE[where]} "
                f"({limit} < {m.size})",
                rule,
            )
    if m.thumbnail_size is not None:
        rule = f"{where}_thumbnail_bytes_recommended"
        limit = _int(rule)
        if m.thumbnail_size > limit:
            _add(
                out,
                (*base, "thumbnail_size"),
                m.thumbnail_size,
                f"recommended at most {limit} bytes for a thumbnail in {_WHERE[where]} "
                f"({limit} < {m.thumbnail_size})",
                rule,
            )


def validate(
    message: Message,
    profile: Profile | str = "gsma",
    policy: Policy | str = Policy.STRICT,
    *,
    now: datetime | None = None,
    encoded_size: int | None = None,
    wire_format: str | None = None,
) -> list[LimitViolation]:
    """Check ``message`` and apply ``policy``; never truncates or rewrites anything.

    - ``Policy.STRICT``: raise :class:`~rcskit.errors.InvalidMessage` with every violation.
    - ``Policy.WARN``: log one warning per violation on the ``rcskit.limits`` logger, return them.
    - ``Policy.OFF``: return ``[]`` without checking.

    Whatever the policy, anything but a :class:`~rcskit.message.Message` raises
    :class:`~rcskit.errors.InvalidMessage` naming ``message``.
    """
    if type(message) is not Message and not isinstance(message, Message):
        raise InvalidMessage([Violation("message", message, _NOT_A_MESSAGE)])
    if type(policy) is not Policy:
        policy = Policy(policy)
    if policy is Policy.OFF:
        return []
    found = check(message, profile, now=now, encoded_size=encoded_size, wire_format=wire_format)
    if found and policy is Policy.STRICT:
        raise InvalidMessage(found)
    for v in found:
        logger.warning("message limit exceeded: %s", v)
    return found


# ---------------------------------------------------------------- per-call limits

RECIPIENT_LIMITS: dict[tuple[str, str], str] = {
    ("smsbox", "send"): "smsbox_recipients_per_send",
    ("smsbox", "revoke"): "smsbox_recipients_per_revoke",
    ("smsbox", "testers"): "smsbox_testers_per_call",
    ("smsbox", "capabilities"): "smsbox_capability_numbers_per_call",
    ("smsbox", "event"): "smsbox_event_recipients_per_call",
    ("orange", "bulk_capabilities"): "bulk_capability_numbers",
    ("dotgo", "bulk_capabilities"): "bulk_capability_numbers",
    ("google", "bulk_capabilities"): "bulk_capability_numbers",
}
"""``(provider, operation)`` -> the ``LIMITS`` entry capping the numbers per call."""

_OPERATIONS = frozenset(op for _, op in RECIPIENT_LIMITS)


def check_recipients(
    provider: str, numbers: Sequence[str], operation: str = "send"
) -> list[LimitViolation]:
    """Violations of the per-call number limits of ``provider`` for ``operation``.

    Operations: ``send``, ``revoke``, ``testers``, ``capabilities``, ``event`` (SMSBOX) and
    ``bulk_capabilities`` (Orange, Dotgo, Google: 10 000). A provider without a documented
    limit for the operation gives ``[]``. Unknown providers or operations raise ValueError.

    >>> check_recipients("smsbox", ["+33612345678"] * 11, "testers")[0].limit
    'at most 10 numbers per call (10 < 11)'
    """
    profile(provider)
    if operation not in _OPERATIONS:
        raise ValueError(
            f"unknown operation {operation!r}; valid: {', '.join(sorted(_OPERATIONS))}"
        )
    rule = RECIPIENT_LIMITS.get((provider, operation))
    if rule is None:
        return []
    limit = _int(rule)
    n = len(numbers)
    if n <= limit:
        return []
    path: Path = ("recipients",)
    return [
        LimitViolation(
            dotted_path(path), n, f"at most {limit} numbers per call ({limit} < {n})", path, rule
        )
    ]


def check_validity_minutes(value: int) -> list[LimitViolation]:
    """Violations of SMSBOX's ``validity`` (whole minutes, 1 to 10080 = 7 days).

    >>> check_validity_minutes(720)
    []
    """
    low, high = _VALIDITY
    path: Path = ("validity",)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return [
            LimitViolation(
                dotted_path(path),
                value,
                f"whole minutes between {low} and {high} (7 days)",
                path,
                "smsbox_validity_minutes",
            )
        ]
    return []
