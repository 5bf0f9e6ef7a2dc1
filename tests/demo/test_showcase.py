"""The showcase bot, with a recording client: every content type, the twelve actions, the
welcome card for a new user and for a user's first message."""

from __future__ import annotations

from typing import Any

from rcskit.app import Bot
from rcskit.demo.showcase import KEYWORDS, TEMPLATE_CODE, WELCOME_TITLE, build_bot, showcase
from rcskit.events import Location, NewUser, SuggestionResponse, UserMessage
from rcskit.message import ACTION_TYPES, Card, Carousel, Contact, Message, Reply, Template, Text

ALICE = Contact("+14251234567")


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[Contact, Message]] = []

    async def send(self, to: Contact, message: Message, /) -> str:
        self.sent.append((to, message))
        return f"id-{len(self.sent)}"


def says(text: str, n: int = 0) -> UserMessage:
    return UserMessage(provider="dotgo", contact=ALICE, message_id=f"m{n}", content=Text(text))


def taps(data: str, label: str = "chip") -> SuggestionResponse:
    return SuggestionResponse(
        provider="dotgo", contact=ALICE, kind="reply", text=label, postback_data=data
    )


def memory_bot(client: Recorder) -> Bot:
    return build_bot(client, dedup="memory", state="memory")


def content_kinds(messages: list[Message]) -> set[str]:
    return {m.content.kind for m in messages}


def test_every_keyword_and_every_content_type() -> None:
    sent = [m for word in KEYWORDS for m in showcase(word)]
    assert content_kinds(sent) == {
        "text",
        "file",
        "audio",
        "geolocation_push",
        "card",
        "carousel",
        "template",
        "is_typing",
    }
    actions = {type(s) for m in sent for s in m.suggestions if not isinstance(s, Reply)}
    assert actions == set(ACTION_TYPES) and len(ACTION_TYPES) == 12
    assert all(len(m.suggestions) <= 11 for m in sent)
    cards = [m.content for m in showcase("card")]
    assert all(isinstance(c, Card) for c in cards)
    assert [c.orientation for c in cards if isinstance(c, Card)] == ["VERTICAL", "HORIZONTAL"]
    [carousel] = showcase("carousel")
    assert isinstance(carousel.content, Carousel) and len(carousel.content.cards) == 3
    [template] = showcase("template")
    assert isinstance(template.content, Template) and template.content.code == TEMPLATE_CODE
    assert showcase("nonsense") == showcase("help")


async def test_new_user_gets_the_welcome_card_listing_the_keywords() -> None:
    client = Recorder()
    bot = memory_bot(client)
    await bot.start()
    await bot.dispatch(NewUser(provider="dotgo", contact=ALICE))
    await bot.dispatch(says("hi"))
    await bot.stop()
    (to, first), (_, second) = client.sent
    assert to == ALICE and isinstance(first.content, Card)
    assert first.content.title == WELCOME_TITLE
    assert all(word in (first.content.description or "") for word in KEYWORDS)
    assert [s.postback_data for s in first.suggestions] == [
        *(f"show:{w}" for w in KEYWORDS),
        "show:help",
    ]
    # already welcomed: "hi" is not a keyword, so the help menu answers
    assert isinstance(second.content, Text) and second.content.text == "What would you like to see?"


async def test_a_first_message_gets_the_welcome_then_its_answer() -> None:
    client = Recorder()
    bot = memory_bot(client)
    await bot.start()
    await bot.dispatch(says("CAROUSEL"))
    await bot.dispatch(says("text", 1))
    await bot.stop()
    kinds = [m.content.kind for _, m in client.sent]
    assert kinds == ["card", "carousel", "text"]
    first = client.sent[0][1].content
    assert isinstance(first, Card) and first.title == WELCOME_TITLE


async def test_taps_locations_and_files_are_answered() -> None:
    client = Recorder()
    bot = memory_bot(client)
    await bot.start()
    await bot.dispatch(taps("show:actions"))
    await bot.dispatch(taps("reply:yes", "Yes"))
    await bot.dispatch(
        UserMessage(
            provider="dotgo", contact=ALICE, content=Location(latitude=48.85, longitude=2.29)
        )
    )
    await bot.stop()
    texts: list[Any] = [getattr(m.content, "text", None) for _, m in client.sent]
    assert texts == [
        "Actions 1 of 2: links, calls and maps.",
        "Actions 2 of 2: calendar, compose, device and settings.",
        "You tapped 'Yes' (postback 'reply:yes').",
        "Thanks! You are at 48.85000, 2.29000.",
    ]
