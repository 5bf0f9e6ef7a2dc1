"""``rcskit send``, ``capabilities``, ``revoke``, ``status``, ``upload`` and ``tester add``.

Each command picks a provider account from ``rcskit.toml`` (``--config``; default
``./rcskit.toml`` when it exists) by ``--provider NAME`` (default: ``default_provider``, the
only configured provider, or the built-in ``emulator``), with secrets from the environment
(see :mod:`rcskit.cli.config`). Bad input, configuration problems and provider errors end with a
one-line ``error: ...`` on stderr and exit status 1, never a traceback::

    rcskit send --provider mydotgo --to +14251234567 --text "hello" --reply "Yes:yes"
    rcskit capabilities +14251234567 +14251234568
    rcskit capabilities --provider orange --file numbers.txt

The CLI adds them with ``register(app)``.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from .messagefile import BadMessageFile, decode_message, read_json_file
from .options import DEFAULT_CONFIG_FILE, ConfigOption, JsonOption, ProviderOption
from .output import json_line, run_coroutine

if TYPE_CHECKING:
    from ..client import RcsClient
    from ..message import Message, Reply
    from ..results import BulkCapabilities, Capabilities
    from ..transport import Transport
    from .config import Config

__all__ = ["parse_reply", "read_numbers", "register"]

T = TypeVar("T")

TransportFactory = Callable[[], "Transport"]


class _Fail(Exception):
    """A one-line error for the user."""


def _one_line(err: BaseException) -> str:
    from ..errors import InvalidMessage

    if isinstance(err, InvalidMessage):
        return "invalid input: " + "; ".join(str(v) if v.path else v.limit for v in err.violations)
    return " ".join(str(err).split())


def parse_reply(value: str) -> Reply:
    """A suggested reply from ``TEXT:DATA`` (split at the first ``:``; without one, the
    postback data is the text)."""
    from ..message import Reply

    text, sep, data = value.partition(":")
    text = text.strip()
    if not text:
        raise _Fail(f"--reply {value!r}: expected TEXT:DATA with a non-empty TEXT")
    return Reply(text, data if sep and data else text)


def read_numbers(numbers: list[str], file: str | None) -> list[str]:
    """Numbers from the arguments and a file (one per line; blank lines and ``#`` comments
    skipped), each checked as E.164; an error names the bad number."""
    from ..errors import InvalidMessage
    from ..phones import normalize_msisdn

    raw = list(numbers)
    if file is not None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as err:
            raise _Fail(f"--file: cannot read {file} ({err.strerror or err})") from None
        raw += [line.split("#", 1)[0].strip() for line in lines]
    out: dict[str, None] = {}
    for number in raw:
        if not number:
            continue
        try:
            out[normalize_msisdn(number, field="number")] = None
        except InvalidMessage:
            raise _Fail(
                f"number {number!r} is not a possible phone number (E.164: + and country code)"
            ) from None
    return list(out)


class _Runner:
    """Loads the configuration, opens a client and runs a coroutine with it."""

    def __init__(self, transport: TransportFactory | None) -> None:
        self.transport = transport

    def config(self, path: str | None) -> Config:
        """``path``, else ``./rcskit.toml`` if it exists, else only the built-in profiles."""
        from .config import load_config

        if path is None:
            found = Path(DEFAULT_CONFIG_FILE)
            return load_config(found if found.is_file() else None, os.environ)
        return load_config(path, os.environ)

    def run(
        self,
        config_path: str | None,
        provider: str | None,
        work: Callable[[RcsClient, str], Awaitable[T]],
    ) -> T:
        """Run ``work(client, provider name)``; any error becomes ``error: ...`` and exit 1."""
        from ..errors import RcsError
        from .config import ConfigError

        try:
            config = self.config(config_path)
            name = config.resolve_name(provider)
            options: dict[str, Any] = {}
            if self.transport is not None:
                options["transport"] = self.transport()
            client = config.client(name, **options)

            async def main() -> T:
                async with client:
                    return await work(client, name)

            return _run(main())
        except (_Fail, ConfigError, RcsError, ValueError) as err:
            typer.echo(f"error: {_one_line(err)}", err=True)
            raise typer.Exit(1) from None


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return run_coroutine(coro)


def _message(
    text: str | None, json_file: str | None, file_url: str | None, replies: list[str]
) -> Message:
    from ..message import File, Message, Text

    given = [
        n
        for n, v in (("--text", text), ("--json", json_file), ("--file", file_url))
        if v is not None
    ]
    if len(given) != 1:
        shown = ", ".join(given) if given else "none"
        raise _Fail(f"give exactly one of --text, --json or --file (got {shown})")
    suggestions = tuple(parse_reply(r) for r in replies)
    if text is not None:
        return Message(Text(text), suggestions=suggestions)
    if file_url is not None:
        if not file_url.startswith(("http://", "https://")):
            raise _Fail(f"--file {file_url!r}: a public http(s) URL")
        return Message(File(file_url), suggestions=suggestions)
    assert json_file is not None
    try:
        body, _ = read_json_file(json_file)
        envelope = decode_message(body, json_file)
    except BadMessageFile as err:
        detail = "; ".join(str(v) for v in err.violations)
        raise _Fail(f"--json: {err}" + (f": {detail}" if detail else "")) from None
    if envelope.to is not None:
        typer.echo(
            f"note: --json: the file's recipient ({envelope.to}) is ignored; sending to --to",
            err=True,
        )
    message: Message = envelope.message
    if suggestions:
        message = message.model_copy(update={"suggestions": message.suggestions + suggestions})
    return message


def _number(value: str, option: str) -> str:
    from ..errors import InvalidMessage
    from ..phones import normalize_msisdn

    try:
        return normalize_msisdn(value, field=option)
    except InvalidMessage:
        raise _Fail(
            f"{option} {value!r} is not a possible phone number (E.164: + and country code)"
        ) from None


def _caps_line(caps: Capabilities) -> str:
    if not caps.rcs_enabled:
        return f"{caps.number}  not RCS"
    features = ", ".join(sorted(caps.features)) or "-"
    return f"{caps.number}  RCS  {features}"


def caps_record(caps: Capabilities) -> dict[str, Any]:
    """One number's capabilities as ``capabilities --json`` prints them."""
    return {
        "number": caps.number,
        "rcs_enabled": caps.rcs_enabled,
        "features": sorted(caps.features),
        "provider": caps.provider,
    }


