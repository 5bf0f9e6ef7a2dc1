"""The message tables' indexes (migration 0004): exactly those the queries need, partial where
the rows looked up are few, and usable by the queries that need them on both databases."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from rcskit.campaign import journal_db
from rcskit.message import Message, Text
from rcskit.store import Store, migrate
from rcskit.store.engine import create_engine
from rcskit.store.schema import metadata

from .conftest import Database, FakeClock

TO = "+33612345678"

OUTBOX = {
    "ix_outbound_messages_campaign_id_state": ("campaign_id, state", None),
    "ix_outbound_messages_created_at": ("created_at", None),
    "ix_outbound_messages_recipient": ("recipient", None),
    "ix_outbound_messages_pending_created_at_id": ("created_at, id", "state = 'pending'"),
    "ix_outbound_messages_provider_provider_message_id": (
        "provider, provider_message_id",
        "provider_message_id IS NOT NULL",
    ),
}
HISTORY = {
    "ix_message_history_message_id_id": ("message_id, id", None),
    "ix_message_history_provider_provider_message_id": (
        "provider, provider_message_id",
        "message_id IS NULL",
    ),
}


def _normal(text: str) -> str:
    """An index definition without the quoting, casts and brackets each database adds."""
    text = re.sub(r"::[a-z]+(?: varying)?", "", text)
    return re.sub(r"[\"()]", "", " ".join(text.split())).lower()


async def _indexes(conn: AsyncConnection, table: str) -> dict[str, tuple[str, str | None]]:
    """``{name: (columns, condition)}`` of ``table``'s indexes other than its primary key, as
    the database has them."""
    out: dict[str, tuple[str, str | None]] = {}
    if conn.dialect.name == "postgresql":
        rows = (
            await conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes "
                "WHERE tablename = $1 AND schemaname = current_schema()",
                (table,),
            )
        ).all()
        pattern = r"USING btree \((?P<cols>[^)]*)\)(?: WHERE (?P<where>.*))?$"
    else:
        rows = (
            await conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL",
                (table,),
            )
        ).all()
        pattern = r"\((?P<cols>[^)]*)\)(?: WHERE (?P<where>.*))?$"
    for name, sql in rows:
        if name.startswith("pk_"):
            continue
        m = re.search(pattern, " ".join(sql.split()))
        assert m is not None, sql
        where = m.group("where")
        out[name] = (_normal(m.group("cols")), None if where is None else _normal(where))
    return out


def _expected(indexes: dict[str, tuple[str, str | None]]) -> dict[str, tuple[str, str | None]]:
    return {
        name: (_normal(cols), None if where is None else _normal(where))
        for name, (cols, where) in indexes.items()
    }


async def test_the_message_tables_have_the_indexes_of_revision_0004(store: Store) -> None:
    async with store.engine.connect() as conn:
        assert await _indexes(conn, "outbound_messages") == _expected(OUTBOX)
        assert await _indexes(conn, "message_history") == _expected(HISTORY)


async def test_the_schema_creates_the_indexes_the_migrations_create(
    database: Database, tmp_path: Any
) -> None:
    """``metadata.create_all`` and the migrations agree on the partial indexes' conditions
    (Alembic's comparison of the two does not look at them)."""
    await migrate(database.url, schema=database.schema)
    if database.kind == "sqlite":
        other_url = str(tmp_path / "created.db")
        other_schema = None
    else:
        other_url, other_schema = database.url, f"{database.schema}_c"
        conn = await asyncpg.connect(database.url.replace("+asyncpg", ""))
        await conn.execute(f'CREATE SCHEMA "{other_schema}"')
        await conn.close()
    migrated = create_engine(database.url, schema=database.schema)
    created = create_engine(other_url, schema=other_schema)
    try:
        async with created.begin() as conn:
            await conn.run_sync(metadata.create_all)
        for table in ("outbound_messages", "message_history"):
            async with migrated.connect() as a, created.connect() as b:
                assert await _indexes(a, table) == await _indexes(b, table)
    finally:
        await migrated.dispose()
        await created.dispose()
        if other_schema is not None:
            conn = await asyncpg.connect(database.url.replace("+asyncpg", ""))
            await conn.execute(f'DROP SCHEMA IF EXISTS "{other_schema}" CASCADE')
            await conn.close()


@contextmanager
def _statements(store: Store) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) ``store`` runs in the block."""
    seen: list[tuple[str, Any]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    event.listen(store.engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", before)


async def _plan(store: Store, statement: str, parameters: Any) -> str:
    """The plan of ``statement``, as text, with sequential scans made as costly as the
    planner allows (on a table of a few rows they would be cheapest, whatever the index)."""
    async with store.engine.connect() as conn:
        if store.dialect == "postgresql":
            await conn.exec_driver_sql("SET enable_seqscan = off")
            rows = (await conn.exec_driver_sql("EXPLAIN " + statement, parameters)).all()
            await conn.exec_driver_sql("RESET enable_seqscan")
        else:
            rows = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)).all()
        await conn.rollback()
    return "\n".join(str(r[-1]) for r in rows)


def _one(seen: list[tuple[str, Any]], *words: str) -> tuple[str, Any]:
    """The one statement read from a table (``SELECT``, or ``WITH``: SQLite claims in one
    statement) that has all ``words``."""
    found = [
        (s, p)
        for s, p in seen
        if s.lstrip().upper().startswith(("SELECT", "WITH")) and all(w in s for w in words)
    ]
    assert len(found) == 1, [s for s, _ in seen]
    return found[0]


async def _messages(store: Store, clock: FakeClock, n: int = 20) -> None:
    for i in range(n):
        clock.advance(1)
        await store.messages.record_outbound(f"m{i}", "dotgo", TO, Message(Text("hi")))
        if i % 2:
            await store.messages.mark_sent(f"m{i}", f"p{i}")
            await store.messages.apply_status("dotgo", f"p{i}", "delivered")


async def test_a_relay_claims_pending_messages_through_their_partial_index(
    store: Store, clock: FakeClock
) -> None:
    await _messages(store, clock)
    with _statements(store) as seen:
        claimed = await store.messages.claim_outbox("w1", 3, 30)
    assert [m.id for m in claimed] == ["m0", "m2", "m4"]
    statement, parameters = _one(seen, "outbound_messages")
    assert "ix_outbound_messages_pending_created_at_id" in await _plan(store, statement, parameters)


async def test_statuses_find_their_message_through_the_partial_provider_id_index(
    store: Store, clock: FakeClock
) -> None:
    await _messages(store, clock)
    with _statements(store) as seen:
        assert await store.messages.apply_status("dotgo", "p3", "displayed")
    statement, parameters = _one(seen, "outbound_messages", "provider_message_id")
    assert "ix_outbound_messages_provider_provider_message_id" in await _plan(
        store, statement, parameters
    )


async def test_waiting_statuses_are_found_through_the_partial_history_index(
    store: Store, clock: FakeClock
) -> None:
    await _messages(store, clock)
    # a status for a provider id no message carries yet waits for it
    assert not await store.messages.apply_status("dotgo", "p-early", "delivered")
    await store.messages.record_outbound("late", "dotgo", TO, Message(Text("hi")))
    with _statements(store) as seen:
        assert await store.messages.mark_sent("late", "p-early")
    assert (await store.messages.get_message("late")).state.value == "delivered"  # type: ignore[union-attr]
    statement, parameters = _one(seen, "message_history", "IS NULL")
    index = "ix_message_history_provider_provider_message_id"
    assert index in await _plan(store, statement, parameters)
    # the journal's own look-ups of waiting statuses
    if store.dialect == "postgresql":
        waiting = (journal_db._PG_WAITING, ("dotgo", "p-early", TO))
    else:
        waiting = (journal_db._SQLITE_WAITING, ("dotgo", "p-early", TO))
    assert index in await _plan(store, *waiting)


async def test_the_listing_reads_the_newest_messages_and_a_numbers_messages_by_index(
    store: Store, clock: FakeClock
) -> None:
    await _messages(store, clock)
    with _statements(store) as seen:
        newest = await store.messages.find_messages(limit=3)
    assert [m.id for m in newest] == ["m19", "m18", "m17"]
    assert "ix_outbound_messages_created_at" in await _plan(store, *_one(seen, "outbound"))
    await store.messages.record_outbound("other", "dotgo", "+33699999999", Message(Text("hi")))
    with _statements(store) as seen:
        theirs = await store.messages.find_messages(to="+33699999999")
    assert [m.id for m in theirs] == ["other"]
    assert "ix_outbound_messages_recipient" in await _plan(store, *_one(seen, "outbound"))
