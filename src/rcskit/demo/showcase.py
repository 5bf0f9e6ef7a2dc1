"""The showcase bot: answers keywords with every content type and every suggested action.

Keywords: ``text``, ``file`` (an image, a PDF and a video, each with a thumbnail), ``audio``,
``location``, ``card`` (a vertical and a horizontal card), ``carousel``, ``template``, ``typing``
(the typing indicator, then a reply 1.5 s later), ``replies``, ``actions`` (the twelve suggested
actions on two pages of six chips, each page with a chip to the other), ``help``. A new user,
or a user's first message, gets a welcome card listing the keywords. A tap on an action is
answered with the same page of actions again, so every action stays one tap away; other taps,
shared locations and files are answered with the keyword chips. It logs the statuses of its
messages.

Its media (PNG images and thumbnails, a WAV, a PDF, an MP4) are made by
:mod:`rcskit.demo.media`; ``media_base`` says where they are served (``rcskit demo`` serves
them itself at ``{base}/_demo_media``; against a real provider, serve them somewhere the
provider can fetch them and give that URL).

Some content is provider-specific: ``template`` is Dotgo's (``rcskit demo`` registers
``showcase_welcome`` in the emulator); five of the actions (enriched call, video call, device
specifics, disable anonymization, read receipts) exist only in the GSMA format. Against a
provider that cannot express them the send fails, and the bot logs it.

Serve it with ``rcskit run rcskit.demo.showcase:build_bot`` (``rcskit demo`` starts it with the
emulator), or build one for your own client::

    from rcskit.demo.showcase import build_bot

    bot = build_bot(client, dedup="memory", media_base="https://example.com/showcase-media")
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..app import DEFAULT_DB, Bot, ConversationState, MessageSender, Responder
from ..events import StatusEvent, SuggestionResponse, UserMessage
from ..inbound.verify import Verifier
from ..message import (
    Audio,
    Card,
    CardWidth,
    Carousel,
    ComposeRecordingMessage,
    ComposeTextMessage,
    CreateCalendarEvent,
    DialEnrichedCall,
    DialPhoneNumber,
    DialVideoCall,
    DisableAnonymization,
    EnableDisplayedNotifications,
    File,
    GeolocationPush,
    Height,
    ImageAlignment,
    IsTyping,
    Media,
    Message,
    OpenUrl,
    Orientation,
    RecordingType,
    Reply,
    RequestDeviceSpecifics,
    RequestLocationPush,
    ShowLocation,
    Suggestion,
    Template,
    Text,
)
from ..store.inbox import DedupStore, StateStore
from .media import media_files

__all__ = [
    "ACTION_PAGES",
    "DEFAULT_MEDIA_BASE",
    "KEYWORDS",
    "PHONE",
    "TEMPLATE_CODE",
    "TYPING_PAUSE",
    "WELCOME_TITLE",
    "Pause",
    "action_page",
    "actions",
    "build_bot",
    "card",
    "menu",
    "showcase",
    "welcome",
]

log = logging.getLogger("rcskit.demo.showcase")

DEFAULT_MEDIA_BASE = "http://127.0.0.1:8000/_demo_media"
"""Where ``rcskit demo`` serves the showcase's media on its default port."""
TYPING_PAUSE = 1.5
"""Seconds between the typing indicator and the reply of the ``typing`` keyword."""
PHONE = "+16502530000"
"""The number the call and compose actions use."""
TEMPLATE_CODE = "showcase_welcome"
"""The Dotgo template the ``template`` keyword sends (parameter ``name``)."""
WELCOME_TITLE = "Welcome to the rcskit showcase!"
"""The title of the welcome card."""

KEYWORDS = (
    "text",
    "file",
    "audio",
    "location",
    "card",
    "carousel",
    "template",
    "typing",
    "replies",
    "actions",
)
"""The keywords the showcase answers (besides ``help``)."""


