"""Bad input gets InvalidMessage naming its field; the seeds' own examples pass; convert never
emits a body that validate refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from rcskit import limits
from rcskit.errors import InvalidMessage, UnsupportedFeature
from rcskit.formats import body_violations, detect_format, get_format, google, gsma, in_wire_terms
from rcskit.formats.bodies import body_kind
from rcskit.formats.convert import convert_body
from rcskit.message import (
    Card,
    ComposeTextMessage,
    DialPhoneNumber,
    Media,
    Message,
    OpenUrl,
    Reply,
    Template,
    Text,
)
from tests.formats.strategies import gsma_messages
from tests.seeds import entries, load

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _violations(err: pytest.ExceptionInfo[InvalidMessage]) -> list[tuple[str, str]]:
    return [(v.path, v.limit) for v in err.value.violations]


# ---------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    "call",
    [
        lambda: limits.validate(None),  # type: ignore[arg-type]
        lambda: limits.validate(None, policy="off"),  # type: ignore[arg-type]
        lambda: limits.check("hello"),  # type: ignore[arg-type]
        lambda: gsma.encode(None),  # type: ignore[arg-type]
        lambda: google.encode(None),  # type: ignore[arg-type]
    ],
)
def test_not_a_message_is_invalid_message_naming_it(call: Any) -> None:
    with pytest.raises(InvalidMessage) as err:
        call()
    assert _violations(err)[0] == ("message", "must be a rcskit.message.Message")


def test_gsma_encode_names_a_bad_recipient() -> None:
    with pytest.raises(InvalidMessage) as err:
        gsma.encode(Message("hi"), "+33612345678")  # type: ignore[arg-type]
    assert _violations(err) == [("to", "must be a rcskit.message.Contact or None")]


def test_non_serialisable_template_parameter_is_named_by_its_path() -> None:
    with pytest.raises(InvalidMessage) as err:
        Template("t1", {"order": {"items": [1, {2, 3}]}})
    assert _violations(err) == [
        (
            "Template.params.order.items[1]",
            "must be JSON-serialisable (str, int, float, bool, None, list, dict), not set",
        )
    ]


def test_nan_template_parameter_is_refused() -> None:
    with pytest.raises(InvalidMessage) as err:
        Template("t1", {"price": float("nan")})
    assert _violations(err) == [
        ("Template.params.price", "must be a finite number (JSON has no NaN or infinity)")
    ]


@pytest.mark.parametrize(
    ("ttl", "reason"),
    [
        (float("inf"), "a finite, non-negative duration"),
        (-5, "a finite, non-negative duration"),
        (object(), "a duration: '30s', seconds as a number, or a timedelta"),
    ],
)
def test_bad_ttl_is_invalid_message(ttl: Any, reason: str) -> None:
    with pytest.raises(InvalidMessage) as err:
        Message("hi", ttl=ttl)
    assert _violations(err) == [("ttl", reason)]


# ---------------------------------------------------------------- lone surrogates

SURROGATE = "contains a lone UTF-16 surrogate (U+D800 at index 2), which UTF-8 cannot encode"


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: Text("ab\ud800"), "Text.text"),
        (lambda: Reply("ab\ud800", "x"), "Reply.text"),
        (lambda: OpenUrl("Site", "https://example.com", "ab\ud800"), "OpenUrl.postback_data"),
        (lambda: Card(title="ab\ud800"), "Card.title"),
        (
            lambda: Media(url="https://e.com/a", content_description="ab\ud800"),
            "Media.content_description",
        ),
        (lambda: Message("hi", message_id="ab\ud800"), "Message.message_id"),
        (
            lambda: Message({"kind": "text", "text": "ab\ud800"}),
            "Message.content.text.text",
        ),
        (lambda: Template("t", {"name": "ab\ud800"}), "Template.params.name"),
        (lambda: Message("hi").with_id("ab\ud800"), "message_id"),
    ],
)
def test_lone_surrogate_is_refused_where_it_is(build: Any, path: str) -> None:
    with pytest.raises(InvalidMessage) as err:
        build()
    assert _violations(err) == [(path, SURROGATE)]


def test_lone_surrogate_in_a_body_is_named_by_its_json_path() -> None:
    body = {"RCSMessage": {"textMessage": "ab\ud800"}}
    with pytest.raises(InvalidMessage) as err:
        gsma.decode(body)
    assert _violations(err) == [("RCSMessage.textMessage", SURROGATE)]
    body = {"contentMessage": {"text": "ab\ud800"}}
    with pytest.raises(InvalidMessage) as err:
        google.decode(body)
    assert _violations(err) == [("contentMessage.text", SURROGATE)]


# ---------------------------------------------------------------- JSON paths


def test_ttl_with_expire_time_is_named_at_its_json_path() -> None:
    body = {"RCSMessage": {"textMessage": "x"}, "ttl": "3s", "expireTime": "2030-01-01T00:00:00Z"}
    with pytest.raises(InvalidMessage) as err:
        gsma.decode(body)
    assert _violations(err) == [("ttl", "give ttl or expireTime, never both")]
    with pytest.raises(InvalidMessage) as err:
        Message("x", ttl="3s", expire_time="2030-01-01T00:00:00Z")
    assert _violations(err) == [("Message.expire_time", "give ttl or expire_time, never both")]


@pytest.mark.parametrize("fmt", ["gsma", "google"])
def test_payload_size_violation_says_size_and_names_the_body(fmt: str) -> None:
    message = Message("hello")
    (v,) = in_wire_terms(fmt, message, limits.check(message, fmt, encoded_size=10**6))
    assert v.path == "(body)"
    assert "payload size at most" in v.limit
    assert v.limit.endswith(f"< size {10**6})")


def test_media_alt_text_violation_is_named_in_the_google_body() -> None:
    media = Media(url="https://example.com/a.jpg", content_description="d" * 201)
    message = Message(Card(title="t", media=media))
    (v,) = in_wire_terms("google", message, limits.check(message, "google"))
    assert v.path == "contentMessage.richCard.standaloneCard.cardContent.media.contentDescription"
    assert v.limit == "at most 200 characters (200 < 201)"


# ---------------------------------------------------------------- the seeds' own examples


@pytest.mark.parametrize(
    "fixture",
    ["maap/suggestion_compose_text_message.json", "maap/suggestion_dial_video_call.json"],
)
def test_seed_003_numbers_pass(fixture: str) -> None:
    chip = load(fixture)
    body = {"RCSMessage": {"textMessage": "hi", "suggestedChipList": {"suggestions": [chip]}}}
    message = gsma.decode(body).message
    assert message.suggestions[0].phone_number == "+1650253000"  # type: ignore[union-attr]
    assert limits.check(message, "gsma") == []


def test_recipients_keep_the_possible_number_check() -> None:
    body = {"RCSMessage": {"textMessage": "x"}, "messageContact": {"userContact": "+1650253000"}}
    with pytest.raises(InvalidMessage) as err:
        gsma.decode(body)
    assert [v.path for v in err.value.violations] == ["messageContact.userContact"]
    assert "not a possible phone number" in err.value.violations[0].limit


@pytest.mark.parametrize("provider", ["dotgo_google", "google", "smsbox", "dotgo"])
def test_seed_002_google_rich_card_with_thumbnail_passes(provider: str) -> None:
    body = load("dotgo_google/send_richcard_request.json")
    message = google.decode(body).message
    assert limits.check(message, provider, now=EPOCH, wire_format="google") == []


def test_gsma_thumbnail_rule_still_applies_to_gsma_bodies() -> None:
    media = Media(url="https://example.com/a.mp4", thumbnail_url="https://example.com/t.png")
    message = Message(Card(title="t", media=media))
    found = in_wire_terms("gsma", message, limits.check(message, "dotgo"))
    base = "RCSMessage.richcardMessage.message.generalPurposeCard.content.media"
    assert [(v.path, v.limit) for v in found] == [
        (f"{base}.thumbnailContentType", "required when thumbnail_url is set"),
        (f"{base}.thumbnailFileSize", "required when thumbnail_url is set"),
    ]
    assert limits.check(message, "dotgo_google") == []


# ---------------------------------------------------------------- conversion

MESSAGE_FIXTURES = [
    e["file"]
    for e in entries(kind="request")
    if detect_format(load(e)) is not None and body_kind(load(e)) is None
]


def test_message_fixtures_found() -> None:
    assert len(MESSAGE_FIXTURES) >= 15


def _convert_then_check(body: dict[str, Any], to: str) -> None:
    """When convert succeeds, its output decodes and passes the target format's checks."""
    try:
        out = convert_body(body, to)
    except (InvalidMessage, UnsupportedFeature):
        return
    message = get_format(to).decode(out).message
    assert limits.check(message, to, now=EPOCH, wire_format=to) == []


