"""Every webhook example of the seeds parses into the right event with the right fields."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from rcskit.errors import UnknownPayload
from rcskit.events import (
    Alias,
    BillingEvent,
    Event,
    FileStatus,
    MessageStatus,
    NewUser,
    StatusEvent,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from rcskit.inbound import MalformedPayload, parse
from rcskit.message import Contact, File, Text
from tests.seeds import DATA, entries, load

WEBHOOKS = entries(kind="webhook")

PROVIDER_OF_FOLDER = {
    "dotgo_gsma": "dotgo",
    "dotgo_google": "dotgo_google",
    "dotgo_billing": "dotgo",
    "maap": "maap",
    "smsbox": "smsbox",
}

TEMPLATE_METADATA = {
    "suggestionType": "url_action",
    "templateType": "carousel",
    "cardIndex": 1,
    "suggestionIndex": 2,
    "msgId": "1ed15c61-7fd1-436a-a127-0baa8d91cdb2",
    "a2pMsgDate": "2023-07-03T15:22:00.356",
    "templateCode": "test template",
}

# file -> (event class, expected fields). The values are the seeds' own (see the fixtures).
EXPECTED: dict[str, tuple[type[Event], dict[str, Any]]] = {
    "dotgo_gsma/webhook_message.json": (
        UserMessage,
        {
            "message_id": "MsWHg8WU3cTjK7scyQ1bv-aA",
            "text": "hello world",
            "contact": Contact("+914253136789"),
            "timestamp": datetime(2020, 11, 12, 9, 16, 29, 527061, tzinfo=UTC),
        },
    ),
    "dotgo_gsma/webhook_istyping.json": (
        Typing,
        {"active": True, "contact": Contact("+914253136789"), "event_id": None},
    ),
    "dotgo_gsma/webhook_message_status.json": (
        StatusEvent,
        {
            "message_id": "334a5db9-b19d-46c4-80e1-ff662ba2a982",
            "status": MessageStatus.DELIVERED,
            "provider_status": "delivered",
        },
    ),
    "dotgo_gsma/webhook_ttl_expiration_revoked.json": (
        StatusEvent,
        {
            "message_id": "334a5db9-b19d-46c4-80e1-ff662ba2a982",
            "status": MessageStatus.TTL_EXPIRATION_REVOKED,
        },
    ),
    "dotgo_gsma/webhook_ttl_expiration_revoke_failed.json": (
        StatusEvent,
        {"status": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED},
    ),
    "dotgo_gsma/webhook_response_reply.json": (
        SuggestionResponse,
        {
            "kind": "reply",
            "text": "Visit a website",
            "postback_data": "set_by_chatbot_reply_yes",
            "message_id": "Ms4xAa25HvQfGpX8dWXdNXDw",
            "metadata": None,
        },
    ),
    "dotgo_gsma/webhook_response_template_action.json": (
        SuggestionResponse,
        {
            "kind": "action",
            "text": "Reach Us",
            "postback_data": "user_clicked_Reach_Us",
            "metadata": TEMPLATE_METADATA,
            "in_reply_to": "1ed15c61-7fd1-436a-a127-0baa8d91cdb2",
            "template_code": "test template",
            "contact": Contact("+919976878767"),
        },
    ),
    "dotgo_google/webhook_message_status_delivered.json": (
        StatusEvent,
        {
            "status": MessageStatus.DELIVERED,
            "event_id": "fa2fe5a2-d9a9-4d83-87d3-302ae1014610",
            "message_id": "57bed79e-55ba-46fe-b88a-2755aaee77fc",
            "agent_id": "stagingtestagent@rbm.goog",
            "contact": None,
        },
    ),
    "dotgo_google/webhook_message_status_delivered_reconstructed.json": (
        StatusEvent,
        {
            "status": MessageStatus.DELIVERED,
            "provider_status": "DELIVERED",
            "contact": Contact("+914253136789"),
            "timestamp": None,
        },
    ),
    "dotgo_google/webhook_user_message_text_reconstructed.json": (
        UserMessage,
        {"text": "hello world", "message_id": "MsWHg8WU3cTjK7scyQ1bv-aA"},
    ),
    "dotgo_google/webhook_is_typing_reconstructed.json": (
        Typing,
        {"active": True, "event_id": "<event id>", "contact": Contact("+914253136789")},
    ),
    "dotgo_google/webhook_suggestion_response.json": (
        SuggestionResponse,
        {
            "kind": None,
            "text": "Suggestion #1",
            "postback_data": "suggestion_1",
            "message_id": "4a1d7c74-2b3c-4ec7-b6be-ed7205a15aa3",
            "agent_id": "stagingtestagent@rbm.goog",
            "timestamp": datetime(2018, 12, 31, 15, 1, 23, 45123, tzinfo=UTC),
        },
    ),
    "dotgo_google/webhook_suggestion_response_template.json": (
        SuggestionResponse,
        {
            "kind": "action",
            "text": "Reach Us",
            "postback_data": "user_clicked_Reach_Us",
            "metadata": TEMPLATE_METADATA,
            "in_reply_to": "1ed15c61-7fd1-436a-a127-0baa8d91cdb2",
            "contact": Contact("+919986473361"),
        },
    ),
    "dotgo_google/webhook_ttl_expiration_revoked.json": (
        StatusEvent,
        {
            "status": MessageStatus.TTL_EXPIRATION_REVOKED,
            "message_id": "a26d6809-9e9a-4c77-ad82-e55b35b80ef1",
            "event_id": "MxNsfgtg86T-6--o2i7tryGw",
            "contact": Contact("+919986473361"),
        },
    ),
    "dotgo_google/webhook_ttl_expiration_revoke_failed.json": (
        StatusEvent,
        {
            "status": MessageStatus.TTL_EXPIRATION_REVOKE_FAILED,
            "provider_status": "TTL_EXPIRATION_REVOKED_FAILED",
            "message_id": "b6586809-9e9a-4c77-ad82-e55b35b80ef1",
        },
    ),
    "maap/webhook_message.json": (
        UserMessage,
        {"text": "hello world", "message_id": "Xs8CI3tdf", "contact": Contact("+14251234567")},
    ),
    "maap/webhook_is_typing.json": (Typing, {"active": True, "event_id": "Xs8CI3tdf"}),
    "maap/webhook_message_status.json": (
        StatusEvent,
        {"status": MessageStatus.DISPLAYED, "message_id": "MzJmajlmamVzZGZ8bmk5MHNlbmRmZTAz"},
    ),
    "maap/webhook_file_status.json": (
        FileStatus,
        {
            "file_id": "MzJmajlmamVzZGZ8bmk5MHNlbmRmZTAz",
            "status": "ready",
            "size": 123456,
            "url": "http://www.example.com/files/f.jpg",
            "validity": "2017-10-03T22:31:00.597Z",
            "contact": None,
        },
    ),
    "maap/webhook_response.json": (
        SuggestionResponse,
        {"kind": "action", "text": "Visit Website", "postback_data": "set_by_chatbot_reply_yes"},
    ),
    "maap/webhook_alias.json": (
        Alias,
        {
            "msisdn": "+14251234567",
            "chat_id": "93JF93SEIJFE",
            "contact": Contact("+14251234567", chat_id="93JF93SEIJFE"),
        },
    ),
    "maap/webhook_new_user.json": (
        NewUser,
        {"text": "Start Chat", "postback_data": "new_bot_user_initiation"},
    ),
    "smsbox/webhook_text_reconstructed.json": (
        UserMessage,
        {
            "text": "hello smsbox!",
            "event_id": "XXXXXXXXX",
            "agent_id": "XXXXXXXXXXXXXX",
            "timestamp": datetime(2024, 6, 28, 12, 0, tzinfo=UTC),
        },
    ),
    "smsbox/webhook_event.json": (Typing, {"active": True, "event_id": "XXXXXXXXX"}),
    "smsbox/webhook_event_reconstructed.json": (Typing, {"active": True}),
    "smsbox/webhook_reply_reconstructed.json": (
        SuggestionResponse,
        {"kind": "reply", "text": "See offer", "postback_data": "example-of-posbackData"},
    ),
    "smsbox/webhook_action_reconstructed.json": (
        SuggestionResponse,
        {"kind": "action", "text": "open this url", "postback_data": "data_url_link-1"},
    ),
    "smsbox/webhook_status_update_reconstructed.json": (
        StatusEvent,
        {
            "status": MessageStatus.DISPLAYED,
            "provider_status": "READ",
            "message_id": "XXXXXXXXXXXX",
        },
    ),
    "smsbox/webhook_document_reconstructed.json": (
        UserMessage,
        {
            "file": File(
                "url_of_the_file", name="example.jpg", mime_type="image/jpeg", size=205487
            ),
        },
    ),
    "smsbox/webhook_location_reconstructed.json": (
        UserMessage,
        {"location.latitude": 42.08761, "location.longitude": 6.0755356},
    ),
}

# The as-shown SMSBOX samples whose "data" the seed's HTML renderer collapsed to {}: they
# must be refused with the missing member named (their _reconstructed twins are above).
MALFORMED_AS_SHOWN = {
    "smsbox/webhook_text.json": "$.data.text",
    "smsbox/webhook_reply.json": "'text' or 'postbackData'",
    "smsbox/webhook_action.json": "'text' or 'postbackData'",
    "smsbox/webhook_status_update.json": "$.data.eventType",
    "smsbox/webhook_document.json": "$.data.payload",
    "smsbox/webhook_location.json": "'latitude' and 'longitude'",
}


def provider_of(entry: dict[str, Any]) -> str:
    return PROVIDER_OF_FOLDER[entry["file"].split("/")[0]]


def field(event: Event, dotted: str) -> Any:
    value: Any = event
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def test_every_webhook_fixture_has_an_expectation() -> None:
    files = {e["file"] for e in WEBHOOKS if e["format"] != "billing"}
    assert files == set(EXPECTED) | set(MALFORMED_AS_SHOWN)
    assert len([e for e in WEBHOOKS if e["format"] == "billing"]) == 12


@pytest.mark.parametrize(
    "entry", [e for e in WEBHOOKS if e["file"] in EXPECTED], ids=lambda e: e["file"]
)
def test_seed_webhook_parses(entry: dict[str, Any]) -> None:
    body = (DATA / entry["file"]).read_bytes()
    kind, fields = EXPECTED[entry["file"]]
    events = parse(provider_of(entry), body, {})
    assert len(events) == 1
    event = events[0]
    assert type(event) is kind
    assert event.provider == provider_of(entry)
    assert event.raw == load(entry)
    for name, want in fields.items():
        assert field(event, name) == want, name
    # the format is also recognised without being told the provider
    (auto,) = parse("auto", body)
    assert type(auto) is kind


@pytest.mark.parametrize("file", sorted(MALFORMED_AS_SHOWN))
def test_smsbox_samples_with_collapsed_data_name_the_missing_member(file: str) -> None:
    with pytest.raises(MalformedPayload) as info:
        parse("smsbox", (DATA / file).read_bytes())
    assert MALFORMED_AS_SHOWN[file] in info.value.reason


@pytest.mark.parametrize(
    "entry", [e for e in WEBHOOKS if e["format"] == "billing"], ids=lambda e: e["file"]
)
def test_billing_examples(entry: dict[str, Any]) -> None:
    payload = load(entry)
    (event,) = parse("dotgo", json.dumps(payload).encode())
    assert isinstance(event, BillingEvent)
    get = lambda camel, snake: payload.get(camel, payload.get(snake))  # noqa: E731
    assert event.message_id == get("messageId", "message_id")
    assert event.billing_event_id == get("billingEventId", "billing_event_id")
    assert event.action == get("billingEventAction", "billing_event_action")
    assert event.billing_type == get("billingEventType", "billing_event_type")
    assert event.category == get("billingCategory", "billing_category")
    assert event.time == get("billingEventTime", "billing_event_time")
    assert event.agent_id == get("agentId", "agent_id")
    assert event.country_id == get("countryId", "country_id") == "IN"
    assert event.carrier_id == get("carrierId", "carrier_id")
    assert event.contact is not None and event.contact.msisdn is not None
    assert event.contact.msisdn.lstrip("+") == get("userId", "user_id").lstrip("+")
    assert event.is_refund == (entry["file"].endswith("refund_event.json"))
    # the same body also arrives on a Google-flavour Dotgo webhook
    (again,) = parse("dotgo_google", json.dumps(payload).encode())
    assert again == event.model_copy(update={"provider": "dotgo_google"})


def test_refund_snake_case_equals_its_camel_case_form() -> None:
    snake = load("dotgo_billing/refund_event.json")
    camel = {
        "".join(w.title() if i else w for i, w in enumerate(k.split("_"))): v
        for k, v in snake.items()
    }
    assert "billingEventAction" in camel
    (a,) = parse("dotgo", json.dumps(snake))
    (b,) = parse("dotgo", json.dumps(camel))
    assert a.model_copy(update={"raw": {}}) == b.model_copy(update={"raw": {}})
    assert isinstance(a, BillingEvent) and a.is_refund
    assert a.contact == Contact("+917774777132")
    assert a.billing_event_id_p2a is None
    conv = parse(
        "dotgo", (DATA / "dotgo_billing/a2p_flow_3_a2p_conversation_update.json").read_bytes()
    )
    assert isinstance(conv[0], BillingEvent)
    assert conv[0].billing_event_id_p2a == "401b7644-3067-5676-9fbf-4488000d2832"


def envelope(payload: dict[str, Any]) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return {
        "message": {"data": data, "messageId": "123", "publishTime": "2024-01-01T00:00:00Z"},
        "subscription": "projects/p/subscriptions/s",
    }


@pytest.mark.parametrize(
    "entry", [e for e in WEBHOOKS if e["format"] == "google"], ids=lambda e: e["file"]
)
def test_google_examples_inside_a_pubsub_envelope(entry: dict[str, Any]) -> None:
    plain = load(entry)
    wrapped = envelope(plain)
    (event,) = parse("google", json.dumps(wrapped))
    (direct,) = parse("google", json.dumps(plain))
    assert event.raw == plain
    assert event.envelope == wrapped
    assert event.model_copy(update={"envelope": None}) == direct
    assert event.dedup_key == direct.dedup_key


def test_the_same_event_has_the_same_dedup_key_and_statuses_differ() -> None:
    body = (DATA / "dotgo_gsma/webhook_message_status.json").read_bytes()
    (first,) = parse("dotgo", body)
    (again,) = parse("dotgo", body)
    assert first.dedup_key == again.dedup_key
    displayed = json.loads(body)
    displayed["RCSMessage"]["status"] = "displayed"
    (later,) = parse("dotgo", json.dumps(displayed))
    assert later.dedup_key != first.dedup_key
    assert first.dedup_key.startswith("dotgo:status:")


def test_events_without_any_id_fall_back_to_a_hash_of_the_body() -> None:
    body = {"RCSMessage": {"isTyping": "idle"}, "messageContact": {"chatId": "c1"}}
    (a,) = parse("maap", json.dumps(body))
    (b,) = parse("maap", json.dumps(body, indent=2))
    assert isinstance(a, Typing) and not a.active
    assert a.dedup_key == b.dedup_key and "sha256:" in a.dedup_key
    body["RCSMessage"]["isTyping"] = "active"
    (c,) = parse("maap", json.dumps(body))
    assert c.dedup_key != a.dedup_key


def test_unknown_providers_are_refused_before_parsing() -> None:
    with pytest.raises(ValueError, match="unknown provider 'nope'"):
        parse("nope", b"not even json")


def test_gsma_event_inferred_when_missing() -> None:
    for entry in entries(kind="webhook", format="gsma"):
        payload = load(entry)
        (told,) = parse("maap", json.dumps(payload))
        payload.pop("event")
        (inferred,) = parse("maap", json.dumps(payload))
        assert type(inferred) is type(told), entry["file"]


def test_unknown_fields_are_kept() -> None:
    payload = load("maap/webhook_message.json")
    payload["vendorExtra"] = {"tParticipantAddress": "x@botplatform"}
    payload["RCSMessage"]["reportRequest"] = ["Delivered"]
    (event,) = parse("maap", json.dumps(payload))
    assert isinstance(event, UserMessage) and event.text == "hello world"
    assert event.raw["vendorExtra"] == {"tParticipantAddress": "x@botplatform"}


def test_chat_id_contacts_stay_chat_ids() -> None:
    payload = load("maap/webhook_message.json")
    payload["messageContact"] = {"chatId": "93JF93SEIJFE"}
    (event,) = parse("maap", json.dumps(payload))
    assert event.contact == Contact(chat_id="93JF93SEIJFE")
    assert event.contact is not None and event.contact.msisdn is None


def test_parse_reads_gzip_bodies() -> None:
    import gzip

    body = (DATA / "maap/webhook_message.json").read_bytes()
    (event,) = parse("maap", gzip.compress(body), {"Content-Encoding": "gzip"})
    assert isinstance(event, UserMessage) and event.text == "hello world"
    with pytest.raises(MalformedPayload, match="gzip"):
        parse("maap", body, {"content-encoding": "gzip"})


def test_orange_reads_gsma_and_takes_a_top_level_msg_id() -> None:
    payload = load("maap/webhook_message.json")
    payload["RCSMessage"].pop("msgId")
    payload["msgId"] = "orange-trigger-1"
    (event,) = parse("orange", json.dumps(payload))
    assert isinstance(event, UserMessage)
    assert event.provider == "orange"
    assert event.message_id == "orange-trigger-1" and event.event_id == "orange-trigger-1"
    (plain,) = parse("orange", (DATA / "maap/webhook_message_status.json").read_bytes())
    assert isinstance(plain, StatusEvent) and plain.provider == "orange"


def test_text_content_is_the_neutral_text_model() -> None:
    (event,) = parse("maap", (DATA / "maap/webhook_message.json").read_bytes())
    assert isinstance(event, UserMessage)
    assert event.content == Text("hello world")
    assert event.location is None and event.file is None


def test_unknown_event_types_are_unknown_payloads() -> None:
    with pytest.raises(UnknownPayload, match="follow"):
        parse("maap", json.dumps({"event": "follow", "RCSMessage": {}}))
    body = load("dotgo_google/webhook_ttl_expiration_revoked.json")
    body["eventType"] = "AGENT_LAUNCHED"
    with pytest.raises(UnknownPayload, match="AGENT_LAUNCHED"):
        parse("dotgo_google", json.dumps(body))
    box = load("smsbox/webhook_event_reconstructed.json")
    box["requestType"] = "incoming_carrier_pigeon"
    with pytest.raises(UnknownPayload, match="incoming_carrier_pigeon"):
        parse("smsbox", json.dumps(box))
    with pytest.raises(UnknownPayload):
        parse("auto", b'{"hello": "world"}')
