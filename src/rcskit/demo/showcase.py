"""The showcase bot: answers keywords with every content type and every suggested action.

Keywords: ``text``, ``file``, ``audio``, ``location``, ``card`` (a vertical and a horizontal
card), ``carousel``, ``template``, ``typing``, ``replies``, ``actions`` (the twelve suggested
actions, in two chip lists of six), ``help``. A new user, or a user's first message, gets a
welcome card listing the keywords. It also answers taps, shared locations and files, and logs
the statuses of its messages.

Some content is provider-specific: ``template`` is Dotgo's (``rcskit demo`` registers
``showcase_welcome`` in the emulator); five of the actions (enriched call, video call, device
specifics, disable anonymization, read receipts) exist only in the GSMA format. Against a
provider that cannot express them the send fails, and the bot logs it.

Serve it with ``rcskit run rcskit.demo.showcase:build_bot`` (``rcskit demo`` starts it with the
emulator), or build one for your own client::

    from rcskit.demo.showcase import build_bot

    bot = build_bot(client, dedup="memory")
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
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
    Template,
    Text,
)
from ..store.inbox import DedupStore, StateStore

__all__ = [
    "IMAGES",
    "KEYWORDS",
    "PHONE",
    "TEMPLATE_CODE",
    "WELCOME_TITLE",
    "actions",
    "build_bot",
    "card",
    "menu",
    "showcase",
    "welcome",
]

log = logging.getLogger("rcskit.demo.showcase")

IMAGES = "https://storage.googleapis.com/kitchen-sink-sample-images"
"""Where the showcase's images are (the phone's browser loads them; offline it shows a
placeholder)."""
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


def _chips() -> list[Reply]:
    """One chip per keyword and one for help: 11, the most a chip list may hold."""
    return [*(Reply(word.title(), f"show:{word}") for word in KEYWORDS), Reply("Help", "show:help")]


def menu(text: str = "What would you like to see?") -> Message:
    """The help text with one chip per keyword."""
    return Message(text, suggestions=_chips())


def welcome() -> Message:
    """The welcome card: what the showcase does and its keywords, with the keyword chips."""
    listed = ", ".join(KEYWORDS)
    return Message(
        Card(
            title=WELCOME_TITLE,
            description=(
                "Every RCS feature, one keyword at a time. Send a keyword or tap a suggestion: "
                f"{listed}. Send help to see this list again."
            ),
            media=Media.image(f"{IMAGES}/cute-dog.jpg", height=Height.SHORT),
            suggestions=(Reply("Show a card", "show:card"), Reply("All actions", "show:actions")),
        ),
        suggestions=_chips(),
    )


def actions() -> list[Message]:
    """The twelve suggested actions, as two messages of six chips."""
    start = datetime(2030, 3, 14, 9, 0, tzinfo=UTC)
    first = [
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
    second = [
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
    return [
        Message("Actions 1 of 2: links, calls and maps.", suggestions=first),
        Message("Actions 2 of 2: calendar, compose, device and settings.", suggestions=second),
    ]


def card(title: str, image: str, description: str) -> Card:
    """A vertical carousel card with an image and two replies."""
    return Card(
        title=title,
        description=description,
        media=Media.image(f"{IMAGES}/{image}", height=Height.MEDIUM),
        suggestions=(Reply("Like", f"like:{image}"), Reply("More", "show:carousel")),
    )


def showcase(word: str) -> list[Message]:
    """The messages answering one keyword (the help menu for anything unknown)."""
    if word == "text":
        return [Message(Text("A plain text message. RCS text can be up to 3072 characters."))]
    if word == "file":
        return [
            Message(File(f"{IMAGES}/cute-dog.jpg", name="cute-dog.jpg", mime_type="image/jpeg"))
        ]
    if word == "audio":
        return [
            Message(
                Audio(
                    "https://www.kozco.com/tech/piano2.wav",
                    name="piano.wav",
                    mime_type="audio/wav",
                    playing_length=6,
                )
            )
        ]
    if word == "location":
        return [Message(GeolocationPush.at(48.8584, 2.2945, label="Eiffel Tower"))]
    if word == "card":
        return [
            Message(
                Card(
                    title="A rich card",
                    description="Media, a title, a description and suggestions.",
                    media=Media.image(f"{IMAGES}/elephant.jpg", height=Height.TALL),
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
                    media=Media.image(f"{IMAGES}/goldfish.jpg"),
                    orientation=Orientation.HORIZONTAL,
                    image_alignment=ImageAlignment.RIGHT,
                    suggestions=(Reply("Carousel next", "show:carousel"),),
                )
            ),
        ]
    if word == "carousel":
        return [
            Message(
                Carousel(
                    [
                        card("Dog", "cute-dog.jpg", "A very good dog."),
                        card("Elephant", "elephant.jpg", "Never forgets."),
                        card("Goldfish", "goldfish.jpg", "Forgets everything."),
                    ],
                    card_width=CardWidth.MEDIUM,
                )
            )
        ]
    if word == "template":
        return [Message(Template(TEMPLATE_CODE, {"name": "RCS fan"}))]
    if word == "typing":
        return [Message(IsTyping(active=True)), Message("That was the typing indicator.")]
    if word == "replies":
        return [
            Message(
                "Suggested replies send their postback data back to the bot.",
                suggestions=[Reply("Yes", "reply:yes"), Reply("No", "reply:no")],
            )
        ]
    if word == "actions":
        return actions()
    return [menu()]


async def _answer(word: str, reply: Responder) -> None:
    for message in showcase(word):
        await reply(message)


async def _welcome(reply: Responder, state: ConversationState) -> None:
    state["welcomed"] = True
    await reply(welcome())


async def _show(event: SuggestionResponse, reply: Responder, state: ConversationState) -> None:
    state["welcomed"] = True
    await _answer((event.postback_data or "").removeprefix("show:"), reply)


async def _tapped(event: SuggestionResponse, reply: Responder) -> None:
    await reply(f"You tapped {event.text!r} (postback {event.postback_data!r}).")


async def _located(event: UserMessage, reply: Responder) -> None:
    where = event.location
    assert where is not None
    await reply(f"Thanks! You are at {where.latitude:.5f}, {where.longitude:.5f}.")


async def _received_file(event: UserMessage, reply: Responder) -> None:
    got = event.file
    assert got is not None
    await reply(f"Got your file {got.name or got.url} ({got.mime_type or 'unknown type'}).")


async def _keyword(event: UserMessage, reply: Responder, state: ConversationState) -> None:
    word = (event.text or "").strip().lower()
    if not state.get("welcomed"):
        state["welcomed"] = True
        await reply(welcome())
        if word not in KEYWORDS:
            return
    await _answer(word if word in KEYWORDS else "help", reply)


async def _status(event: StatusEvent) -> None:
    log.info("message %s is %s", event.message_id, event.status.value)


def build_bot(
    client: MessageSender | None = None,
    *,
    provider: str = "auto",
    verifier: Verifier | Sequence[Verifier] | None = None,
    dedup: DedupStore | str | os.PathLike[str] | None = DEFAULT_DB,
    state: StateStore | str | os.PathLike[str] | None = None,
    name: str = "showcase",
) -> Bot:
    """A new showcase bot (see the module docstring); the arguments are :class:`Bot`'s.

    ``dedup="memory"`` keeps everything in memory (no SQLite file in the working directory).
    """
    bot = Bot(client, provider=provider, verifier=verifier, dedup=dedup, state=state, name=name)
    bot.on_new_user(_welcome)
    bot.on_postback(prefix="show:")(_show)
    bot.on_postback(_tapped)
    bot.on_location(_located)
    bot.on_file(_received_file)
    bot.on_message(_keyword)
    bot.on_status(_status)
    return bot