@dataclass(frozen=True, slots=True)
class Pause:
    """A step of an answer that is not a message: wait ``seconds`` before the next one."""

    seconds: float


Step = Message | Pause


def _chips() -> list[Reply]:
    """One chip per keyword and one for help: 11, the most a chip list may hold."""
    return [*(Reply(word.title(), f"show:{word}") for word in KEYWORDS), Reply("Help", "show:help")]


def _url(media_base: str, name: str) -> str:
    return f"{media_base.rstrip('/')}/{name}"


def _image(media_base: str, image: str, height: Height | None = None) -> Media:
    """Card media: the PNG ``image`` of :mod:`rcskit.demo.media` and its thumbnail, with the
    types and sizes GSMA platforms ask for."""
    files = media_files()
    full, thumb = files[f"{image}.png"], files[f"{image}-thumb.png"]
    return Media.image(
        _url(media_base, full.name),
        height=height,
        content_type=full.content_type,
        size=full.size,
        thumbnail_url=_url(media_base, thumb.name),
        thumbnail_content_type=thumb.content_type,
        thumbnail_size=thumb.size,
    )


def _file(media_base: str, name: str, thumbnail: str) -> File:
    """A file message for the medium ``name``, with the PNG thumbnail of scene ``thumbnail``."""
    files = media_files()
    medium, thumb = files[name], files[f"{thumbnail}-thumb.png"]
    return File(
        _url(media_base, name),
        name=name,
        mime_type=medium.content_type,
        size=medium.size,
        thumbnail_url=_url(media_base, thumb.name),
        thumbnail_name=thumb.name,
        thumbnail_mime_type=thumb.content_type,
        thumbnail_size=thumb.size,
    )


def menu(text: str = "What would you like to see?") -> Message:
    """The help text with one chip per keyword."""
    return Message(text, suggestions=_chips())


def welcome(media_base: str = DEFAULT_MEDIA_BASE) -> Message:
    """The welcome card: what the showcase does and its keywords, with the keyword chips."""
    listed = ", ".join(KEYWORDS)
    return Message(
        Card(
            title=WELCOME_TITLE,
            description=(
                "Every RCS feature, one keyword at a time. Send a keyword or tap a suggestion: "
                f"{listed}. Send help to see this list again."
            ),
            media=_image(media_base, "sunrise", Height.SHORT),
            suggestions=(Reply("Show a card", "show:card"), Reply("All actions", "show:actions")),
        ),
        suggestions=_chips(),
    )


def _first_actions() -> list[Suggestion]:
    return [
        OpenUrl("Open website", "https://www.gsma.com", postback_data="action:open_url"),
        DialPhoneNumber("Call us", PHONE, postback_data="action:dial"),
        DialEnrichedCall(
            "Enriched call", PHONE, subject="Your order", postback_data="action:enriched"
        ),
        DialVideoCall("Video call", PHONE, postback_data="action:video"),
        ShowLocation(
            "Show on map",
            latitude=37.4220041,
            longitude=-122.0862515,
            label="Googleplex",
            postback_data="action:show_location",
        ),
        RequestLocationPush("Share location", postback_data="action:request_location"),
    ]


def _second_actions() -> list[Suggestion]:
    start = datetime(2030, 3, 14, 9, 0, tzinfo=UTC)
    return [
        CreateCalendarEvent(
            "Add to calendar",
            start,
            start + timedelta(hours=1),
            "rcskit demo",
            description="See every RCS feature",
            postback_data="action:calendar",
        ),
        ComposeTextMessage(
            "Draft a text", PHONE, "Hello from rcskit", postback_data="action:compose_text"
        ),
        ComposeRecordingMessage(
            "Record a video", PHONE, RecordingType.VIDEO, postback_data="action:compose_recording"
        ),
        RequestDeviceSpecifics("Device specifics", postback_data="action:device"),
        DisableAnonymization("Share your number", postback_data="action:anonymization"),
        EnableDisplayedNotifications("Send read receipts", postback_data="action:receipts"),
    ]


