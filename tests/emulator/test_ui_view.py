"""The web UI's view model: every seed message displays, and suggestions are addressed exactly
as the tap API finds them."""

from __future__ import annotations

from typing import Any

import pytest

from rcskit.emulator.core.records import A2P, FMT_GOOGLE, FMT_GSMA, FMT_USER, P2A, StoredMessage
from rcskit.emulator.core.records import compact_json as dump
from rcskit.emulator.core.suggestions import suggestions_in
from rcskit.emulator.ui.view import (
    ACTION_NAMES,
    AudioView,
    CardView,
    CarouselView,
    FileRef,
    FileView,
    LocationView,
    MessageView,
    RawView,
    ResponseView,
    TextView,
    message_view,
    no_files,
    parse_position,
)
from tests.seeds import entries, load


def stored(content: Any, fmt: int = FMT_GSMA, direction: int = A2P) -> StoredMessage:
    return StoredMessage(
        msg_id="m1",
        bot_id="bot",
        phone="+14251234567",
        direction=direction,
        fmt=fmt,
        content=dump(content),
        created=1_700_000_000.0,
        status="delivered",
    )


def view_of(content: Any, fmt: int = FMT_GSMA, direction: int = A2P) -> MessageView:
    return message_view(stored(content, fmt, direction), no_files)


def _displayable(entry: dict[str, Any]) -> bool:
    """A message send (not a typing event, a read receipt or a template, which the emulator
    resolves before storing)."""
    body = load(entry)
    inner = body.get("RCSMessage") or body.get("contentMessage")
    if not isinstance(inner, dict):
        return False
    return not any(k in inner for k in ("isTyping", "templateMessage", "status"))


SEND_EXAMPLES = [
    e
    for e in entries(kind="request", format=lambda f: f in ("gsma", "google"))
    if "messages" in (e["path"] or "").lower() and _displayable(e)
]


def test_the_seed_examples_cover_both_formats() -> None:
    formats = {e["format"] for e in SEND_EXAMPLES}
    assert formats == {"gsma", "google"} and len(SEND_EXAMPLES) >= 12


@pytest.mark.parametrize("entry", SEND_EXAMPLES, ids=lambda e: e["file"])
def test_every_seed_message_is_displayed_with_its_suggestions_at_their_tap_address(
    entry: dict[str, Any],
) -> None:
    body = load(entry)
    google = entry["format"] == "google"
    content = body["contentMessage"] if google else body["RCSMessage"]
    fmt = FMT_GOOGLE if google else FMT_GSMA
    view = message_view(stored(content, fmt), no_files)
    assert not isinstance(view.content, RawView), view.content
    shown = list(view.chips)
    if isinstance(view.content, CardView):
        shown += view.content.suggestions
    if isinstance(view.content, CarouselView):
        shown += [s for card in view.content.cards for s in card.suggestions]
    expected = {
        (s.card_index, s.index, s.kind, s.text, s.postback) for s in suggestions_in(content, fmt)
    }
    assert {(s.card_index, s.index, s.kind, s.label, s.postback) for s in shown} == expected
    for s in shown:
        assert (s.action is None) == (s.kind == "reply")
        assert s.action is None or s.action in ACTION_NAMES


def test_gsma_text_with_every_action_names_what_the_phone_does() -> None:
    content = load("dotgo_gsma/send_text_all_suggestions_request.json")["RCSMessage"]
    view = view_of(content)
    assert isinstance(view.content, TextView) and view.content.text == "Welcome to RCS"
    by_label = {s.label: s for s in view.chips}
    call = by_label["Call"]
    assert call.action == "dial_phone_number" and call.detail == "Calls +15556667777"
    assert by_label["Open website or deep link"].url == "https://www.google.com"
    meeting = by_label["Schedule Meeting"]
    assert meeting.action == "create_calendar_event" and "'Meeting'" in meeting.detail
    assert "2017-03-14T00:00:00Z" in meeting.detail
    where = by_label["Show location on a map"]
    assert where.action == "show_location" and "Googleplex" in where.detail
    assert where.url is not None and "mlat=37.4220041" in where.url
    assert by_label["Share location on a map"].action == "request_location_push"


def _gsma_action(key: str, inner: dict[str, Any]) -> dict[str, Any]:
    return {"action": {"displayText": "go", "postback": {"data": "pb"}, key: inner}}


