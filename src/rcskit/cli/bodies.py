"""``rcskit validate`` and ``rcskit convert``: message bodies checked and converted offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from ..errors import Violation

__all__ = ["register"]


def _read_json(source: str) -> tuple[Any, int]:
    """Read JSON from a file path or ``-`` (stdin); exit 1 with a one-line reason on failure."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as err:
        typer.echo(f"error: cannot read {source}: {err.strerror or err}", err=True)
        raise typer.Exit(1) from None
    try:
        return json.loads(text), len(text.encode("utf-8"))
    except json.JSONDecodeError as err:
        typer.echo(
            f"error: {source} is not JSON: {err.msg} at line {err.lineno} column {err.colno}",
            err=True,
        )
        raise typer.Exit(1) from None


def _print_violations(source: str, violations: list[Violation] | tuple[Violation, ...]) -> None:
    for v in violations:
        typer.echo(f"{source}: {v}")


FORMAT_CHOICES = ("auto", "gsma", "google")


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``convert`` to the ``rcskit`` command line."""

    @app.command()
    def validate(
        file: Annotated[str, typer.Argument(help="A JSON message body, or - for standard input.")],
        format: Annotated[
            str, typer.Option("--format", "-f", help="gsma, google or auto (detect).")
        ] = "auto",
        provider: Annotated[
            str | None,
            typer.Option(
                "--provider", "-p", help="Limits profile: gsma, google, dotgo, orange or smsbox."
            ),
        ] = None,
        at: Annotated[
            str | None,
            typer.Option(
                "--at",
                help="Check expiry as if sent at this RFC 3339 time (default: now). The seeds' "
                "examples expire in 2014 and 2024: use --at 2014-01-01T00:00:00Z for them.",
            ),
        ] = None,
    ) -> None:
        """Check a message body against the format and every limit; print each violation."""
        from .. import limits
        from ..errors import InvalidMessage
        from ..formats import detect_format, get_format, in_wire_terms
        from ..formats.bodies import body_kind, check_body
        from ..message import parse_rfc3339

        if format not in FORMAT_CHOICES:
            typer.echo(
                f"error: --format must be one of {', '.join(FORMAT_CHOICES)}, not {format!r}",
                err=True,
            )
            raise typer.Exit(2)
        body, size = _read_json(file)
        kind = body_kind(body) if format == "auto" else None
        if kind is not None:
            kind, problems = check_body(body)
            if problems:
                _print_violations(file, problems)
                raise typer.Exit(1)
            typer.echo(f"OK: {file} is a valid {kind}")
            return
        fmt_name = detect_format(body) if format == "auto" else format
        if fmt_name is None:
            typer.echo(
                f"{file}: cannot tell the format: expected a GSMA body (RCSMessage) or a "
                "Google body (contentMessage); pass --format",
                err=True,
            )
            raise typer.Exit(1)
        fmt = get_format(fmt_name)
        try:
            profile = limits.profile(provider or fmt_name)
        except (KeyError, ValueError) as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
        try:
            message = fmt.decode(body).message
        except InvalidMessage as err:
            _print_violations(file, err.violations)
            raise typer.Exit(1) from None
        now = None
        if at is not None:
            now = parse_rfc3339(at)
            if now is None:
                typer.echo(
                    f"error: --at must be an RFC 3339 time like 2024-01-01T00:00:00Z, not {at!r}",
                    err=True,
                )
                raise typer.Exit(2)
        found = limits.check(message, profile, encoded_size=size, now=now)
        if found:
            _print_violations(file, in_wire_terms(fmt_name, message, found))
            typer.echo(f"{len(found)} violation(s)", err=True)
            raise typer.Exit(1)
        notes = limits.recommendations(message, profile)
        for note in in_wire_terms(fmt_name, message, notes):
            typer.echo(f"{file}: note: {note}", err=True)
        typer.echo(
            f"OK: {file} is a valid {fmt_name} {message.content.kind} message "
            f"({profile.name} limits)"
        )

    @app.command()
    def convert(
        file: Annotated[str, typer.Argument(help="A JSON message body, or - for standard input.")],
        to: Annotated[str, typer.Option("--to", help="Target format: gsma or google.")],
        drop_metadata: Annotated[
            bool,
            typer.Option(
                "--drop-metadata",
                help="Drop file/media metadata (MIME types, sizes, names) the target cannot carry; "
                "each dropped field is listed on stderr.",
            ),
        ] = False,
    ) -> None:
        """Convert a message body between the GSMA and Google formats (through the neutral
        model)."""
        from ..errors import InvalidMessage, UnsupportedFeature
        from ..formats import detect_format, get_format

        if to not in ("gsma", "google"):
            typer.echo(f"error: --to must be gsma or google, not {to!r}", err=True)
            raise typer.Exit(2)
        body, _ = _read_json(file)
        source = detect_format(body)
        if source is None:
            typer.echo(
                f"{file}: cannot tell the format (no RCSMessage or contentMessage)", err=True
            )
            raise typer.Exit(1)
        try:
            envelope = get_format(source).decode(body)
            dropped: list[str] = []
            if to == "google":
                from ..formats import google

                out = google.encode(envelope.message, drop_metadata=drop_metadata, dropped=dropped)
            else:
                from ..formats import gsma

                out = gsma.encode(envelope.message, envelope.to)
        except InvalidMessage as err:
            _print_violations(file, err.violations)
            raise typer.Exit(1) from None
        except UnsupportedFeature as err:
            hint = str(err).replace("pass drop_metadata=True", "pass --drop-metadata")
            typer.echo(f"{file}: cannot convert to {to}: {hint}", err=True)
            raise typer.Exit(1) from None
        for path in dropped:
            typer.echo(f"dropped: {path}", err=True)
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
