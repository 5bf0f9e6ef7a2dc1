"""Tests of rcskit.limits: every limit at its edge, the rules, profiles and policies."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rcskit.errors import InvalidMessage
from rcskit.limits import (
    KB,
    LIMITS,
    MB,
    PROFILES,
    LimitViolation,
    Policy,
    Profile,
    check,
    check_recipients,
    check_validity_minutes,
    dotted_path,
    estimate_payload_bytes,
    profile,
    recommendations,
    validate,
)
from rcskit.message import (
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
    ImageAlignment,
    Media,
    Message,
    OpenUrl,
    Orientation,
    Reply,
    ShowLocation,
    Template,
    Text,
)

NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
IMG = "https://example.com/a.jpg"
START = "2025-02-01T10:00:00Z"
END = "2025-02-01T11:00:00Z"


def url_of(length: int) -> str:
    base = "https://example.com/"
    return base + "a" * (length - len(base))


def chips(n: int) -> list[Reply]:
    return [Reply(f"r{i}", f"r{i}") for i in range(n)]


def card(**kw: Any) -> Card:
    kw.setdefault("title", "t")
    return Card(**kw)


def thumb_media(size: int) -> Media:
    return Media(
        url=IMG,
        content_type="image/jpeg",
        thumbnail_url=IMG,
        thumbnail_content_type="image/jpeg",
        thumbnail_size=size,
    )


def text_of_json_size(target: int) -> Message:
    """A text message whose estimated payload is exactly ``target`` bytes."""
    overhead = estimate_payload_bytes(Message(Text("")))
    return Message(Text("a" * (target - overhead)))


def rules(found: list[Any]) -> list[str]:
    return [v.rule for v in found]


def paths(found: list[Any]) -> list[str]:
    return [v.path for v in found]


def edge(
    name: str, prof: str, build: Callable[[Any], Message], at: Any, path: str, rule: str, **kw: Any
) -> Any:
    """A limit case: ``build(at)`` passes, ``build(past)`` (default ``at + 1``) breaks ``rule``."""
    past = kw.get(
        "past", at + 1 if isinstance(at, int) else math.nextafter(at, math.copysign(math.inf, at))
    )
    return pytest.param(prof, build, at, past, path, rule, id=name)


def text_msg(n: int) -> Message:
    return Message(Text("a" * n))


def chip_list(n: int) -> Message:
    return Message("hi", suggestions=chips(n))


def card_chips(n: int) -> Message:
    return Message(card(suggestions=chips(n)))


def carousel_chips(n: int) -> Message:
    return Message(Carousel([card(), card(suggestions=chips(n))]))


def chip_text(n: int) -> Message:
    return Message("hi", suggestions=[Reply("a" * n, "x")])


def postback(n: int) -> Message:
    return Message("hi", suggestions=[Reply("ok", "p" * n)])


def fallback(n: int) -> Message:
    dial = DialPhoneNumber("Call", "+33612345678", fallback_url=url_of(n))
    return Message("hi", suggestions=[dial])


def open_url(n: int) -> Message:
    return Message("hi", suggestions=[OpenUrl("Go", url_of(n))])


def title(n: int) -> Message:
    return Message(Card(title="a" * n))


def description(n: int) -> Message:
    return Message(Card(description="a" * n))


def media_description(n: int) -> Message:
    return Message(Card(media=Media(url=IMG, content_description="a" * n)))


def carousel(n: int) -> Message:
    return Message(Carousel([card() for _ in range(n)]))


def calendar_title(n: int) -> Message:
    return Message("hi", suggestions=[CreateCalendarEvent("Add", START, END, "a" * n)])


def calendar_description(n: int) -> Message:
    event = CreateCalendarEvent("Add", START, END, "t", description="a" * n)
    return Message("hi", suggestions=[event])


def file_size(n: int) -> Message:
    return Message(File("https://example.com/a.pdf", size=n))


def audio_size(n: int) -> Message:
    return Message(Audio("https://example.com/a.mp3", size=n))


def file_thumbnail(n: int) -> Message:
    pdf = "https://example.com/a.pdf"
    return Message(File(pdf, thumbnail_url=IMG, thumbnail_mime_type="image/jpeg", thumbnail_size=n))


def media_thumbnail(n: int) -> Message:
    return Message(Card(media=thumb_media(n)))


def latitude(x: float) -> Message:
    return Message("hi", suggestions=[ShowLocation("Map", latitude=x, longitude=0.0)])


def longitude(x: float) -> Message:
    return Message("hi", suggestions=[ShowLocation("Map", latitude=0.0, longitude=x)])


def push_latitude(x: float) -> Message:
    return Message(GeolocationPush.at(x, 2.29))


def push_longitude(x: float) -> Message:
    return Message(GeolocationPush.at(48.8, x))


def ttl_digits(n: int) -> Message:
    return Message("hi", ttl="1." + "5" * n + "s")


EDGES = [
    edge("text google", "google", text_msg, 3072, "content.text", "text_chars"),
    edge("text orange", "orange", text_msg, 3072, "content.text", "text_chars"),
    edge("chips", "gsma", chip_list, 11, "suggestions", "suggestions_per_message"),
    edge("card chips", "gsma", card_chips, 4, "content.suggestions", "suggestions_per_card"),
    edge(
        "carousel chips",
        "google",
        carousel_chips,
        4,
        "content.cards[1].suggestions",
        "suggestions_per_card",
    ),
    edge("chip text", "gsma", chip_text, 25, "suggestions[0].text", "suggestion_text_chars"),
    edge("postback", "gsma", postback, 2048, "suggestions[0].postback_data", "postback_data_chars"),
    edge("fallback url", "gsma", fallback, 2048, "suggestions[0].fallback_url", "url_chars"),
    edge("open url", "google", open_url, 2048, "suggestions[0].url", "url_chars"),
    edge("card title", "gsma", title, 200, "content.title", "card_title_chars"),
    edge(
        "card description",
        "gsma",
        description,
        2000,
        "content.description",
        "card_description_chars",
    ),
    edge(
        "media description",
        "gsma",
        media_description,
        200,
        "content.media.content_description",
        "media_content_description_chars",
    ),
    edge("carousel max", "gsma", carousel, 10, "content.cards", "carousel_cards"),
    edge("carousel min", "gsma", carousel, 2, "content.cards", "carousel_cards", past=1),
    edge(
        "cal title", "google", calendar_title, 100, "suggestions[0].title", "calendar_title_chars"
    ),
    edge(
        "cal description",
        "dotgo",
        calendar_description,
        500,
        "suggestions[0].description",
        "calendar_description_chars",
    ),
    edge("file size", "dotgo", file_size, 100 * MB, "content.size", "file_bytes"),
    edge("audio size", "gsma", audio_size, 100 * MB, "content.size", "file_bytes"),
    edge(
        "file thumb",
        "google",
        file_thumbnail,
        100 * KB,
        "content.thumbnail_size",
        "thumbnail_bytes",
    ),
    edge(
        "media thumb",
        "orange",
        media_thumbnail,
        100 * KB,
        "content.media.thumbnail_size",
        "thumbnail_bytes",
    ),
    edge("latitude max", "gsma", latitude, 90.0, "suggestions[0].latitude", "latitude"),
    edge("latitude min", "gsma", latitude, -90.0, "suggestions[0].latitude", "latitude"),
    edge("longitude max", "google", longitude, 180.0, "suggestions[0].longitude", "longitude"),
    edge("longitude min", "google", longitude, -180.0, "suggestions[0].longitude", "longitude"),
    edge("push latitude", "gsma", push_latitude, 90.0, "content.pos", "latitude"),
    edge("push longitude", "gsma", push_longitude, -180.0, "content.pos", "longitude"),
    edge("ttl fraction digits", "gsma", ttl_digits, 9, "ttl", "ttl_syntax"),
    edge("payload gsma", "gsma", text_of_json_size, 256 * KB, "(message)", "payload_bytes"),
    edge("payload dotgo", "dotgo", text_of_json_size, 256 * KB, "(message)", "payload_bytes"),
]


@pytest.mark.parametrize(("prof", "build", "at", "past", "path", "rule"), EDGES)
def test_limit_edge(
    prof: str, build: Callable[[Any], Message], at: Any, past: Any, path: str, rule: str
) -> None:
    assert check(build(at), prof, now=NOW) == []
    found = check(build(past), prof, now=NOW)
    assert len(found) == 1, found
    (v,) = found
    assert isinstance(v, LimitViolation)
    assert v.path == path
    assert v.rule == rule
    assert rule in LIMITS
    assert dotted_path(v.path_tuple) == path


@pytest.mark.parametrize(
    ("prof", "limit", "rule"),
    [
        ("gsma", 256 * KB, "payload_bytes"),
        ("dotgo", 256 * KB, "payload_bytes"),
        ("google", 250 * KB, "payload_bytes_google"),
        ("orange", 250 * KB, "payload_bytes_google"),
        ("smsbox", 250 * KB, "payload_bytes_google"),
    ],
)
def test_payload_limit_from_encoded_size(prof: str, limit: int, rule: str) -> None:
    msg = Message("hi")
    assert check(msg, prof, encoded_size=limit) == []
    (v,) = check(msg, prof, encoded_size=limit + 1)
    assert (v.path, v.value, v.rule) == ("(message)", limit + 1, rule)
    assert v.limit == f"payload size at most {limit} bytes of JSON ({limit} < size {limit + 1})"


def test_payload_estimate_reported_even_for_a_small_custom_limit() -> None:
    small = profile("gsma").replace(max_payload_bytes=300)
    msg = Message(Card(title="t" * 150, description="d" * 150))
    size = estimate_payload_bytes(msg)
    assert size > 300
    (v,) = check(msg, small)
    assert v.rule == "payload_bytes"
    assert f"estimated size {size}" in v.limit


@pytest.mark.parametrize(
    ("provider", "operation", "limit", "rule"),
    [
        ("smsbox", "send", 5000, "smsbox_recipients_per_send"),
        ("smsbox", "revoke", 5000, "smsbox_recipients_per_revoke"),
        ("smsbox", "testers", 10, "smsbox_testers_per_call"),
        ("smsbox", "capabilities", 500, "smsbox_capability_numbers_per_call"),
        ("smsbox", "event", 1, "smsbox_event_recipients_per_call"),
        ("orange", "bulk_capabilities", 10000, "bulk_capability_numbers"),
        ("dotgo", "bulk_capabilities", 10000, "bulk_capability_numbers"),
        ("google", "bulk_capabilities", 10000, "bulk_capability_numbers"),
    ],
)
def test_recipient_limits(provider: str, operation: str, limit: int, rule: str) -> None:
    numbers = ["+33612345678"] * limit
    assert check_recipients(provider, numbers, operation) == []
    (v,) = check_recipients(provider, [*numbers, "+33612345679"], operation)
    assert isinstance(v, LimitViolation)
    assert (v.path, v.value, v.rule) == ("recipients", limit + 1, rule)
    assert f"at most {limit} numbers per call" in v.limit


def test_recipients_without_documented_limit_and_bad_names() -> None:
    assert check_recipients("gsma", ["+33612345678"] * 20000, "bulk_capabilities") == []
    with pytest.raises(ValueError, match="gsma"):
        check_recipients("nope", [])
    with pytest.raises(ValueError, match="bulk_capabilities"):
        check_recipients("smsbox", [], "explode")


@pytest.mark.parametrize(("at", "past"), [(10080, 10081), (1, 0)])
def test_smsbox_validity_edges(at: int, past: int) -> None:
    assert check_validity_minutes(at) == []
    (v,) = check_validity_minutes(past)
    assert (v.path, v.value) == ("validity", past)
    assert "between 1 and 10080" in v.limit


@pytest.mark.parametrize("value", [True, 1.5, "720"])
def test_smsbox_validity_must_be_whole_minutes(value: Any) -> None:
    assert len(check_validity_minutes(value)) == 1


# ---------------------------------------------------------------- recommendations (4.3)


def media_sized(content_type: str, size: int | None = None, thumb: int | None = None) -> Media:
    kw: dict[str, Any] = {"url": IMG, "content_type": content_type, "size": size}
    if thumb is not None:
        kw.update(thumbnail_url=IMG, thumbnail_content_type="image/jpeg", thumbnail_size=thumb)
    return Media(**{k: v for k, v in kw.items() if v is not None})


RECOMMENDED = [
    ("card image", "card", "image/jpeg", "size", 2 * MB, "card_image_bytes_recommended"),
    ("card video", "card", "video/mp4", "size", 10 * MB, "card_video_bytes_recommended"),
    ("card thumbnail", "card", "video/mp4", "thumb", 40 * KB, "card_thumbnail_bytes_recommended"),
    ("carousel image", "carousel", "image/png", "size", 1 * MB, "carousel_image_bytes_recommended"),
    (
        "carousel video",
        "carousel",
        "video/webm",
        "size",
        5 * MB,
        "carousel_video_bytes_recommended",
    ),
    (
        "carousel thumb",
        "carousel",
        "image/gif",
        "thumb",
        40 * KB,
        "carousel_thumbnail_bytes_recommended",
    ),
]


@pytest.mark.parametrize(
    ("where", "ctype", "which", "limit", "rule"),
    [case[1:] for case in RECOMMENDED],
    ids=[case[0] for case in RECOMMENDED],
)
def test_recommended_sizes_are_advisory(
    where: str, ctype: str, which: str, limit: int, rule: str
) -> None:
    def build(n: int) -> Message:
        media = media_sized(ctype, size=n) if which == "size" else media_sized(ctype, thumb=n)
        if where == "card":
            return Message(Card(media=media))
        return Message(Carousel([Card(media=media), card()]))

    assert recommendations(build(limit)) == []
    over = build(limit + 1)
    (v,) = recommendations(over)
    assert v.rule == rule
    prefix = "content.media" if where == "card" else "content.cards[0].media"
    assert v.path == prefix + (".size" if which == "size" else ".thumbnail_size")
    assert v.limit.startswith("recommended at most")
    assert check(over) == []  # never an error


def test_recommendations_need_a_known_media_family() -> None:
    msg = Message(Card(media=Media(url=IMG, size=50 * MB)))
    assert recommendations(msg) == []
    assert recommendations(Message("hi")) == []


# ---------------------------------------------------------------- rules


def test_image_alignment_only_with_horizontal() -> None:
    ok = Message(card(orientation=Orientation.HORIZONTAL, image_alignment=ImageAlignment.LEFT))
    assert check(ok) == []
    for orientation in (None, Orientation.VERTICAL):
        bad = Message(card(orientation=orientation, image_alignment=ImageAlignment.RIGHT))
        (v,) = check(bad)
        assert (v.path, v.rule) == (
            "content.image_alignment",
            "image_alignment_requires_horizontal",
        )


def test_card_in_carousel_has_no_layout() -> None:
    bad = Carousel(
        [card(), card(orientation=Orientation.HORIZONTAL, image_alignment=ImageAlignment.LEFT)]
    )
    found = check(Message(bad))
    assert paths(found) == ["content.cards[1].orientation", "content.cards[1].image_alignment"]
    assert set(rules(found)) == {"carousel_card_layout"}


def test_tall_media_not_in_carousel_unless_profile_allows() -> None:
    tall = Media(url=IMG, height=Height.TALL)
    msg = Message(Carousel([card(), Card(media=tall)]))
    (v,) = check(msg, "google")
    assert (v.path, v.rule) == ("content.cards[1].media.height", "carousel_media_height")
    assert check(msg, profile("google").replace(allow_tall_in_carousel=True)) == []
    assert check(Message(Card(media=tall)), "google") == []


def test_media_thumbnail_needs_type_and_size_in_gsma_profiles() -> None:
    msg = Message(Card(media=Media(url=IMG, thumbnail_url=IMG)))
    found = check(msg, "gsma")
    assert paths(found) == ["content.media.thumbnail_content_type", "content.media.thumbnail_size"]
    assert set(rules(found)) == {"thumbnail_metadata"}
    assert len(check(msg, "orange")) == 2
    assert check(msg, "google") == []
    assert check(msg, "smsbox") == []


def test_file_thumbnail_needs_mime_type_and_size_in_gsma_profile_only() -> None:
    msg = Message(File("https://example.com/a.pdf", thumbnail_url=IMG))
    found = check(msg, "gsma")
    assert paths(found) == ["content.thumbnail_mime_type", "content.thumbnail_size"]
    assert check(msg, "dotgo") == []
    assert check(msg, "google") == []


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a", "/relative/path", "example.com/a", "https://", "https://exa mple.com/"],
)
def test_urls_must_be_absolute_http(url: str) -> None:
    msg = Message("hi", suggestions=[OpenUrl("Go", url)])
    (v,) = check(msg)
    assert (v.path, v.rule, v.value) == ("suggestions[0].url", "url_scheme", url)
    assert "http(s)" in v.limit
    media = Message(Card(media=Media(url=url)))
    (m,) = check(media)
    assert m.path == "content.media.url"
    file = Message(File(url, thumbnail_url=url, thumbnail_mime_type="image/png", thumbnail_size=9))
    assert paths(check(file)) == ["content.url", "content.thumbnail_url"]


@pytest.mark.parametrize(
    "make",
    [
        lambda n: DialPhoneNumber("Call", n),
        lambda n: DialEnrichedCall("Call", n),
        lambda n: DialVideoCall("Video", n),
        lambda n: ComposeTextMessage("Write", n, "draft"),
        lambda n: ComposeRecordingMessage("Record", n, "AUDIO"),
    ],
)
def test_action_phone_numbers_must_be_e164(make: Callable[[str], Any]) -> None:
    assert check(Message("hi", suggestions=[make("+33612345678")])) == []
    # Seed 003's own dialer and compose examples: E.164 syntax, though no country issues it.
    assert check(Message("hi", suggestions=[make("+1650253000")])) == []
    spaced = check(Message("hi", suggestions=[make("+33 6 12 34 56 78")]))
    assert [(v.path, v.rule) for v in spaced] == [("suggestions[0].phone_number", "phone_e164")]
    assert spaced[0].limit == (
        "must have only digits after + (no spaces or punctuation; found ' ') "
        "(E.164: + then 1 to 15 digits, the first not 0)"
    )


_RULE = " (E.164: + then 1 to 15 digits, the first not 0)"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("16502530000", "must start with +"),
        ("+", "has no digits after +"),
        ("+1-650-253", "must have only digits after + (no spaces or punctuation; found '-')"),
        ("+1650x253", "must have only digits after + (digits only; found 'x')"),
        ("+0650253000", "the first digit after + must not be 0 (country codes start 1-9)"),
        ("+1234567890123456", "has 16 digits, at most 15"),
    ],
)
def test_action_phone_number_says_the_rule_it_breaks(number: str, reason: str) -> None:
    (v,) = check(Message("hi", suggestions=[DialPhoneNumber("Call", number)]))
    assert (v.path, v.value, v.limit, v.rule) == (
        "suggestions[0].phone_number",
        number,
        reason + _RULE,
        "phone_e164",
    )


def test_fifteen_digits_is_the_most_e164_allows() -> None:
    assert check(Message("hi", suggestions=[DialPhoneNumber("Call", "+123456789012345")])) == []


def test_calendar_times() -> None:
    def cal(start: str, end: str) -> Message:
        return Message("hi", suggestions=[CreateCalendarEvent("Add", start, end, "Meet")])

    assert check(cal(START, END)) == []
    for start, end in ((END, START), (START, START)):
        (v,) = check(cal(start, end))
        assert (v.path, v.rule) == ("suggestions[0].end_time", "calendar_times")
    found = check(cal("tomorrow", "2025-02-01 11:00"))
    assert paths(found) == ["suggestions[0].start_time", "suggestions[0].end_time"]


def test_calendar_lengths_unchecked_in_gsma_profile() -> None:
    msg = Message("hi", suggestions=[CreateCalendarEvent("Add", START, END, "a" * 101)])
    assert check(msg, "gsma") == []
    assert len(check(msg, "google")) == 1


@pytest.mark.parametrize("ttl", ["30", "30 s", "1.s", "-1s", "1.5sec"])
def test_bad_ttl(ttl: str) -> None:
    (v,) = check(Message("hi", ttl=ttl))
    assert (v.path, v.rule, v.value) == ("ttl", "ttl_syntax", ttl)


def test_good_ttls() -> None:
    for ttl in ("30s", "0.5s", timedelta(hours=1), 1.25):
        assert check(Message("hi", ttl=ttl)) == []


def test_expire_time() -> None:
    future = Message("hi", expire_time=NOW + timedelta(seconds=1))
    assert check(future, now=NOW) == []
    for when in (NOW, NOW - timedelta(days=1)):
        (v,) = check(Message("hi", expire_time=when), now=NOW)
        assert (v.path, v.rule) == ("expire_time", "expire_time")
        assert "future" in v.limit
    (bad,) = check(Message("hi", expire_time="2024-10-02 15:01:23"), now=NOW)
    assert "RFC 3339" in bad.limit
    # the seed's example timestamp is in the past by default
    assert len(check(Message("hi", expire_time="2024-10-02T15:01:23Z"))) == 1
    with pytest.raises(ValueError, match="timezone"):
        check(Message("hi"), now=datetime(2025, 1, 1))


@pytest.mark.parametrize("pos", ["abc", "1 2 3", "nan nan", "inf 0"])
def test_geolocation_pos_must_parse(pos: str) -> None:
    (v,) = check(Message(GeolocationPush(pos=pos)))
    assert (v.path, v.rule) == ("content.pos", "geolocation_pos")


def test_empty_text_template_and_chip_text() -> None:
    for text in ("", "   "):
        (v,) = check(Message(Text(text)))
        assert (v.path, v.rule) == ("content.text", "text_required")
        (t,) = check(Message(Template(text)))
        assert (t.path, t.rule) == ("content.code", "template_code")
        (c,) = check(Message("hi", suggestions=[Reply(text, "x")]))
        assert (c.path, c.rule) == ("suggestions[0].text", "suggestion_text_required")
    assert check(Message(Template("template_123", {"name": "Ada"}))) == []


def test_media_types() -> None:
    pdf_card = Message(
        Card(media=Media(url="https://example.com/a.pdf", content_type="application/pdf"))
    )
    (v,) = check(pdf_card, "dotgo")
    assert (v.path, v.rule) == ("content.media.content_type", "media_types")
    assert check(pdf_card, "gsma") == []
    assert (
        check(Message(Card(media=Media.image(IMG, content_type="IMAGE/JPEG; q=1"))), "dotgo") == []
    )
    zip_file = Message(File("https://example.com/a.zip", mime_type="application/zip"))
    (z,) = check(zip_file, "dotgo")
    assert (z.path, z.rule) == ("content.mime_type", "media_types")
    assert check(zip_file, "gsma") == []
    mp3 = Message(File("https://example.com/a.mp3", mime_type="audio/mpeg"))
    assert check(mp3, "google") == []
    assert len(check(mp3, "dotgo")) == 1


def test_sizes_must_be_positive() -> None:
    (v,) = check(Message(File("https://example.com/a.pdf", size=0)))
    assert (v.path, v.rule) == ("content.size", "positive_size")


# ---------------------------------------------------------------- all at once, policies


def bad_carousel() -> Message:
    good = card(suggestions=chips(2))
    bad = Card(
        title="T" * 201,
        media=Media(url="ftp://example.com/a.jpg", height=Height.TALL),
        suggestions=(*chips(3), Reply("x" * 31, "y")),
    )
    return Message(
        Carousel([good, good, bad]),
        suggestions=[OpenUrl("Site", "https://example.com"), DialPhoneNumber("Call", "555")],
        ttl="soon",
    )


EXPECTED_BAD_PATHS = [
    "content.cards[2].title",
    "content.cards[2].media.url",
    "content.cards[2].media.height",
    "content.cards[2].suggestions[3].text",
    "suggestions[1].phone_number",
    "ttl",
]


def test_all_violations_reported_together() -> None:
    found = check(bad_carousel(), "google")
    assert paths(found) == EXPECTED_BAD_PATHS
    chip = found[3]
    assert isinstance(chip, LimitViolation)
    assert chip.path_tuple == ("content", "cards", 2, "suggestions", 3, "text")
    assert chip.limit == "at most 25 characters (25 < 31)"
    assert all(v.rule in LIMITS for v in found)


def test_strict_raises_with_every_violation() -> None:
    with pytest.raises(InvalidMessage) as info:
        validate(bad_carousel(), "google")
    assert paths(list(info.value.violations)) == EXPECTED_BAD_PATHS
    assert isinstance(info.value, ValueError)
    assert validate(Message("hi"), "google") == []


def test_warn_logs_one_record_per_violation(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="rcskit.limits"):
        found = validate(bad_carousel(), "google", Policy.WARN)
    assert paths(found) == EXPECTED_BAD_PATHS
    records = [r for r in caplog.records if r.name == "rcskit.limits"]
    assert len(records) == len(EXPECTED_BAD_PATHS)
    assert all(r.levelno == logging.WARNING for r in records)
    for record, path in zip(records, EXPECTED_BAD_PATHS, strict=True):
        assert path in record.getMessage()


def test_off_skips_checking() -> None:
    assert validate(bad_carousel(), "google", Policy.OFF) == []
    assert validate(bad_carousel(), "google", "off") == []


def test_error_message_has_path_short_value_and_limit() -> None:
    long_chip = "x" * 31
    msg = Message("hi", suggestions=[Reply(long_chip, "y")])
    with pytest.raises(InvalidMessage) as info:
        validate(msg)
    text = str(info.value)
    assert "suggestions[0].text" in text
    assert "at most 25 characters (25 < 31)" in text
    assert "'xxxxxxxx" in text
    long_text = "z" * 5000
    with pytest.raises(InvalidMessage) as info2:
        validate(Message(long_text), "google")
    text2 = str(info2.value)
    assert "content.text" in text2 and "at most 3072 characters (3072 < 5000)" in text2
    assert long_text not in text2 and "…" in text2


# ---------------------------------------------------------------- table and profiles


def test_every_limit_has_a_source() -> None:
    assert LIMITS
    for name, limit in LIMITS.items():
        assert limit.name == name
        assert limit.source.strip(), name
        assert limit.unit.strip(), name


def test_profiles_exist_and_unknown_names_are_listed() -> None:
    assert set(PROFILES) == {"gsma", "google", "dotgo", "dotgo_google", "orange", "smsbox"}
    assert profile("google") is PROFILES["google"]
    custom = Profile(name="custom", suggestions_per_card=2)
    assert profile(custom) is custom
    with pytest.raises(ValueError, match="dotgo, dotgo_google, google, gsma, orange, smsbox"):
        profile("twilio")
    with pytest.raises(ValueError, match="unknown limits profile 'twilio'"):
        check(Message("hi"), "twilio")
    with pytest.raises(TypeError, match="suggestions_per_cards"):
        profile("google").replace(suggestions_per_cards=10)


def test_suggestions_per_card_is_configurable_per_profile() -> None:
    five = Message(card(suggestions=chips(5)))
    (v,) = check(five, "dotgo")
    assert v.limit == "at most 4 suggestions (4 < 5)"
    google10 = profile("google").replace(suggestions_per_card=10)
    assert check(five, google10) == []
    assert PROFILES["google"].suggestions_per_card == 4  # the table entry is unchanged
    assert len(check(Message(card(suggestions=chips(11))), google10)) == 1


def test_profiles_differ_in_text_and_payload() -> None:
    long_text = Message(Text("a" * 4000))
    assert check(long_text, "dotgo") == []
    assert check(long_text, "gsma") == []
    assert rules(check(long_text, "google")) == ["text_chars"]
    size = 253 * KB
    assert check(Message("hi"), "dotgo", encoded_size=size) == []
    assert rules(check(Message("hi"), "google", encoded_size=size)) == ["payload_bytes_google"]


def test_thumbnail_size_is_advice_where_the_seed_calls_it_a_recommendation() -> None:
    """Seed 002 section 4.3 calls 100 KB a recommended maximum: dotgo and gsma only advise."""
    big = Message(
        Card(
            title="t",
            media=Media(
                url="https://a.example/v.mp4",
                content_type="video/mp4",
                thumbnail_url="https://a.example/t.png",
                thumbnail_content_type="image/png",
                thumbnail_size=314159,
            ),
        )
    )
    assert check(big, "dotgo", now=NOW) == []
    assert check(big, "gsma", now=NOW) == []
    assert [v.path for v in recommendations(big, "dotgo")] == ["content.media.thumbnail_size"]
    assert [v.rule for v in check(big, "google", now=NOW)] == ["thumbnail_bytes"]


def test_vertical_image_alignment_error_for_gsma_advice_for_google() -> None:
    card = Message(
        Card(title="t", orientation=Orientation.VERTICAL, image_alignment=ImageAlignment.LEFT)
    )
    assert [v.rule for v in check(card, "gsma", now=NOW)] == ["image_alignment_requires_horizontal"]
    assert check(card, "google", now=NOW) == []
    assert [v.path for v in recommendations(card, "google")] == ["content.image_alignment"]
