"""The handler API: registration, precedence, injection, middleware, reply, state."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from rcskit.app import Bot, ConversationState, Responder
from rcskit.events import (
    Alias,
    BillingEvent,
    Event,
    FileStatus,
    Location,
    MessageStatus,
    NewUser,
    StatusEvent,
    SuggestionResponse,
    Typing,
    UserMessage,
)
from rcskit.message import Audio, Card, Contact, File, Message, Reply, Text
from tests.app.conftest import RecordingClient

ALICE = Contact("+14251234567")
ANON = Contact(chat_id="93JF93SEIJFE")


def text(
    value: str, contact: Contact = ALICE, msg_id: str = "m1", provider: str = "maap"
) -> UserMessage:
    return UserMessage(provider=provider, contact=contact, message_id=msg_id, content=Text(value))


def tap(data: str, contact: Contact = ALICE) -> SuggestionResponse:
    return SuggestionResponse(provider="maap", contact=contact, text="chip", postback_data=data)


def status(value: MessageStatus) -> StatusEvent:
    return StatusEvent(
        provider="maap", contact=ALICE, message_id="b1", status=value, provider_status=value.value
    )


@pytest.fixture
def bot(client: RecordingClient) -> Bot:
    return Bot(client, dedup="memory")


async def test_specific_handlers_win_over_catch_alls_whatever_the_order(bot: Bot) -> None:
    seen: list[str] = []

    @bot.on_message()
    async def anything(event: UserMessage) -> None:
        seen.append(f"any:{event.text}")

    @bot.on_message("Menu")
    async def menu() -> None:
        seen.append("menu")

    @bot.on_message(regex=r"^order \d+$")
    async def order() -> None:
        seen.append("order")

    @bot.on_message(filter=lambda e: e.text == "f")
    async def filtered() -> None:
        seen.append("filter")

    @bot.on_location
    async def where() -> None:
        seen.append("location")

    @bot.on_file
    async def got_file() -> None:
        seen.append("file")

    await bot.start()
    for event in (
        text("  MENU "),
        text("order 42"),
        text("f"),
        text("hello"),
        UserMessage(provider="maap", contact=ALICE, content=Location(latitude=1, longitude=2)),
        UserMessage(provider="maap", contact=ALICE, content=File("https://x/f.png")),
        UserMessage(provider="maap", contact=ALICE, content=Audio("https://x/a.mp3")),
    ):
        await bot.dispatch(event)
    assert seen == ["menu", "order", "filter", "any:hello", "location", "file", "file"]
    await bot.stop()


async def test_postback_matching(bot: Bot) -> None:
    seen: list[str] = []

    @bot.on_postback
    async def other(event: SuggestionResponse) -> None:
        seen.append(f"other:{event.postback_data}")

    @bot.on_postback("yes")
    async def yes() -> None:
        seen.append("yes")

    @bot.on_postback(prefix="size:")
    async def size(event: SuggestionResponse) -> None:
        seen.append(f"size={event.postback_data}")

    @bot.on_postback(filter=lambda e: e.kind == "action")
    async def action() -> None:
        seen.append("action")

    for event in (tap("yes"), tap("yes!"), tap("size:L"), tap("no")):
        await bot.dispatch(event)
    action_tap = SuggestionResponse(provider="maap", kind="action", postback_data="open")
    await bot.dispatch(action_tap)
    assert seen == ["yes", "other:yes!", "size=size:L", "other:no", "action"]


async def test_status_typing_alias_new_user_and_any_event(bot: Bot) -> None:
    seen: list[str] = []

    @bot.on_status("delivered", MessageStatus.DISPLAYED)
    async def read(event: StatusEvent) -> None:
        seen.append(f"status:{event.status.value}")

    @bot.on_status
    async def other_status(event: StatusEvent) -> None:
        seen.append(f"other-status:{event.status.value}")

    @bot.on_typing
    async def typing(event: Typing) -> None:
        seen.append(f"typing:{event.active}")

    @bot.on_alias()
    async def alias(event: Alias) -> None:
        seen.append(f"alias:{event.chat_id}={event.msisdn}")

    @bot.on_new_user
    async def new_user() -> None:
        seen.append("new-user")

    @bot.on_event(BillingEvent, FileStatus)
    async def billing_or_file(event: Event) -> None:
        seen.append(f"typed:{event.event_type}")

    @bot.on_event
    async def everything(event: Event) -> None:
        seen.append(f"any:{event.event_type}")

    for event in (
        status(MessageStatus.DELIVERED),
        status(MessageStatus.DISPLAYED),
        status(MessageStatus.FAILED),
        Typing(provider="maap", contact=ALICE, active=False),
        Alias(provider="maap", msisdn="+14251234567", chat_id="c1"),
        NewUser(provider="maap", contact=ALICE),
        BillingEvent(provider="dotgo", message_id="x"),
        FileStatus(provider="maap", file_id="f", status="ready"),
        text("hi"),
    ):
        await bot.dispatch(event)
    assert seen == [
        "status:delivered",
        "status:displayed",
        "other-status:failed",
        "typing:False",
        "alias:c1=+14251234567",
        "new-user",
        "typed:billing",
        "typed:file_status",
        "any:message",
    ]
    with pytest.raises(TypeError, match="Event classes"):
        bot.on_event(str)


async def test_handlers_get_only_what_they_ask_for(bot: Bot, client: RecordingClient) -> None:
    got: dict[str, Any] = {}

    @bot.on_message("all")
    async def everything(
        bot: Bot, client: Any, state: ConversationState, reply: Responder, event: Event
    ) -> None:
        got.update(bot=bot, client=client, state=state, reply=reply, event=event)

    @bot.on_message("some")
    async def some(**kwargs: Any) -> None:
        got["kwargs"] = sorted(kwargs)

    @bot.on_message("none")
    async def nothing(unused: int = 3) -> None:
        got["nothing"] = unused

    await bot.start()
    event = text("all")
    await bot.dispatch(event)
    assert got["bot"] is bot and got["client"] is client and got["event"] is event
    assert isinstance(got["state"], ConversationState) and isinstance(got["reply"], Responder)
    await bot.dispatch(text("some"))
    assert got["kwargs"] == ["bot", "client", "event", "reply", "state"]
    await bot.dispatch(text("none"))
    assert got["nothing"] == 3
    await bot.stop()


def test_handlers_asking_for_unknown_arguments_are_refused_at_registration(bot: Bot) -> None:
    with pytest.raises(TypeError, match="cannot provide parameter 'message'"):

        @bot.on_message()
        async def wrong(message: Any) -> None:
            del message

    with pytest.raises(TypeError, match="must be an async function"):

        @bot.middleware  # type: ignore[arg-type]
        def sync_middleware(event: Event, call_next: Any) -> None:
            del event, call_next


async def test_sync_handlers_run_in_a_thread_and_can_reply(
    bot: Bot, client: RecordingClient
) -> None:
    threads: list[str] = []

    @bot.on_message()
    def blocking(event: UserMessage, reply: Any, state: ConversationState) -> None:
        threads.append(threading.current_thread().name)
        state["count"] = state.get("count", 0) + 1
        result = reply(f"echo {event.text}")
        threads.append(result)

    await bot.start()
    await bot.dispatch(text("a"))
    await bot.dispatch(text("b", msg_id="m2"))
    assert threads[0] != threading.current_thread().name
    assert threads[1] == "sent-1" and threads[3] == "sent-2"
    assert client.texts == ["echo a", "echo b"]
    assert await bot.state.load(bot.name, str(ALICE)) == {"count": 2}
    await bot.stop()


async def test_middleware_is_an_onion(bot: Bot) -> None:
    order: list[str] = []

    @bot.middleware
    async def outer(event: Event, call_next: Any) -> Any:
        order.append("outer-in")
        result = await call_next()
        order.append(f"outer-out:{result}")
        return result

    @bot.middleware
    async def inner(event: Event, call_next: Any) -> Any:
        order.append("inner-in")
        if isinstance(event, UserMessage) and event.text == "blocked":
            return "stopped"
        result = await call_next()
        order.append("inner-out")
        return result

    @bot.on_message()
    async def handler() -> str:
        order.append("handler")
        return "done"

    assert await bot.dispatch(text("hello")) == "done"
    assert order == ["outer-in", "inner-in", "handler", "inner-out", "outer-out:done"]
    order.clear()
    assert await bot.dispatch(text("blocked")) == "stopped"
    assert order == ["outer-in", "inner-in", "outer-out:stopped"]


async def test_reply_keeps_the_contact_form(bot: Bot, client: RecordingClient) -> None:
    @bot.on_message()
    async def echo(event: UserMessage, reply: Any) -> None:
        await reply(event.text or "", [Reply("Again", "again")])

    await bot.start()
    await bot.dispatch(text("to chat id", contact=ANON))
    await bot.dispatch(text("to number", contact=ALICE))
    (to_anon, m1), (to_alice, m2) = client.sent
    assert to_anon == ANON and to_anon.msisdn is None
    assert to_alice == ALICE and to_alice.chat_id is None
    assert m1 == Message("to chat id", suggestions=[Reply("Again", "again")])
    assert m2.content == Text("to number")
    await bot.stop()


async def test_reply_accepts_messages_and_content(bot: Bot, client: RecordingClient) -> None:
    card = Card(title="T")

    @bot.on_message()
    async def answer(reply: Responder) -> None:
        await reply(card)
        await reply(Message("ready", ttl=30))
        with pytest.raises(TypeError, match="inside the Message"):
            reply.message(Message("x"), [Reply("a", "b")])

    await bot.dispatch(text("go"))
    assert [m for _, m in client.sent] == [Message(card), Message("ready", ttl="30s")]


async def test_reply_to_orange_carries_the_message_id() -> None:
    client = RecordingClient()
    bot = Bot(client, dedup="memory")

    @bot.on_message()
    async def answer(reply: Any) -> None:
        await reply("hi")

    await bot.dispatch(text("hello", msg_id="trigger-7", provider="orange"))
    await bot.dispatch(text("hello", msg_id="m-9", provider="maap"))
    assert client.sent[0][1].in_reply_to == "trigger-7"
    assert client.sent[1][1].in_reply_to is None


async def test_reply_without_client_or_contact_is_a_clear_error() -> None:
    bot = Bot(dedup="memory")
    responder = Responder(text("x"), lambda: bot.client, None)
    with pytest.raises(RuntimeError, match="no client"):
        await responder("hi")
    with_client = Responder(
        FileStatus(provider="maap", file_id="f", status="ready"), RecordingClient, None
    )
    with pytest.raises(RuntimeError, match="no contact"):
        await with_client("hi")


async def test_state_is_per_contact_and_saved_when_changed(bot: Bot) -> None:
    @bot.on_message()
    async def count(state: ConversationState) -> None:
        state.setdefault("seen", []).append(len(state["seen"]))

    await bot.dispatch(text("a"))
    await bot.dispatch(text("b"))
    await bot.dispatch(text("c", contact=ANON))
    assert await bot.state.load(bot.name, str(ALICE)) == {"seen": [0, 1]}
    assert await bot.state.load(bot.name, str(ANON)) == {"seen": [0]}

    @bot.on_message("forget")
    async def forget(state: ConversationState) -> None:
        state.clear()

    await bot.dispatch(text("forget"))
    assert await bot.state.load(bot.name, str(ALICE)) == {}


async def test_state_survives_a_restart_with_the_same_sqlite_file(tmp_path: Any) -> None:
    path = tmp_path / "state.sqlite3"

    def make() -> Bot:
        bot = Bot(dedup=path)

        @bot.on_message()
        async def step(state: ConversationState) -> None:
            state["step"] = state.get("step", 0) + 1

        return bot

    first = make()
    await first.start()
    await first.dispatch(text("a"))
    await first.stop()
    second = make()
    await second.start()
    await second.dispatch(text("b"))
    assert await second.state.load(second.name, str(ALICE)) == {"step": 2}
    await second.stop()


async def test_unhandled_events_are_counted(bot: Bot) -> None:
    assert await bot.dispatch(text("nobody listens")) is None
    assert bot.stats["unhandled"] == 1
    assert bot.handler_for(text("x")) is None


async def test_per_contact_ordering_and_bounded_concurrency(client: RecordingClient) -> None:
    bot = Bot(client, dedup="memory", concurrency=3)
    running = 0
    peak = 0
    per_contact: dict[str, list[str]] = {}

    @bot.on_message()
    async def slow(event: UserMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        per_contact.setdefault(str(event.contact), []).append(event.text or "")
        running -= 1

    await bot.start()
    for i in range(6):
        for who in ("+14251230001", "+14251230002", "+14251230003", "+14251230004"):
            bot.enqueue(text(str(i), contact=Contact(who), msg_id=f"{who}-{i}"))
    await bot.join()
    assert peak == 3
    assert all(seq == [str(i) for i in range(6)] for seq in per_contact.values())
    assert len(per_contact) == 4
    await bot.stop()


def test_bot_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown provider"):
        Bot(provider="nope")
    with pytest.raises(ValueError, match="concurrency"):
        Bot(concurrency=0)
    with pytest.raises(ValueError, match="max_body_bytes"):
        Bot(max_body_bytes=0)
    assert "handlers=0" in repr(Bot(dedup=None))
