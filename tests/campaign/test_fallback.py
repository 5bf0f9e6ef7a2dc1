"""The plain-text rendering of rich messages and the fallback senders."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from rcskit.campaign import CampaignError, CsvFallbackSender, FallbackItem, plain_text
from rcskit.campaign.fallback import load_sender
from rcskit.message import (
    Card,
    Carousel,
    CreateCalendarEvent,
    DialPhoneNumber,
    File,
    Media,
    Message,
    OpenUrl,
    Reply,
    ShowLocation,
    Template,
)


def test_a_card_becomes_title_description_and_numbered_links() -> None:
    message = Message(
        Card(
            title="Spring sale",
            description="-20% on everything today.",
            media=Media.image("https://example.com/a.jpg"),
            suggestions=[
                Reply("Yes", "yes"),
                OpenUrl("Shop", "https://example.com/s"),
                DialPhoneNumber("Call us", "+33140000000"),
            ],
        ),
        suggestions=[ShowLocation("Find us", latitude=48.85, longitude=2.29)],
    )
    assert plain_text(message) == (
        "Spring sale\n-20% on everything today.\n"
        "1. Shop: https://example.com/s\n"
        "2. Call us: tel:+33140000000\n"
        "3. Find us: https://maps.google.com/?q=48.85,2.29"
    )


def test_a_carousel_lists_its_cards_and_all_their_actions() -> None:
    message = Message(
        Carousel(
            [
                Card(title="One", suggestions=[OpenUrl("Open one", "https://e.com/1")]),
                Card(
                    description="Two",
                    suggestions=[
                        CreateCalendarEvent(
                            "Remind me",
                            start_time="2025-05-01T09:00:00Z",
                            end_time="2025-05-01T10:00:00Z",
                            title="Sale",
                        )
                    ],
                ),
            ]
        )
    )
    assert plain_text(message) == (
        "One\n\nTwo\n1. Open one: https://e.com/1\n"
        "2. Remind me: Sale, 2025-05-01T09:00:00Z to 2025-05-01T10:00:00Z"
    )


def test_text_file_and_media_only_cards() -> None:
    assert plain_text(Message("Hello")) == "Hello"
    assert plain_text(Message(File("https://e.com/menu.pdf"))) == "https://e.com/menu.pdf"
    assert plain_text(Message(Card(media=Media.image("https://e.com/a.jpg")))) == (
        "https://e.com/a.jpg"
    )


def test_a_template_has_no_local_text() -> None:
    with pytest.raises(CampaignError, match="--fallback-text"):
        plain_text(Message(Template("spring_offer", {"name": "Ada"})))


async def test_the_csv_sender_writes_each_key_once_even_across_restarts(tmp_path: Path) -> None:
    path = tmp_path / "out" / "fallback.csv"
    items = [
        FallbackItem("c1", 2, "+33612345678", "Hello, Ada\n1. Shop: https://e.com", "not RCS"),
        FallbackItem("c1", 3, "+33612345679", "Hello, Bob", "RCS message expired"),
    ]
    sender = CsvFallbackSender(path)
    await sender.send(items)
    await sender.send(items[:1])  # handed again (a crash before it was recorded)
    await CsvFallbackSender(path).send(items)  # a new run
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["key"], r["line"], r["msisdn"], r["text"], r["reason"]) for r in rows] == [
        ("c1:2", "2", "+33612345678", "Hello, Ada\n1. Shop: https://e.com", "not RCS"),
        ("c1:3", "3", "+33612345679", "Hello, Bob", "RCS message expired"),
    ]


class _Sender:
    def __init__(self, campaign: str) -> None:
        self.campaign = campaign

    async def send(self, items: object) -> None:
        """Accept."""

    async def close(self) -> None:
        """Nothing."""


def make_sender(campaign: str) -> _Sender:
    return _Sender(campaign)


def not_a_sender(campaign: str) -> int:
    return 42


def test_senders_are_named_by_spec(tmp_path: Path) -> None:
    assert isinstance(load_sender(f"csv:{tmp_path / 'x.csv'}", "c1"), CsvFallbackSender)
    custom = load_sender(f"{__name__}:make_sender", "c1")
    assert isinstance(custom, _Sender) and custom.campaign == "c1"
    for spec, error in (
        ("nonsense", "give csv:PATH or module:callable"),
        ("no_such_module_here:x", "cannot load it"),
        (f"{__name__}:not_a_sender", "has no async send"),
    ):
        with pytest.raises(CampaignError, match=error):
            load_sender(spec, "c1")
