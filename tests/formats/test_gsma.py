"""GSMA MaaP format: golden seed examples, round trips, unsupported features, paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from rcskit.errors import InvalidMessage, UnsupportedFeature
from rcskit.formats import gsma
from rcskit.message import (
    Card,
    Carousel,
    Contact,
    File,
    Media,
    Message,
    OpenUrl,
    Reply,
    Template,
    Text,
    UrlApplication,
)
from tests.formats.strategies import gsma_messages
from tests.seeds import entries, load

MESSAGE_FIXTURES = [
    e
    for e in entries(kind="request", format="gsma")
    if "RCSMessage" in load(e) and "status" not in load(e)["RCSMessage"]
]


def _normalise_params(body: Any) -> Any:
    """customParams is a JSON document inside a string: compare it as JSON, not as text."""
    if isinstance(body, dict):
        return {
            k: (
                json.loads(v)
                if k == "customParams" and isinstance(v, str)
                else _normalise_params(v)
            )
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_normalise_params(v) for v in body]
    return body


# Orange's second example (seed 001) is a template with placeholders: fill the phone one in.
PLACEHOLDERS = {"{{msisdn}}": "+33612345678"}


def _fill(body: Any) -> Any:
    text = json.dumps(body)
    for key, value in PLACEHOLDERS.items():
        text = text.replace(key, value)
    return json.loads(text)


def test_there_are_gsma_message_fixtures() -> None:
    assert len(MESSAGE_FIXTURES) >= 10


@pytest.mark.parametrize("entry", MESSAGE_FIXTURES, ids=lambda e: e["file"])
def test_golden_request_round_trips_exactly(entry: dict[str, Any]) -> None:
    body = _fill(load(entry))
    env = gsma.decode(body)
    again = gsma.encode(env.message, env.to)
    assert _normalise_params(again) == _normalise_params(body)


@pytest.mark.parametrize(
    "entry", entries(kind="suggestion", format="gsma"), ids=lambda e: e["file"]
)
def test_golden_suggestions_round_trip(entry: dict[str, Any]) -> None:
    fragment = load(entry)
    body = {"RCSMessage": {"textMessage": "x", "suggestedChipList": {"suggestions": [fragment]}}}
    message = gsma.decode(body).message
    assert gsma.encode_suggestion(message.suggestions[0]) == fragment


def test_all_twelve_actions_are_in_the_seed_fixtures() -> None:
    kinds = set()
    for entry in entries(kind="suggestion", format="gsma"):
        body = {
            "RCSMessage": {"textMessage": "x", "suggestedChipList": {"suggestions": [load(entry)]}}
        }
        kinds.add(gsma.decode(body).message.suggestions[0].kind)
    assert len(kinds - {"reply"}) == 12


def test_encode_text_exactly() -> None:
    body = gsma.encode(Message("hello world"), Contact("+914253136789"))
    assert body == {
        "RCSMessage": {"textMessage": "hello world"},
        "messageContact": {"userContact": "+914253136789"},
    }


def test_chat_id_contact() -> None:
    body = gsma.encode(Message("hi"), Contact(chat_id="93JF93SEIJFE"))
    assert body["messageContact"] == {"chatId": "93JF93SEIJFE"}
    assert gsma.decode(body).to == Contact(chat_id="93JF93SEIJFE")


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [value, *[x for v in value.values() for x in _walk(v)]]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]


@settings(max_examples=150, deadline=None)
@given(gsma_messages())
def test_property_neutral_to_wire_to_neutral(message: Message) -> None:
    body = gsma.encode(message)
    assert None not in _walk(body)
    assert gsma.decode(body).message == message


def test_webview_is_unsupported() -> None:
    msg = Message(
        "x", suggestions=[OpenUrl("Go", "https://a.example", application=UrlApplication.WEBVIEW)]
    )
    with pytest.raises(UnsupportedFeature, match="webview") as err:
        gsma.encode(msg)
    assert "GSMA" in str(err.value)


def test_uploaded_file_id_is_unsupported() -> None:
    with pytest.raises(UnsupportedFeature, match="file id"):
        gsma.encode(Message(File(file_id="files/abc")))


def test_force_refresh_true_is_unsupported_false_is_default() -> None:
    with pytest.raises(UnsupportedFeature, match="forceRefresh"):
        gsma.encode(Message(File("https://a.example/x.png", force_refresh=True)))
    assert gsma.encode(Message(File("https://a.example/x.png", force_refresh=False)))[
        "RCSMessage"
    ] == {"fileMessage": {"fileUrl": "https://a.example/x.png"}}


def test_unknown_fields_are_all_reported_with_paths() -> None:
    body = {
        "RCSMessage": {
            "textMessage": "x",
            "colour": "red",
            "suggestedChipList": {"suggestions": [{"reply": {"displayText": "a", "bogus": 1}}]},
        },
        "extra": True,
    }
    with pytest.raises(InvalidMessage) as err:
        gsma.decode(body)
    paths = {v.path for v in err.value.violations}
    assert paths == {
        "extra",
        "RCSMessage.colour",
        "RCSMessage.suggestedChipList.suggestions[0].reply.bogus",
    }


def test_wrong_types_name_path() -> None:
    body = {"RCSMessage": {"fileMessage": {"fileUrl": "https://a/b.png", "fileSize": "12"}}}
    with pytest.raises(InvalidMessage) as err:
        gsma.decode(body)
    assert [v.path for v in err.value.violations] == ["RCSMessage.fileMessage.fileSize"]
    assert "integer" in str(err.value)


def test_two_contents_rejected() -> None:
    with pytest.raises(InvalidMessage, match="exactly one content"):
        gsma.decode({"RCSMessage": {"textMessage": "x", "isTyping": "active"}})


def test_ttl_and_expire_time_never_both() -> None:
    with pytest.raises(InvalidMessage, match="never both"):
        gsma.decode(
            {"RCSMessage": {"textMessage": "x"}, "ttl": "3s", "expireTime": "2030-01-01T00:00:00Z"}
        )


def test_bad_phone_in_contact_named() -> None:
    with pytest.raises(InvalidMessage) as err:
        gsma.decode({"RCSMessage": {"textMessage": "x"}, "messageContact": {"userContact": "12"}})
    assert err.value.violations[0].path == "messageContact.userContact"


def test_template_params_json_string() -> None:
    body = gsma.encode(Message(Template("t1", {"name": "Ada"})))
    assert body["RCSMessage"]["templateMessage"] == {
        "templateCode": "t1",
        "customParams": '{"name":"Ada"}',
    }
    with pytest.raises(InvalidMessage, match="customParams"):
        gsma.decode(
            {"RCSMessage": {"templateMessage": {"templateCode": "t", "customParams": "{bad"}}}
        )


def test_wire_path_translation() -> None:
    card = Card(title="t", suggestions=[Reply("a", "b")], media=Media(url="https://a/b.png"))
    carousel = Message(Carousel([card, card]), suggestions=[OpenUrl("Go", "https://x.example")])
    assert (
        gsma.wire_path(carousel, ("content", "cards", 1, "suggestions", 0, "text"))
        == "RCSMessage.richcardMessage.message.generalPurposeCardCarousel.content[1]"
        ".suggestions[0].reply.displayText"
    )
    assert (
        gsma.wire_path(carousel, ("suggestions", 0, "url"))
        == "RCSMessage.suggestedChipList.suggestions[0].action.urlAction.openUrl.url"
    )
    standalone = Message(card)
    assert (
        gsma.wire_path(standalone, ("content", "media", "content_description"))
        == "RCSMessage.richcardMessage.message.generalPurposeCard.content.media.contentDescription"
    )
    assert gsma.wire_path(Message(Text("x")), ("content", "text")) == "RCSMessage.textMessage"
    assert gsma.wire_path(Message("x", ttl="3s"), ("ttl",)) == "ttl"
