"""The store's commands: ``rcskit db upgrade``, ``rcskit messages``, ``rcskit message ID``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .options import DEFAULT_DATABASE, DatabaseOption, JsonOption
from .output import json_line, run_coroutine, table_console

if TYPE_CHECKING:
    from rich.table import Table

    from ..store import HistoryEntry, OutboundMessage, Store

__all__ = ["register"]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _time(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


async def _open_existing(database: str) -> Store:
    """Open a database that must already exist (reading never creates a SQLite file)."""
    from ..store import Store, database_url
    from ..store.engine import sqlite_path

    url = database_url(database)
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise _fail(f"no database at {path} (run `rcskit db upgrade --database {path}` first)")
    return await Store.open(url)


def message_record(m: OutboundMessage) -> dict[str, Any]:
    """One outbound message as ``messages --json`` prints it (times in UTC, ISO 8601)."""
    return {
        "id": m.id,
        "to": m.recipient,
        "provider": m.provider,
        "state": m.state.value,
        "attempts": m.attempts,
        "provider_message_id": m.provider_message_id,
        "campaign_id": m.campaign_id,
        "created_at": m.created_at,
        "updated_at": m.updated_at,
        "last_error_code": m.last_error_code,
        "last_error_reason": m.last_error_reason,
    }


def history_record(e: HistoryEntry) -> dict[str, Any]:
    """One history entry as ``message --json`` prints it."""
    return {
        "recorded_at": e.recorded_at,
        "at": e.at,
        "status": e.status,
        "from_state": e.from_state.value if e.from_state else None,
        "to_state": e.to_state.value if e.to_state else None,
        "moved": e.moved,
        "source": e.source,
        "code": e.code,
        "reason": e.reason,
    }


def _messages_table(rows: list[OutboundMessage]) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(rows)} message(s)", show_lines=False)
    for name in ("id", "to", "provider", "state", "attempts", "provider id", "campaign"):
        # Ids fold rather than get cut: they are copied into `rcskit message ID`.
        table.add_column(name, overflow="fold" if name.endswith("id") else "ellipsis")
    table.add_column("updated (UTC)")
    table.add_column("last error")
    for m in rows:
        error = " ".join(p for p in (m.last_error_code, m.last_error_reason) if p)
        table.add_row(
            m.id,
            m.recipient,
            m.provider,
            m.state.value,
            str(m.attempts),
            m.provider_message_id or "",
            m.campaign_id or "",
            _time(m.updated_at),
            error,
        )
    return table


def _history_table(entries: list[HistoryEntry]) -> Table:
    from rich.table import Table

    table = Table(title="history")
    for name in ("recorded (UTC)", "at (UTC)", "status", "state", "source"):
        table.add_column(name, no_wrap=True)
    table.add_column("reason")
    for e in entries:
        before = e.from_state.value if e.from_state else "-"
        after = e.to_state.value if e.to_state else "-"
        change = f"{before} -> {after}" if e.moved else f"{after} (unchanged)"
        reason = " ".join(p for p in (e.code, e.reason) if p)
        table.add_row(_time(e.recorded_at), _time(e.at), e.status, change, e.source, reason)
    return table


def register(app: typer.Typer) -> None:
    """Add ``db upgrade``, ``messages`` and ``message`` to the ``rcskit`` command line."""
    db = typer.Typer(help="The message store: set up and upgrade the database.")
    app.add_typer(db, name="db")

    @db.command("upgrade")
    def db_upgrade(database: DatabaseOption = DEFAULT_DATABASE) -> None:
        """Create or upgrade the store's tables to the newest revision."""
        from ..errors import RcsError
        from ..store import database_url, display_url, migrate

        try:
            revision = run_coroutine(migrate(database))
        except RcsError as err:
            raise _fail(str(err)) from None
        typer.echo(f"{display_url(database_url(database))} is at revision {revision} (newest)")

    @app.command("messages")
    def messages(
        campaign: Annotated[
            str | None, typer.Option("--campaign", help="Only this campaign.")
        ] = None,
        state: Annotated[
            str | None,
            typer.Option(
                "--state",
                help="Only messages in this state (pending, sent, delivered, displayed, "
                "failed ...; an unknown state is refused with the full list).",
            ),
        ] = None,
        to: Annotated[str | None, typer.Option("--to", help="Only to this number.")] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 50,
        database: DatabaseOption = DEFAULT_DATABASE,
        as_json: JsonOption = False,
    ) -> None:
        """List outbound messages, newest first (with --json, one object per line)."""
        from ..errors import RcsError
        from ..phones import normalize_msisdn
        from ..store import MessageState

        if state is not None and state not in {s.value for s in MessageState}:
            raise _fail(f"--state must be one of {', '.join(MessageState)}, not {state!r}")
        if to is not None and not to.startswith("chat:"):
            try:
                to = normalize_msisdn(to, field="--to")
            except RcsError as err:
                raise _fail(str(err)) from None

        async def run() -> list[OutboundMessage]:
            async with await _open_existing(database) as store:
                return await store.messages.find_messages(
                    campaign=campaign, state=state, to=to, limit=limit
                )

        try:
            rows = run_coroutine(run())
        except RcsError as err:
            raise _fail(str(err)) from None
        if as_json:
            for row in rows:
                json_line(message_record(row))
            return
        table_console().print(_messages_table(rows))

    @app.command("message")
    def message(
        id: Annotated[str, typer.Argument(help="The message id (rcskit's, not the provider's).")],
        database: DatabaseOption = DEFAULT_DATABASE,
        as_json: JsonOption = False,
    ) -> None:
        """Show one outbound message: its fields, content and history."""
        from rich.table import Table

        from ..errors import RcsError

        async def run() -> tuple[OutboundMessage | None, list[HistoryEntry]]:
            async with await _open_existing(database) as store:
                return await store.messages.get_message(id), await store.messages.get_history(id)

        try:
            found, history = run_coroutine(run())
        except RcsError as err:
            raise _fail(str(err)) from None
        if found is None:
            raise _fail(f"no message with id {id!r}")
        if as_json:
            record = message_record(found)
            record["content"] = json.loads(found.content_json)
            record["history"] = [history_record(e) for e in history]
            json_line(record)
            return
        console = table_console()
        fields = Table(show_header=False, title=f"message {found.id}")
        fields.add_column("field")
        fields.add_column("value")
        for name, value in (
            ("to", found.recipient),
            ("provider", found.provider),
            ("state", found.state.value),
            ("attempts", str(found.attempts)),
            ("provider id", found.provider_message_id or ""),
            ("campaign", found.campaign_id or ""),
            ("created (UTC)", _time(found.created_at)),
            ("updated (UTC)", _time(found.updated_at)),
            (
                "last error",
                " ".join(p for p in (found.last_error_code, found.last_error_reason) if p),
            ),
        ):
            fields.add_row(name, value)
        console.print(fields)
        console.print_json(json.dumps(json.loads(found.content_json)))
        console.print(_history_table(history))
