"""Command-line entries for bots: ``rcskit run`` and ``rcskit tail``.

The CLI module adds them with ``register(app)``::

    from rcskit.app.commands import register
    register(app)        # app is the rcskit typer.Typer
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import socket
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ..events import Event
from .bot import Bot

__all__ = [
    "DEFAULT_PORT",
    "cannot_listen",
    "listen",
    "listen_or_exit",
    "load_bot",
    "register",
    "serve_on",
    "tail_bot",
    "url_host",
]

DEFAULT_PORT = 8080
"""Where ``rcskit run`` and ``rcskit tail`` listen by default (the emulator has 8000)."""


def load_bot(target: str) -> Bot:
    """The Bot named by ``file.py:attr`` or ``package.module:attr`` (``attr`` defaults to ``bot``).

    ``attr`` may also be a function that returns a Bot. Errors are ValueError with the reason.
    """
    location, sep, attr = target.rpartition(":")
    if not sep:
        location, attr = target, "bot"
    if not location or not attr:
        raise ValueError(f"{target!r}: expected file.py:bot or package.module:bot")
    module: Any
    if location.endswith(".py") or "/" in location or "\\" in location:
        path = Path(location)
        if not path.is_file():
            raise ValueError(f"{location}: no such file")
        name = f"rcskit_user_bot_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ValueError(f"{location}: cannot be imported as Python")
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(location)
        except ImportError as err:
            raise ValueError(f"{location}: cannot import ({err})") from None
    if not hasattr(module, attr):
        raise ValueError(f"{location} has no attribute {attr!r}")
    found = getattr(module, attr)
    if not isinstance(found, Bot) and callable(found):
        found = found()
    if not isinstance(found, Bot):
        raise ValueError(f"{target} is a {type(found).__name__}, not an rcskit Bot")
    return found


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``port=0``: any free port). Raises ``OSError``.

    The commands bind before they announce or register anything, then hand the socket to
    uvicorn (:func:`serve_on`).
    """
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name == "posix":  # elsewhere SO_REUSEADDR would share a port in use
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def url_host(host: str) -> str:
    """``host`` as written in a URL to this machine (a wildcard address becomes 127.0.0.1)."""
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _port_to_try(host: str, port: int) -> int | None:
    """A port free on ``host`` right now: one of the next ten, else any; ``None`` if none."""
    for candidate in [*range(port + 1, min(port + 10, 65535) + 1), 0]:
        try:
            sock = listen(host, candidate)
        except OSError:
            continue
        with sock:
            free: int = sock.getsockname()[1]
        return free
    return None


def cannot_listen(host: str, port: int, err: OSError) -> str:
    """The one-line error of a command that cannot listen on ``host:port``."""
    reason = err.strerror or str(err)
    free = _port_to_try(host, port)
    hint = f"try --port {free}" if free is not None else "check --host"
    return f"error: cannot listen on {_netloc(host, port)} ({reason}); {hint}"


def listen_or_exit(host: str, port: int) -> socket.socket:
    """:func:`listen`, or print :func:`cannot_listen` and exit with status 1."""
    try:
        return listen(host, port)
    except OSError as err:
        typer.echo(cannot_listen(host, port, err), err=True)
        raise typer.Exit(1) from None


