"""rcskit.testing: the emulator fixture as a user's test suite sees it."""

from __future__ import annotations

import pytest

from rcskit.app import Bot
from rcskit.message import Message, Reply
from rcskit.providers import registry
from rcskit.testing import Emulator
from rcskit.testing.accounts import builders

ALICE = "+14251234567"


async def test_hello(rcskit_emulator: Emulator) -> None:
    async with rcskit_emulator.client("dotgo") as client:
        await client.send(ALICE, Message("hi"))
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "hi"


async def test_each_test_starts_fresh(rcskit_emulator: Emulator) -> None:
    assert rcskit_emulator.phone(ALICE).messages == ()
    assert rcskit_emulator.requests == []


@pytest.mark.parametrize("kind", registry.names())
async def test_every_provider_sends_to_a_phone(rcskit_emulator: Emulator, kind: str) -> None:
    async with rcskit_emulator.client(kind) as client:
        await client.send(ALICE, Message(f"hello from {kind}", suggestions=[Reply("Yes", "y")]))
    got = rcskit_emulator.phone(ALICE).messages[-1]
    assert (got.text, got.provider) == (f"hello from {kind}", kind)
    assert got.suggestions == (Reply("Yes", "y"),)


def test_every_registered_provider_has_an_account_builder() -> None:
    assert sorted(builders()) == sorted(registry.names())


async def test_a_bot_answers_in_process(rcskit_emulator: Emulator) -> None:
    client = rcskit_emulator.client("dotgo")
    bot = Bot(client, provider="dotgo", dedup=None)

    @bot.on_message()
    async def echo(event, reply):  # type: ignore[no-untyped-def]
        await reply(f"You wrote: {event.text}", suggestions=[Reply("Again", "again")])

    @bot.on_postback("again")
    async def again(event, reply):  # type: ignore[no-untyped-def]
        await reply("Once more!")

    rcskit_emulator.set_webhook("dotgo", bot)
    await rcskit_emulator.reply(ALICE, "hello")
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "You wrote: hello"
    await rcskit_emulator.tap(ALICE, "Again")
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "Once more!"
    await bot.stop()
    await client.aclose()