ACTION_PAGES = ("actions", "actions 2")
"""The keywords of the two pages of actions (the second is reached by a chip of the first)."""


def action_page(page: int, text: str | None = None) -> Message:
    """Page ``page`` (0 or 1) of the twelve actions: six action chips and a chip to the other
    page (seven chips, so the phone shows them all on the latest message)."""
    if page == 0:
        return Message(
            text or "Actions 1 of 2: links, calls and maps. Tap one to try it.",
            suggestions=[*_first_actions(), Reply("More actions", f"show:{ACTION_PAGES[1]}")],
        )
    if page == 1:
        return Message(
            text or "Actions 2 of 2: calendar, compose, device and settings. Tap one to try it.",
            suggestions=[*_second_actions(), Reply("First actions", f"show:{ACTION_PAGES[0]}")],
        )
    raise ValueError(f"page must be 0 or 1, not {page}")


def _page_of(postback: str) -> int | None:
    """Which page of actions carries the action with this postback data."""
    for page, found in enumerate((_first_actions(), _second_actions())):
        if any(s.postback_data == postback for s in found):
            return page
    return None


def actions() -> list[Message]:
    """The twelve suggested actions: both pages (:func:`action_page`)."""
    return [action_page(0), action_page(1)]


def card(title: str, image: str, description: str, media_base: str = DEFAULT_MEDIA_BASE) -> Card:
    """A vertical carousel card with an image (a file of :mod:`rcskit.demo.media`, by name
    without ``.png``) and two replies."""
    return Card(
        title=title,
        description=description,
        media=_image(media_base, image, Height.MEDIUM),
        suggestions=(Reply("Like", f"like:{image}"), Reply("More", "show:carousel")),
    )


def _files(media_base: str) -> list[Step]:
    return [
        Message(_file(media_base, "night.png", "night")),
        Message(_file(media_base, "showcase.pdf", "forest")),
        Message(_file(media_base, "clip.mp4", "sea")),
    ]


def _cards(media_base: str) -> list[Step]:
    return [
        Message(
            Card(
                title="A rich card",
                description="Media, a title, a description and suggestions.",
                media=_image(media_base, "forest", Height.TALL),
                orientation=Orientation.VERTICAL,
                suggestions=(
                    Reply("Nice", "like:card"),
                    OpenUrl("Learn more", "https://www.gsma.com/rcs"),
                ),
            )
        ),
        Message(
            Card(
                title="A horizontal card",
                description="The image sits beside the text, here on the right.",
                media=_image(media_base, "sea"),
                orientation=Orientation.HORIZONTAL,
                image_alignment=ImageAlignment.RIGHT,
                suggestions=(Reply("Carousel next", "show:carousel"),),
            )
        ),
    ]


def showcase(word: str, media_base: str = DEFAULT_MEDIA_BASE) -> list[Step]:
    """The steps answering one keyword (the help menu for anything unknown): messages, and
    the :class:`Pause` between the typing indicator and its reply."""
    if word == "text":
        return [Message(Text("A plain text message. RCS text can be up to 3072 characters."))]
    if word == "file":
        return _files(media_base)
    if word == "audio":
        return [
            Message(
                Audio(
                    _url(media_base, "chime.wav"),
                    name="chime.wav",
                    mime_type="audio/wav",
                    size=media_files()["chime.wav"].size,
                    playing_length=3,
                )
            )
        ]
    if word == "location":
        return [Message(GeolocationPush.at(48.8584, 2.2945, label="Eiffel Tower"))]
    if word == "card":
        return _cards(media_base)
    if word == "carousel":
        return [
            Message(
                Carousel(
                    [
                        card("Sunrise", "sunrise", "Early light over the hills.", media_base),
                        card("Sea", "sea", "Waves all the way down.", media_base),
                        card("Forest", "forest", "Green as far as you can see.", media_base),
                    ],
                    card_width=CardWidth.MEDIUM,
                )
            )
        ]
    if word == "template":
        return [Message(Template(TEMPLATE_CODE, {"name": "RCS fan"}))]
    if word == "typing":
        return [
            Message(IsTyping(active=True)),
            Pause(TYPING_PAUSE),
            Message(f"That was the typing indicator, shown for {TYPING_PAUSE:g} s."),
        ]
    if word == "replies":
        return [
            Message(
                "Suggested replies send their postback data back to the bot.",
                suggestions=[Reply("Yes", "reply:yes"), Reply("No", "reply:no")],
            )
        ]
    if word in ACTION_PAGES:
        return [action_page(ACTION_PAGES.index(word))]
    return [menu()]


