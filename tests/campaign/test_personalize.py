"""Placeholders in campaign messages and template parameters from CSV columns."""

from __future__ import annotations

import json

import pytest

from rcskit.campaign import CampaignError, MessageTemplate, TemplateCampaign
from rcskit.campaign.personalize import (
    MissingValue,
    fill,
    filler,
    json_with_id,
    placeholders,
)
from rcskit.errors import InvalidMessage
from rcskit.message import Card, Message, OpenUrl, Template, Text

NEUTRAL = """{
  "content": {
    "kind": "card",
    "title": "Hello {first_name}",
    "description": "Your code: {code}",
    "suggestions": [
      {"kind": "open_url", "text": "Shop, {first_name}", "url": "https://example.com/s"}
    ]
  }
}"""


def test_placeholders_are_found_in_every_text_field_but_not_in_kinds() -> None:
    template = MessageTemplate.from_json(NEUTRAL, source="msg.json")
    assert template.names == {"first_name", "code"}
    assert placeholders({"kind": "{not_me}", "text": ["{a}", {"b": "x {c} y"}]}) == {"a", "c"}


def test_render_fills_each_row() -> None:
    template = MessageTemplate.from_json(NEUTRAL, source="msg.json")
    message = template.render({"first_name": "Ada", "code": "X-1", "phone": "+33612345678"})
    assert isinstance(message.content, Card)
    assert message.content.title == "Hello Ada"
    assert message.content.description == "Your code: X-1"
    suggestion = message.content.suggestions[0]
    assert isinstance(suggestion, OpenUrl) and suggestion.text == "Shop, Ada"
    # the template itself is unchanged: the next row gets its own values
    assert template.render({"first_name": "Bob", "code": "Y"}).content.title == "Hello Bob"  # type: ignore[union-attr]


def test_a_missing_or_empty_value_names_the_placeholder() -> None:
    template = MessageTemplate.from_json(NEUTRAL)
    with pytest.raises(MissingValue, match=r"\{code\}"):
        template.render({"first_name": "Ada", "code": ""})
    with pytest.raises(MissingValue, match=r"\{first_name\}"):
        template.render({"code": "1"})


def test_a_placeholder_without_a_column_is_an_error_naming_it_and_the_line() -> None:
    template = MessageTemplate.from_json(NEUTRAL, source="msg.json")
    with pytest.raises(CampaignError, match=r"msg\.json line 5: placeholder \{code\}"):
        template.check_columns(["phone", "first_name"])
    template.check_columns(["phone", "first_name", "code"])


def test_gsma_and_google_bodies_are_recognised() -> None:
    gsma = json.dumps(
        {
            "RCSMessage": {"textMessage": "Hi {name}"},
            "messageContact": {"userContact": "+14251234567"},
        }
    )
    google = json.dumps({"contentMessage": {"text": "Hi {name}"}})
    for text in (gsma, google):
        message = MessageTemplate.from_json(text).render({"name": "Ada"})
        assert message.content == Text("Hi Ada")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{", "not JSON"),
        ("[1]", "a JSON object is required"),
        ('{"hello": 1}', "cannot tell the format"),
        ('{"content": {"kind": "card"}}', "content.card"),
        ('{"content": {"kind": "text", "text": "x"}, "message_id": "m1"}', "remove the message id"),
    ],
)
def test_bad_message_files_are_refused_with_the_reason(text: str, error: str) -> None:
    with pytest.raises(CampaignError, match=error):
        MessageTemplate.from_json(text, source="m.json")


def test_template_parameters_come_from_the_columns() -> None:
    every = TemplateCampaign("spring_offer", "phone")
    row = {"phone": "+33612345678", "name": "Ada", "offer": "-20%", "until": ""}
    assert every.render(row).content == Template("spring_offer", {"name": "Ada", "offer": "-20%"})
    chosen = TemplateCampaign("spring_offer", "phone", ("name",))
    assert chosen.params_of(row) == {"name": "Ada"}
    with pytest.raises(CampaignError, match="'city'"):
        TemplateCampaign("t", "phone", ("city",)).check_columns(["phone", "name"])


def test_fill_leaves_other_braces_alone() -> None:
    assert (
        fill("{a} {not a placeholder} {{b}}", {"a": "1", "b": "2"}) == "1 {not a placeholder} {2}"
    )


_TRICKY = {
    "content": {
        "kind": "text",
        "text": 'Hi {first_name}, "message_id":null,"in_reply_to":null} ,"message_id":null',
    },
    "in_reply_to": 'in-"reply",\\"message_id\\":null',
    "ttl": "60s",
}


