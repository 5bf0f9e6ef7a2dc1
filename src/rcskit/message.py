"""The provider-neutral RCS message model.

One typed model for everything the providers can send. Wire formats (``rcskit.formats.gsma``
and ``rcskit.formats.google``) convert to and from it; limits are checked by
``rcskit.limits.check`` (construction checks structure and types only, so that a policy of
"warn" or "off" can still build an over-long message).

A rich card with two buttons::

    from rcskit.message import Card, Media, Message, OpenUrl, Reply

    msg = Message(
        Card(
            title="Spring sale",
            description="Everything 20% off until Sunday.",
            media=Media.image("https://example.com/sale.jpg"),
            suggestions=[Reply("Yes", "yes"), OpenUrl("Site", "https://example.com")],
        )
    )

Every model is frozen (a value); lists are stored as tuples. Construction errors raise
:class:`~rcskit.errors.InvalidMessage` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .errors import InvalidMessage, Violation
from .phones import normalize_msisdn

__all__ = [
    "Action",
    "Audio",
    "Card",
    "CardWidth",
    "Carousel",
    "ComposeRecordingMessage",
    "ComposeTextMessage",
    "Contact",
    "Content",
    "CreateCalendarEvent",
    "DialEnrichedCall",
    "DialPhoneNumber",
    "DialVideoCall",
    "DisableAnonymization",
    "EnableDisplayedNotifications",
    "Envelope",
    "File",
    "GeolocationPush",
    "Height",
    "ImageAlignment",
    "IsTyping",
    "Media",
    "Message",
    "OpenUrl",
    "Orientation",
    "RecordingType",
    "Reply",
    "RequestDeviceSpecifics",
    "RequestLocationPush",
    "ShowLocation",
    "Suggestion",
    "Template",
    "Text",
    "TrafficType",
    "UrlApplication",
    "WebviewViewMode",
    "format_ttl",
    "parse_rfc3339",
]


def _violations(err: ValidationError, prefix: str = "") -> list[Violation]:
    out = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        value = e.get("input")
        ctx = e.get("ctx")
        nested = ctx.get("error") if ctx else None
        if isinstance(nested, InvalidMessage):  # a nested model's own __init__ refused it
            where = ".".join([prefix, *loc] if prefix else loc)
            for v in nested.violations:
                inner = v.path.split(".", 1)[1] if "." in v.path else ""
                out.append(Violation(f"{where}.{inner}" if inner else where, v.value, v.limit))
            continue
        if ctx and "field" in ctx:  # a model-level rule that names the field it is about
            field = str(ctx["field"])
            loc.append(field)
            head = field.split(".", 1)[0]
            value = value.get(head) if isinstance(value, Mapping) else getattr(value, head, None)
        path = ".".join(loc)
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append(Violation(path or "(message)", value, msg))
    return out


_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_problem(text: str) -> str | None:
    """Why ``text`` cannot be encoded as UTF-8 (a lone UTF-16 surrogate), or ``None``.

    >>> surrogate_problem("caf\u00e9") is None
    True
    >>> surrogate_problem("a\ud800")
    'contains a lone UTF-16 surrogate (U+D800 at index 1), which UTF-8 cannot encode'
    """
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return (
        f"contains a lone UTF-16 surrogate (U+{ord(found.group()):04X} at index "
        f"{found.start()}), which UTF-8 cannot encode"
    )


def _field_error(field: str, message: str) -> PydanticCustomError:
    """A model-level error that :func:`_violations` reports at ``field`` (and its value).

    The value stays out of the error's context: pydantic renders the context as UTF-8, which
    a value with a lone surrogate would break.
    """
    return PydanticCustomError("rcskit", message, {"field": field})


_JSON_SCALARS = (str, int, float, bool, type(None))
_MAX_PARAM_DEPTH = 32


def _json_problem(value: Any, path: str, depth: int = 0) -> tuple[str, Any, str] | None:
    """``(path, value, reason)`` of the first part of ``value`` that is not plain JSON."""
    if depth > _MAX_PARAM_DEPTH:
        return path, value, f"nested deeper than {_MAX_PARAM_DEPTH} levels"
    if isinstance(value, str):
        problem = surrogate_problem(value)
        return None if problem is None else (path, value, problem)
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return path, value, "must be a finite number (JSON has no NaN or infinity)"
    if isinstance(value, _JSON_SCALARS):
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return path, key, f"keys must be strings, not {type(key).__name__}"
            problem = surrogate_problem(key)
            if problem is not None:
                return path, key, f"a key {problem}"
            found = _json_problem(item, f"{path}.{key}", depth + 1)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _json_problem(item, f"{path}[{i}]", depth + 1)
            if found is not None:
                return found
        return None
    return (
        path,
        value,
        (
            "must be JSON-serialisable (str, int, float, bool, None, list, dict), "
            f"not {type(value).__name__}"
        ),
    )


class _Model(BaseModel):
    """Base: frozen, no unknown fields, construction errors as InvalidMessage.

    Every string field is checked for lone UTF-16 surrogates (text that no UTF-8 encoder can
    write, see :func:`_validate`), so such a message can never be built, validated or sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    def __init__(self, /, **data: Any) -> None:
        _validate(self, data)


