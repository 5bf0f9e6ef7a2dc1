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


async def test_user_actions_reach_the_bot_in_its_format(rcskit_emulator: Emulator) -> None:
    client = rcskit_emulator.client("google")
    bot = Bot(client, provider="google", dedup=None)
    got: list[str] = []

    @bot.on_location
    async def where(event, reply):  # type: ignore[no-untyped-def]
        got.append(f"location {event.location.latitude} {event.location.longitude}")
        await reply("Thanks for the location")

    @bot.on_file
    async def file(event, reply):  # type: ignore[no-untyped-def]
        got.append(f"file {event.file.url}")

    rcskit_emulator.set_webhook("google", bot)
    await rcskit_emulator.share_location(ALICE, 48.85, 2.35, label="Paris")
    await rcskit_emulator.send_file(
        ALICE, url="http://127.0.0.1:1/cat.png", mime_type="image/png", size=10, name="cat.png"
    )
    assert got == ["location 48.85 2.35", "file http://127.0.0.1:1/cat.png"]
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "Thanks for the location"
    assert rcskit_emulator.phone(ALICE).messages[-1].provider == "google"
    await bot.stop()
    await client.aclose()


async def test_the_clock_moves_statuses_and_the_log_shows_the_requests(
    rcskit_emulator: Emulator,
) -> None:
    async with rcskit_emulator.client("dotgo") as client:
        await client.send(ALICE, Message("hi"))
    assert rcskit_emulator.phone(ALICE).messages[-1].status in ("sent", "pending")
    rcskit_emulator.clock.advance(10)  # past the delivered and displayed delays
    assert rcskit_emulator.phone(ALICE).messages[-1].status == "displayed"
    api = [e for e in rcskit_emulator.requests if e.kind == "api"]
    assert [e.method for e in api] == ["POST", "POST"]  # the token, then the send
    assert api[-1].status == 202 and "/messages" in api[-1].target
    with pytest.raises(ValueError, match="finite number"):
        rcskit_emulator.clock.advance(float("nan"))


async def test_faults_make_the_api_answer_429(rcskit_emulator: Emulator) -> None:
    from rcskit.errors import RateLimited
    from rcskit.retry import NO_RETRY

    rcskit_emulator.faults("dotgo", rate_429=1.0)
    async with rcskit_emulator.client("dotgo", retry=NO_RETRY) as client:
        with pytest.raises(RateLimited):
            await client.send(ALICE, Message("hi"))
    assert rcskit_emulator.phone(ALICE).messages == ()
    rcskit_emulator.reset()  # faults are forgotten
    async with rcskit_emulator.client("dotgo") as client:
        await client.send(ALICE, Message("hi"))
    assert rcskit_emulator.phone(ALICE).messages[-1].text == "hi"


def test_outside_pytest_with_a_context_manager() -> None:
    with Emulator() as emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.config("smsbox").agent_id == emulator.bot("smsbox").id  # type: ignore[attr-defined]
    with pytest.raises(RuntimeError, match="not started"):
        emulator.phone(ALICE)


def test_unknown_kinds_and_bad_webhooks_are_refused(rcskit_emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        rcskit_emulator.client("dotgoo")
    with pytest.raises(ValueError, match="http"):
        rcskit_emulator.set_webhook("dotgo", "ftp://example.test/hook")
