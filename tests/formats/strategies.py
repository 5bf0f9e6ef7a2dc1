"""Hypothesis strategies for neutral messages that the GSMA format can express."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rcskit.message import (
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
)

texts = st.text(min_size=1, max_size=30)
opt_text = st.none() | texts
urls = st.sampled_from(["https://example.com/a.png", "https://cdn.example.org/v.mp4?x=1"])
phones = st.sampled_from(["+15556667777", "+914253136789", "+33612345678"])
sizes = st.none() | st.integers(min_value=1, max_value=10**8)
lat = st.floats(min_value=-90, max_value=90, allow_nan=False)
lon = st.floats(min_value=-180, max_value=180, allow_nan=False)
times = st.sampled_from(["2017-03-14T00:00:00Z", "2030-01-01T10:00:00.5+02:00"])


def _common() -> dict[str, Any]:
    return {"text": texts, "postback_data": opt_text}


def _fb() -> dict[str, Any]:
    return {"fallback_url": st.none() | urls}


gsma_suggestions = st.one_of(
    st.builds(Reply, **_common()),
    st.builds(OpenUrl, url=urls, **_common(), **_fb()),
    st.builds(DialPhoneNumber, phone_number=phones, **_common(), **_fb()),
    st.builds(DialEnrichedCall, phone_number=phones, subject=opt_text, **_common(), **_fb()),
    st.builds(DialVideoCall, phone_number=phones, **_common(), **_fb()),
    st.builds(ShowLocation, latitude=lat, longitude=lon, label=opt_text, **_common(), **_fb()),
    st.builds(ShowLocation, query=texts, **_common(), **_fb()),
    st.builds(RequestLocationPush, **_common(), **_fb()),
    st.builds(
        CreateCalendarEvent,
        start_time=times,
        end_time=times,
        title=texts,
        description=opt_text,
        **_common(),
        **_fb(),
    ),
    st.builds(ComposeTextMessage, phone_number=phones, draft=texts, **_common(), **_fb()),
    st.builds(
        ComposeRecordingMessage,
        phone_number=phones,
        recording_type=st.sampled_from(RecordingType),
        **_common(),
        **_fb(),
    ),
    st.builds(RequestDeviceSpecifics, **_common(), **_fb()),
    st.builds(DisableAnonymization, **_common(), **_fb()),
    st.builds(EnableDisplayedNotifications, **_common(), **_fb()),
)

media = st.builds(
    Media,
    url=urls,
    content_type=st.none() | st.sampled_from(["image/png", "video/mp4"]),
    size=sizes,
    height=st.none() | st.sampled_from(Height),
    thumbnail_url=st.none() | urls,
    thumbnail_content_type=st.none() | st.just("image/png"),
    thumbnail_size=sizes,
    content_description=opt_text,
)


def _card(standalone: bool) -> st.SearchStrategy[Card]:
    extra: dict[str, Any] = {}
    if standalone:
        extra = {
            "orientation": st.none() | st.sampled_from(Orientation),
            "image_alignment": st.none() | st.sampled_from(ImageAlignment),
        }
    return st.builds(
        Card,
        title=st.just("T") | texts,
        description=opt_text,
        media=st.none() | media,
        suggestions=st.lists(gsma_suggestions, max_size=4),
        **extra,
    )


contents = st.one_of(
    st.builds(Text, texts),
    st.builds(
        File,
        urls,
        name=opt_text,
        mime_type=opt_text,
        size=sizes,
        thumbnail_url=st.none() | urls,
        thumbnail_name=opt_text,
        thumbnail_mime_type=opt_text,
        thumbnail_size=sizes,
    ),
    st.builds(Audio, urls, name=opt_text, mime_type=opt_text, size=sizes, playing_length=sizes),
    st.builds(
        GeolocationPush,
        pos=st.just("26.1181289 -80.1283921"),
        label=opt_text,
        timestamp=st.none() | times,
        expiry=st.none() | times,
        time_offset=st.none() | st.integers(-720, 720),
        radius=st.none() | st.floats(0, 1e5, allow_nan=False),
    ),
    _card(True),
    st.builds(
        Carousel,
        st.lists(_card(False), min_size=2, max_size=10),
        card_width=st.none() | st.sampled_from(CardWidth),
        orientation=st.none() | st.just(Orientation.VERTICAL),
    ),
    st.builds(Template, texts, st.dictionaries(texts, texts, max_size=3)),
    st.builds(IsTyping, active=st.booleans()),
)


@st.composite
def gsma_messages(draw: st.DrawFn) -> Message:
    """Any message the GSMA format can express."""
    content = draw(contents)
    suggestions = (
        [] if isinstance(content, IsTyping) else draw(st.lists(gsma_suggestions, max_size=11))
    )
    expiry = draw(st.sampled_from(["none", "ttl", "expire"]))
    return Message(
        content,
        suggestions=suggestions,
        traffic_type=draw(st.none() | st.sampled_from(["advertisement", "transaction"])),
        ttl="30.5s" if expiry == "ttl" else None,
        expire_time="2030-10-02T15:01:23Z" if expiry == "expire" else None,
        message_id=draw(st.none() | texts),
        in_reply_to=draw(st.none() | texts),
    )