def _validate(model: BaseModel, data: dict[str, Any]) -> None:
    """What ``BaseModel.__init__`` does, minus a Python frame and a dict repack (messages are
    built on the send path, once per recipient in a personalised campaign); errors become
    :class:`InvalidMessage`.

    Strings are checked for lone surrogates here, on the way in: pydantic calls a model's
    ``__init__`` for nested dicts too, so every string of every model passes this loop.
    """
    for name, value in data.items():
        if isinstance(value, str) and not value.isascii():
            problem = surrogate_problem(value)
            if problem is not None:
                raise InvalidMessage([Violation(f"{type(model).__name__}.{name}", value, problem)])
    try:
        model.__pydantic_validator__.validate_python(data, self_instance=model)
    except ValidationError as err:
        raise InvalidMessage(_violations(err, type(model).__name__)) from None


# ---------------------------------------------------------------- enums


class Orientation(StrEnum):
    """Card orientation."""

    VERTICAL = "VERTICAL"
    HORIZONTAL = "HORIZONTAL"


class ImageAlignment(StrEnum):
    """Where the media sits on a horizontal card."""

    LEFT = "LEFT"
    RIGHT = "RIGHT"


class Height(StrEnum):
    """Media height on a vertical card (Google: 112/168/264 dp)."""

    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    TALL = "TALL"


class CardWidth(StrEnum):
    """Width of carousel cards."""

    SMALL = "SMALL"
    MEDIUM = "MEDIUM"


class RecordingType(StrEnum):
    """What a compose-recording action records."""

    AUDIO = "AUDIO"
    VIDEO = "VIDEO"


class UrlApplication(StrEnum):
    """How an open-URL action opens (Google RBM only; GSMA always uses the browser)."""

    BROWSER = "BROWSER"
    WEBVIEW = "WEBVIEW"


class WebviewViewMode(StrEnum):
    """Webview size for an open-URL action in webview mode (Google RBM only)."""

    FULL = "FULL"
    HALF = "HALF"
    TALL = "TALL"


class TrafficType(StrEnum):
    """Known traffic types. GSMA uses the lower-case names, Google ``messageTrafficType``.

    ``ADVERTISEMENT`` is GSMA ``advertisement`` and Google ``PROMOTION``. ``PAYMENT``,
    ``PREMIUM`` and ``SUBSCRIPTION`` exist only in GSMA; ``AUTHENTICATION``, ``TRANSACTION``,
    ``SERVICE_REQUEST`` and ``ACKNOWLEDGEMENT`` in both (GSMA spelling uncertain, see
    the GSMA MaaP chatbot API). Any other string is kept as given.
    """

    ADVERTISEMENT = "advertisement"
    PAYMENT = "payment"
    PREMIUM = "premium"
    SUBSCRIPTION = "subscription"
    AUTHENTICATION = "authentication"
    TRANSACTION = "transaction"
    SERVICE_REQUEST = "serviceRequest"
    ACKNOWLEDGEMENT = "acknowledgement"


