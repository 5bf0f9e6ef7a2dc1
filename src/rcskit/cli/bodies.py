"""``rcskit validate`` and ``rcskit convert``: message bodies checked and converted offline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .help import lazy_help
from .messagefile import (
    NEUTRAL,
    BadMessageFile,
    DecodedMessage,
    decode_message,
    form_of,
    read_json_file,
)
from .output import EXIT_USAGE, fail

if TYPE_CHECKING:
    from ..errors import Violation
    from ..message import Message

__all__ = ["register"]


def _read_json(source: str) -> tuple[Any, int]:
    """The JSON of ``source`` and its size; exit 1 with one line for a bad file."""
    try:
        return read_json_file(source)
    except BadMessageFile as err:
        fail(str(err))


def _decode(body: Any, source: str, form: str | None) -> DecodedMessage:
    """:func:`decode_message`, or exit 1 printing each violation (or the one reason)."""
    try:
        return decode_message(body, source, form)
    except BadMessageFile as err:
        if not err.violations:
            fail(str(err))
        _print_violations(source, err.violations)
        raise typer.Exit(1) from None


def _print_violations(source: str, violations: Sequence[Violation]) -> None:
    for v in violations:
        typer.echo(f"{source}: {v}")


FORMAT_CHOICES = ("auto", NEUTRAL, "gsma", "google")

NEUTRAL_PROFILE = "gsma"
"""The limits profile rcskit JSON is checked against when ``--provider`` is not given."""


def _profiles_help() -> str:
    """The ``--provider`` help of ``validate``, naming every limits profile."""
    from ..limits import PROFILES

    return (
        f"Limits profile: {', '.join(PROFILES)} (default: the format's; "
        f"{NEUTRAL_PROFILE} for rcskit JSON)."
    )


def _encode_neutral(
    message: Message, to: str, strict: bool, drop_metadata: bool, dropped: list[str]
) -> dict[str, Any]:
    """rcskit JSON's ``message`` in the ``to`` format; ``dropped`` gets the rcskit JSON paths
    of what was left out. Raises ``InvalidMessage`` for what the target format refuses."""
    from datetime import UTC, datetime

    from ..errors import InvalidMessage
    from ..formats import get_format
    from ..limits import check, profile

    if to == "google":
        from ..formats import google

        out = google.encode(message, strict=strict, drop_metadata=drop_metadata, dropped=dropped)
    else:
        from ..formats import gsma

        out = gsma.encode(message)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)  # expiry belongs to the moment of sending
    found = check(get_format(to).decode(out).message, profile(to), now=epoch, wire_format=to)
    if found:
        raise InvalidMessage(found)
    return out


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``convert`` to the ``rcskit`` command line."""

    @app.command(cls=lazy_help(provider=_profiles_help))
    def validate(
        file: Annotated[
            str,
            typer.Argument(
                help="A message file (rcskit JSON, a GSMA or a Google body), or - for "
                "standard input."
            ),
        ],
        format: Annotated[
            str, typer.Option("--format", "-f", help="rcskit, gsma, google or auto (detect).")
        ] = "auto",
        provider: Annotated[
            str | None,
            typer.Option("--provider", "-p", help="Limits profile (default: the format's)."),
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
        from ..formats import in_wire_terms
        from ..formats.bodies import body_kind, check_body
        from ..message import parse_rfc3339

        if format not in FORMAT_CHOICES:
            fail(f"--format must be one of {', '.join(FORMAT_CHOICES)}, not {format!r}", EXIT_USAGE)
        now = None
        if at is not None:
            now = parse_rfc3339(at)
            if now is None:
                fail(
                    f"--at must be an RFC 3339 time like 2024-01-01T00:00:00Z, not {at!r}",
                    EXIT_USAGE,
                )
        body, size = _read_json(file)
        kind = body_kind(body) if format == "auto" else None
        if kind is not None:
            kind, problems = check_body(body)
            if problems:
                _print_violations(file, problems)
                raise typer.Exit(1)
            typer.echo(f"OK: {file} is a valid {kind}")
            return
        form = form_of(body) if format == "auto" else format
        if form is None:
            fail(
                f'{file}: cannot tell the format: expected rcskit JSON ({{"content": ...}}), '
                "a GSMA body (RCSMessage) or a Google body (contentMessage); pass --format"
            )
        try:
            profile = limits.profile(provider or (NEUTRAL_PROFILE if form == NEUTRAL else form))
        except (KeyError, ValueError) as err:
            fail(str(err), EXIT_USAGE)
        message = _decode(body, file, form).message
        wire = form != NEUTRAL
        found = limits.check(
            message,
            profile,
            encoded_size=size if wire else None,
            now=now,
            wire_format=form if wire else None,
        )
        if found:
            _print_violations(file, in_wire_terms(form, message, found) if wire else found)
            typer.echo(f"{len(found)} violation(s)", err=True)
            raise typer.Exit(1)
        notes = limits.recommendations(message, profile)
        for note in in_wire_terms(form, message, notes) if wire else notes:
            typer.echo(f"{file}: note: {note}", err=True)
        typer.echo(
            f"OK: {file} is a valid {form} {message.content.kind} message ({profile.name} limits)"
        )

    @app.command()
    def convert(
        file: Annotated[
            str,
            typer.Argument(
                help="A message file (rcskit JSON, a GSMA or a Google body), or - for "
                "standard input."
            ),
        ],
        to: Annotated[str, typer.Option("--to", help="Target format: gsma or google.")],
        strict: Annotated[
            bool,
            typer.Option(
                "--strict",
                help="Refuse, rather than drop, the MIME types and sizes Google recomputes.",
            ),
        ] = False,
        drop_metadata: Annotated[
            bool,
            typer.Option(
                "--drop-metadata",
                help="Also drop file names and per-card carousel layout Google cannot carry "
                "(MIME types and sizes are dropped by default); each is listed on stderr.",
            ),
        ] = False,
    ) -> None:
        """Convert a message between the GSMA and Google formats (through the neutral model);
        the result always passes validate. To Google, the MIME types and sizes Google
        recomputes are dropped, each named on stderr."""
        from ..errors import InvalidMessage, UnsupportedFeature
        from ..formats.convert import convert_body

        if to not in ("gsma", "google"):
            fail(f"--to must be gsma or google, not {to!r}", EXIT_USAGE)
        body, _ = _read_json(file)
        form = form_of(body)
        dropped: list[str] = []
        try:
            if form == NEUTRAL:  # rcskit JSON: the neutral model already, encode it once
                decoded = _decode(body, file, NEUTRAL)
                out = _encode_neutral(decoded.message, to, strict, drop_metadata, dropped)
            else:
                _decode(body, file, form)  # a body that does not decode: its violations
                out = convert_body(
                    body, to, strict=strict, drop_metadata=drop_metadata, dropped=dropped
                )
        except InvalidMessage as err:
            _print_violations(file, err.violations)
            raise typer.Exit(1) from None
        except UnsupportedFeature as err:
            hint = str(err).replace("pass drop_metadata=True", "pass --drop-metadata")
            if strict:
                hint = hint.replace("pass --drop-metadata to drop", "leave out --strict to drop")
            fail(f"{file}: cannot convert to {to}: {hint}")
        for path in dropped:
            typer.echo(f"dropped: {path}", err=True)
        typer.echo(json.dumps(out, indent=2, ensure_ascii=False))
