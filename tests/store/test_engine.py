"""Database URLs, engine settings and migrations, on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from rcskit.store import (
    InvalidRecord,
    SchemaOutdated,
    Store,
    create_engine,
    database_url,
    display_url,
    head_revision,
    migrate,
)
from rcskit.store.migrate import alembic_config, current_revision, upgrade_engine
from rcskit.store.schema import metadata

from .conftest import Database

TABLES = {
    "outbound_messages",
    "message_history",
    "inbound_messages",
    "billing_events",
    "capability_results",
    "campaigns",
    "campaign_recipients",
    "workers",
}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://me@127.0.0.1:5432/rcs", "postgresql+asyncpg://me@127.0.0.1:5432/rcs"),
        ("postgres://me@db/rcs", "postgresql+asyncpg://me@db/rcs"),
        ("postgresql+asyncpg://me@db/rcs", "postgresql+asyncpg://me@db/rcs"),
        ("sqlite:////var/lib/rcs.db", "sqlite+aiosqlite:////var/lib/rcs.db"),
        ("sqlite+aiosqlite:////var/lib/rcs.db", "sqlite+aiosqlite:////var/lib/rcs.db"),
        ("/var/lib/rcs.db", "sqlite+aiosqlite:////var/lib/rcs.db"),
    ],
)
def test_database_url(given: str, expected: str) -> None:
    assert database_url(given).render_as_string(hide_password=False) == expected


def test_relative_paths_become_absolute() -> None:
    url = database_url("data/rcskit.db")
    assert url.database == str(Path.cwd() / "data" / "rcskit.db")
    assert database_url("sqlite:///rel.db").database == str(Path.cwd() / "rel.db")


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("", "give a SQLite file path"),
        (":memory:", "in-memory"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "supported"),
        ("postgresql+psycopg2://u:pw@h/db", "asyncpg"),
        ("sqlite+pysqlite:///x.db", "aiosqlite"),
    ],
)
def test_database_url_refusals(given: str, complaint: str) -> None:
    with pytest.raises(InvalidRecord, match=complaint) as info:
        database_url(given)
    assert info.value.field == "database"
    assert "pw" not in str(info.value)


def test_passwords_never_shown() -> None:
    url = "postgresql://rcs:s3cr3t@db.internal/rcs"
    assert "s3cr3t" not in display_url(url)
    assert "s3cr3t" not in display_url(database_url(url))
    assert "s3cr3t" not in display_url("postgresql://rcs:s3cr3t@[bad")
    with pytest.raises(InvalidRecord) as info:
        database_url("mysql://rcs:s3cr3t@db/rcs")
    assert "s3cr3t" not in str(info.value)


async def test_store_repr_hides_the_password() -> None:
    # Making an engine does not connect: no server is needed to check the repr.
    store = Store(create_engine("postgresql://rcs:s3cr3t@db.invalid/rcs"))
    try:
        assert "s3cr3t" not in repr(store)
        assert repr(store) == "Store('postgresql+asyncpg://rcs:***@db.invalid/rcs')"
    finally:
        await store.close()


async def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "rcskit.db"
    async with await Store.open(str(path)) as store, store.engine.connect() as conn:
        assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
        assert (await conn.scalar(text("PRAGMA foreign_keys"))) == 1
    assert path.exists()


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def test_migrations_upgrade_an_empty_database(database: Database) -> None:
    assert await migrate(database.url, schema=database.schema) == head_revision()
    store = await database.open(upgrade=False)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_tables) == TABLES | {"alembic_version"}
            # The migrations create exactly what rcskit.store.schema describes.
            assert await conn.run_sync(_diff) == []
        assert await current_revision(store.engine) == head_revision()
        # Upgrading again has nothing to do.
        assert await upgrade_engine(store.engine) == head_revision()
    finally:
        await store.close()


async def test_migrations_go_down_and_up_again(database: Database) -> None:
    await migrate(database.url, schema=database.schema)
    engine = create_engine(database.url, schema=database.schema)

    def downgrade(connection: Connection) -> set[str]:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "base")
        return _tables(connection)

    try:
        async with engine.begin() as conn:
            assert await conn.run_sync(downgrade) == {"alembic_version"}
        assert await current_revision(engine) is None
    finally:
        await engine.dispose()
    assert await migrate(database.url, schema=database.schema) == head_revision()


async def test_postgresql_refuses_an_unmigrated_schema(database: Database) -> None:
    if database.kind != "postgresql":
        # SQLite is migrated on open by default (zero set-up) ...
        store = await Store.open(database.url)
        assert await current_revision(store.engine) == head_revision()
        await store.close()
        return
    with pytest.raises(SchemaOutdated, match="rcskit db upgrade"):
        await Store.open(database.url, schema=database.schema)
    await migrate(database.url, schema=database.schema)
    store = await Store.open(database.url, schema=database.schema)
    await store.close()