def bulk_records(numbers: list[str], result: BulkCapabilities) -> list[dict[str, Any]]:
    """A bulk check as ``capabilities --json`` prints it: one record per number, in the order
    asked; ``rcs_enabled`` is ``null`` when the provider did not say, ``features`` is ``null``
    (a bulk check does not list them)."""
    records = []
    for n in numbers:
        enabled = True if n in result.reachable else False if n in result.unreachable else None
        records.append(
            {"number": n, "rcs_enabled": enabled, "features": None, "provider": result.provider}
        )
    return records


def _bulk_lines(numbers: list[str], result: BulkCapabilities) -> list[str]:
    lines = []
    for n in numbers:
        if n in result.reachable:
            lines.append(f"{n}  RCS")
        elif n in result.unreachable:
            lines.append(f"{n}  not RCS")
        else:
            lines.append(f"{n}  unknown")
    lines.append(
        f"{len(result.reachable)} RCS, {len(result.unreachable)} not RCS, "
        f"{len(result.unknown)} unknown ({result.provider})"
    )
    return lines


def register(app: typer.Typer, *, transport: TransportFactory | None = None) -> None:
    """Add the provider commands to ``app``. ``transport`` makes each command's transport
    (tests pass an in-process emulator or a fake; default: aiohttp)."""
    runner = _Runner(transport)

    @app.command("send")
    def send(
        to: Annotated[str, typer.Option("--to", help="Recipient, E.164 (+14251234567).")],
        text: Annotated[str | None, typer.Option("--text", help="A text message.")] = None,
        json_file: Annotated[
            str | None,
            typer.Option("--json", help="A message body file (GSMA RCSMessage or Google)."),
        ] = None,
        file_url: Annotated[
            str | None, typer.Option("--file", help="Send the file at this public URL.")
        ] = None,
        reply: Annotated[
            list[str] | None,
            typer.Option(
                "--reply",
                help="A suggested reply TEXT:DATA (repeatable; without :DATA the postback "
                "data is TEXT).",
            ),
        ] = None,
        provider: ProviderOption = None,
        config: ConfigOption = None,
    ) -> None:
        """Send one message."""

        async def work(client: RcsClient, name: str) -> None:
            number = _number(to, "--to")
            message = _message(text, json_file, file_url, reply or [])
            sent = await client.send(number, message)
            typer.echo(
                f"sent {sent.message_id} ({sent.status or 'accepted'}) to {number} via {name}"
            )

        runner.run(config, provider, work)

    @app.command("capabilities")
    def capabilities(
        numbers: Annotated[
            list[str] | None, typer.Argument(help="Numbers to check (E.164).")
        ] = None,
        file: Annotated[
            str | None, typer.Option("--file", help="A file of numbers, one per line.")
        ] = None,
        provider: ProviderOption = None,
        config: ConfigOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Check which numbers are RCS-reachable (a bulk check when there are several).
        With --json, one object per number and line."""

        def show(caps: Capabilities) -> None:
            if as_json:
                json_line(caps_record(caps))
            else:
                typer.echo(_caps_line(caps))

        async def work(client: RcsClient, name: str) -> None:
            wanted = read_numbers(numbers or [], file)
            if not wanted:
                raise _Fail("give numbers as arguments or --file numbers.txt")
            if len(wanted) == 1:
                show(await client.capabilities(wanted[0]))
                return
            if "bulk_capabilities" in client.provider.offers:
                result = await client.bulk_capabilities(wanted)
                if as_json:
                    for record in bulk_records(wanted, result):
                        json_line(record)
                    return
                for line in _bulk_lines(wanted, result):
                    typer.echo(line)
                return
            for number in wanted:
                show(await client.capabilities(number))

        runner.run(config, provider, work)

    @app.command("revoke")
    def revoke(
        message_id: Annotated[str, typer.Argument(help="The id the send returned.")],
        to: Annotated[
            str | None, typer.Option("--to", help="The recipient (some providers need it).")
        ] = None,
        provider: ProviderOption = None,
        config: ConfigOption = None,
    ) -> None:
        """Revoke a message that was not delivered yet."""

        async def work(client: RcsClient, name: str) -> None:
            number = _number(to, "--to") if to is not None else None
            result = await client.revoke(message_id, number)
            if not result.accepted:
                raise _Fail(f"revocation of {result.message_id} refused by {name}")
            typer.echo(f"revocation of {result.message_id} accepted by {name}")

        runner.run(config, provider, work)

    @app.command("status")
    def status(
        message_id: Annotated[str, typer.Argument(help="The id the send returned.")],
        provider: ProviderOption = None,
        config: ConfigOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show the status of a sent message."""

        async def work(client: RcsClient, name: str) -> None:
            found = await client.status(message_id)
            if as_json:
                json_line(
                    {
                        "message_id": found.message_id,
                        "status": found.status,
                        "timestamp": found.timestamp,
                        "provider": found.provider,
                    }
                )
                return
            when = f" at {found.timestamp}" if found.timestamp else ""
            typer.echo(f"{found.message_id}  {found.status or 'unknown'}{when}")

        runner.run(config, provider, work)

    @app.command("upload")
    def upload(
        source: Annotated[str, typer.Argument(help="A local file or a public https:// URL.")],
        mime_type: Annotated[
            str | None, typer.Option("--mime-type", help="Default: guessed from the name.")
        ] = None,
        until: Annotated[
            str | None, typer.Option("--until", help="Keep until (RFC 3339; default 30 days).")
        ] = None,
        thumbnail_url: Annotated[
            str | None, typer.Option("--thumbnail-url", help="With a URL (Google only).")
        ] = None,
        provider: ProviderOption = None,
        config: ConfigOption = None,
    ) -> None:
        """Store a file on the provider and print its file id."""
        from ..message import parse_rfc3339

        if until is not None:
            when = parse_rfc3339(until)
            if when is None or when <= datetime.now(UTC):
                typer.echo(
                    f"error: --until {until!r}: give a future RFC 3339 time, like "
                    f"{(datetime.now(UTC) + timedelta(days=7)).strftime('%Y-%m-%dT00:00:00Z')}",
                    err=True,
                )
                raise typer.Exit(1)

        async def work(client: RcsClient, name: str) -> None:
            is_url = source.startswith(("http://", "https://"))
            if not is_url and not Path(source).is_file():
                raise _Fail(f"{source}: no such file (give a local file or an http(s) URL)")
            info = await client.upload_file(
                source, mime_type=mime_type, until=until, thumbnail_url=thumbnail_url
            )
            extra = "".join(
                f"  {k}={v}" for k, v in (("status", info.status), ("url", info.url)) if v
            )
            typer.echo(f"{info.file_id}{extra}")

        runner.run(config, provider, work)

    tester = typer.Typer(help="Manage the testers of an unlaunched bot.", no_args_is_help=True)

    @tester.command("add")
    def tester_add(
        numbers: Annotated[list[str], typer.Argument(help="Numbers to invite (E.164).")],
        provider: ProviderOption = None,
        config: ConfigOption = None,
    ) -> None:
        """Invite numbers as testers."""

        async def work(client: RcsClient, name: str) -> None:
            for number in read_numbers(numbers, None):
                result = await client.add_tester(number)
                detail = f" ({result.detail})" if result.detail else ""
                typer.echo(f"{number}  {result.status or 'invited'}{detail}")

        runner.run(config, provider, work)

    app.add_typer(tester, name="tester")
