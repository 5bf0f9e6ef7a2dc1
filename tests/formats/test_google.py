"""Google RBM format: seed examples, round trips, unsupported features, strict decode, paths."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcskit.errors import InvalidMessage, UnsupportedFeature
from rcskit.formats import google
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
    TrafficType,
    UrlApplication,
    WebviewViewMode,
)
from tests.seeds import entries, load

BODY_KEYS = ("contentMessage", "messageTrafficType", "ttl", "expireTime")


def _has_content(entry: dict[str, Any]) -> bool:
    body = load(entry)
    return isinstance(body, dict) and bool(body.get("contentMessage"))


# Dotgo's Google API examples (seed 002 3.2) and SMSBOX's reconstructed /message body
# (seed 004; its contentMessage is a Google AgentContentMessage).
MESSAGE_FIXTURES = [e for e in entries(kind="request", format="google") if _has_content(e)] + [
    e for e in entries(kind="request", format="smsbox") if _has_content(e)
]


def _agent_message(body: dict[str, Any]) -> dict[str, Any]:
    """The AgentMessage part of a provider body (SMSBOX adds recipients and validity)."""
    return {k: v for k, v in body.items() if k in BODY_KEYS}


def _normalise_params(body: Any) -> Any:
    """customParams is a JSON document inside a string: compare it as parsed JSON, not as text
    (key spacing inside the string is not part of the contract)."""
    if isinstance(body, dict):
        return {
            k: json.loads(v) if k == "customParams" and isinstance(v, str) else _normalise_params(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_normalise_params(v) for v in body]
    return body


def _walk(value: Any, path: str = "") -> list[str]:
    """Paths of every null in a JSON value."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _walk(v, f"{path}[{i}]")]
    return []


