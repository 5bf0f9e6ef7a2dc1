"""The emulator inside a test: served on a free loopback port, driven from the test.

::

    from rcskit.message import Message
    from rcskit.testing import Emulator

    async with Emulator() as emu:
        async with emu.client("dotgo") as client:
            await client.send("+14251234567", Message("hi"))
        assert emu.phone("+14251234567").messages[-1].text == "hi"

The platform runs on an event loop of its own, in a background thread: it does not care which
loop (or framework, or none) the test uses, and one server can serve a whole test session,
:meth:`Emulator.reset` between tests (the pytest fixture ``rcskit_emulator`` does exactly
that). A bot under test can receive its webhooks over HTTP (:meth:`Emulator.set_webhook` with
a URL) or in-process with no socket at all (with a :class:`~rcskit.app.Bot` or any ASGI app):
the emulator then calls the app on the event loop of the test that registered it.

User actions (:meth:`~Emulator.reply`, :meth:`~Emulator.tap`, :meth:`~Emulator.share_location`,
:meth:`~Emulator.send_file`) return once the webhooks they caused were delivered and the
in-process bots have handled them (and the webhooks *their* answers caused, and so on), so a
test can assert right after them; :meth:`~Emulator.settle` waits the same way after a send.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import socket
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..client import RcsClient
from ..emulator.app import create_app
from ..emulator.config import BotConfig, EmulatorConfig, FaultConfig, default_config
from ..emulator.core import user_actions
from ..emulator.core.records import A2P, FMT_GOOGLE, StoredMessage
from ..emulator.core.request_log import LogEntry
from ..emulator.core.state import EmulatorState
from ..emulator.core.suggestions import suggestions_in
from ..formats import google, gsma
from ..message import Message, Text
from ..providers import registry
from ..providers.base import ProviderConfig
from ..serving import listen, url_host
from ..transport import AsgiTransport, HttpRequest
from .accounts import config_for

__all__ = ["Emulator", "EmulatorClock", "Phone", "ReceivedMessage"]

T = TypeVar("T")

SETTLE_TIMEOUT_S = 10.0
"""How long :meth:`Emulator.settle` waits for webhooks and bots to go quiet."""

_LOCAL_HOST = "rcskit-testing.invalid"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """A message a phone received from a bot: the neutral :class:`~rcskit.message.Message`
    (decoded from the wire body the bot sent), with its delivery status on the platform."""

    id: str
    provider: str
    bot_id: str
    message: Message
    status: str
    at: datetime

    @property
    def text(self) -> str | None:
        """The text of a text message, else ``None``."""
        content = self.message.content
        return content.text if isinstance(content, Text) else None

    @property
    def suggestions(self) -> tuple[Any, ...]:
        """The message's chips (replies and actions)."""
        return self.message.suggestions


@dataclass(frozen=True, slots=True)
class Phone:
    """What one simulated phone received, oldest first."""

    number: str
    messages: tuple[ReceivedMessage, ...]


class EmulatorClock:
    """The platform's clock: :meth:`advance` moves it and runs every timer that falls due
    (deliveries, expiries, webhook retries)."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

    def now(self) -> datetime:
        """The platform's current time."""
        return self._emulator._call(lambda state: state.now())

    def advance(self, seconds: float) -> None:
        """Move the platform clock ``seconds`` forward and run what falls due."""
        if not isinstance(seconds, int | float) or seconds < 0 or seconds != seconds:
            raise ValueError(f"seconds must be a finite number >= 0, got {seconds!r}")
        self._emulator._run(lambda state: state.advance(float(seconds)))


@dataclass(slots=True)
class _LocalApp:
    """A webhook target served in-process: an ASGI app called on its test's event loop."""

    transport: AsgiTransport
    loop: asyncio.AbstractEventLoop
    bot: Any | None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self.loop.is_closed():  # the test that registered the app has ended
            raise ConnectionRefusedError(f"the in-process app for {url} is gone (its loop closed)")
        request = HttpRequest("POST", url, headers=headers, content=body)
        call = self.transport.send(request, 30.0)
        try:
            future = asyncio.run_coroutine_threadsafe(call, self.loop)
        except RuntimeError:
            call.close()
            raise ConnectionRefusedError(f"the in-process app for {url} is gone") from None
        response = await asyncio.wrap_future(future)
        return response.status, response.body


