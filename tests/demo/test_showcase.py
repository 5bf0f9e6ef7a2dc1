"""The showcase bot, with a recording client: every content type, the twelve actions, the
welcome card for a new user and for a user's first message."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlsplit

from rcskit.app import Bot
from rcskit.demo.media import media_files
from rcskit.demo.showcase import (
    ACTION_PAGES,
    KEYWORDS,
    TEMPLATE_CODE,
    TYPING_PAUSE,
    WELCOME_TITLE,
    Pause,
    action_page,
    build_bot,
    showcase,
)
from rcskit.events import Location, NewUser, SuggestionResponse, UserMessage
from rcskit.message import (
    ACTION_TYPES,
    Audio,
    Card,
    Carousel,
    Contact,
    File,
    IsTyping,
    Message,
    Reply,
    Template,
    Text,
)

ALICE = Contact("+14251234567")


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[Contact, Message]] = []
        self.times: list[float] = []

    async def send(self, to: Contact, message: Message, /) -> str:
        self.sent.append((to, message))
        self.times.append(time.monotonic())
        return f"id-{len(self.sent)}"


def messages_of(words: tuple[str, ...]) -> list[Message]:
    return [s for word in words for s in showcase(word) if isinstance(s, Message)]


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
    sent = messages_of((*KEYWORDS, *ACTION_PAGES))
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
    assert isinstance(template, Message)
    assert isinstance(template.content, Template) and template.content.code == TEMPLATE_CODE
    assert showcase("nonsense") == showcase("help")


def test_each_action_page_fits_one_chip_list_and_links_to_the_other() -> None:
    pages = [action_page(0), action_page(1)]
    for page, other in zip(pages, reversed(ACTION_PAGES), strict=True):
        actions = [s for s in page.suggestions if not isinstance(s, Reply)]
        [link] = [s for s in page.suggestions if isinstance(s, Reply)]
        assert len(actions) == 6 and link.postback_data == f"show:{other}"
    every = {type(s) for p in pages for s in p.suggestions if not isinstance(s, Reply)}
    assert every == set(ACTION_TYPES)


def test_every_medium_is_served_by_the_demo_and_named_right() -> None:
    base = "http://127.0.0.1:8123/_demo_media"
    urls: list[str] = []
    for step in (s for word in KEYWORDS for s in showcase(word, base)):
        if not isinstance(step, Message):
            continue
        content = step.content
        if isinstance(content, File | Audio):
            urls.append(content.url or "")
        if isinstance(content, File) and content.thumbnail_url:
            urls.append(content.thumbnail_url)
        cards = content.cards if isinstance(content, Carousel) else [content]
        for card in cards:
            if isinstance(card, Card) and card.media is not None:
                urls += [card.media.url or "", card.media.thumbnail_url or ""]
    urls = [u for u in urls if u]
    assert all(u.startswith(base + "/") for u in urls), urls
    names = {urlsplit(u).path.rsplit("/", 1)[1] for u in urls}
    files = media_files()
    assert names <= set(files)
    kinds = {files[n].content_type for n in names}
    assert kinds == {"image/png", "audio/wav", "application/pdf", "video/mp4"}
    # real files of their type
    assert files["sunrise.png"].body.startswith(b"\x89PNG\r\n\x1a\n")
    assert files["chime.wav"].body[:4] == b"RIFF" and files["chime.wav"].body[8:12] == b"WAVE"
    assert (
        files["showcase.pdf"].body.startswith(b"%PDF-") and b"%%EOF" in files["showcase.pdf"].body
    )
    assert files["clip.mp4"].body[4:8] == b"ftyp"


async def test_typing_shows_the_indicator_then_replies_after_the_pause() -> None:
    steps = showcase("typing")
    assert [type(s) for s in steps] == [Message, Pause, Message]
    client = Recorder()
    bot = memory_bot(client)
    await bot.start()
    await bot.dispatch(taps("show:typing"))
    await asyncio.sleep(0)
    await bot.stop()
    (_, indicator), (_, answer) = client.sent
    assert isinstance(indicator.content, IsTyping) and isinstance(answer.content, Text)
    assert client.times[1] - client.times[0] >= TYPING_PAUSE - 0.05


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
    await bot.dispatch(taps("action:dial", "Call us"))
    await bot.dispatch(taps("show:actions 2", "More actions"))
    await bot.dispatch(taps("action:receipts", "Send read receipts"))
    await bot.dispatch(taps("reply:yes", "Yes"))
    await bot.dispatch(
        UserMessage(
            provider="dotgo", contact=ALICE, content=Location(latitude=48.85, longitude=2.29)
        )
    )
    await bot.stop()
    texts: list[Any] = [getattr(m.content, "text", None) for _, m in client.sent]
    assert texts == [
        "Actions 1 of 2: links, calls and maps. Tap one to try it.",
        "You tapped 'Call us' (postback 'action:dial').",
        "Actions 2 of 2: calendar, compose, device and settings. Tap one to try it.",
        "You tapped 'Send read receipts' (postback 'action:receipts').",
        "You tapped 'Yes' (postback 'reply:yes').",
        "Thanks! You are at 48.85000, 2.29000.",
    ]
    # an action's answer carries its page of actions again; the others the keyword chips
    chips = [[s.postback_data for s in m.suggestions] for _, m in client.sent]
    assert chips[1] == chips[0] and chips[3] == chips[2] and chips[0] != chips[2]
    assert chips[4] == chips[5] == [*(f"show:{w}" for w in KEYWORDS), "show:help"]
