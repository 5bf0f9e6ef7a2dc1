"""``rcskit db upgrade``, ``rcskit messages`` and ``rcskit message ID`` (on a SQLite file)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from rcskit.cli.store import register
from rcskit.message import Message
from rcskit.store import Store, head_revision


def app() -> typer.Typer:
    cli = typer.Typer()
    register(cli)
    return cli


async def invoke(*args: str) -> Result:
    # The commands run their own event loop: keep them off the test's loop.
    runner = CliRunner(env={"COLUMNS": "200"})
    return await asyncio.to_thread(runner.invoke, app(), list(args))


async def test_db_upgrade_creates_the_database(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "rcs.db"
    result = await invoke("db", "upgrade", "--database", str(path))
    assert result.exit_code == 0, result.output
    assert f"revision {head_revision()}" in result.output
    assert path.exists()
    again = await invoke("db", "upgrade", "--database", str(path))
    assert again.exit_code == 0


async def test_messages_and_message(tmp_path: Path) -> None:
    db = str(tmp_path / "rcs.db")
    async with await Store.open(db) as store:
        await store.campaigns.create_campaign("Spring", "dotgo", id="c1", template="t")
        await store.messages.record_outbound(
            "m-1", "dotgo", "+33612345678", Message("Hi"), campaign_id="c1"
        )
        await store.messages.record_outbound("m-2", "dotgo", "+33612345679", Message("Yo"))
        await store.messages.begin_attempt("m-1")
        await store.messages.mark_sent("m-1", "prov-77")
        await store.messages.apply_status("dotgo", "prov-77", "displayed")
        await store.messages.apply_status("dotgo", "prov-77", "delivered", reason="late")
    listing = await invoke("messages", "--database", db)
    assert listing.exit_code == 0, listing.output
    assert "m-1" in listing.output and "m-2" in listing.output
    only = await invoke("messages", "--database", db, "--campaign", "c1", "--state", "displayed")
    assert "m-1" in only.output and "m-2" not in only.output
    to = await invoke("messages", "--database", db, "--to", "+33 6 12 34 56 79")
    assert "m-2" in to.output and "m-1" not in to.output
    shown = await invoke("message", "m-1", "--database", db)
    assert shown.exit_code == 0, shown.output
    for text in ("prov-77", "displayed", "sent -> displayed", "unchanged", "late", '"Hi"'):
        assert text in shown.output, text


async def test_cli_errors(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    result = await invoke("messages", "--database", missing)
    assert result.exit_code == 1
    assert "no database at" in result.output
    assert not Path(missing).exists()  # reading never creates a database
    db = str(tmp_path / "rcs.db")
    assert (await invoke("db", "upgrade", "--database", db)).exit_code == 0
    unknown = await invoke("message", "nope", "--database", db)
    assert unknown.exit_code == 1 and "no message with id 'nope'" in unknown.output
    bad_state = await invoke("messages", "--database", db, "--state", "lost")
    assert bad_state.exit_code == 1 and "--state must be one of" in bad_state.output
    bad_url = await invoke("db", "upgrade", "--database", "mysql://u:pw@h/db")
    assert bad_url.exit_code == 1 and "pw" not in bad_url.output


async def test_an_unreachable_database_is_one_line_with_the_password_masked() -> None:
    import socket

    from rcskit.store import DatabaseUnavailable

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://me:hunter2@127.0.0.1:{port}/rcs"
    for args in (("db", "upgrade"), ("messages",), ("message", "m1")):
        result = await invoke(*args, "--database", url)
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0].startswith("error: cannot connect to the database postgresql")
        assert f"me:***@127.0.0.1:{port}/rcs" in lines[0] and "hunter2" not in result.output
    try:
        await Store.open(url)
    except DatabaseUnavailable as err:
        assert "hunter2" not in str(err) and f"127.0.0.1:{port}" in str(err)
    else:
        raise AssertionError("Store.open reached a database that is not there")


async def test_messages_to_must_be_a_possible_number(tmp_path: Path) -> None:
    db = str(tmp_path / "rcs.db")
    assert (await invoke("db", "upgrade", "--database", db)).exit_code == 0
    result = await invoke("messages", "--to", "123", "--database", db)
    assert result.exit_code == 1
    assert "--to" in result.output and "'123'" in result.output


async def test_messages_and_message_as_json(tmp_path: Path) -> None:
    db = str(tmp_path / "rcs.db")
    async with await Store.open(db) as store:
        await store.campaigns.create_campaign("Spring", "dotgo", id="c1", template="t")
        long_id = "m-" + "x" * 70  # never folded over lines, in a table or in JSON
        await store.messages.record_outbound(
            long_id, "dotgo", "+33612345678", Message("Hi"), campaign_id="c1"
        )
        await store.messages.record_outbound("m-2", "dotgo", "+33612345679", Message("Yo"))
        await store.messages.begin_attempt(long_id)
        await store.messages.mark_sent(long_id, "prov-77")
        await store.messages.apply_status("dotgo", "prov-77", "delivered")
    listing = await invoke("messages", "--database", db, "--json")
    assert listing.exit_code == 0, listing.output
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert {r["id"] for r in rows} == {long_id, "m-2"}
    sent = next(r for r in rows if r["id"] == long_id)
    assert sent["state"] == "delivered" and sent["provider_message_id"] == "prov-77"
    assert sent["to"] == "+33612345678" and sent["campaign_id"] == "c1" and sent["attempts"] == 1
    assert datetime.fromisoformat(sent["updated_at"])
    shown = await invoke("message", long_id, "--database", db, "--json")
    assert shown.exit_code == 0, shown.output
    [record] = [json.loads(line) for line in shown.stdout.splitlines()]
    assert record["content"]["content"]["text"] == "Hi"
    assert [h["to_state"] for h in record["history"]][-1] == "delivered"
    narrow = CliRunner(env={"COLUMNS": "80"})
    table = await asyncio.to_thread(narrow.invoke, app(), ["messages", "--database", db])
    assert any(long_id in line for line in table.stdout.splitlines())  # one line, off a tty
