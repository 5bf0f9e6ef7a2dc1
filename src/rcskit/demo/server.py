"""``rcskit demo``: the emulator and the showcase bot in one process, behind one server.

One ASGI app serves both: the bot's webhook at ``/_demo_bot/webhook``, the showcase's media at
``/_demo_media/`` (:mod:`rcskit.demo.media`: the phone page loads nothing from another host)
and the emulator (API, admin API, web UI) everywhere else. At start-up:

- the bot gets an :class:`~rcskit.client.RcsClient` aimed at the emulator's Dotgo flavour
  with the demo bot's credentials, taken from the emulator's config in-process (nothing
  secret is printed), calling the emulator in-process (:class:`~rcskit.transport.AsgiTransport`);
- the bot's webhook URL is registered through the admin API; the bot accepts webhooks from
  this machine only (the Dotgo flavour signs nothing, so an address allow-list it is);
- the bot handles a ``newUser`` event for the demo phone, so its welcome card is waiting on
  the phone page (the emulator's Dotgo flavour posts no ``newUser`` webhook itself).

::

    import asyncio
    from rcskit.demo.server import run_demo

    asyncio.run(run_demo("127.0.0.1", 8000, open_browser=False))
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import webbrowser
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from ..app import Bot
from ..client import DotgoConfig, RcsClient
from ..emulator import Clock, EmulatorState, create_app, default_config
from ..emulator.app import ADMIN_PREFIX
from ..emulator.config import EmulatorConfig, TemplateConfig
from ..emulator.ui import feed_of
from ..emulator.ui.render import phone_href
from ..events import NewUser
from ..inbound.verify import IpAllowList
from ..message import Contact
from ..observability.logs import uvicorn_log_config
from ..transport import ASGIApp, AsgiTransport, HttpRequest
from .media import MEDIA_PREFIX, media_app, media_files
from .showcase import TEMPLATE_CODE, build_bot

__all__ = [
    "BOT_PREFIX",
    "DEMO_BOT_ID",
    "DEMO_PHONE",
    "Demo",
    "DemoServer",
    "banner",
    "base_url_for",
    "bind",
    "create_demo",
    "demo_config",
    "run_demo",
    "server_for",
    "webhook_sources",
]

DEMO_BOT_ID = "OsOsQ0GwNvUdLTV9Bd"
"""The emulator's default Dotgo (GSMA API) bot, which the showcase runs as."""
DEMO_PHONE = "+14251234567"
"""The phone whose page the demo opens."""
BOT_PREFIX = "/_demo_bot"
"""Where the bot's ASGI app is mounted (its webhook is ``{BOT_PREFIX}/webhook``)."""


def demo_config() -> EmulatorConfig:
    """The emulator's default config plus the showcase's Dotgo template (``showcase_welcome``)."""
    config = default_config()
    bot = config.bot(DEMO_BOT_ID)
    if bot is None:  # pragma: no cover - the default config defines it
        raise LookupError(f"the default emulator config has no bot {DEMO_BOT_ID}")
    bot.templates[TEMPLATE_CODE] = TemplateConfig(
        kind="text",
        params=["name"],
        content={"textMessage": f"Hello {{name}}! This is the Dotgo template {TEMPLATE_CODE}."},
    )
    return config


def webhook_sources(base_url: str) -> list[str]:
    """Where the emulator's webhooks come from: loopback, or the address of ``base_url``'s
    host (the emulator posts to that URL from this machine)."""
    sources = ["127.0.0.0/8", "::1/128"]
    host = urlsplit(base_url).hostname or "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return sources
    for *_, address in infos:
        ip = str(address[0]).split("%", 1)[0]
        if ip not in sources:
            sources.append(ip)
    return sources


def base_url_for(host: str, port: int) -> str:
    """The URL the demo is reached at (a wildcard address is shown as 127.0.0.1)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


@dataclass(slots=True)
class Demo:
    """The demo's parts: ``app`` is what the server runs."""

    app: Starlette
    emulator: Starlette
    state: EmulatorState
    bot: Bot
    client: RcsClient
    base_url: str
    webhook_url: str
    phone_url: str

    def close_streams(self) -> None:
        """End the web UI's live streams (so that a stopping server need not wait for open
        browser tabs)."""
        feed_of(self.state).close()


def _asgi(app: Starlette) -> ASGIApp:
    return app


async def _register_webhook(emulator: Starlette, base_url: str, url: str) -> None:
    """``PUT /_emulator/bots/{id}/webhook`` in-process, as a script would over HTTP."""
    transport = AsgiTransport(_asgi(emulator))
    request = HttpRequest(
        "PUT", f"{base_url}{ADMIN_PREFIX}/bots/{DEMO_BOT_ID}/webhook", json={"url": url}
    )
    response = await transport.send(request, timeout=10.0)
    if not response.ok:
        raise RuntimeError(f"registering the demo bot's webhook failed: {response.text()}")


