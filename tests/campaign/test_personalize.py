"""Placeholders in campaign messages and template parameters from CSV columns."""

from __future__ import annotations

import json

import pytest

from rcskit.campaign import CampaignError, MessageTemplate, TemplateCampaign
from rcskit.campaign.personalize import MissingValue, fill, placeholders
from rcskit.message import Card, OpenUrl, Template, Text

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