# ---------------------------------------------------------------- time helpers

_TTL_RE = re.compile(r"^(\d+)(\.\d{1,9})?s$")
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def format_ttl(value: timedelta | float | int | str) -> str:
    """Render a duration as the wire's ``ttl`` string: ``timedelta(seconds=30)`` -> ``"30s"``.

    A value that is not a duration (a negative or non-finite number, another type) raises
    :class:`~rcskit.errors.InvalidMessage` naming ``ttl``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InvalidMessage(
            [Violation("ttl", value, "a duration: '30s', seconds as a number, or a timedelta")]
        )
    if not math.isfinite(seconds) or seconds < 0:
        raise InvalidMessage([Violation("ttl", value, "a finite, non-negative duration")])
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{seconds:.9f}".rstrip("0") + "s"


def ttl_seconds(ttl: str) -> float | None:
    """Parse a ``ttl`` string (``"30s"``, ``"1.5s"``, up to nine fractional digits) to seconds."""
    m = _TTL_RE.match(ttl)
    if not m:
        return None
    return float(ttl[:-1])


def parse_rfc3339(value: str) -> datetime | None:
    """Parse an RFC 3339 timestamp (up to nine fractional digits) to an aware datetime."""
    if not _RFC3339_RE.match(value):
        return None
    try:  # the common forms (upper-case T and Z, at most 6 fractional digits) in one C call
        return datetime.fromisoformat(value)
    except ValueError:
        pass
    text = value.replace("z", "Z").replace("t", "T")
    main, _, rest = text.partition(".")
    tz = ""
    if rest:
        digits = re.match(r"\d+", rest)
        frac = digits.group(0) if digits else ""
        tz = rest[len(frac) :]
        text = main + "." + frac[:6].ljust(6, "0") + tz
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_rfc3339(value: datetime | str, field: str = "expire_time") -> str:
    """Render a datetime as RFC 3339 UTC "Zulu" (``2024-10-02T15:01:23Z``).

    A naive datetime raises :class:`~rcskit.errors.InvalidMessage` naming ``field``.
    """
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise InvalidMessage([Violation(field, value, "datetime must be timezone-aware")])
    value = value.astimezone(UTC)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- suggestions


_S = str | None  # the type of a positional string argument, for the signatures below


class _Suggestion(_Model):
    """Fields every suggestion has: the displayed ``text`` and the ``postback_data``.

    Suggestions take positionally ``text``, then their own required fields in the order they
    are declared, then ``postback_data`` (``Reply("Yes", "yes")``, ``OpenUrl("Site", url)``,
    ``CreateCalendarEvent(text, start_time, end_time, title)``). A positional field left out
    counts as ``None``, so a missing one is "Input should be a valid string" at its name.
    Each class states its signature for type checkers only (the pydantic mypy plugin would
    otherwise make every argument keyword-only); one ``__init__`` serves them all.
    """

    _positional: ClassVar[tuple[str, ...]] = ("text", "postback_data")

    text: str
    postback_data: str | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        own = [n for n, f in cls.model_fields.items() if f.is_required() and n != "text"]
        cls._positional = ("text", *own, "postback_data")

    if not TYPE_CHECKING:

        def __init__(self, /, *args: Any, **kw: Any) -> None:
            names = self._positional
            n = len(args)
            if n == len(names) and not kw:  # the common Reply("Yes", "yes")
                _validate(self, dict(zip(names, args, strict=True)))
                return
            if n > len(names):
                raise TypeError(
                    f"{type(self).__name__}() takes {len(names)} positional arguments "
                    f"({', '.join(names)}) but {n} were given"
                )
            for name, value in zip(names, args, strict=False):
                if name in kw:
                    raise TypeError(f"{type(self).__name__}() got multiple values for {name!r}")
                kw[name] = value
            if n < len(names):
                for name in names[n:]:
                    if name not in kw:
                        kw[name] = None
            _validate(self, kw)


class Reply(_Suggestion):
    """A suggested reply chip: ``Reply("Yes", "yes")``."""

    kind: Literal["reply"] = "reply"

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...


class _Action(_Suggestion):
    """An action suggestion; ``fallback_url`` is offered when no app can perform it."""

    fallback_url: str | None = None
    group: ClassVar[str] = ""


class OpenUrl(_Action):
    """Open a web site or deep link: ``OpenUrl("Site", "https://example.com")``.

    ``application`` / ``webview_view_mode`` / ``description`` are Google RBM's webview options.
    """

    kind: Literal["open_url"] = "open_url"
    group: ClassVar[str] = "urlAction"
    url: str
    application: UrlApplication | None = None
    webview_view_mode: WebviewViewMode | None = None
    description: str | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            url: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class DialPhoneNumber(_Action):
    """Call a number with the dialer: ``DialPhoneNumber("Call us", "+15556667777")``."""

    kind: Literal["dial_phone_number"] = "dial_phone_number"
    group: ClassVar[str] = "dialerAction"
    phone_number: str

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            phone_number: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class DialEnrichedCall(_Action):
    """Start an enriched call with an optional subject (GSMA only)."""

    kind: Literal["dial_enriched_call"] = "dial_enriched_call"
    group: ClassVar[str] = "dialerAction"
    phone_number: str
    subject: str | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            phone_number: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class DialVideoCall(_Action):
    """Start a video call (GSMA only)."""

    kind: Literal["dial_video_call"] = "dial_video_call"
    group: ClassVar[str] = "dialerAction"
    phone_number: str

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            phone_number: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class ShowLocation(_Action):
    """Show a place on a map, by coordinates (and label) or by a search ``query``.

    ``ShowLocation("Map", latitude=37.42, longitude=-122.08, label="Googleplex")``
    """

    kind: Literal["show_location"] = "show_location"
    group: ClassVar[str] = "mapAction"
    latitude: float | None = None
    longitude: float | None = None
    label: str | None = None
    query: str | None = None

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...

    @model_validator(mode="after")
    def _where(self) -> Self:
        has_coords = self.latitude is not None or self.longitude is not None
        if has_coords and (self.latitude is None or self.longitude is None):
            raise ValueError("latitude and longitude go together")
        if not has_coords and not self.query:
            raise ValueError("give latitude and longitude, or a query")
        return self


class RequestLocationPush(_Action):
    """Ask the user to share their location once."""

    kind: Literal["request_location_push"] = "request_location_push"
    group: ClassVar[str] = "mapAction"

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...


class CreateCalendarEvent(_Action):
    """Create an event in the user's calendar (times are RFC 3339 strings or aware datetimes)."""

    kind: Literal["create_calendar_event"] = "create_calendar_event"
    group: ClassVar[str] = "calendarAction"
    start_time: str
    end_time: str
    title: str
    description: str | None = None

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            start_time: str | datetime | None = ...,
            end_time: str | datetime | None = ...,
            title: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...

    @field_validator("start_time", "end_time", mode="before")
    @classmethod
    def _rfc3339(cls, value: Any, info: ValidationInfo) -> Any:
        return format_rfc3339(value, str(info.field_name))


