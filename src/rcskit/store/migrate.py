"""Run the store's Alembic migrations from Python (no ``alembic.ini`` needed).

``await migrate("rcskit.db")`` or ``await migrate("postgresql://u@host/db")`` brings the
database to the newest revision; ``rcskit db upgrade`` does the same from the shell.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from .engine import create_engine, ensure_reachable

__all__ = ["MIGRATIONS", "alembic_config", "current_revision", "head_revision", "migrate"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
"""The folder of the Alembic scripts, shipped inside the package."""


def alembic_config(*, url: str | URL | None = None, schema: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the shipped migrations (no ini file)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.attributes["url"] = url
    if schema is not None:
        cfg.attributes["schema"] = schema
    return cfg


def head_revision() -> str:
    """The newest revision of the shipped migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database of ``engine`` is at (``None`` for an empty database)."""
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> str | None:
    """Upgrade the database of ``engine`` to ``revision`` in one transaction; return where it is."""

    def run(connection: Connection) -> str | None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
        return _current(connection)

    async with engine.begin() as conn:
        return await conn.run_sync(run)


async def migrate(url: str | URL, *, schema: str | None = None, revision: str = "head") -> str:
    """Upgrade the database at ``url`` to ``revision`` (default: the newest); return the revision.

    Safe to run again (nothing to do) and, on PostgreSQL, from several processes at once (an
    advisory lock serialises them). ``schema`` (PostgreSQL) migrates that schema.
    """
    engine = create_engine(url, schema=schema)
    try:
        await ensure_reachable(engine)
        reached = await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()
    return reached or ""
