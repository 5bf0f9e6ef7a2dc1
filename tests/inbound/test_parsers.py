"""Content variants and malformed bodies, per provider format."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rcskit.errors import InvalidSignature, UnknownPayload, WebhookError
from rcskit.events import (
    DeviceSpecifics,
    Location,
    MessageStatus,
    StatusEvent,
    Subscription,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from rcskit.inbound import MalformedPayload, detect_format, parse
from rcskit.inbound import google as google_format
from rcskit.message import Audio, Contact, File


def gsma(rcs: dict[str, Any], event: str | None = "message", **extra: Any) -> bytes:
    body: dict[str, Any] = {"RCSMessage": rcs, "messageContact": {"userContact": "+14251234567"}}
    if event is not None:
        body["event"] = event
    body.update(extra)
    return json.dumps(body).encode()


def test_gsma_file_audio_and_location_messages() -> None:
    (f,) = parse(
        "maap",
        gsma(
            {
                "msgId": "m1",
                "fileMessage": {
                    "fileUrl": "https://x/f.png",
                    "fileName": "f.png",
                    "fileMIMEType": "image/png",
                    "fileSize": "1024",
                    "thumbnailUrl": "https://x/t.png",
                    "thumbnailFileSize": 10,
                },
            }
        ),
    )
    assert isinstance(f, UserMessage)
    assert f.file == File(
        "https://x/f.png",
        name="f.png",
        mime_type="image/png",
        size=1024,
        thumbnail_url="https://x/t.png",
        thumbnail_size=10,
    )
    (a,) = parse(
        "maap",
        gsma({"msgId": "m2", "audioMessage": {"fileUrl": "https://x/a.mp3", "playingLength": 12}}),
    )
    assert isinstance(a, UserMessage) and a.file == Audio("https://x/a.mp3", playing_length=12)
    (loc,) = parse(
        "maap",
        gsma(
            {"msgId": "m3", "geolocationPushMessage": {"pos": "48.8584 2.2945", "label": "Eiffel"}}
        ),
    )
    assert isinstance(loc, UserMessage)
    assert loc.location == Location(latitude=48.8584, longitude=2.2945, label="Eiffel")
    assert "48.8584,2.2945" in loc.describe()


@pytest.mark.parametrize(
    ("rcs", "reason"),
    [
        (
            {"msgId": "m", "fileMessage": {"fileName": "x"}},
            "$.RCSMessage.fileMessage.fileUrl is missing",
        ),
        ({"msgId": "m", "fileMessage": {"fileUrl": "u", "fileSize": "big"}}, "fileSize is 'big'"),
        (
            {"msgId": "m", "geolocationPushMessage": {"pos": "north"}},
            "expected 'latitude longitude'",
        ),
        ({"msgId": "m", "geolocationPushMessage": {"pos": "91 0"}}, "outside WGS 84"),
        ({"msgId": "m"}, "has no content"),
        ({"msgId": "m", "textMessage": ["a"]}, "textMessage is a list"),
        ({"msgId": 5, "isTyping": "maybe"}, "expected 'active' or 'idle'"),
    ],
)
def test_gsma_malformed_members_name_their_path(rcs: dict[str, Any], reason: str) -> None:
    event = "isTyping" if "isTyping" in rcs else "message"
    with pytest.raises(MalformedPayload) as info:
        parse("maap", gsma(rcs, event))
    assert reason in info.value.reason
    assert isinstance(info.value, WebhookError)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"{not json", "not JSON: unexpected character, expected a string key at character 1"),
        (b"[1, 2]", "a JSON array; expected an object"),
        (b"[" * 70 + b"]" * 70, "JSON nested deeper than 64 levels"),
        (b'{"n": ' + b"9" * 5000 + b"}", "number out of range"),
        (b'{"t": "\\ud800"}', "lone UTF-16 surrogate"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b'{"RCSMessage": "text", "event": "message"}', "$.RCSMessage is a str"),
        (b'{"event": 3, "RCSMessage": {}}', "$.event is a int"),
    ],
)
def test_malformed_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(MalformedPayload) as info:
        parse("maap", body)
    assert reason in info.value.reason
    assert str(info.value).startswith("malformed webhook body: ")


def test_gsma_statuses_all_spellings() -> None:
    for word, status in [
        ("pending", MessageStatus.PENDING),
        ("sent", MessageStatus.SENT),
        ("failed", MessageStatus.FAILED),
        ("canceled", MessageStatus.CANCELLED),
        ("Cancelled", MessageStatus.CANCELLED),
        ("revoked", MessageStatus.REVOKED),
    ]:
        (event,) = parse("maap", gsma({"msgId": "b1", "status": word}, "messageStatus"))
        assert isinstance(event, StatusEvent)
        assert event.status is status and event.provider_status == word
    with pytest.raises(UnknownPayload, match="'teleported'"):
        parse("maap", gsma({"msgId": "b1", "status": "teleported"}, "messageStatus"))


def test_gsma_failure_reason_and_code() -> None:
    (event,) = parse(
        "maap",
        gsma(
            {"msgId": "b1", "status": "failed", "reason": {"text": "not RCS", "code": "404"}},
            "messageStatus",
        ),
    )
    assert isinstance(event, StatusEvent)
    assert (event.reason, event.code) == ("not RCS", "404")
    assert "not RCS" in event.describe()


def test_gsma_shared_data_is_device_specifics() -> None:
    shared = {"deviceSpecifics": {"deviceModel": "SM-G998B", "batteryRemainingMinutes": 300}}
    (event,) = parse("maap", gsma({"msgId": "r1", "sharedData": shared}, "response"))
    assert isinstance(event, DeviceSpecifics)
    assert event.data == shared and event.message_id == "r1"
    (inferred,) = parse("maap", gsma({"msgId": "r1", "sharedData": shared}, None))
    assert isinstance(inferred, DeviceSpecifics)


def test_gsma_template_metadata_that_is_not_json_is_kept_as_text() -> None:
    rcs = {
        "msgId": "r2",
        "suggestedResponse": {
            "response": {
                "reply": {"displayText": "Hi", "postback": {"data": "d", "metadata": "{oops"}}
            }
        },
    }
    (event,) = parse("dotgo", gsma(rcs, "response"))
    assert isinstance(event, SuggestionResponse)
    assert event.metadata == {"unparsed": "{oops"} and event.in_reply_to is None


def test_gsma_response_without_reply_or_action() -> None:
    rcs = {"msgId": "r3", "suggestedResponse": {"response": {}}}
    with pytest.raises(MalformedPayload, match="neither 'reply' nor 'action'"):
        parse("maap", gsma(rcs, "response"))


def test_gsma_alias_needs_both_forms() -> None:
    body = {"event": "alias", "RCSMessage": {"msgId": "a"}, "messageContact": {"chatId": "c"}}
    with pytest.raises(MalformedPayload, match="both"):
        parse("maap", json.dumps(body))


def google_body(**members: Any) -> bytes:
    body = {"senderPhoneNumber": "+14251234567", "messageId": "g1", "agentId": "a@rbm.goog"}
    body.update(members)
    return json.dumps(body).encode()


def test_google_user_file_location_and_audio() -> None:
    payload = {
        "mimeType": "image/gif",
        "fileSizeBytes": 127806,
        "fileUri": "https://s/x.gif",
        "fileName": "x.gif",
    }
    thumb = {
        "mimeType": "image/jpeg",
        "fileSizeBytes": 1000,
        "fileUri": "https://s/t.jpg",
        "fileName": "t.jpg",
    }
    (f,) = parse("google", google_body(userFile={"payload": payload, "thumbnail": thumb}))
    assert isinstance(f, UserMessage)
    assert f.file == File(
        "https://s/x.gif",
        name="x.gif",
        mime_type="image/gif",
        size=127806,
        thumbnail_url="https://s/t.jpg",
        thumbnail_name="t.jpg",
        thumbnail_mime_type="image/jpeg",
        thumbnail_size=1000,
    )
    voice = {"mimeType": "audio/aac", "fileSizeBytes": 5, "fileUri": "https://s/v.aac"}
    (a,) = parse("google", google_body(userFile={"payload": voice}))
    assert isinstance(a, UserMessage) and isinstance(a.content, Audio)
    (loc,) = parse("google", google_body(location={"latitude": 37.42, "longitude": -122.08}))
    assert isinstance(loc, UserMessage)
    assert loc.location == Location(latitude=37.42, longitude=-122.08)
    with pytest.raises(MalformedPayload, match=r"\$.location needs"):
        parse("google", google_body(location={"latitude": 1}))
    with pytest.raises(MalformedPayload, match=r"\$.userFile.payload is missing"):
        parse("google", google_body(userFile={}))


def test_google_user_events() -> None:
    base = {"senderPhoneNumber": "+14251234567", "eventId": "e1", "agentId": "a"}
    for word, kind in [("SUBSCRIBE", True), ("UNSUBSCRIBE", False)]:
        (event,) = parse("google", json.dumps({**base, "eventType": word}))
        assert isinstance(event, Subscription) and event.subscribed is kind
    (read,) = parse("google", json.dumps({**base, "eventType": "READ", "messageId": "b1"}))
    assert isinstance(read, StatusEvent) and read.status is MessageStatus.DISPLAYED
    (typing,) = parse("google", json.dumps({**base, "eventType": "IS_TYPING"}))
    assert isinstance(typing, Typing) and typing.dedup_key == "google:typing:e1"
    (failed,) = parse(
        "dotgo_google",
        json.dumps(
            {**base, "eventType": "FAILED", "messageId": "b2", "reason": "charging failure"}
        ),
    )
    assert isinstance(failed, StatusEvent)
    assert failed.status is MessageStatus.FAILED and failed.reason == "charging failure"


def test_google_suggestion_type_reply() -> None:
    (event,) = parse(
        "google",
        google_body(suggestionResponse={"postbackData": "p", "text": "T", "type": "REPLY"}),
    )
    assert isinstance(event, SuggestionResponse) and event.kind == "reply"


def test_google_envelope_errors() -> None:
    bad = {"message": {"data": "!!!not base64!!!"}}
    with pytest.raises(MalformedPayload, match="not base64"):
        parse("google", json.dumps(bad))
    not_json = {"message": {"data": "aGVsbG8="}}  # "hello"
    with pytest.raises(MalformedPayload, match="does not decode to JSON"):
        parse("google", json.dumps(not_json))


def test_google_handshake_is_not_an_event() -> None:
    body = {"clientToken": "SJENCPGJESMGUFPY", "secret": "1234567890"}
    with pytest.raises(UnknownPayload, match="handshake"):
        parse("google", json.dumps(body))
    assert google_format.handshake_secret(body, "SJENCPGJESMGUFPY") == "1234567890"
    assert google_format.handshake_secret(body, None) == "1234567890"
    with pytest.raises(InvalidSignature) as info:
        google_format.handshake_secret(body, "WRONGTOKEN")
    assert "SJENCPGJESMGUFPY" not in str(info.value) and "WRONGTOKEN" not in str(info.value)
    assert detect_format(body) == "google"


def test_smsbox_status_words() -> None:
    body = {
        "data": {"type": "event", "eventType": "REJECTED", "timestamp": "1719576000"},
        "reference": "ref-1",
        "requestType": "status_update",
        "msisdn": "+33612345678",
        "requestUUID": "u-1",
    }
    (event,) = parse("smsbox", json.dumps(body))
    assert isinstance(event, StatusEvent)
    assert event.status is MessageStatus.FAILED and event.provider_status == "REJECTED"
    assert event.reason is not None and "rejected" in event.reason
    assert event.contact == Contact("+33612345678")
    body["data"]["eventType"] = "EXPIRED"
    (expired,) = parse("smsbox", json.dumps(body))
    assert isinstance(expired, StatusEvent) and expired.provider_status == "EXPIRED"
    body["data"]["eventType"] = "WHATEVER"
    with pytest.raises(UnknownPayload, match="WHATEVER"):
        parse("smsbox", json.dumps(body))


def test_placeholder_numbers_are_kept_verbatim() -> None:
    (event,) = parse(
        "smsbox",
        json.dumps(
            {
                "requestType": "incoming_message_text",
                "msisdn": "+336XXXXXXXX",
                "data": {"type": "text", "text": "hi"},
            }
        ),
    )
    assert event.contact is not None and event.contact.msisdn == "+336XXXXXXXX"


def test_contact_number_is_normalised() -> None:
    (event,) = parse(
        "maap",
        json.dumps(
            {
                "event": "message",
                "RCSMessage": {"textMessage": "x"},
                "messageContact": {"userContact": "+33 6 12 34 56 78"},
            }
        ),
    )
    assert event.contact == Contact("+33612345678")
