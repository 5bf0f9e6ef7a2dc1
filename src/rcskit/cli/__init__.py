"""The ``rcskit`` command line: the composition root, and the only part of rcskit that reads
the environment or ``rcskit.toml``.

One module per command group, each with a ``register(app)``:

- :mod:`.bodies`: ``validate``, ``convert``
- :mod:`.provider`: ``send``, ``capabilities``, ``revoke``, ``status``, ``upload``, ``tester``
- :mod:`.bot`: ``run``, ``tail``
- :mod:`.store`: ``db upgrade``, ``messages``, ``message``
- :mod:`.emulator`: ``emulator``; :mod:`.demo`: ``demo``
- :mod:`.campaign`: the ``campaign`` group

:mod:`.config` loads provider accounts, :mod:`.options` holds the shared options and
:mod:`.output` the error, JSON and progress helpers. The command modules import the library
(client, store, servers) inside the commands, so ``rcskit --help`` starts fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from . import bodies, bot, campaign, demo, emulator, provider, store
from .help import PlainGroup, tidy

__all__ = ["app", "main"]

app = typer.Typer(
    name="rcskit",
    cls=PlainGroup,
    help="RCS Business Messaging toolkit: validate, convert, send, run bots and a local emulator.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rcskit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """RCS Business Messaging toolkit."""


bodies.register(app)
provider.register(app)
bot.register(app)
store.register(app)
emulator.register(app)
demo.register(app)
campaign.register(app)
tidy(app)


def main() -> None:
    """Entry point of the ``rcskit`` console script."""
    app()