def _key_order(value: Any) -> Any:
    """The nested key order of a JSON value, for comparing order and not only content."""
    if isinstance(value, dict):
        return [(k, _key_order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_key_order(v) for v in value]
    return None


def _paths(err: pytest.ExceptionInfo[InvalidMessage]) -> list[str]:
    return [v.path for v in err.value.violations]


# ---------------------------------------------------------------- golden seed examples


def test_fixtures_found() -> None:
    files = {e["file"] for e in MESSAGE_FIXTURES}
    assert len([f for f in files if f.startswith("dotgo_google/")]) == 8
    assert "smsbox/send_message_request_reconstructed.json" in files


@pytest.mark.parametrize("entry", MESSAGE_FIXTURES, ids=lambda e: e["file"])
def test_seed_decode_then_encode_reproduces_the_fixture(entry: dict[str, Any]) -> None:
    body = _agent_message(load(entry))
    out = google.encode(google.decode(body).message)
    assert _normalise_params(out) == _normalise_params(body)
    assert _walk(out) == []


@pytest.mark.parametrize(
    "entry",
    # Example 7 (rich card) is the one seed example whose member order differs from the others
    # (media before title, height after contentInfo); we follow Example 8 and Google's order.
    [e for e in MESSAGE_FIXTURES if not e["file"].endswith("send_richcard_request.json")],
    ids=lambda e: e["file"],
)
def test_seed_key_order_is_kept(entry: dict[str, Any]) -> None:
    body = _agent_message(load(entry))
    assert _key_order(google.encode(google.decode(body).message)) == _key_order(body)


def test_seed_template_params_are_decoded_to_a_dict() -> None:
    message = google.decode(load("dotgo_google/send_template_request.json")).message
    assert message.content == Template("template_123", {"name": "user"})
    assert message.ttl == "10s"


def test_seed_rich_card_decodes_to_the_neutral_card() -> None:
    envelope = google.decode(load("dotgo_google/send_richcard_request.json"))
    assert envelope.to is None
    card = envelope.message.content
    assert isinstance(card, Card)
    assert card.title == "Celebrity"
    assert card.orientation is Orientation.VERTICAL
    assert card.image_alignment is ImageAlignment.LEFT
    assert card.media is not None and card.media.height is Height.MEDIUM
    assert card.media.force_refresh is False
    assert envelope.message.suggestions == (Reply("Know more", "user_query"),)


def test_smsbox_bare_content_message_is_accepted() -> None:
    body = load("smsbox/send_message_request_reconstructed.json")
    message = google.decode(body["contentMessage"]).message
    assert message.content == Text("example message")
    assert google.encode(message) == {"contentMessage": body["contentMessage"]}


def test_smsbox_collapsed_sample_with_empty_content_is_invalid() -> None:
    body = load("smsbox/send_message_request.json")
    with pytest.raises(InvalidMessage) as err:
        google.decode(_agent_message(body))
    assert _paths(err) == ["contentMessage"]
    assert "exactly one of text" in str(err.value)


def test_seed_typing_and_read_events() -> None:
    assert google.encode_typing() == load("dotgo_google/typing_event_request.json")
    read = load("dotgo_google/read_event_request.json")
    assert google.encode_read(read["messageId"]) == read


# ---------------------------------------------------------------- round-trip property

texts = st.text(min_size=1, max_size=20)
opt_texts = st.none() | texts
urls = st.sampled_from(["https://example.com/a.jpg", "https://cdn.example.org/v.mp4?x=1"])
file_ids = st.sampled_from(["VLXtA7s35cGmyq6g9TcqCSEn2Uqi9QLR", "files/abc"])
phones = st.sampled_from(["+15556667777", "+914253136789"])
times = st.sampled_from(["2017-03-14T00:00:00Z", "2030-01-01T10:00:00.5+02:00"])
common = {"text": texts, "postback_data": opt_texts, "fallback_url": st.none() | urls}


@st.composite
def show_locations(draw: st.DrawFn) -> ShowLocation:
    coords = draw(st.booleans())
    query = draw(opt_texts if coords else texts)
    return ShowLocation(
        draw(texts),
        draw(opt_texts),
        fallback_url=draw(st.none() | urls),
        latitude=draw(st.floats(-90, 90)) if coords else None,
        longitude=draw(st.floats(-180, 180)) if coords else None,
        label=draw(opt_texts),
        query=query,
    )


suggestions = st.one_of(
    st.builds(Reply, text=texts, postback_data=opt_texts),
    st.builds(
        OpenUrl,
        url=urls,
        application=st.none() | st.sampled_from(UrlApplication),
        webview_view_mode=st.none() | st.sampled_from(WebviewViewMode),
        description=opt_texts,
        **common,
    ),
    st.builds(DialPhoneNumber, phone_number=phones, **common),
    show_locations(),
    st.builds(RequestLocationPush, **common),
    st.builds(
        CreateCalendarEvent,
        start_time=times,
        end_time=times,
        title=texts,
        description=opt_texts,
        **common,
    ),
    st.builds(ComposeTextMessage, phone_number=phones, draft=texts, **common),
    st.builds(
        ComposeRecordingMessage,
        phone_number=phones,
        recording_type=st.sampled_from(RecordingType),
        **common,
    ),
)


def sources(style: str) -> st.SearchStrategy[dict[str, Any]]:
    """The File/Media source fields the given file style can express."""
    by_url = st.fixed_dictionaries(
        {"url": urls},
        optional={"thumbnail_url": urls, "force_refresh": st.booleans()},
    )
    thumbs = {"thumbnail_file_id": file_ids} if style == "uploadedRbmFile" else {}
    return by_url | st.fixed_dictionaries({"file_id": file_ids}, optional=thumbs)


@st.composite
def cards(draw: st.DrawFn, style: str, standalone: bool) -> Card:
    media = draw(
        st.none()
        | st.builds(
            lambda src, h: Media(height=h, **src),
            sources(style),
            st.none() | st.sampled_from(Height),
        )
    )
    title = draw(opt_texts)
    description = draw(opt_texts)
    if media is None and title is None and description is None:
        title = "t"
    layout = {}
    if standalone:
        layout = {
            "orientation": draw(st.none() | st.sampled_from(Orientation)),
            "image_alignment": draw(st.none() | st.sampled_from(ImageAlignment)),
        }
    return Card(
        title=title,
        description=description,
        media=media,
        suggestions=draw(st.lists(suggestions, max_size=4)),
        **layout,
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def contents(style: str) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(Text, st.text(max_size=50)),
        sources(style).map(lambda src: File(**src)),
        cards(style, standalone=True),
        st.builds(
            Carousel,
            st.lists(cards(style, standalone=False), min_size=2, max_size=10),
            card_width=st.none() | st.sampled_from(CardWidth),
        ),
        st.builds(
            Template,
            st.text(min_size=1, max_size=12),
            st.dictionaries(st.text(max_size=8), json_values, max_size=4),
        ),
    )


@st.composite
def messages(draw: st.DrawFn, style: str) -> Message:
    expiry = draw(
        st.sampled_from([{}])
        | st.fixed_dictionaries({"ttl": st.sampled_from(["30s", "8s", "1.5s", "3600s"])})
        | st.fixed_dictionaries({"expire_time": times})
    )
    traffic = st.none() | st.sampled_from(
        [
            TrafficType.ADVERTISEMENT,
            TrafficType.AUTHENTICATION,
            TrafficType.TRANSACTION,
            TrafficType.SERVICE_REQUEST,
            TrafficType.ACKNOWLEDGEMENT,
        ]
    )
    return Message(
        draw(contents(style)),
        suggestions=draw(st.lists(suggestions, max_size=11)),
        traffic_type=draw(traffic),
        **expiry,
    )


styled_messages = st.sampled_from(["fileName", "uploadedRbmFile"]).flatmap(
    lambda style: st.tuples(st.just(style), messages(style))
)


@settings(max_examples=100, deadline=None)
@given(styled_messages)
def test_neutral_encode_decode_round_trip(styled: tuple[Any, Message]) -> None:
    style, message = styled
    dropped: list[str] = []
    body = google.encode(message, file_style=style, dropped=dropped)
    assert _walk(body) == []
    assert dropped == []
    wire = json.loads(json.dumps(body))  # through real JSON text, as on the wire
    assert google.decode(wire).message == message


# ---------------------------------------------------------------- unsupported features

UNSUPPORTED: list[tuple[str, Message]] = [
    ("DialEnrichedCall", Message("x", suggestions=[DialEnrichedCall("Call", "+15556667777")])),
    ("DialVideoCall", Message("x", suggestions=[DialVideoCall("Video", "+15556667777")])),
    ("RequestDeviceSpecifics", Message("x", suggestions=[RequestDeviceSpecifics("Device")])),
    ("DisableAnonymization", Message("x", suggestions=[DisableAnonymization("Share")])),
    (
        "EnableDisplayedNotifications",
        Message("x", suggestions=[EnableDisplayedNotifications("Receipts")]),
    ),
    ("Audio", Message(Audio("https://example.com/a.mp3"))),
    ("GeolocationPush", Message(GeolocationPush.at(48.8584, 2.2945, label="Eiffel Tower"))),
    ("IsTyping", Message(IsTyping())),
    (
        "HORIZONTAL carousel",
        Message(Carousel([Card(title="a"), Card(title="b")], orientation=Orientation.HORIZONTAL)),
    ),
    ("in_reply_to", Message("x", in_reply_to="msg-1")),
    ("traffic type 'payment'", Message("x", traffic_type=TrafficType.PAYMENT)),
    ("traffic type 'premium'", Message("x", traffic_type=TrafficType.PREMIUM)),
    ("traffic type 'subscription'", Message("x", traffic_type=TrafficType.SUBSCRIPTION)),
    ("traffic type 'bulk'", Message("x", traffic_type="bulk")),
    (
        "thumbnail_file_id with a url",
        Message(File("https://example.com/a.jpg", thumbnail_file_id="files/t")),
    ),
    (
        "thumbnail_url with a file_id",
        Message(File(file_id="files/a", thumbnail_url="https://example.com/t.jpg")),
    ),
    ("force_refresh with a file_id", Message(File(file_id="files/a", force_refresh=True))),
    (
        "thumbnail_file_id with file_style='fileName'",
        Message(File(file_id="files/a", thumbnail_file_id="files/t")),
    ),
]


@pytest.mark.parametrize(("feature", "message"), UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
def test_unsupported_feature_raises(feature: str, message: Message) -> None:
    with pytest.raises(UnsupportedFeature) as err:
        google.encode(message)
    assert feature in str(err.value)
    assert "Google" in str(err.value)
    assert err.value.target == google.FORMAT_NAME


def test_unsupported_action_inside_a_carousel_card_names_where() -> None:
    cards = [
        Card(title="a"),
        Card(title="b", suggestions=[Reply("ok"), DialVideoCall("V", "+1555")]),
    ]
    with pytest.raises(UnsupportedFeature) as err:
        google.encode(Message(Carousel(cards)))
    assert "DialVideoCall" in str(err.value)
    assert "content.cards[1].suggestions[1]" in str(err.value)


def test_typing_indicator_points_to_the_agent_event() -> None:
    with pytest.raises(UnsupportedFeature, match="encode_typing"):
        google.encode(Message(IsTyping()))


def test_message_id_is_not_in_the_body_and_not_an_error() -> None:
    body = google.encode(Message("hello", message_id="d2f81052-37c7-469c-997b-9576023b4220"))
    assert body == {"contentMessage": {"text": "hello"}}


def test_vertical_carousel_is_accepted_and_emits_nothing() -> None:
    cards = [Card(title="a"), Card(title="b")]
    vertical = google.encode(Message(Carousel(cards, orientation=Orientation.VERTICAL)))
    assert vertical == google.encode(Message(Carousel(cards)))
    assert vertical == {
        "contentMessage": {
            "richCard": {"carouselCard": {"cardContents": [{"title": "a"}, {"title": "b"}]}}
        }
    }


# ---------------------------------------------------------------- metadata


def _metadata_message() -> Message:
    return Message(
        Carousel(
            [
                Card(
                    title="a",
                    media=Media(
                        url="https://example.com/a.jpg",
                        content_type="image/jpeg",
                        size=1000,
                        thumbnail_content_type="image/png",
                        thumbnail_size=10,
                        content_description="a cat",
                        height=Height.SHORT,
                    ),
                ),
                Card(
                    title="b",
                    orientation=Orientation.HORIZONTAL,
                    image_alignment=ImageAlignment.LEFT,
                ),
            ]
        )
    )


METADATA_PATHS = [
    "content.cards[0].media.content_type",
    "content.cards[0].media.size",
    "content.cards[0].media.thumbnail_content_type",
    "content.cards[0].media.thumbnail_size",
    "content.cards[1].orientation",
    "content.cards[1].image_alignment",
]


def test_strict_raises_one_error_listing_every_field() -> None:
    with pytest.raises(UnsupportedFeature) as err:
        google.encode(_metadata_message(), strict=True)
    text = str(err.value)
    assert all(path in text for path in METADATA_PATHS)
    assert "drop_metadata=True" in text
    assert "Google" in text


def test_by_default_only_what_google_cannot_recompute_is_refused() -> None:
    with pytest.raises(UnsupportedFeature) as err:
        google.encode(_metadata_message(), dropped=[])
    assert str(err.value).startswith(
        "metadata (content.cards[1].orientation, content.cards[1].image_alignment) is not "
        "supported by Google RBM format: it has no per-card layout in a carousel"
    )


def test_by_default_mime_types_and_sizes_are_dropped_and_reported() -> None:
    media = Media(
        url="https://example.com/a.jpg",
        content_type="image/jpeg",
        size=1000,
        thumbnail_url="https://example.com/t.jpg",
        thumbnail_content_type="image/jpeg",
        thumbnail_size=10,
        content_description="A red bicycle",
    )
    dropped: list[str] = []
    body = google.encode(Message(Card(title="t", media=media)), dropped=dropped)
    assert dropped == [
        "content.media.content_type",
        "content.media.size",
        "content.media.thumbnail_content_type",
        "content.media.thumbnail_size",
    ]
    assert body["contentMessage"]["richCard"]["standaloneCard"]["cardContent"]["media"] == {
        "contentInfo": {
            "fileUrl": "https://example.com/a.jpg",
            "thumbnailUrl": "https://example.com/t.jpg",
        },
        "contentDescription": "A red bicycle",
    }


def test_content_description_is_google_alt_text_both_ways() -> None:
    media = Media(url="https://example.com/a.jpg", content_description="A red bicycle")
    message = Message(Card(title="t", media=media))
    body = google.encode(message)
    assert google.decode(body).message == message
    path = google.wire_path(message, ("content", "media", "content_description"))
    assert path == "contentMessage.richCard.standaloneCard.cardContent.media.contentDescription"


def test_strict_and_drop_metadata_contradict() -> None:
    with pytest.raises(ValueError, match="contradict"):
        google.encode(Message("x"), strict=True, drop_metadata=True)


def test_drop_metadata_drops_and_reports_each_path() -> None:
    dropped: list[str] = []
    body = google.encode(_metadata_message(), drop_metadata=True, dropped=dropped)
    assert dropped == METADATA_PATHS
    assert body == {
        "contentMessage": {
            "richCard": {
                "carouselCard": {
                    "cardContents": [
                        {
                            "title": "a",
                            "media": {
                                "height": "SHORT",
                                "contentInfo": {"fileUrl": "https://example.com/a.jpg"},
                                "contentDescription": "a cat",
                            },
                        },
                        {"title": "b"},
                    ]
                }
            }
        }
    }


def test_file_metadata_paths() -> None:
    message = Message(
        File(
            "https://example.com/a.pdf",
            name="a.pdf",
            mime_type="application/pdf",
            size=12,
            thumbnail_url="https://example.com/t.png",
            thumbnail_name="t.png",
            thumbnail_mime_type="image/png",
            thumbnail_size=3,
        )
    )
    dropped: list[str] = []
    body = google.encode(message, drop_metadata=True, dropped=dropped)
    assert dropped == [
        "content.name",
        "content.mime_type",
        "content.size",
        "content.thumbnail_name",
        "content.thumbnail_mime_type",
        "content.thumbnail_size",
    ]
    assert body == {
        "contentMessage": {
            "contentInfo": {
                "fileUrl": "https://example.com/a.pdf",
                "thumbnailUrl": "https://example.com/t.png",
            }
        }
    }


def test_drop_metadata_without_a_list_logs_what_it_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    message = Message(
        Card(title="t", media=Media.image("https://example.com/a.jpg", content_type="image/jpeg"))
    )
    with caplog.at_level(logging.INFO, logger="rcskit.formats.google"):
        google.encode(message, drop_metadata=True)
    assert "content.media.content_type" in caplog.text


def test_hard_unsupported_wins_over_drop_metadata() -> None:
    message = Message(File("https://e.com/a.jpg", name="a.jpg"), in_reply_to="m1")
    with pytest.raises(UnsupportedFeature, match="in_reply_to"):
        google.encode(message, drop_metadata=True, dropped=[])


# ---------------------------------------------------------------- encode details


def test_file_styles() -> None:
    plain = Message(File(file_id="files/abc"))
    assert google.encode(plain) == {"contentMessage": {"fileName": "files/abc"}}
    assert google.encode(plain, file_style="uploadedRbmFile") == {
        "contentMessage": {"uploadedRbmFile": {"fileName": "files/abc"}}
    }
    thumb = Message(
        Card(media=Media(file_id="files/abc", thumbnail_file_id="files/t", height=Height.TALL))
    )
    assert google.encode(thumb, file_style="uploadedRbmFile") == {
        "contentMessage": {
            "richCard": {
                "standaloneCard": {
                    "cardContent": {
                        "media": {
                            "height": "TALL",
                            "uploadedRbmFile": {
                                "fileName": "files/abc",
                                "thumbnailName": "files/t",
                            },
                        }
                    }
                }
            }
        }
    }


def test_all_actions_in_key_order() -> None:
    message = Message(
        "pick",
        suggestions=[
            OpenUrl(
                "Web",
                "https://e.com",
                "pb",
                fallback_url="https://f.com",
                application=UrlApplication.WEBVIEW,
                webview_view_mode=WebviewViewMode.HALF,
                description="Shop",
            ),
            DialPhoneNumber("Call", "+15556667777"),
            ShowLocation("Map", query="coffee"),
            CreateCalendarEvent("Cal", "2017-03-14T00:00:00Z", "2017-03-14T23:59:59Z", "Meet"),
            ComposeTextMessage("SMS", "+15556667777", "Hello"),
            ComposeRecordingMessage("Rec", "+15556667777", RecordingType.VIDEO),
        ],
    )
    got = google.encode(message)["contentMessage"]["suggestions"]
    assert got == [
        {
            "action": {
                "text": "Web",
                "postbackData": "pb",
                "fallbackUrl": "https://f.com",
                "openUrlAction": {
                    "url": "https://e.com",
                    "application": "WEBVIEW",
                    "webviewViewMode": "HALF",
                    "description": "Shop",
                },
            }
        },
        {"action": {"text": "Call", "dialAction": {"phoneNumber": "+15556667777"}}},
        {"action": {"text": "Map", "viewLocationAction": {"query": "coffee"}}},
        {
            "action": {
                "text": "Cal",
                "createCalendarEventAction": {
                    "startTime": "2017-03-14T00:00:00Z",
                    "endTime": "2017-03-14T23:59:59Z",
                    "title": "Meet",
                },
            }
        },
        {
            "action": {
                "text": "SMS",
                "composeAction": {
                    "composeTextMessage": {"phoneNumber": "+15556667777", "text": "Hello"}
                },
            }
        },
        {
            "action": {
                "text": "Rec",
                "composeAction": {
                    "composeRecordingMessage": {
                        "phoneNumber": "+15556667777",
                        "type": "ACTION_TYPE_VIDEO",
                    }
                },
            }
        },
    ]
    assert list(got[0]["action"]) == ["text", "postbackData", "fallbackUrl", "openUrlAction"]


@pytest.mark.parametrize(
    ("neutral", "wire"),
    [
        (TrafficType.ADVERTISEMENT, "PROMOTION"),
        (TrafficType.AUTHENTICATION, "AUTHENTICATION"),
        (TrafficType.TRANSACTION, "TRANSACTION"),
        (TrafficType.SERVICE_REQUEST, "SERVICEREQUEST"),
        (TrafficType.ACKNOWLEDGEMENT, "ACKNOWLEDGEMENT"),
    ],
)
def test_traffic_types(neutral: TrafficType, wire: str) -> None:
    message = Message("x", traffic_type=neutral, expire_time="2024-10-02T15:01:23Z")
    body = google.encode(message)
    assert body == {
        "contentMessage": {"text": "x"},
        "messageTrafficType": wire,
        "expireTime": "2024-10-02T15:01:23Z",
    }
    assert google.decode(body).message.traffic_type == neutral.value


def test_template_params_are_a_json_string() -> None:
    body = google.encode(Message(Template("t1", {"name": "Zoë", "n": 2})))
    params = body["contentMessage"]["templateMessage"]["customParams"]
    assert isinstance(params, str)
    assert json.loads(params) == {"name": "Zoë", "n": 2}
    empty = google.encode(Message(Template("t2")))
    assert empty["contentMessage"]["templateMessage"] == {
        "templateCode": "t2",
        "customParams": "{}",
    }


def test_template_params_that_are_not_json_are_refused_when_built() -> None:
    with pytest.raises(InvalidMessage) as err:
        Template("t1", {"when": object()})
    assert _paths(err) == ["Template.params.when"]
    assert "must be JSON-serialisable" in err.value.violations[0].limit


# ---------------------------------------------------------------- strict decode


def test_unknown_key_names_its_path() -> None:
    body = load("dotgo_google/send_richcard_request.json")
    body["contentMessage"]["richCard"]["standaloneCard"]["foo"] = 1
    with pytest.raises(InvalidMessage) as err:
        google.decode(body)
    assert _paths(err) == ["contentMessage.richCard.standaloneCard.foo"]
    assert "contentMessage.richCard.standaloneCard.foo" in str(err.value)


def test_every_unknown_key_is_reported_at_once() -> None:
    body = load("dotgo_google/send_carousel_request.json")
    body["name"] = "phones/+1/agentMessages/x"
    body["contentMessage"]["richCard"]["carouselCard"]["cardContents"][1]["suggestions"][0][
        "action"
    ]["viewLocationAction"]["latLong"]["altitude"] = 3
    body["contentMessage"]["suggestions"][0]["reply"]["extra"] = True
    body["contentMessage"]["richCard"]["carouselCard"]["cardContents"][0]["media"]["contentInfo"][
        "mime"
    ] = "image/jpeg"
    with pytest.raises(InvalidMessage) as err:
        google.decode(body)
    assert sorted(_paths(err)) == sorted(
        [
            "name",
            "contentMessage.richCard.carouselCard.cardContents[1].suggestions[0].action"
            ".viewLocationAction.latLong.altitude",
            "contentMessage.suggestions[0].reply.extra",
            "contentMessage.richCard.carouselCard.cardContents[0].media.contentInfo.mime",
        ]
    )


def test_gsma_style_action_member_is_unknown() -> None:
    body = {
        "contentMessage": {
            "text": "x",
            "suggestions": [{"action": {"text": "Call", "dialerAction": {"phoneNumber": "+1"}}}],
        }
    }
    with pytest.raises(InvalidMessage) as err:
        google.decode(body)
    assert "contentMessage.suggestions[0].action.dialerAction" in _paths(err)


def test_bare_content_message_paths_have_no_prefix() -> None:
    with pytest.raises(InvalidMessage) as err:
        google.decode({"text": "x", "suggestions": [{"reply": {"text": 5}}]})
    assert _paths(err) == ["suggestions[0].reply.text"]


@pytest.mark.parametrize(
    ("body", "path", "rule"),
    [
        (
            {"contentMessage": {"templateMessage": {"templateCode": "t", "customParams": "{"}}},
            "contentMessage.templateMessage.customParams",
            "JSON object string",
        ),
        (
            {"contentMessage": {"templateMessage": {"templateCode": "t", "customParams": "[1]"}}},
            "contentMessage.templateMessage.customParams",
            "JSON object string",
        ),
        (
            {"contentMessage": {"templateMessage": {"customParams": "{}"}}},
            "contentMessage.templateMessage.templateCode",
            "required",
        ),
        (
            {"contentMessage": {"text": "x", "fileName": "f"}},
            "contentMessage",
            "found text, fileName",
        ),
        ({"ttl": "30s"}, "contentMessage", "required"),
        ({"contentMessage": "hello"}, "contentMessage", "JSON object"),
        ({"contentMessage": {"text": 3}}, "contentMessage.text", "string"),
        ({"contentMessage": {"text": "x"}, "ttl": "30 seconds"}, "ttl", "duration"),
        ({"contentMessage": {"text": "x"}, "expireTime": "tomorrow"}, "expireTime", "RFC 3339"),
        (
            {"contentMessage": {"text": "x"}, "ttl": "3s", "expireTime": "2024-10-02T15:01:23Z"},
            "ttl",
            "never both",
        ),
        (
            {"contentMessage": {"text": "x"}, "messageTrafficType": "MARKETING"},
            "messageTrafficType",
            "PROMOTION",
        ),
        (
            {"contentMessage": {"contentInfo": {"fileUrl": "u", "forceRefresh": "no"}}},
            "contentMessage.contentInfo.forceRefresh",
            "true or false",
        ),
        (
            {"contentMessage": {"uploadedRbmFile": {"thumbnailName": "t"}}},
            "contentMessage.uploadedRbmFile.fileName",
            "required",
        ),
        (
            {"contentMessage": {"richCard": {"standaloneCard": {"cardContent": {}}}}},
            "contentMessage.richCard.standaloneCard.cardContent",
            "at least one of title",
        ),
        (
            {
                "contentMessage": {
                    "richCard": {
                        "standaloneCard": {
                            "cardContent": {"title": "t"},
                            "cardOrientation": "DIAGONAL",
                        }
                    }
                }
            },
            "contentMessage.richCard.standaloneCard.cardOrientation",
            "HORIZONTAL",
        ),
        (
            {"contentMessage": {"richCard": {"carouselCard": {"cardContents": {}}}}},
            "contentMessage.richCard.carouselCard.cardContents",
            "array",
        ),
        (
            {
                "contentMessage": {
                    "richCard": {
                        "carouselCard": {
                            "cardContents": [
                                {"title": "a", "media": {"height": "HUGE", "fileName": "f"}},
                                {"title": "b"},
                            ]
                        }
                    }
                }
            },
            "contentMessage.richCard.carouselCard.cardContents[0].media.height",
            "SHORT",
        ),
        (
            {
                "contentMessage": {
                    "richCard": {"standaloneCard": {"cardContent": {"media": {"height": "SHORT"}}}}
                }
            },
            "contentMessage.richCard.standaloneCard.cardContent.media",
            "exactly one of contentInfo",
        ),
        (
            {
                "contentMessage": {
                    "text": "x",
                    "suggestions": [{"reply": {"text": "a"}, "action": {}}],
                }
            },
            "contentMessage.suggestions[0]",
            "exactly one of reply, action",
        ),
        (
            {"contentMessage": {"text": "x", "suggestions": [{"action": {"text": "a"}}]}},
            "contentMessage.suggestions[0].action",
            "exactly one of dialAction",
        ),
        (
            {
                "contentMessage": {
                    "text": "x",
                    "suggestions": [
                        {
                            "action": {
                                "text": "a",
                                "viewLocationAction": {"latLong": {"latitude": 1}},
                            }
                        }
                    ],
                }
            },
            "contentMessage.suggestions[0].action.viewLocationAction.latLong.longitude",
            "required",
        ),
        (
            {
                "contentMessage": {
                    "text": "x",
                    "suggestions": [{"action": {"text": "a", "viewLocationAction": {}}}],
                }
            },
            "contentMessage.suggestions[0].action",
            "latitude and longitude, or a query",
        ),
        (
            {
                "contentMessage": {
                    "text": "x",
                    "suggestions": [
                        {
                            "action": {
                                "text": "a",
                                "composeAction": {
                                    "composeRecordingMessage": {
                                        "phoneNumber": "+1",
                                        "type": "AUDIO",
                                    }
                                },
                            }
                        }
                    ],
                }
            },
            "contentMessage.suggestions[0].action.composeAction.composeRecordingMessage.type",
            "ACTION_TYPE_AUDIO",
        ),
        (
            {"contentMessage": {"text": "x", "suggestions": "none"}},
            "contentMessage.suggestions",
            "array",
        ),
    ],
)
def test_invalid_bodies_name_the_path(body: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(InvalidMessage) as err:
        google.decode(body)
    assert path in _paths(err)
    hit = [v for v in err.value.violations if v.path == path]
    assert any(rule in v.limit for v in hit), [str(v) for v in hit]


def test_decode_rejects_a_non_object_body() -> None:
    with pytest.raises(InvalidMessage, match="JSON object"):
        google.decode([1, 2])  # type: ignore[arg-type]


def test_null_counts_as_absent() -> None:
    # Google's own Python helper sends "fallbackUrl": null on every action.
    body = {
        "contentMessage": {
            "text": "x",
            "suggestions": [
                {"action": {"text": "Share", "fallbackUrl": None, "shareLocationAction": {}}}
            ],
        },
        "ttl": None,
    }
    message = google.decode(body).message
    assert message == Message("x", suggestions=[RequestLocationPush("Share")])


def test_decode_accepts_both_file_forms() -> None:
    by_name = google.decode({"contentMessage": {"fileName": "abc"}}).message
    uploaded = google.decode(
        {"contentMessage": {"uploadedRbmFile": {"fileName": "abc", "thumbnailName": "t"}}}
    ).message
    assert by_name.content == File(file_id="abc")
    assert uploaded.content == File(file_id="abc", thumbnail_file_id="t")


# ---------------------------------------------------------------- wire paths


def _carousel_message() -> Message:
    return Message(
        Carousel(
            [
                Card(title="a", media=Media(url="https://e.com/a.jpg", height=Height.SHORT)),
                Card(title="b", suggestions=[OpenUrl("Go", "https://e.com"), Reply("ok", "ok")]),
            ],
            card_width=CardWidth.SMALL,
        ),
        suggestions=[Reply("r"), ShowLocation("Map", latitude=1.0, longitude=2.0)],
        ttl="5s",
    )


@pytest.mark.parametrize(
    ("path", "wire"),
    [
        (
            ("content", "cards", 1, "suggestions", 0, "text"),
            "contentMessage.richCard.carouselCard.cardContents[1].suggestions[0].action.text",
        ),
        (
            ("content", "cards", 1, "suggestions", 1, "text"),
            "contentMessage.richCard.carouselCard.cardContents[1].suggestions[1].reply.text",
        ),
        (
            ("content", "cards", 1, "suggestions", 0, "url"),
            "contentMessage.richCard.carouselCard.cardContents[1].suggestions[0].action"
            ".openUrlAction.url",
        ),
        (
            ("content", "cards", 0, "media", "url"),
            "contentMessage.richCard.carouselCard.cardContents[0].media.contentInfo.fileUrl",
        ),
        (
            ("content", "cards", 0, "media", "height"),
            "contentMessage.richCard.carouselCard.cardContents[0].media.height",
        ),
        (("content", "cards"), "contentMessage.richCard.carouselCard.cardContents"),
        (("content", "card_width"), "contentMessage.richCard.carouselCard.cardWidth"),
        (("suggestions", 0, "postback_data"), "contentMessage.suggestions[0].reply.postbackData"),
        (
            ("suggestions", 1, "latitude"),
            "contentMessage.suggestions[1].action.viewLocationAction.latLong.latitude",
        ),
        (("suggestions",), "contentMessage.suggestions"),
        (("ttl",), "ttl"),
        (("traffic_type",), "messageTrafficType"),
        (("message_id",), "messageId"),
        # Not in the Google body: neutral notation.
        (("content", "cards", 0, "media", "content_type"), "content.cards[0].media.content_type"),
        (("content", "orientation"), "content.orientation"),
        (("content", "cards", 7, "title"), "content.cards[7].title"),
        (("in_reply_to",), "in_reply_to"),
    ],
)
def test_wire_path_carousel(path: tuple[str | int, ...], wire: str) -> None:
    assert google.wire_path(_carousel_message(), path) == wire


def test_wire_path_other_contents() -> None:
    card = Message(
        Card(
            title="t",
            media=Media(file_id="files/a", thumbnail_file_id="files/t"),
            orientation=Orientation.HORIZONTAL,
            image_alignment=ImageAlignment.RIGHT,
            suggestions=[ComposeTextMessage("SMS", "+1555", "hi")],
        )
    )
    base = "contentMessage.richCard.standaloneCard"
    assert google.wire_path(card, ("content", "title")) == base + ".cardContent.title"
    assert google.wire_path(card, ("content", "orientation")) == base + ".cardOrientation"
    assert (
        google.wire_path(card, ("content", "image_alignment")) == base + ".thumbnailImageAlignment"
    )
    assert (
        google.wire_path(card, ("content", "suggestions", 0, "draft"))
        == base + ".cardContent.suggestions[0].action.composeAction.composeTextMessage.text"
    )
    assert (
        google.wire_path(card, ("content", "media", "file_id"))
        == base + ".cardContent.media.fileName"
    )
    assert (
        google.wire_path(
            card, ("content", "media", "thumbnail_file_id"), file_style="uploadedRbmFile"
        )
        == base + ".cardContent.media.uploadedRbmFile.thumbnailName"
    )
    assert google.wire_path(Message("hi"), ("content", "text")) == "contentMessage.text"
    file = Message(File("https://e.com/a.pdf", mime_type="application/pdf"))
    assert google.wire_path(file, ("content", "url")) == "contentMessage.contentInfo.fileUrl"
    assert google.wire_path(file, ("content", "mime_type")) == "content.mime_type"
    template = Message(Template("t1", {"name": "x"}))
    assert (
        google.wire_path(template, ("content", "code"))
        == "contentMessage.templateMessage.templateCode"
    )
    assert (
        google.wire_path(template, ("content", "params", "name"))
        == "contentMessage.templateMessage.customParams"
    )
