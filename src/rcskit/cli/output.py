"""How the commands talk to the user: one-line errors, JSON output, progress notes.

Exit statuses (the same for every command): 0 done, 1 a check or a send failed (or the input
or configuration is bad), 2 usage (an unknown option or a value of the wrong form).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Coroutine, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

T = TypeVar("T")

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "fail",
    "json_line",
    "note",
    "one_line",
    "progress_note",
    "run_coroutine",
    "table_console",
]

TABLE_WIDTH_OFF_TERMINAL = 1000
"""Columns a table may take when standard output is not a terminal (ids are never folded)."""

EXIT_OK = 0
EXIT_FAILED = 1
"""A check failed, a send failed, or the input, the configuration or the provider said no."""
EXIT_USAGE = 2
"""The command line itself is wrong (click uses 2 for its own usage errors too)."""


def one_line(err: BaseException | str) -> str:
    """``err`` as one line: its text with every run of whitespace made one space."""
    return " ".join(str(err).split())


def run_coroutine(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on a new event loop until it completes (asyncio is imported here, when a
    command runs: ``rcskit --help`` does not need it)."""
    import asyncio

    return asyncio.run(main)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` on standard error and exit with ``code``."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """A note for the user on standard error (never mixed into the output scripts read)."""
    typer.echo(message, err=True)


def json_line(value: Mapping[str, Any]) -> None:
    """Print ``value`` as one line of JSON (non-ASCII kept, times as ISO 8601 strings)."""
    typer.echo(json.dumps(value, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        return iso()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def table_console() -> Console:
    """A rich console for tables on standard output: the terminal's width on a terminal;
    elsewhere (a pipe, a file) wide enough that no row wraps."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=TABLE_WIDTH_OFF_TERMINAL)


def progress_note(message: str) -> None:
    """A progress note on standard error: rewritten in place on a terminal, one line each
    elsewhere (a log file or a pipe gets ``imported 1,000 lines`` then ``imported 2,000 lines``
    on lines of their own)."""
    stream = sys.stderr
    if stream.isatty():
        stream.write(f"\r{message}\x1b[K")
    else:
        stream.write(f"{message}\n")
    stream.flush()


def end_progress() -> None:
    """End a run of in-place progress notes (a new line on a terminal, nothing elsewhere)."""
    if sys.stderr.isatty():
        sys.stderr.write("\n")
        sys.stderr.flush()