def create_demo(
    base_url: str,
    *,
    config: EmulatorConfig | None = None,
    clock: Clock | None = None,
    on_ready: Callable[[], Any] | None = None,
) -> Demo:
    """Build the demo app for a server reached at ``base_url`` (``http://127.0.0.1:8000``).

    ``on_ready`` runs at the end of the app's start-up (``rcskit demo`` opens the browser there).
    """
    base_url = base_url.rstrip("/")
    emulator = create_app(config or demo_config(), clock=clock)
    state: EmulatorState = emulator.state.emulator
    credentials = state.bots[DEMO_BOT_ID]
    client = RcsClient(
        DotgoConfig(
            DEMO_BOT_ID,
            credentials.client_id,
            credentials.client_secret.get_secret_value(),
            server_root=f"{base_url}/dotgo/rcs",
            auth_url=f"{base_url}/dotgo/auth/oauth/token",
        ),
        transport=AsgiTransport(_asgi(emulator)),
    )
    bot = build_bot(
        client,
        provider="dotgo",
        verifier=IpAllowList(webhook_sources(base_url)),
        dedup="memory",
        state="memory",
        media_base=f"{base_url}{MEDIA_PREFIX}",
    )
    webhook_url = f"{base_url}{BOT_PREFIX}{bot.path}"

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with emulator.router.lifespan_context(emulator):
            await bot.start()
            try:
                await asyncio.to_thread(media_files)  # drawn once, before the first page

                await _register_webhook(emulator, base_url, webhook_url)
                bot.enqueue(NewUser(provider="dotgo", contact=Contact(DEMO_PHONE)))
                if on_ready is not None:
                    on_ready()
                yield
            finally:
                await bot.stop()
                await client.aclose()

    app = Starlette(
        routes=[
            Mount(BOT_PREFIX, app=bot.asgi),
            Mount(MEDIA_PREFIX, app=media_app()),
            Mount("/", app=emulator),
        ],
        lifespan=lifespan,
    )
    phone_url = base_url + phone_href(DEMO_PHONE, DEMO_BOT_ID)
    return Demo(app, emulator, state, bot, client, base_url, webhook_url, phone_url)


def bind(host: str, port: int) -> socket.socket:
    """A non-blocking listening TCP socket on ``host:port`` (``port=0``: a free port), as
    :func:`rcskit.serving.listen` makes it. Raises ``OSError``."""
    from ..serving import listen

    sock = listen(host, port)
    sock.setblocking(False)
    return sock


def banner(demo: Demo) -> str:
    """What ``rcskit demo`` prints: where the phone page, the API and the bot are."""
    base = demo.base_url
    return "\n".join(
        [
            "rcskit demo: the emulator and the showcase bot, in one process",
            "",
            f"  Phone page:   {demo.phone_url}",
            f"  All phones:   {base}/",
            f"  Bot webhook:  {demo.webhook_url}  (Dotgo GSMA flavour, bot {DEMO_BOT_ID})",
            f"  Dotgo API:    {base}/dotgo/rcs  (token URL {base}/dotgo/auth/oauth/token)",
            f"  Admin API:    {base}{ADMIN_PREFIX}/",
            f"  Demo media:   {base}{MEDIA_PREFIX}/  (images, audio, video, a PDF: all local)",
            "",
            "Type help on the phone page, or tap a suggestion, to see every RCS feature.",
            "Press Ctrl-C to stop.",
        ]
    )


class DemoServer(uvicorn.Server):
    """A uvicorn server that ends the web UI's live streams when asked to stop, so that open
    browser tabs do not hold the shutdown."""

    def __init__(self, config: uvicorn.Config, demo: Demo) -> None:
        super().__init__(config)
        self.demo = demo
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        """Serve until stopped (see :meth:`uvicorn.Server.serve`)."""
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """On SIGINT/SIGTERM: end the live streams, then stop as uvicorn does."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.demo.close_streams)
        super().handle_exit(sig, frame)


def server_for(demo: Demo, *, log_level: str = "warning") -> DemoServer:
    """The uvicorn server of a demo (runs ``demo.app``; give it the socket from :func:`bind`).

    Once ``configure_logging("json")`` ran (``rcskit demo --log-format json``), uvicorn's own
    lines are JSON lines too."""
    config = uvicorn.Config(
        demo.app,
        log_level=log_level,
        lifespan="on",
        timeout_graceful_shutdown=3,
        **uvicorn_log_config(),
    )
    return DemoServer(config, demo)


async def run_demo(
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    open_browser: bool = True,
    echo: Callable[[str], Any] = print,
) -> None:
    """Run the demo until interrupted: listen, print :func:`banner`, open the phone page.

    Raises ``OSError`` when ``host:port`` cannot be listened on.
    """
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    ready: Callable[[], Any] | None = None
    demo: Demo

    def opened() -> None:
        # the socket already listens: the browser's request waits in its backlog
        asyncio.get_running_loop().run_in_executor(None, webbrowser.open, demo.phone_url)

    if open_browser:
        ready = opened
    demo = create_demo(base_url_for(host, bound_port), on_ready=ready)
    echo(banner(demo))
    sys.stdout.flush()
    await server_for(demo).serve(sockets=[sock])
