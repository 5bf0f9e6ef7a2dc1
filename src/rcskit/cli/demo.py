"""``rcskit demo``: the emulator and the showcase bot together (:mod:`rcskit.demo`)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .observability import LogFormat, LogFormatOption, start_observability
from .output import run_coroutine

__all__ = ["register"]


def _has_gui() -> bool:
    """Whether a graphical browser can open here (on Linux without a display, Python's
    ``webbrowser`` would start a text browser in this terminal instead)."""
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the ``rcskit`` command line."""

    @app.command("demo")
    def demo(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[
            int, typer.Option(min=0, max=65535, help="TCP port (0: any free port).")
        ] = 8000,
        no_browser: Annotated[
            bool, typer.Option("--no-browser", help="Do not open the phone page in a browser.")
        ] = False,
        log_format: LogFormatOption = LogFormat.text,
    ) -> None:
        """Start the emulator and the showcase bot, and open a phone's page: a working RCS
        conversation in one command."""
        from ..demo.server import run_demo
        from ..serving import cannot_listen

        start_observability(log_format)
        try:
            run_coroutine(
                run_demo(host, port, open_browser=not no_browser and _has_gui(), echo=typer.echo)
            )
        except OSError as exc:
            typer.echo(cannot_listen(host, port, exc), err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("stopped")
