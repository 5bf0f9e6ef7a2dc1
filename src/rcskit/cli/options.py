"""Options several commands share, and the defaults they show in ``--help``.

This module stays light (typer and the standard library): every command module imports it at
start-up, and ``rcskit --help`` must not load the client, the store or the servers.
"""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_DATABASE",
    "ConfigOption",
    "DatabaseOption",
    "JsonOption",
    "ProviderOption",
]

DEFAULT_CONFIG_FILE = "rcskit.toml"
"""The provider accounts file the commands read when ``--config`` is not given (if it exists)."""

DEFAULT_DATABASE = "rcskit.db"
"""The database of the store commands when neither ``--database`` nor ``RCSKIT_DATABASE`` is
given (the store's own default, :data:`rcskit.store.DEFAULT_DATABASE`; a test keeps them equal)."""

ProviderOption = Annotated[
    str | None,
    typer.Option(
        "--provider",
        "-p",
        help="Provider account name from rcskit.toml (default: default_provider, the only "
        "one configured, or the built-in 'emulator').",
        show_default=False,
    ),
]

ConfigOption = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        help=f"Provider accounts file (default: ./{DEFAULT_CONFIG_FILE} when it exists).",
        show_default=False,
    ),
]

DatabaseOption = Annotated[
    str,
    typer.Option(
        "--database",
        "-d",
        envvar="RCSKIT_DATABASE",
        help="A SQLite file path or a postgresql:// URL.",
    ),
]

JsonOption = Annotated[
    bool,
    typer.Option("--json", help="Print JSON (snake_case fields) instead of a table."),
]
