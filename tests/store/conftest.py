"""Fixtures: every store test runs on SQLite (a temporary file) and on the real PostgreSQL.

PostgreSQL is the server at 127.0.0.1:5432 (database ``test``, trust auth, user ``postgres``, or
``root`` when that role does not exist; ``RCSKIT_TEST_POSTGRES_URL`` overrides). Each test gets
a fresh schema, created before and dropped after, so parallel runs never collide. When the
server is unreachable the PostgreSQL variants are skipped, unless ``RCSKIT_REQUIRE_SERVICES``
is set (CI sets it): then they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from rcskit.store import Store, database_url

CANDIDATE_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


def _asyncpg_dsn(url: str) -> str:
    return database_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _reachable(url: str) -> str | None:
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        return f"{url}: {type(err).__name__}: {err}"
    await conn.close()
    return None


@dataclass(frozen=True)
class PostgresProbe:
    """The first PostgreSQL URL that answered, or why none did."""

    url: str | None
    problems: tuple[str, ...] = ()


@pytest.fixture(scope="session")
def postgres_probe() -> PostgresProbe:
    """Find the PostgreSQL server once per session."""
    override = os.environ.get("RCSKIT_TEST_POSTGRES_URL")
    problems = []
    for url in (override,) if override else CANDIDATE_URLS:
        problem = asyncio.run(_reachable(url))
        if problem is None:
            return PostgresProbe(url)
        problems.append(problem)
    return PostgresProbe(None, tuple(problems))


def _required(postgres_probe: PostgresProbe) -> str | None:
    if postgres_probe.url is None and os.environ.get("RCSKIT_REQUIRE_SERVICES"):
        pytest.fail(
            "PostgreSQL is required (RCSKIT_REQUIRE_SERVICES is set) but unreachable: "
            + "; ".join(postgres_probe.problems)
        )
    return postgres_probe.url


@pytest.fixture
def postgres_url(postgres_probe: PostgresProbe) -> str | None:
    """The PostgreSQL URL, or ``None`` when unreachable (a failure when services are required)."""
    return _required(postgres_probe)


class FakeClock:
    """A clock the test moves by hand (aware UTC)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(frozen=True)
class Database:
    """Where a test's store lives: a URL, and a schema on PostgreSQL."""

    kind: str
    url: str
    schema: str | None = None

    async def open(self, **kw: object) -> Store:
        """A store on this database (migrated unless told otherwise)."""
        kw.setdefault("upgrade", True)
        return await Store.open(self.url, schema=self.schema, **kw)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_probe: PostgresProbe
) -> AsyncIterator[Database]:
    """An empty database: a SQLite file, or a fresh PostgreSQL schema (dropped afterwards)."""
    if request.param == "sqlite":
        yield Database("sqlite", str(tmp_path / "store" / "rcskit.db"))
        return
    postgres_url = _required(postgres_probe)
    if postgres_url is None:
        pytest.skip(
            "PostgreSQL is unreachable (set RCSKIT_REQUIRE_SERVICES=1 to make this a failure): "
            + "; ".join(postgres_probe.problems)
        )
    schema = f"rcskit_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_asyncpg_dsn(postgres_url))
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield Database("postgresql", postgres_url, schema)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()


@pytest.fixture
def clock() -> FakeClock:
    """The store's clock, moved by the test."""
    return FakeClock()


@pytest.fixture
async def store(database: Database, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated store on ``database`` with the fake ``clock``."""
    opened = await database.open(clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
