"""``rcskit emulator``: the local platform emulator (:mod:`rcskit.emulator`) on a port."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .observability import LogFormat, LogFormatOption, start_observability

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``emulator`` command to the ``rcskit`` command line."""

    @app.command("emulator")
    def emulator(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
        ] = 8000,
        config: Annotated[Path | None, typer.Option(help="Emulator config (TOML).")] = None,
        show_credentials: Annotated[
            bool,
            typer.Option("--show-credentials", help="Also print the bots' secrets and keys."),
        ] = False,
        client_secret: Annotated[
            str | None,
            typer.Option(
                "--client-secret",
                envvar="RCSKIT_EMULATOR_CLIENT_SECRET",
                help="Client secret of the default Dotgo demo bots (the `emulator` provider of "
                "rcskit.toml uses the same default; default: the emulator's demo secret).",
                show_default=False,
            ),
        ] = None,
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Start a local RBM platform emulator (Dotgo, Orange BotHub, SMSBOX, GSMA MaaP and
        Google RBM APIs, simulated phones, a web UI)."""
        from ..emulator.app import banner, serve
        from ..emulator.config import (
            DEMO_CLIENT_SECRET,
            EmulatorConfigError,
            default_config,
            load_config,
        )
        from ..serving import listen_or_exit, url_host

        try:
            loaded = (
                load_config(config)
                if config is not None
                else default_config(DEMO_CLIENT_SECRET if client_secret is None else client_secret)
            )
        except EmulatorConfigError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        sock = listen_or_exit(host, port)  # a busy port: one line, no banner
        bound = sock.getsockname()[1]
        base = f"http://{url_host(host)}:{bound}"
        typer.echo(banner(loaded, base, show_credentials=show_credentials))
        start_observability(log_format)
        serve(host, bound, loaded, sock=sock, json_logs=log_format == LogFormat.json)