class ComposeTextMessage(_Action):
    """Open a draft text message to ``phone_number`` with ``draft`` in the input field."""

    kind: Literal["compose_text_message"] = "compose_text_message"
    group: ClassVar[str] = "composeAction"
    phone_number: str
    draft: str

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            phone_number: _S = ...,
            draft: _S = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class ComposeRecordingMessage(_Action):
    """Open a draft message to ``phone_number`` and start recording audio or video."""

    kind: Literal["compose_recording_message"] = "compose_recording_message"
    group: ClassVar[str] = "composeAction"
    phone_number: str
    recording_type: RecordingType

    if TYPE_CHECKING:

        def __init__(
            self,
            text: _S = ...,
            phone_number: _S = ...,
            recording_type: RecordingType | str | None = ...,
            postback_data: _S = ...,
            **kw: Any,
        ) -> None: ...


class RequestDeviceSpecifics(_Action):
    """Ask for a one-time share of device specifics (GSMA only)."""

    kind: Literal["request_device_specifics"] = "request_device_specifics"
    group: ClassVar[str] = "deviceAction"

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...


class DisableAnonymization(_Action):
    """Ask the user to disable anonymization, sharing their number (GSMA only)."""

    kind: Literal["disable_anonymization"] = "disable_anonymization"
    group: ClassVar[str] = "settingsAction"

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...


