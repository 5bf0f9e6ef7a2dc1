"""Alembic environment of the rcskit store; async-capable.

Three ways in:

* :func:`rcskit.store.migrate` opens an async connection and passes its sync face as
  ``config.attributes["connection"]``: migrations run on it, inside its transaction.
* The ``alembic`` command with ``sqlalchemy.url`` (or ``config.attributes["url"]``) set: an async
  engine is made for that URL (``postgresql://`` becomes asyncpg, a path becomes aiosqlite) and
  the migrations run through ``run_sync`` in a fresh event loop.
* Offline (``alembic upgrade --sql``): the SQL is printed for that URL's dialect.

On PostgreSQL a transaction-scoped advisory lock serialises concurrent upgrades (several workers
starting at once): the second one waits, then finds the schema already at head.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from rcskit.store.engine import create_engine, database_url
from rcskit.store.schema import metadata

MIGRATION_LOCK_KEY = 0x72637331
"""The advisory lock key (``"rcs1"``) taken while migrating a PostgreSQL database."""

config = context.config


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError(
            "no database for the migrations: set sqlalchemy.url, or use `rcskit db upgrade`"
        )
    return str(url)


def run_migrations_offline() -> None:
    """Print the SQL of the migrations for the configured URL's dialect."""
    context.configure(
        url=database_url(_url()),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_on(connection: Connection) -> None:
    """Run the pending migrations on ``connection`` (a sync connection)."""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        context.run_migrations()


async def _run_async() -> None:
    engine = create_engine(_url(), schema=config.attributes.get("schema"))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_migrations_on)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    """Run on the given connection, or on a new async engine for the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
    else:
        asyncio.run(_run_async())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
