"""``rcskit run`` (serve a bot's webhook) and ``rcskit tail`` (print every webhook event).

The bot itself is found by :func:`rcskit.app.loader.load_bot`; the socket helpers are
:mod:`rcskit.serving`'s.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from ..serving import listen_or_exit, serve_on, url_host
from .observability import (
    LogFormat,
    LogFormatOption,
    MetricsPortOption,
    announce,
    start_observability,
    uvicorn_log_options,
)

if TYPE_CHECKING:
    from ..app.bot import Bot
    from ..events import Event

__all__ = ["DEFAULT_PORT", "format_label", "register", "register_with_emulator", "tail_bot"]

DEFAULT_PORT = 8080
"""Where ``rcskit run`` and ``rcskit tail`` listen by default (the emulator has 8000)."""


def format_label(event: Event) -> str:
    """What ``tail --provider auto`` prints in its second column: the event's body format
    (``gsma``, ``google``, ``orange``, ``smsbox``) or ``billing``. A body does not tell which
    platform sent it: the parser names GSMA bodies after the generic MaaP provider, and Dotgo
    billing events after Dotgo, so one Dotgo bot's messages and its billing events would
    otherwise carry two provider names."""
    from ..providers import registry

    if event.event_type == "billing":
        return "billing"
    spec = registry.find(event.provider)
    return spec.webhook_format if spec is not None else event.provider


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
    from ..app.bot import Bot

    bot = Bot(provider=provider, path=path, dedup="memory", state="memory", name="tail")

    @bot.on_event
    def print_event(event: Event) -> None:
        label = format_label(event) if provider == "auto" else None
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
        metrics_port: MetricsPortOption = None,
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Serve a bot's webhook (POST <bot.path>, GET /health) with uvicorn."""
        from ..app import loader

        try:
            bot = loader.load_bot(target)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        emulator: tuple[str, str] | None = None  # (admin URL, bot id) to register with
        if provider is not None:
            from .config import DEFAULT_PATH, ConfigError, load_config

            path = (
                config
                if config is not None
                else (DEFAULT_PATH if os.path.exists(DEFAULT_PATH) else None)
            )
            try:
                settings = load_config(path, os.environ)
                bot.client = settings.client(provider)
            except (ConfigError, ValueError) as err:
                typer.echo(f"error: {err}", err=True)
                raise typer.Exit(1) from None
            if provider == "emulator":
                emulator = (settings.emulator_admin_url(), settings.emulator_bot_id())
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
        _metrics = start_observability(log_format, metrics_port, level=log_level)
        if provider is None and bot.client is None:
            announce(
                "note: the bot has no client, so replies fail; pass --provider NAME "
                "(e.g. --provider emulator)",
                level=logging.WARNING,
            )
        typer.echo(f"serving {bot.name!r} on {url}")
        serve_on(bot.asgi, sock, log_level=log_level, **uvicorn_log_options(log_format))

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
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Receive webhooks and print each event as it arrives (for debugging). The events go
        to standard output as text either way; --log-format json makes the logs on standard
        error JSON lines."""
        try:
            bot = tail_bot(provider, path, show_raw=raw)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(1) from None
        sock = listen_or_exit(host, port)
        if log_format == LogFormat.json:
            start_observability(log_format)
        else:
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        url = f"http://{url_host(host)}:{sock.getsockname()[1]}{bot.path}"
        typer.echo(f"listening on {url} (Ctrl-C to stop)")
        serve_on(bot.asgi, sock, log_level="warning", **uvicorn_log_options(log_format))