class EnableDisplayedNotifications(_Action):
    """Ask the user to enable read receipts (GSMA only)."""

    kind: Literal["enable_displayed_notifications"] = "enable_displayed_notifications"
    group: ClassVar[str] = "settingsAction"

    if TYPE_CHECKING:

        def __init__(self, text: _S = ..., postback_data: _S = ..., **kw: Any) -> None: ...


Action = (
    OpenUrl
    | DialPhoneNumber
    | DialEnrichedCall
    | DialVideoCall
    | ShowLocation
    | RequestLocationPush
    | CreateCalendarEvent
    | ComposeTextMessage
    | ComposeRecordingMessage
    | RequestDeviceSpecifics
    | DisableAnonymization
    | EnableDisplayedNotifications
)
"""Any of the twelve suggested actions."""

Suggestion = Annotated[Reply | Action, Field(discriminator="kind")]
"""A reply or one of the twelve actions."""

ACTION_TYPES: tuple[type[_Action], ...] = (
    OpenUrl,
    DialPhoneNumber,
    DialEnrichedCall,
    DialVideoCall,
    ShowLocation,
    RequestLocationPush,
    CreateCalendarEvent,
    ComposeTextMessage,
    ComposeRecordingMessage,
    RequestDeviceSpecifics,
    DisableAnonymization,
    EnableDisplayedNotifications,
)


# ---------------------------------------------------------------- content


class Text(_Model):
    """A plain text message."""

    kind: Literal["text"] = "text"
    text: str

    def __init__(self, text: str | None = None, **kw: Any) -> None:
        kw["text"] = text
        _validate(self, kw)


class File(_Model):
    """A file message: by ``url``, or by ``file_id`` of a file uploaded to the provider.

    ``name``, ``mime_type``, ``size`` and the thumbnail's are GSMA metadata; Google derives them.
    ``force_refresh`` is Google's ``contentInfo.forceRefresh``.
    """

    kind: Literal["file"] = "file"
    url: str | None = None
    file_id: str | None = None
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    thumbnail_url: str | None = None
    thumbnail_file_id: str | None = None
    thumbnail_name: str | None = None
    thumbnail_mime_type: str | None = None
    thumbnail_size: int | None = None
    force_refresh: bool | None = None

    def __init__(self, url: str | None = None, **kw: Any) -> None:
        if url is not None:
            kw["url"] = url
        _Model.__init__(self, **kw)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.url is None) == (self.file_id is None):
            raise ValueError("give exactly one of url or file_id")
        return self


class Audio(_Model):
    """An audio message (GSMA). ``playing_length`` is in seconds."""

    kind: Literal["audio"] = "audio"
    url: str
    name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    playing_length: int | None = None

    def __init__(self, url: str | None = None, **kw: Any) -> None:
        _Model.__init__(self, url=url, **kw)