@pytest.mark.parametrize("fixture", MESSAGE_FIXTURES)
@pytest.mark.parametrize("to", ["gsma", "google"])
def test_convert_of_every_golden_message_validates_in_the_target(fixture: str, to: str) -> None:
    _convert_then_check(load(fixture), to)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gsma_messages())
def test_convert_of_generated_messages_validates_in_the_target(message: Message) -> None:
    _convert_then_check(gsma.encode(message), "google")
    try:
        google_body = google.encode(message, drop_metadata=True)
    except UnsupportedFeature:
        return
    _convert_then_check(google_body, "gsma")


def test_google_card_with_thumbnail_is_refused_to_gsma_naming_the_thumbnail() -> None:
    body = load("dotgo_google/send_richcard_request.json")
    with pytest.raises(InvalidMessage) as err:
        convert_body(body, "gsma")
    thumb = "contentMessage.richCard.standaloneCard.cardContent.media.contentInfo.thumbnailUrl"
    assert _violations(err)[:2] == [
        (
            thumb,
            "the gsma format requires thumbnail_content_type with a thumbnail, "
            "and a google body has none",
        ),
        (
            thumb,
            "the gsma format requires thumbnail_size with a thumbnail, and a google body has none",
        ),
    ]


def test_gsma_to_google_drops_what_google_recomputes_and_names_each_field() -> None:
    body = load("dotgo_gsma/send_richcard_request.json")
    dropped: list[str] = []
    out = convert_body(body, "google", dropped=dropped)
    base = "RCSMessage.richcardMessage.message.generalPurposeCard.content.media"
    assert dropped == [
        f"{base}.mediaContentType",
        f"{base}.mediaFileSize",
        f"{base}.thumbnailContentType",
        f"{base}.thumbnailFileSize",
    ]
    media = out["contentMessage"]["richCard"]["standaloneCard"]["cardContent"]["media"]
    gsma_media = body["RCSMessage"]["richcardMessage"]["message"]["generalPurposeCard"]["content"][
        "media"
    ]
    assert media["contentDescription"] == gsma_media["contentDescription"]
    with pytest.raises(UnsupportedFeature, match=r"content\.media\.content_type"):
        convert_body(body, "google", strict=True)