def serve_on(app: Any, sock: socket.socket, **options: Any) -> None:
    """Serve ``app`` with uvicorn on the listening ``sock`` until interrupted (``options``:
    :class:`uvicorn.Config`'s). Exits with status 3 if the server did not start."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **options))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    if not server.started:
        sys.exit(3)


_FORMAT_LABELS = {"maap": "gsma", "dotgo": "billing"}
"""``--provider auto`` names events after their body's format: the parser calls GSMA bodies
``maap`` and Dotgo billing bodies ``dotgo`` (see ``rcskit.inbound``), so one Dotgo bot's
messages and its billing events would carry two provider names."""


def _line(event: Event, label: str | None = None) -> str:
    when = (event.timestamp or datetime.now()).strftime("%H:%M:%S")
    contact = str(event.contact) if event.contact is not None else "-"
    label = label or event.provider
    return f"{when}  {label:<12} {event.event_type:<19} {contact:<18} {event.describe()}"


def tail_bot(provider: str = "auto", path: str = "/webhook", *, show_raw: bool = False) -> Bot:
    """A bot that prints every event it receives (no verification, memory de-duplication).

    With ``provider="auto"`` the second column is the body's format (``gsma``, ``google``,
    ``smsbox``, ``billing``): a body does not tell which platform sent it.
    """
    bot = Bot(provider=provider, path=path, dedup="memory", state="memory", name="tail")

    @bot.on_event
    def print_event(event: Event) -> None:
        label = _FORMAT_LABELS.get(event.provider) if provider == "auto" else None
        typer.echo(_line(event, label))
        if show_raw:
            import json

            typer.echo("    " + json.dumps(event.raw, ensure_ascii=False))

    return bot


def register_with_emulator(admin_url: str, bot_id: str, webhook: str, timeout: float = 5.0) -> None:
    """Tell the local emulator to deliver ``bot_id``'s webhooks to ``webhook`` (admin API PUT).

    Raises :class:`OSError` when the emulator does not answer or refuses.
    """
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{admin_url.rstrip('/')}/bots/{bot_id}/webhook",
        data=json.dumps({"url": webhook}).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        if response.status != 200:
            raise OSError(f"the emulator answered {response.status}")


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``tail`` to the rcskit command line."""

    @app.command("run")
    def run(
        target: Annotated[str, typer.Argument(help="The bot: file.py:bot or package.module:bot.")],
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
        ] = DEFAULT_PORT,
        provider: Annotated[
            str | None,
            typer.Option(
                "--provider",
                "-p",
                help="Provider of rcskit.toml the bot replies through (when the bot has no "
                "client). `emulator` also registers the bot's webhook with the local emulator.",
            ),
        ] = None,
        config: Annotated[
            str | None,
            typer.Option("--config", help="The rcskit.toml file (default: ./rcskit.toml)."),
        ] = None,
        log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    ) -> None:
        """Serve a bot's webhook (POST <bot.path>, GET /health) with uvicorn."""
        try:
            bot = load_bot(target)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        emulator: tuple[str, str] | None = None  # (admin URL, bot id) to register with
        if provider is not None:
            from ..config import ConfigError, load_config

            path = (
                config
                if config is not None
                else ("rcskit.toml" if os.path.exists("rcskit.toml") else None)
            )
            try:
                settings = load_config(path, os.environ)
                bot.client = settings.client(provider)
            except (ConfigError, ValueError) as err:
                typer.echo(f"error: {err}", err=True)
                raise typer.Exit(1) from None
            if provider == "emulator":
                emulator = (settings.emulator_admin_url(), settings.emulator_bot_id())
        elif bot.client is None:
            typer.echo(
                "note: the bot has no client, so replies fail; pass --provider NAME "
                "(e.g. --provider emulator)",
                err=True,
            )
        sock = listen_or_exit(host, port)  # before registering: no webhook to a busy port
        url = f"http://{url_host(host)}:{sock.getsockname()[1]}{bot.path}"
        if emulator is not None:
            try:
                register_with_emulator(*emulator, url)
            except OSError as err:
                sock.close()
                typer.echo(
                    f"error: cannot reach the emulator to register {url} ({err}); "
                    "start it first with `rcskit emulator`",
                    err=True,
                )
                raise typer.Exit(1) from None
            typer.echo(f"registered {url} as the emulator bot's webhook")
        logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        typer.echo(f"serving {bot.name!r} on {url}")
        serve_on(bot.asgi, sock, log_level=log_level)

    @app.command("tail")
    def tail(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free port).")
        ] = DEFAULT_PORT,
        provider: Annotated[
            str,
            typer.Option(
                help="Webhook format: auto, dotgo, dotgo_google, google, ... (auto labels each "
                "event with its body's format: gsma, google, smsbox or billing)."
            ),
        ] = "auto",
        path: Annotated[str, typer.Option(help="The webhook path.")] = "/webhook",
        raw: Annotated[bool, typer.Option("--raw", help="Also print each raw body.")] = False,
    ) -> None:
        """Receive webhooks and print each event as it arrives (for debugging)."""
        try:
            bot = tail_bot(provider, path, show_raw=raw)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        sock = listen_or_exit(host, port)
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        url = f"http://{url_host(host)}:{sock.getsockname()[1]}{bot.path}"
        typer.echo(f"listening on {url} (Ctrl-C to stop)")
        serve_on(bot.asgi, sock, log_level="warning")