async def _send(steps: Sequence[Step], reply: Responder) -> None:
    for step in steps:
        if isinstance(step, Pause):
            await asyncio.sleep(step.seconds)
        else:
            await reply(step)


async def _status(event: StatusEvent) -> None:
    log.info("message %s is %s", event.message_id, event.status.value)


def _register(bot: Bot, media_base: str) -> None:
    """Add the showcase's handlers to ``bot``."""

    async def answer(word: str, reply: Responder) -> None:
        await _send(showcase(word, media_base), reply)

    @bot.on_new_user
    async def greet(reply: Responder, state: ConversationState) -> None:
        state["welcomed"] = True
        await reply(welcome(media_base))

    @bot.on_postback(prefix="show:")
    async def show(event: SuggestionResponse, reply: Responder, state: ConversationState) -> None:
        state["welcomed"] = True
        await answer((event.postback_data or "").removeprefix("show:"), reply)

    @bot.on_postback(prefix="action:")
    async def tried(event: SuggestionResponse, reply: Responder) -> None:
        postback = event.postback_data or ""
        page = _page_of(postback)
        said = f"You tapped {event.text!r} (postback {postback!r})."
        await reply(action_page(page, said) if page is not None else menu(said))

    @bot.on_postback
    async def tapped(event: SuggestionResponse, reply: Responder) -> None:
        await reply(menu(f"You tapped {event.text!r} (postback {event.postback_data!r})."))

    @bot.on_location
    async def located(event: UserMessage, reply: Responder) -> None:
        where = event.location
        assert where is not None
        await reply(menu(f"Thanks! You are at {where.latitude:.5f}, {where.longitude:.5f}."))

    @bot.on_file
    async def received_file(event: UserMessage, reply: Responder) -> None:
        got = event.file
        assert got is not None
        kind = got.mime_type or "unknown type"
        await reply(menu(f"Got your file {got.name or got.url} ({kind})."))

    @bot.on_message
    async def keyword(event: UserMessage, reply: Responder, state: ConversationState) -> None:
        word = (event.text or "").strip().lower()
        known = word in KEYWORDS or word in ACTION_PAGES
        if not state.get("welcomed"):
            state["welcomed"] = True
            await reply(welcome(media_base))
            if not known:
                return
        await answer(word if known else "help", reply)

    bot.on_status(_status)


def build_bot(
    client: MessageSender | None = None,
    *,
    provider: str = "auto",
    verifier: Verifier | Sequence[Verifier] | None = None,
    dedup: DedupStore | str | os.PathLike[str] | None = DEFAULT_DB,
    state: StateStore | str | os.PathLike[str] | None = None,
    name: str = "showcase",
    media_base: str = DEFAULT_MEDIA_BASE,
) -> Bot:
    """A new showcase bot (see the module docstring); the other arguments are :class:`Bot`'s.

    ``media_base`` is the URL its media are served at (``rcskit demo`` passes its own
    ``{base}/_demo_media``). ``dedup="memory"`` keeps everything in memory (no SQLite file in
    the working directory).
    """
    bot = Bot(client, provider=provider, verifier=verifier, dedup=dedup, state=state, name=name)
    _register(bot, media_base)
    return bot