class GeolocationPush(_Model):
    """A location pushed to the user (GSMA). ``pos`` is WGS 84 ``"lat lon"`` in decimal degrees.

    Build from numbers with ``GeolocationPush.at(48.8584, 2.2945, label="Eiffel Tower")``.
    """

    kind: Literal["geolocation_push"] = "geolocation_push"
    pos: str
    label: str | None = None
    timestamp: str | None = None
    expiry: str | None = None
    time_offset: int | None = None
    radius: float | None = None

    @classmethod
    def at(cls, latitude: float, longitude: float, **kw: Any) -> GeolocationPush:
        """A push at the given coordinates."""
        return cls(pos=f"{latitude} {longitude}", **kw)

    @property
    def coordinates(self) -> tuple[float, float] | None:
        """``(latitude, longitude)`` parsed from ``pos``, or ``None`` if it does not parse."""
        parts = self.pos.replace(",", " ").split()
        if len(parts) != 2:
            return None
        try:
            return float(parts[0]), float(parts[1])
        except ValueError:
            return None


class Media(_Model):
    """The media of a rich card: by ``url`` or an uploaded ``file_id``, with its display height."""

    url: str | None = None
    file_id: str | None = None
    content_type: str | None = None
    size: int | None = None
    height: Height | None = None
    thumbnail_url: str | None = None
    thumbnail_file_id: str | None = None
    thumbnail_content_type: str | None = None
    thumbnail_size: int | None = None
    content_description: str | None = None
    force_refresh: bool | None = None

    @classmethod
    def image(cls, url: str, **kw: Any) -> Media:
        """Media from an image URL: ``Media.image("https://example.com/a.jpg")``.

        Nothing is guessed: set ``content_type``/``size`` yourself where a platform wants them
        (GSMA MaaP platforms read them; Google RBM derives them and cannot carry them).
        """
        return cls(url=url, **kw)

    @classmethod
    def video(cls, url: str, **kw: Any) -> Media:
        """Media from a video URL, with an optional ``thumbnail_url`` shown before it plays."""
        return cls(url=url, **kw)

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.url is None) == (self.file_id is None):
            raise ValueError("give exactly one of url or file_id")
        return self


class Card(_Model):
    """A rich card. Standalone it may set ``orientation`` and ``image_alignment``;
    inside a :class:`Carousel` those belong to the carousel.

    At least one of ``title``, ``description`` or ``media`` is required.
    """

    kind: Literal["card"] = "card"
    title: str | None = None
    description: str | None = None
    media: Media | None = None
    suggestions: tuple[Suggestion, ...] = ()
    orientation: Orientation | None = None
    image_alignment: ImageAlignment | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if self.title is None and self.description is None and self.media is None:
            raise ValueError("a card needs at least one of title, description or media")
        return self


class Carousel(_Model):
    """A carousel of 2 to 10 cards of one ``card_width``."""

    kind: Literal["carousel"] = "carousel"
    cards: tuple[Card, ...]
    card_width: CardWidth | None = None
    orientation: Orientation | None = None

    def __init__(self, cards: Any = None, **kw: Any) -> None:
        if cards is not None:
            kw["cards"] = cards
        _Model.__init__(self, **kw)


class Template(_Model):
    """A provider template (Dotgo): ``Template("template_123", {"name": "Ada"})``."""

    kind: Literal["template"] = "template"
    code: str
    params: dict[str, Any] = Field(default_factory=dict)

    def __init__(
        self, code: str | None = None, params: dict[str, Any] | None = None, **kw: Any
    ) -> None:
        found = _json_problem(params, "Template.params") if params else None
        if found is not None:
            raise InvalidMessage([Violation(*found)])
        _Model.__init__(self, code=code, params=params or {}, **kw)

    def __hash__(self) -> int:
        return hash((self.code, tuple(sorted(self.params))))


