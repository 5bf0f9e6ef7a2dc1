"""Live updates: the change feed, and the Server-Sent Events the pages listen to."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from rcskit.emulator.ui.feed import ChangeFeed, feed_of
from rcskit.emulator.ui.stream import ListView, event_stream

from .conftest import GSMA_BOT, Emu, text_body

PHONE = "+14251234567"


class SseReader:
    """Reads an SSE response of an ASGI app in-process until the test disconnects."""

    def __init__(self, app: Any, url: str, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.url = url
        self.request_headers = headers or {}
        self.ids: list[str] = []
        self.chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self.status = 0
        self.headers: dict[str, str] = {}
        self._buffer = ""
        self._gone = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SseReader:
        path, _, query = self.url.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [(b"host", b"127.0.0.1:8000")]
            + [(k.encode(), v.encode()) for k, v in self.request_headers.items()],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            await self._gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self.status = message["status"]
                self.headers = {k.decode(): v.decode() for k, v in message["headers"]}
            elif message["type"] == "http.response.body":
                self.chunks.put_nowait(message.get("body", b""))

        self._task = asyncio.get_running_loop().create_task(self.app(scope, receive, send))
        # connected: the first chunk came, and the stream now waits for changes
        self._buffer += (await asyncio.wait_for(self.chunks.get(), 3)).decode()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._gone.set()
        assert self._task is not None
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, 5)

    async def event(self, timeout: float = 3.0) -> tuple[str, Any]:
        """The next event (comment lines and ``retry`` skipped): ``(name, data)``."""
        while True:
            while "\n\n" not in self._buffer:
                chunk = await asyncio.wait_for(self.chunks.get(), timeout)
                self._buffer += chunk.decode()
            block, self._buffer = self._buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
            if "id" in fields:
                self.ids.append(fields["id"])
            if "event" in fields:
                return fields["event"], json.loads(fields["data"])

    async def until(self, name: str, timeout: float = 3.0) -> Any:
        """Skip events until one called ``name``; its data."""
        while True:
            got, data = await self.event(timeout)
            if got == name:
                return data


def stream_url(emu: Emu, rev: int | None = None, phone: str = PHONE) -> str:
    version = feed_of(emu.state).version if rev is None else rev
    return f"/_ui/phones/{phone}/stream?bot={GSMA_BOT}&rev={version}"


async def inject(emu: Emu, text: str) -> str:
    reply = await emu.client.post(
        f"/_emulator/bots/{GSMA_BOT}/messages",
        json={"phone": PHONE, "content": {"textMessage": text}},
    )
    assert reply.status == 201
    msg_id: str = reply.json()["msg_id"]
    return msg_id


# ------------------------------------------------------------------ the feed


async def test_feed_wakes_waiters_on_change_and_times_out_otherwise() -> None:
    feed = ChangeFeed()
    assert await feed.wait(0, timeout=0.01) == 0
    waiting = asyncio.ensure_future(feed.wait(0, timeout=5))
    await asyncio.sleep(0)
    feed.notify()
    assert await asyncio.wait_for(waiting, 1) == 1
    assert await feed.wait(0, timeout=5) == 1  # already changed: no wait
    feed.close()
    assert feed.closed and await feed.wait(feed.version, timeout=5) == feed.version


async def test_the_feed_observes_emits_log_entries_and_admin_changes(emu: Emu) -> None:
    feed = feed_of(emu.state)
    assert feed_of(emu.state) is feed
    start = feed.version
    await emu.client.get("/_emulator/phones")  # a read changes nothing
    assert feed.version == start
    await emu.client.post(f"/_emulator/phones/{PHONE}/offline")
    after_admin = feed.version
    assert after_admin > start
    await emu.send_gsma(text_body(PHONE))  # token + send requests are logged
    assert feed.version > after_admin
    before_timers = feed.version
    await emu.state.advance(1)  # sent: a status change from a timer
    assert feed.version > before_timers


async def test_event_stream_keeps_alive_and_ends_when_the_feed_closes() -> None:
    feed = ChangeFeed()
    view = ListView(lambda: "<ul></ul>")
    stream = event_stream(feed, view, rev=feed.version, coalesce_s=0, keepalive_s=0.01)
    assert await anext(stream) == "retry: 2000\n\n"
    assert await anext(stream) == ": keep-alive\n\n"
    feed.close()
    with pytest.raises(StopAsyncIteration):
        while True:
            await anext(stream)


# ------------------------------------------------------------------ phone page stream


@pytest.fixture
async def current(emu: Emu) -> AsyncIterator[SseReader]:
    async with SseReader(emu.app, stream_url(emu)) as reader:
        yield reader


async def test_a_new_message_is_pushed_as_html(emu: Emu, current: SseReader) -> None:
    assert current.status == 200
    assert current.headers["content-type"].startswith("text/event-stream")
    msg_id = await inject(emu, "Live <news>")
    data = await current.until("messages")
    [item] = data["items"]
    assert item["id"] == f"m-{msg_id}" and item["status"] == "pending"
    assert "Live &lt;news&gt;" in item["html"] and 'data-side="bot"' in item["html"]


async def test_status_changes_replace_the_message(emu: Emu, current: SseReader) -> None:
    msg_id = await inject(emu, "hello")
    await current.until("messages")
    await emu.state.run_due()  # sent, delivered and displayed at once in the test config
    data = await current.until("messages")
    assert data["items"][0]["id"] == f"m-{msg_id}"
    assert data["items"][0]["status"] == "displayed" and ">Read<" in data["items"][0]["html"]


async def test_user_messages_chips_and_traffic_are_pushed(emu: Emu, current: SseReader) -> None:
    body = text_body(PHONE, "Pick one")
    body["RCSMessage"]["suggestedChipList"] = {
        "suggestions": [{"reply": {"displayText": "Yes", "postback": {"data": "y"}}}]
    }
    reply = await emu.send_gsma(body)
    assert reply.status == 202
    seen: dict[str, Any] = {}
    while not {"messages", "chips", "log"} <= seen.keys():
        name, data = await current.event()
        seen.setdefault(name, data)
    assert 'data-postback="y"' in seen["chips"]["html"]
    assert "…/messages/async" in seen["log"]["html"] and seen["log"]["seq"] > 0
    said = await emu.client.post(
        f"/_emulator/phones/{PHONE}/actions",
        json={"bot_id": GSMA_BOT, "type": "text", "text": "Yes"},
    )
    data = await current.until("messages")
    assert data["items"][0]["id"] == f"m-{said.json()['msg_id']}"
    assert (await current.until("chips"))["html"] == ""  # the latest message is the user's


async def test_typing_and_phone_state_are_pushed(emu: Emu, current: SseReader) -> None:
    typing = text_body(PHONE)
    typing["RCSMessage"] = {"isTyping": "active"}
    assert (await emu.send_gsma(typing)).status == 202
    data = await current.until("typing")
    assert data == {"active": True, "ms": 20_000}
    await emu.client.post(f"/_emulator/phones/{PHONE}/offline")
    assert await current.until("phone") == {"online": False, "rcs": True}


async def test_reset_after_the_emulator_resets(emu: Emu, current: SseReader) -> None:
    await inject(emu, "before the reset")
    await current.until("messages")
    await emu.client.post("/_emulator/reset")
    data = await current.until("reset")
    assert data["conversation"] == "" and data["chips"] == "" and data["log"] == ""
    assert data["phone"] == {"online": True, "rcs": True}


async def test_a_page_that_missed_changes_starts_with_a_reset(emu: Emu) -> None:
    msg_id = await inject(emu, "while the page loaded")
    async with SseReader(emu.app, stream_url(emu, rev=0)) as reader:
        name, data = await reader.event()
        assert name == "reset" and f'id="m-{msg_id}"' in data["conversation"]
        assert data["typing"] == {"active": False, "ms": 0}


async def test_an_unknown_phone_has_no_stream(emu: Emu) -> None:
    reply = await emu.client.get("/_ui/phones/+19995550000/stream")
    assert reply.status == 404


async def test_the_phone_list_stream_pushes_the_list(emu: Emu) -> None:
    url = f"/_ui/stream?rev={feed_of(emu.state).version}"
    async with SseReader(emu.app, url) as reader:
        await inject(emu, "news for the list")
        data = await reader.until("phones")
        assert "news for the list" in data["html"] and 'data-number="+14251234567"' in data["html"]


async def test_a_reconnecting_page_resumes_from_its_last_event_id(emu: Emu) -> None:
    async with SseReader(emu.app, stream_url(emu)) as first:
        await inject(emu, "one")
        await first.until("messages")
        await inject(emu, "two")
        await first.until("messages")
        with contextlib.suppress(TimeoutError):
            while True:  # read the rest of the update, up to its trailing id line
                await first.event(timeout=0.3)
        last = first.ids[-1]
    assert int(last) == feed_of(emu.state).version
    # the browser reconnects with Last-Event-ID (its URL still has the old rev=): no reset
    stale = stream_url(emu, rev=0)
    async with SseReader(emu.app, stale, {"last-event-id": last}) as again:
        msg_id = await inject(emu, "three")
        name, data = await again.event()
        assert name == "messages" and data["items"][0]["id"] == f"m-{msg_id}"


async def test_the_state_change_hook_subscribes_and_unsubscribes(emu: Emu) -> None:
    calls: list[int] = []
    unsubscribe = emu.state.subscribe(lambda: calls.append(1))
    await emu.client.get("/_emulator/phones")  # a read is no change
    assert calls == []
    await emu.client.post(f"/_emulator/phones/{PHONE}/offline")
    assert calls  # the admin change told the observer
    seen = len(calls)
    unsubscribe()
    await emu.client.post(f"/_emulator/phones/{PHONE}/online")
    assert len(calls) == seen
    unsubscribe()  # twice is harmless