class Emulator:
    """The rcskit emulator served on ``host``:``port`` (0: a free port) in a background thread.

    Use it as ``async with Emulator() as emu`` or ``with Emulator() as emu``, or call
    :meth:`start` and :meth:`stop`. ``config`` replaces the default platform (one demo bot per
    provider; the same as ``rcskit emulator``).
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._config = config
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._state: EmulatorState | None = None
        self._local: dict[str, _LocalApp] = {}
        self.url = ""
        """The emulator's base URL, e.g. ``http://127.0.0.1:43121``."""
        self.clock = EmulatorClock(self)
        """The platform clock (:meth:`EmulatorClock.advance`)."""

    def __repr__(self) -> str:
        return f"Emulator({self.url or 'not started'})"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Bind the port and serve the emulator until :meth:`stop`."""
        if self._thread is not None:
            return
        import uvicorn

        config = self._config or default_config()
        app = create_app(config)
        self._state = app.state.emulator
        self._state.webhooks.local_targets = self._local_target
        # a TCP socket with its protocol set, so that asyncio turns Nagle off on each
        # connection (a bare socket.socket() has proto 0: every answer then waits ~40 ms)
        sock = listen(self._host, self._port)
        self.url = f"http://{url_host(self._host)}:{sock.getsockname()[1]}"
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        )
        self._server = server
        loop = asyncio.new_event_loop()
        self._loop = loop
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve(server, sock, started))
            except BaseException as err:  # reported to start()
                failure.append(err)
            finally:
                started.set()
                sock.close()
                loop.close()

        self._thread = threading.Thread(target=run, name="rcskit-emulator", daemon=True)
        self._thread.start()
        started.wait(30)
        if failure or not server.started:
            self._thread = None
            raise RuntimeError(f"the emulator did not start on {self.url}: {failure or 'timeout'}")

    @staticmethod
    async def _serve(server: Any, sock: socket.socket, started: threading.Event) -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.001)
        started.set()
        await task

    def stop(self) -> None:
        """Stop serving and join the thread."""
        thread, loop, server = self._thread, self._loop, self._server
        if thread is None or loop is None:
            return
        server.should_exit = True
        thread.join(15)
        self._thread = None
        self._loop = None

    async def __aenter__(self) -> Emulator:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Fresh platform state: no messages, files, timers, webhooks or log; bots and phones
        as configured (webhook targets and faults set by the test are forgotten)."""
        self._local.clear()
        self._call(lambda state: state.reset(tokens=True))

    # ------------------------------------------------------------------ running on its loop

    def _submit(
        self, make: Callable[[EmulatorState], Coroutine[Any, Any, T]]
    ) -> concurrent.futures.Future[T]:
        loop, state = self._loop, self._state
        if loop is None or state is None:
            raise RuntimeError("the emulator is not started (use `async with Emulator()`)")
        return asyncio.run_coroutine_threadsafe(make(state), loop)

    def _run(self, make: Callable[[EmulatorState], Awaitable[T]]) -> T:
        async def wrapper(state: EmulatorState) -> T:
            return await make(state)

        return self._submit(wrapper).result(SETTLE_TIMEOUT_S * 3)

    def _call(self, fn: Callable[[EmulatorState], T]) -> T:
        async def wrapper(state: EmulatorState) -> T:
            return fn(state)

        return self._submit(wrapper).result(SETTLE_TIMEOUT_S)

    async def _acall(self, fn: Callable[[EmulatorState], T]) -> T:
        async def wrapper(state: EmulatorState) -> T:
            return fn(state)

        return await asyncio.wrap_future(self._submit(wrapper))

    # ------------------------------------------------------------------ accounts

    def bot(self, kind: str) -> BotConfig:
        """The emulator's bot of provider ``kind`` (the first one, when there are several)."""
        spec = registry.get(kind)
        state = self._state
        if state is None:
            raise RuntimeError("the emulator is not started (use `async with Emulator()`)")
        for bot in state.bots.values():
            if bot.provider == spec.emulator_flavour:
                return bot
        raise ValueError(f"the emulator has no {kind} bot")

    def config(self, kind: str, **overrides: Any) -> ProviderConfig:
        """The provider config of the emulator's demo bot of ``kind`` (``dotgo``,
        ``dotgo_google``, ``maap``, ``orange``, ``smsbox``, ``google``)."""
        return config_for(kind, self.url, self.bot(kind), **overrides)

    def client(self, kind: str, **options: Any) -> RcsClient:
        """An :class:`~rcskit.client.RcsClient` for that bot (``async with`` it, or
        ``await client.aclose()``); ``options`` go to ``RcsClient``."""
        return RcsClient(self.config(kind), **options)

    # ------------------------------------------------------------------ what phones received

    def phone(self, number: str) -> Phone:
        """What the phone ``number`` (E.164) received from every bot, oldest first."""
        return self._call(lambda state: _phone(state, number))

    @property
    def requests(self) -> list[LogEntry]:
        """The request log: every API request and webhook attempt, oldest first."""
        return self._call(lambda state: list(state.log))

    # ------------------------------------------------------------------ webhooks and faults

    def set_webhook(self, kind: str, target: Any) -> None:
        """Send the webhooks of ``kind``'s bot to ``target``: an http(s) URL, a
        :class:`~rcskit.app.Bot`, or an ASGI app (called in-process, on the event loop running
        when this is called, which must be the test's)."""
        bot = self.bot(kind)
        if isinstance(target, str):
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"webhook URL {target!r} must be an http(s) URL")
            url = target
        else:
            app = getattr(target, "asgi", target)
            if not callable(app):
                raise TypeError(f"target must be a URL, a Bot or an ASGI app, not {target!r}")
            runner = getattr(app, "bot", None) or (target if hasattr(target, "join") else None)
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise RuntimeError(
                    "set_webhook with an in-process app must be called from the test's event "
                    "loop (an async test); give a URL otherwise"
                ) from None
            path = getattr(target, "path", "/webhook")
            origin = f"http://{bot.id.lower()}.{_LOCAL_HOST}"
            self._local[origin] = _LocalApp(AsgiTransport(app), loop, runner)
            url = f"{origin}{path}"

        def assign(state: EmulatorState) -> None:
            state.bots[bot.id].webhook_url = url

        self._call(assign)

    def faults(
        self,
        kind: str,
        *,
        rate_429: float = 0.0,
        rate_5xx: float = 0.0,
        rate_timeout: float = 0.0,
        delay_ms: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Make the API of ``kind``'s bot fail: a share of requests answered 429 or 500, or
        held until they time out; ``delay_ms`` added to every request."""
        faults = FaultConfig(
            rate_429=rate_429,
            rate_500=rate_5xx,
            rate_timeout=rate_timeout,
            latency_s=delay_ms / 1000,
            seed=seed,
        )
        bot = self.bot(kind)

        def assign(state: EmulatorState) -> None:
            state.bots[bot.id].faults = faults
            state.faults[bot.id].configure(faults)

        self._call(assign)

    def _local_target(
        self, url: str
    ) -> Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, bytes]]] | None:
        parts = urlsplit(url)
        local = self._local.get(f"{parts.scheme}://{parts.netloc}")
        return None if local is None else local.post

    # ------------------------------------------------------------------ user actions

    def _bot_for(self, kind: str | None) -> BotConfig:
        if kind is not None:
            return self.bot(kind)
        state = self._state
        assert state is not None
        with_hooks = [b for b in state.bots.values() if b.webhook_url]
        if len(with_hooks) == 1:
            return with_hooks[0]
        return self.bot("dotgo")

    async def reply(self, number: str, text: str, *, kind: str | None = None) -> str:
        """The user ``number`` sends ``text`` to the bot of ``kind`` (default: the one bot with a
        webhook, else Dotgo's); returns the user message id once handled."""
        bot = self._bot_for(kind)
        msg = await self._acall(lambda s: user_actions.send_text(s, bot.id, number, text))
        await self.settle()
        return msg.msg_id

    async def tap(self, number: str, suggestion: str, *, kind: str | None = None) -> str:
        """The user taps the suggestion labelled ``suggestion`` (or with that postback data) in
        the newest message of the bot that offers it."""
        bot = self._bot_for(kind)

        def tap(state: EmulatorState) -> StoredMessage:
            for msg in reversed(list(state.conversation(bot.id, number).messages)):
                if msg.direction != A2P:
                    continue
                for found in suggestions_in(msg.content_json(), msg.fmt):
                    if suggestion in (found.text, found.postback):
                        return user_actions.tap(
                            state,
                            bot.id,
                            number,
                            msg_id=msg.msg_id,
                            index=found.index,
                            card_index=found.card_index,
                        )
            raise ValueError(f"no message from bot {bot.id} to {number} offers {suggestion!r}")

        msg = await self._acall(tap)
        await self.settle()
        return msg.msg_id

    async def share_location(
        self,
        number: str,
        latitude: float,
        longitude: float,
        *,
        label: str | None = None,
        kind: str | None = None,
    ) -> str:
        """The user shares a location with the bot."""
        bot = self._bot_for(kind)
        msg = await self._acall(
            lambda s: user_actions.share_location(s, bot.id, number, latitude, longitude, label)
        )
        await self.settle()
        return msg.msg_id

    async def send_file(
        self,
        number: str,
        *,
        url: str,
        mime_type: str,
        size: int,
        name: str,
        kind: str | None = None,
    ) -> str:
        """The user sends a file (hosted at ``url``) to the bot."""
        bot = self._bot_for(kind)
        msg = await self._acall(
            lambda s: user_actions.send_file(
                s, bot.id, number, url=url, mime_type=mime_type, size=size, name=name
            )
        )
        await self.settle()
        return msg.msg_id

    async def settle(self, timeout: float = SETTLE_TIMEOUT_S) -> None:
        """Wait until no webhook is in flight and every in-process bot has handled what it got
        (twice in a row: a bot's answer can cause more webhooks)."""
        quiet = 0
        deadline = asyncio.get_running_loop().time() + timeout
        while quiet < 2:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the emulator and its bots did not settle in {timeout} s")
            busy = await asyncio.wrap_future(self._submit(_drain_webhooks))
            for local in list(self._local.values()):
                runner = local.bot
                if runner is not None and asyncio.get_running_loop() is local.loop:
                    await runner.join()
            quiet = 0 if busy else quiet + 1
            await asyncio.sleep(0)


async def _drain_webhooks(state: EmulatorState) -> bool:
    """Run what is due and wait for in-flight webhooks; whether anything was pending."""
    ran = await state.run_due()
    pending = state.webhooks.pending()
    await state.webhooks.drain()
    return bool(ran or pending)


def _phone(state: EmulatorState, number: str) -> Phone:
    received: list[StoredMessage] = []
    for messages in state.messages.values():
        received.extend(m for m in messages.values() if m.phone == number and m.direction == A2P)
    received.sort(key=lambda m: m.created)
    out = []
    for msg in received:
        bot = state.bots[msg.bot_id]
        fmt = google if msg.fmt == FMT_GOOGLE else gsma
        envelope = fmt.decode(msg.content_json())
        out.append(
            ReceivedMessage(
                id=msg.msg_id,
                provider=bot.provider,
                bot_id=msg.bot_id,
                message=envelope.message,
                status=msg.status,
                at=datetime.fromtimestamp(msg.created, tz=state.now().tzinfo),
            )
        )
    return Phone(number, tuple(out))