class IsTyping(_Model):
    """The typing indicator, ``active`` or idle."""

    kind: Literal["is_typing"] = "is_typing"
    active: bool = True


Content = Annotated[
    Text | File | Audio | GeolocationPush | Card | Carousel | Template | IsTyping,
    Field(discriminator="kind"),
]
"""Exactly one piece of content per message."""


# ---------------------------------------------------------------- envelope


class Contact(_Model):
    """Who a message goes to or comes from: an E.164 ``msisdn`` or an anonymous ``chat_id``.

    ``Contact("+33612345678")``; ``Contact.of("06 12 34 56 78", region="FR")``;
    ``Contact(chat_id="93JF93SEIJFE")``.
    """

    msisdn: str | None = None
    chat_id: str | None = None

    def __init__(self, msisdn: str | None = None, **kw: Any) -> None:
        if msisdn is not None:
            kw["msisdn"] = normalize_msisdn(msisdn)
        elif isinstance(kw.get("msisdn"), str):
            kw["msisdn"] = normalize_msisdn(kw["msisdn"])
        _Model.__init__(self, **kw)

    @classmethod
    def of(cls, value: Contact | str, region: str | None = None) -> Contact:
        """A contact from a number (national forms allowed with ``region``) or a Contact."""
        if isinstance(value, Contact):
            return value
        return cls(normalize_msisdn(value, region))

    @model_validator(mode="after")
    def _one(self) -> Self:
        if self.msisdn is None and self.chat_id is None:
            raise ValueError("give an msisdn or a chat_id")
        return self

    def __str__(self) -> str:
        return self.msisdn or f"chat:{self.chat_id}"


class Message(_Model):
    """An outbound message: one ``content``, chips (``suggestions``) and envelope options.

    ``ttl`` (``"30s"`` or a timedelta) and ``expire_time`` (RFC 3339 or an aware datetime) set
    the expiry; at most one of them. ``message_id`` is the client's id (the provider's
    idempotency key where it has one). ``in_reply_to`` is the GSMA top-level ``msgId`` some
    platforms (Orange) use to answer a user's message.
    """

    content: Content
    suggestions: tuple[Suggestion, ...] = ()
    traffic_type: str | None = None
    ttl: str | None = None
    expire_time: str | None = None
    message_id: str | None = None
    in_reply_to: str | None = None

    def __init__(self, content: Any = None, **kw: Any) -> None:
        if content is not None:
            kw["content"] = Text(content) if isinstance(content, str) else content
        elif isinstance(kw.get("content"), str):
            kw["content"] = Text(kw["content"])
        if kw.get("ttl") is not None:
            kw["ttl"] = format_ttl(kw["ttl"])
        if isinstance(kw.get("expire_time"), datetime):
            kw["expire_time"] = format_rfc3339(kw["expire_time"])
        _validate(self, kw)

    @field_validator("traffic_type", mode="before")
    @classmethod
    def _traffic(cls, v: Any) -> Any:
        return v.value if isinstance(v, TrafficType) else v

    @model_validator(mode="after")
    def _expiry(self) -> Self:
        if self.ttl is not None and self.expire_time is not None:
            raise _field_error("expire_time", "give ttl or expire_time, never both")
        if isinstance(self.content, IsTyping) and self.suggestions:
            raise _field_error("suggestions", "a typing indicator carries no suggestions")
        return self

    def with_id(self, message_id: str) -> Message:
        """A copy of this message with ``message_id`` set (a string that UTF-8 can encode)."""
        if not isinstance(message_id, str):
            raise InvalidMessage([Violation("message_id", message_id, "must be a string")])
        problem = surrogate_problem(message_id)
        if problem is not None:
            raise InvalidMessage([Violation("message_id", message_id, problem)])
        return self.model_copy(update={"message_id": message_id})


class Envelope(_Model):
    """A message with its recipient, as a wire body carries them (``to`` may be absent)."""

    message: Message
    to: Contact | None = None