@pytest.mark.parametrize("keep_id", [False, True])
@pytest.mark.parametrize(
    "text",
    [
        NEUTRAL,
        '{"content": {"kind": "text", "text": "the same for everyone"}}',
        json.dumps(_TRICKY),
        '{"content": {"kind": "text", "text": "no names, \\"message_id\\":null"},'
        ' "in_reply_to": "x"}',
    ],
)
def test_render_send_is_render_with_the_id_and_its_json(text: str, keep_id: bool) -> None:
    """What a campaign sends and stores per row: the message rendered with the id (the id
    left out of the wire message unless kept) and exactly that message's JSON."""
    template = MessageTemplate.from_json(text)
    for row in ({"first_name": "Ada", "code": "X"}, {"first_name": "Bob", "code": "Y"}):
        for id in ("2f1c6a52-6f0e-5d3c-9a57-5f1c2b7a0c11", 'needs "escaping" \\ é'):
            wire, stored = template.render_send(row, id, keep_id=keep_id)
            with_id = template.render(row, message_id=id)
            assert stored == with_id.model_dump_json()
            assert wire == (with_id if keep_id else template.render(row))
            assert wire.message_id == (id if keep_id else None)


def test_a_message_without_placeholders_is_validated_once_and_sent_as_one_object() -> None:
    template = MessageTemplate.from_json('{"content": {"kind": "text", "text": "Sale today"}}')
    first, _ = template.render_send({"a": "1"}, "id-1", keep_id=False)
    second, stored = template.render_send({"a": "2"}, "id-2", keep_id=False)
    assert first is second, "one message object: the client checks its limits once"
    assert json.loads(stored)["message_id"] == "id-2"
    assert template.render({}) is template.render({"x": "y"})
    kept, _ = template.render_send({}, "id-3", keep_id=True)
    assert kept.message_id == "id-3" and first.message_id is None
    # an invalid message is refused on every row, as before (nothing is cached)
    bad = MessageTemplate({"content": {"kind": "text", "text": "x"}, "bogus": 1}, frozenset())
    for _ in range(2):
        with pytest.raises(InvalidMessage, match="bogus"):
            bad.render_send({}, "id", keep_id=False)


@pytest.mark.parametrize("keep_id", [False, True])
def test_template_campaigns_render_send_as_render(keep_id: bool) -> None:
    campaign = TemplateCampaign("promo_1", "phone")
    row = {"phone": "+33612345678", "name": "Ada", "empty": ""}
    wire, stored = campaign.render_send(row, "id-1", keep_id=keep_id)
    with_id = campaign.render(row, message_id="id-1")
    assert stored == with_id.model_dump_json()
    assert wire == (with_id if keep_id else campaign.render(row))


def test_json_with_id_takes_the_long_way_for_a_message_that_has_an_id() -> None:
    message = Message(Text("hi"), message_id="old")
    assert json_with_id(message, message.model_dump_json(), "new") == (
        message.with_id("new").model_dump_json()
    )


_VALUES: list[object] = [
    "plain",
    "{a}",
    "x {a} y {b}{a} z {",
    "{not a placeholder} {a}}",
    {"kind": "{a}", "text": "Hi {a}", "n": 3, "nested": [{"t": "{b}!"}, "k", None, ["{c}"]]},
    {"kind": "text", "text": "no names", "list": ["a", {"b": "c"}]},
    ["{a}", 1, True, {"kind": "{b}"}],
]


@pytest.mark.parametrize("value", _VALUES)
@pytest.mark.parametrize(
    "params",
    [
        {"a": "A", "b": "B\\1 {a}", "c": "é"},
        {"a": "A", "b": ""},
        {"b": "B", "c": "C"},
        {},
    ],
)
def test_a_prepared_fill_is_fill(value: object, params: dict[str, str]) -> None:
    """The per-row fill prepared once per message gives what :func:`fill` gives, or refuses
    the same placeholder."""
    prepared = filler(value)
    try:
        expected = fill(value, params)
    except MissingValue as err:
        assert prepared is not None
        with pytest.raises(MissingValue) as got:
            prepared(params)
        assert got.value.name == err.name
        return
    assert (value if prepared is None else prepared(params)) == expected
    if prepared is None:
        assert placeholders(value) == set()


def test_a_row_whose_message_breaks_the_model_is_refused_naming_the_field_once() -> None:
    template = MessageTemplate.from_json('{"content": {"kind": "text", "text": "Hi {name}"}}')
    with pytest.raises(InvalidMessage) as err:
        template.render({"name": "a\ud800"})
    assert str(err.value) == (
        "invalid message: Message.content.text.text: 'Hi a\\ud800' (contains a lone UTF-16 "
        "surrogate (U+D800 at index 4), which UTF-8 cannot encode)"
    )
    extra = MessageTemplate(
        {"content": {"kind": "text", "text": "{a}"}, "bogus": 1}, frozenset("a")
    )
    with pytest.raises(InvalidMessage) as err:
        extra.render({"a": "b"})
    assert str(err.value) == "invalid message: Message.bogus: 1 (Extra inputs are not permitted)"
