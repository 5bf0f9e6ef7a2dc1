"""Help pages without type noise, and usage errors on one line.

Typer labels every parameter with its Python type (``<bool>``, ``<str>``, ``{file}``,
``<list[str]>``), so ``--no-browser <bool>`` reads as if it took a value. The command and group
classes here show flags as bare flags, values by name (``--port PORT``, ``FILE``) and
arguments in the usage line as ``FILE`` or ``[NUMBERS]...``. :func:`tidy` gives every command
of an app these classes; :class:`PlainGroup` as the root also turns a usage error into one line
on standard error (exit status 2) instead of a framed box.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import typer
from typer import exceptions as typer_errors
from typer._click import exceptions as click_errors  # typer vendors click: its errors
from typer._click.core import Command, Context, Parameter
from typer._click.formatting import HelpFormatter
from typer._click.utils import echo
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["PlainCommand", "PlainGroup", "lazy_help", "tidy"]

EXIT_USAGE = 2


class _PlainArgument(TyperArgument):
    """An argument shown by its name alone (``FILE``), without a type column."""

    def display_type_rich(self, ctx: Context) -> str | None:
        """Nothing: the name says what the value is."""
        return None


def _plain(params: Sequence[Parameter]) -> None:
    """Name each parameter's value by the parameter (flags take none)."""
    for param in params:
        if isinstance(param, TyperOption):
            if param.is_flag or param.count:
                param.metavar = ""
            elif param.metavar is None and param.name:
                param.metavar = param.name.upper()
        elif isinstance(param, TyperArgument):
            if param.metavar is None and param.name:
                param.metavar = param.name.upper()
            param.__class__ = _PlainArgument  # same state, no type column


def _usage(command: Command, ctx: Context) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            piece = name if param.required else f"[{name}]"
            pieces.append(piece + ("..." if param.nargs != 1 else ""))
        else:
            pieces.extend(param.get_usage_pieces(ctx))
    return pieces


class PlainCommand(TyperCommand):
    """A command whose help names values instead of Python types."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, each with a plain metavar (see the module docstring)."""
        params = super().get_params(ctx)
        _plain(params)
        return params

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        """``[OPTIONS] FILE`` rather than ``[OPTIONS] {file}``."""
        return _usage(self, ctx)


class PlainGroup(TyperGroup):
    """A command group with plain help; as the root, it prints usage errors on one line."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, each with a plain metavar (see the module docstring)."""
        params = super().get_params(ctx)
        _plain(params)
        return params

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; a usage error is ``error: ... (see 'rcskit run --help')``
        on standard error and exit status 2."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click_errors.NoArgsIsHelpError as err:
            err.show()
            sys.exit(err.exit_code)
        except click_errors.UsageError as err:
            where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            message = " ".join(err.format_message().split())
            echo(f"error: {message}{where}", err=True)
            sys.exit(EXIT_USAGE)
        except click_errors.ClickException as err:
            echo(f"error: {' '.join(err.format_message().split())}", err=True)
            sys.exit(err.exit_code)
        except typer_errors.Abort:
            echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


def lazy_help(**helps: Callable[[], str]) -> type[PlainCommand]:
    """A :class:`PlainCommand` class whose options ``helps`` names get their help text only
    when the help page is shown (the text may need imports that ``rcskit --help`` avoids)::

        @app.command(cls=lazy_help(provider=lambda: "Limits profile: " + ", ".join(PROFILES)))
    """

    class LazyHelpCommand(PlainCommand):
        def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
            for param in self.params:
                if param.name in helps and isinstance(param, TyperOption):
                    param.help = helps[param.name]()
            super().format_help(ctx, formatter)

    return LazyHelpCommand


def tidy(app: typer.Typer) -> None:
    """Give every command of ``app`` (and of its groups, recursively) :class:`PlainCommand`
    and every group :class:`PlainGroup`, unless it names a class of its own."""
    if _default(app.info.cls, TyperGroup):
        app.info.cls = PlainGroup
    for command in app.registered_commands:
        if _default(command.cls, TyperCommand):
            command.cls = PlainCommand
    for group in app.registered_groups:
        if group.typer_instance is not None:
            tidy(group.typer_instance)
        if _default(group.cls, TyperGroup):
            group.cls = PlainGroup


def _default(cls: Any, base: type) -> bool:
    """Whether ``cls`` is typer's default class ``base`` (or not given)."""
    return cls is None or cls is base or isinstance(cls, typer.models.DefaultPlaceholder)