def test_convert_refuses_a_body_of_neither_format() -> None:
    with pytest.raises(InvalidMessage) as err:
        convert_body({"hello": 1}, "google")
    assert _violations(err) == [
        ("(body)", "not a GSMA (RCSMessage) or Google (contentMessage) body")
    ]


def test_numbers_in_dial_and_compose_use_syntax_not_possibility() -> None:
    for action in (
        DialPhoneNumber("Call", "+1650253000"),
        ComposeTextMessage("W", "+1650253000", "d"),
    ):
        assert limits.check(Message("x", suggestions=[action])) == []


# ---------------------------------------------------------------- body_violations


def test_body_violations_names_every_problem_by_json_path() -> None:
    body = {
        "RCSMessage": {
            "textMessage": "hi",
            "suggestedChipList": {
                "suggestions": [
                    {
                        "action": {
                            "displayText": "Map",
                            "mapAction": {
                                "showLocation": {"location": {"latitude": 95, "longitude": 0}}
                            },
                        }
                    },
                    {
                        "action": {
                            "displayText": "Go",
                            "urlAction": {"openUrl": {"url": "not a url"}},
                        }
                    },
                ]
            },
        }
    }
    base = "RCSMessage.suggestedChipList.suggestions"
    assert [(v.path, v.limit) for v in body_violations(body, profile="dotgo")] == [
        (
            f"{base}[0].action.mapAction.showLocation.location.latitude",
            "latitude between -90 and 90",
        ),
        (
            f"{base}[1].action.urlAction.openUrl.url",
            "must be an absolute http(s) URL (scheme 'missing')",
        ),
    ]


def test_body_violations_of_a_body_that_does_not_decode_or_of_no_format() -> None:
    assert [(v.path, v.limit) for v in body_violations({"contentMessage": {"text": 3}})] == [
        ("contentMessage.text", "must be a string")
    ]
    assert [v.path for v in body_violations([1, 2])] == ["(body)"]


def test_body_violations_of_the_seed_google_card_under_dotgo_google_is_empty() -> None:
    body = load("dotgo_google/send_richcard_request.json")
    assert body_violations(body, profile="dotgo_google", now=EPOCH) == []
    assert body_violations(body, profile="dotgo", now=EPOCH) == []  # the format decides
