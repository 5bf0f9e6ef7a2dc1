"""The examples import and construct without a network, and behave as documented."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from rcskit.app import Bot
from rcskit.app.loader import load_bot
from rcskit.demo.showcase import ACTION_PAGES
from rcskit.events import Location, NewUser, SuggestionResponse, UserMessage
from rcskit.message import ACTION_TYPES, Contact, Reply, Text
from tests.app.conftest import RecordingClient

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ALICE = Contact("+14251234567")


def load(name: str, client: RecordingClient) -> Bot:
    bot = load_bot(f"{EXAMPLES / name}:bot")
    bot.client = client
    return bot


def says(text: str, n: int = 0) -> UserMessage:
    return UserMessage(provider="maap", contact=ALICE, message_id=f"m{n}", content=Text(text))


def taps(data: str) -> SuggestionResponse:
    return SuggestionResponse(
        provider="maap", contact=ALICE, kind="reply", text="chip", postback_data=data
    )


@pytest.mark.parametrize("name", ["echo_bot.py", "showcase_bot.py", "order_bot.py"])
def test_examples_construct_without_network(name: str) -> None:
    bot = load_bot(f"{EXAMPLES / name}:bot")
    assert isinstance(bot, Bot) and not bot.running
    assert bot.handler_for(says("hello")) is not None


def test_echo_bot_is_short() -> None:
    lines = [ln for ln in (EXAMPLES / "echo_bot.py").read_text().splitlines() if ln.strip()]
    assert len(lines) <= 10


async def test_echo_bot_echoes(client: RecordingClient) -> None:
    bot = load("echo_bot.py", client)
    await bot.start()
    await bot.dispatch(says("ping"))
    await bot.stop()
    assert client.texts == ["You wrote: ping"]
    assert client.sent[0][0] == ALICE


async def test_showcase_covers_every_content_type_and_all_twelve_actions(
    client: RecordingClient,
) -> None:
    bot = load("showcase_bot.py", client)
    await bot.start()
    module = sys.modules["rcskit_user_bot_showcase_bot"]
    # the twelve actions are on two pages: the second is a keyword of its own
    words = [*module.KEYWORDS, *ACTION_PAGES]
    for i, word in enumerate(dict.fromkeys(words)):
        await bot.dispatch(says(word.upper(), i))
    kinds = {m.content.kind for _, m in client.sent}
    assert kinds == {
        "text",
        "file",
        "audio",
        "geolocation_push",
        "card",
        "carousel",
        "template",
        "is_typing",
    }
    actions = {type(s) for _, m in client.sent for s in m.suggestions if not isinstance(s, Reply)}
    assert actions == set(ACTION_TYPES) and len(ACTION_TYPES) == 12
    assert all(len(m.suggestions) <= 11 for _, m in client.sent)
    client.sent.clear()
    await bot.dispatch(taps("show:card"))
    await bot.dispatch(taps("reply:yes"))
    await bot.dispatch(
        UserMessage(
            provider="maap", contact=ALICE, content=Location(latitude=48.85, longitude=2.29)
        )
    )
    await bot.dispatch(NewUser(provider="maap", contact=ALICE))
    await bot.dispatch(says("nonsense"))
    await bot.stop()
    assert [m.content.kind for _, m in client.sent[:2]] == ["card", "card"]
    assert client.texts[2] == "You tapped 'chip' (postback 'reply:yes')."
    assert client.texts[3] == "Thanks! You are at 48.85000, 2.29000."
    welcome = client.sent[4][1]
    assert welcome.content.title == "Welcome to the rcskit showcase!"
    assert len(welcome.suggestions) == 11
    assert client.texts[5] == "What would you like to see?"


async def test_order_bot_walks_through_an_order_with_state(
    client: RecordingClient, tmp_path: Path
) -> None:
    bot = load("order_bot.py", client)
    await bot.start()
    await bot.dispatch(says("order"))
    await bot.dispatch(taps("pizza:funghi"))
    await bot.dispatch(says("hmm?", 1))
    await bot.dispatch(taps("size:l"))
    await bot.dispatch(taps("confirm:yes"))
    await bot.dispatch(taps("size:s"))  # out of step
    await bot.dispatch(says("orders", 2))
    await bot.stop()
    assert client.texts == [
        "Which pizza?",
        "Funghi: which size?",
        "Please tap one of the suggestions (waiting for: size), or type 'order' to restart.",
        "A large Funghi. Confirm?",
        "Order #1 confirmed: large Funghi.",
        "Type 'order' to start an order.",
        "Your orders:\n#1: large Funghi",
    ]
    assert [s.postback_data for s in client.sent[0][1].suggestions] == [
        "pizza:margherita",
        "pizza:funghi",
        "pizza:diavola",
    ]
    # the state lives in the bot's SQLite file (the working directory is tmp_path)
    assert (tmp_path / "rcskit-bot.sqlite3").exists()
    restarted = load("order_bot.py", RecordingClient())
    assert await restarted.state.load(restarted.name, str(ALICE)) == {
        "orders": [{"pizza": "funghi", "size": "l"}]
    }
    await restarted.stop()