@pytest.mark.parametrize(
    ("suggestion", "action", "detail"),
    [
        (
            _gsma_action("urlAction", {"openUrl": {"url": "https://a.example"}}),
            "open_url",
            "Opens https://a.example",
        ),
        (
            _gsma_action("dialerAction", {"dialPhoneNumber": {"phoneNumber": "+1650"}}),
            "dial_phone_number",
            "Calls +1650",
        ),
        (
            _gsma_action(
                "dialerAction", {"dialEnrichedCall": {"phoneNumber": "+1650", "subject": "Order"}}
            ),
            "dial_enriched_call",
            "Enriched call to +1650: Order",
        ),
        (
            _gsma_action("dialerAction", {"dialVideoCall": {"phoneNumber": "+1650"}}),
            "dial_video_call",
            "Video call to +1650",
        ),
        (
            _gsma_action("mapAction", {"showLocation": {"location": {"query": "Eiffel Tower"}}}),
            "show_location",
            "Shows Eiffel Tower on a map",
        ),
        (
            _gsma_action("mapAction", {"requestLocationPush": {}}),
            "request_location_push",
            "Asks you to share your location",
        ),
        (
            _gsma_action(
                "calendarAction",
                {"createCalendarEvent": {"title": "Demo", "startTime": "a", "endTime": "b"}},
            ),
            "create_calendar_event",
            "Adds 'Demo' to your calendar (a to b)",
        ),
        (
            _gsma_action(
                "composeAction", {"composeTextMessage": {"phoneNumber": "+1650", "text": "Hi"}}
            ),
            "compose_text_message",
            "Drafts a message to +1650: 'Hi'",
        ),
        (
            _gsma_action(
                "composeAction",
                {"composeRecordingMessage": {"phoneNumber": "+1650", "type": "VIDEO"}},
            ),
            "compose_recording_message",
            "Records a video message for +1650",
        ),
        (
            _gsma_action("deviceAction", {"requestDeviceSpecifics": {}}),
            "request_device_specifics",
            "Shares your device's specifics with the bot",
        ),
        (
            _gsma_action("settingsAction", {"disableAnonymization": {}}),
            "disable_anonymization",
            "Shares your phone number with the bot",
        ),
        (
            _gsma_action("settingsAction", {"enableDisplayedNotifications": {}}),
            "enable_displayed_notifications",
            "Turns on read receipts for the bot",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and v in ACTION_NAMES else None,
)
def test_each_of_the_twelve_gsma_actions(
    suggestion: dict[str, Any], action: str, detail: str
) -> None:
    view = view_of({"textMessage": "t", "suggestedChipList": {"suggestions": [suggestion]}})
    (chip,) = view.chips
    assert (chip.action, chip.detail, chip.postback, chip.card_index) == (
        action,
        detail,
        "pb",
        None,
    )


def test_google_actions_and_fallback_url() -> None:
    suggestions = [
        {
            "action": {
                "text": "Web",
                "postbackData": "w",
                "openUrlAction": {"url": "https://x.example", "application": "WEBVIEW"},
            }
        },
        {"action": {"text": "Call", "postbackData": "c", "dialAction": {"phoneNumber": "+1650"}}},
        {
            "action": {
                "text": "Map",
                "postbackData": "m",
                "viewLocationAction": {
                    "latLong": {"latitude": 1.5, "longitude": 2.5},
                    "label": "Here",
                },
            }
        },
        {"action": {"text": "Share", "postbackData": "s", "shareLocationAction": {}}},
        {
            "action": {
                "text": "Cal",
                "postbackData": "k",
                "createCalendarEventAction": {"title": "T", "startTime": "a", "endTime": "b"},
            }
        },
        {
            "action": {
                "text": "Rec",
                "postbackData": "r",
                "fallbackUrl": "https://fb.example",
                "composeAction": {
                    "composeRecordingMessage": {"phoneNumber": "+1", "type": "ACTION_TYPE_AUDIO"}
                },
            }
        },
        {"reply": {"text": "Yes", "postbackData": "y"}},
    ]
    view = view_of({"text": "hello", "suggestions": suggestions}, FMT_GOOGLE)
    got = [(c.label, c.action, c.postback) for c in view.chips]
    assert got == [
        ("Web", "open_url", "w"),
        ("Call", "dial_phone_number", "c"),
        ("Map", "show_location", "m"),
        ("Share", "request_location_push", "s"),
        ("Cal", "create_calendar_event", "k"),
        ("Rec", "compose_recording_message", "r"),
        ("Yes", None, "y"),
    ]
    assert view.chips[0].detail == "Opens https://x.example in a webview"
    assert view.chips[2].detail == "Shows Here (1.50000, 2.50000) on a map"
    assert view.chips[5].detail == "Records an audio message for +1"
    assert view.chips[5].url == "https://fb.example"


def test_gsma_card_layout_heights_and_alignment() -> None:
    content = {
        "richcardMessage": {
            "message": {
                "generalPurposeCard": {
                    "layout": {"cardOrientation": "HORIZONTAL", "imageAlignment": "RIGHT"},
                    "content": {
                        "media": {
                            "mediaUrl": "https://x.example/a.mp4",
                            "mediaContentType": "video/mp4",
                            "thumbnailUrl": "https://x.example/t.jpg",
                            "height": "TALL_HEIGHT",
                        },
                        "title": "T",
                        "description": "D",
                    },
                }
            }
        }
    }
    card = view_of(content).content
    assert isinstance(card, CardView)
    assert (card.orientation, card.alignment, card.title, card.description) == (
        "horizontal",
        "right",
        "T",
        "D",
    )
    assert card.media is not None and card.media.height == "tall" and card.media.is_video
    assert card.media.thumbnail == "https://x.example/t.jpg"


def test_gsma_carousel_width_and_card_indexes() -> None:
    content = load("dotgo_gsma/send_carousel_request.json")["RCSMessage"]
    carousel = view_of(content).content
    assert isinstance(carousel, CarouselView) and len(carousel.cards) >= 2
    for i, card in enumerate(carousel.cards):
        assert all(s.card_index == i for s in card.suggestions)
    small = {
        "richcardMessage": {
            "message": {
                "generalPurposeCardCarousel": {
                    "layout": {"cardWidth": "SMALL_WIDTH"},
                    "content": [{"title": "a"}, {"title": "b"}],
                }
            }
        }
    }
    shown = view_of(small).content
    assert isinstance(shown, CarouselView) and shown.width == "small"
    assert [c.title for c in shown.cards] == ["a", "b"]


def test_google_card_and_uploaded_file_resolution() -> None:
    def files(file_id: str) -> FileRef | None:
        if file_id == "F1":
            return FileRef("/_ui/files/F1", "image/png", "cat.png", 1234)
        return None

    content = {
        "richCard": {
            "standaloneCard": {
                "cardOrientation": "HORIZONTAL",
                "thumbnailImageAlignment": "LEFT",
                "cardContent": {
                    "title": "Cat",
                    "media": {"height": "SHORT", "uploadedRbmFile": {"fileName": "F1"}},
                },
            }
        }
    }
    card = message_view(stored(content, FMT_GOOGLE), files).content
    assert isinstance(card, CardView) and card.orientation == "horizontal"
    assert (
        card.media is not None
        and card.media.url == "/_ui/files/F1"
        and card.media.height == "short"
    )
    file = message_view(stored({"fileName": "F1"}, FMT_GOOGLE), files).content
    assert file == FileView("/_ui/files/F1", "cat.png", "image/png", 1234, None)
    missing = message_view(stored({"fileName": "nope"}, FMT_GOOGLE), files).content
    assert isinstance(missing, FileView) and missing.url is None and missing.name == "nope"


def test_gsma_file_audio_and_location() -> None:
    file = view_of(
        {
            "fileMessage": {
                "fileUrl": "https://x.example/doc.pdf",
                "fileName": "doc.pdf",
                "fileMIMEType": "application/pdf",
                "fileSize": 2048,
            }
        }
    ).content
    assert isinstance(file, FileView) and file.kind == "document" and file.size == 2048
    image = view_of({"fileMessage": {"fileUrl": "https://x.example/a.jpg"}}).content
    assert isinstance(image, FileView) and image.kind == "image"
    audio = view_of(
        {"audioMessage": {"fileUrl": "https://x.example/a.wav", "playingLength": 6}}
    ).content
    assert audio == AudioView("https://x.example/a.wav", None, None, None, 6)
    where = view_of(
        {"geolocationPushMessage": {"pos": "48.8584 2.2945", "label": "Eiffel"}}
    ).content
    assert where == LocationView(48.8584, 2.2945, "Eiffel")


@pytest.mark.parametrize(
    ("pos", "expected"),
    [
        ("48.85 2.29", (48.85, 2.29)),
        ("48.85,2.29", (48.85, 2.29)),
        ("geo:48.85,2.29;u=35", (48.85, 2.29)),
        ("91 0", (None, None)),
        ("north", (None, None)),
        (None, (None, None)),
    ],
)
def test_parse_position(pos: Any, expected: tuple[float | None, float | None]) -> None:
    assert parse_position(pos) == expected


def test_user_messages() -> None:
    assert view_of({"text": "hi"}, FMT_USER, P2A).content == TextView("hi")
    loc = view_of({"location": {"latitude": 1.0, "longitude": 2.0, "label": None}}, FMT_USER, P2A)
    assert loc.content == LocationView(1.0, 2.0, None) and not loc.from_bot
    tap = view_of(
        {"response": {"kind": "reply", "text": "Yes", "postback": "y", "in_reply_to": "m0"}},
        FMT_USER,
        P2A,
    )
    assert tap.content == ResponseView("reply", "Yes", "y")
    voice = view_of(
        {
            "file": {
                "url": "https://x.example/v.mp3",
                "mime_type": "audio/mpeg",
                "size": 9,
                "name": "v.mp3",
            }
        },
        FMT_USER,
        P2A,
    )
    assert isinstance(voice.content, AudioView) and voice.content.url == "https://x.example/v.mp3"


def test_unknown_content_is_shown_raw_not_an_error() -> None:
    view = view_of({"somethingNew": {"a": 1}})
    assert isinstance(view.content, RawView) and '"somethingNew"' in view.content.json_text
    broken = StoredMessage("m", "b", "+1", A2P, FMT_GSMA, b"not json", 0.0)
    assert isinstance(message_view(broken, no_files).content, RawView)
