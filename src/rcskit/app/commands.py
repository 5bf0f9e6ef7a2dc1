"""Command-line entries for bots: ``rcskit run`` and ``rcskit tail``.

The CLI module adds them with ``register(app)``::

    from rcskit.app.commands import register
    register(app)        # app is the rcskit typer.Typer
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from ..events import Event
from .bot import Bot

__all__ = ["load_bot", "register", "tail_bot"]


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


def _line(event: Event) -> str:
    when = (event.timestamp or datetime.now()).strftime("%H:%M:%S")
    contact = str(event.contact) if event.contact is not None else "-"
    return f"{when}  {event.provider:<12} {event.event_type:<19} {contact:<18} {event.describe()}"


def tail_bot(provider: str = "auto", path: str = "/webhook", *, show_raw: bool = False) -> Bot:
    """A bot that prints every event it receives (no verification, memory de-duplication)."""
    bot = Bot(provider=provider, path=path, dedup="memory", state="memory", name="tail")

    @bot.on_event
    def print_event(event: Event) -> None:
        typer.echo(_line(event))
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
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
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
        import os

        import uvicorn

        try:
            bot = load_bot(target)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
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
                webhook = f"http://{host}:{port}{bot.path}"
                try:
                    register_with_emulator(
                        settings.emulator_admin_url(), settings.emulator_bot_id(), webhook
                    )
                except OSError as err:
                    typer.echo(
                        f"error: cannot reach the emulator to register {webhook} ({err}); "
                        "start it first with `rcskit emulator`",
                        err=True,
                    )
                    raise typer.Exit(1) from None
                typer.echo(f"registered {webhook} as the emulator bot's webhook")
        elif bot.client is None:
            typer.echo(
                "note: the bot has no client, so replies fail; pass --provider NAME "
                "(e.g. --provider emulator)",
                err=True,
            )
        logging.basicConfig(level=log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
        typer.echo(f"serving {bot.name!r} on http://{host}:{port}{bot.path}")
        uvicorn.run(bot.asgi, host=host, port=port, log_level=log_level)

    @app.command("tail")
    def tail(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
        provider: Annotated[
            str, typer.Option(help="Webhook format: auto, dotgo, dotgo_google, google, ...")
        ] = "auto",
        path: Annotated[str, typer.Option(help="The webhook path.")] = "/webhook",
        raw: Annotated[bool, typer.Option("--raw", help="Also print each raw body.")] = False,
    ) -> None:
        """Receive webhooks and print each event as it arrives (for debugging)."""
        import uvicorn

        try:
            bot = tail_bot(provider, path, show_raw=raw)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        typer.echo(f"listening on http://{host}:{port}{bot.path} (Ctrl-C to stop)")
        uvicorn.run(bot.asgi, host=host, port=port, log_level="warning")
