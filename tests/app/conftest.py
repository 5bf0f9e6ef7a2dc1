"""Fixtures for the bot tests: a recording client, a working directory of one's own, and an
inbox database on SQLite and on PostgreSQL (a schema per test)."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rcskit.message import Contact, Message
from rcskit.store.inbox_postgres import PostgresInbox
from rcskit.store.inbox_sqlite import SqliteInbox


class RecordingClient:
    """A client whose ``send`` records (contact, message, thread name) and returns an id."""

    def __init__(self) -> None:
        self.sent: list[tuple[Contact, Message]] = []
        self.threads: list[str] = []

    async def send(self, to: Contact, message: Message, /) -> str:
        self.sent.append((to, message))
        self.threads.append(threading.current_thread().name)
        await asyncio.sleep(0)
        return f"sent-{len(self.sent)}"

    @property
    def texts(self) -> list[str]:
        return [getattr(m.content, "text", m.content.kind) for _, m in self.sent]


@pytest.fixture
def client() -> RecordingClient:
    return RecordingClient()


@pytest.fixture(autouse=True)
def _own_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    # a Bot's default SQLite file is relative: never write it into the repository
    monkeypatch.chdir(tmp_path)
    return tmp_path


POSTGRES_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


async def _postgres_problem(url: str) -> str | None:
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (TimeoutError, OSError, asyncpg.PostgresError) as err:
        return f"{url}: {type(err).__name__}: {err}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_server() -> tuple[str | None, tuple[str, ...]]:
    """The first PostgreSQL URL that answers (``RCSKIT_TEST_POSTGRES_URL`` overrides), or
    ``None`` and why none did."""
    override = os.environ.get("RCSKIT_TEST_POSTGRES_URL")
    problems = []
    for url in (override,) if override else POSTGRES_URLS:
        problem = asyncio.run(_postgres_problem(url))
        if problem is None:
            return url, ()
        problems.append(problem)
    return None, tuple(problems)


@dataclass(frozen=True)
class InboxDatabase:
    """Where a test's inbox lives: a SQLite file, or a fresh PostgreSQL schema."""

    kind: str
    url: str
    schema: str | None = None

    def open(self, **kw: Any) -> SqliteInbox | PostgresInbox:
        """An inbox on this database."""
        if self.kind == "sqlite":
            return SqliteInbox(self.url, **kw)
        return PostgresInbox(self.url, schema=self.schema, **kw)


@pytest.fixture(params=["sqlite", "postgresql"])
async def inbox_database(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_server: tuple[str | None, tuple[str, ...]],
) -> AsyncIterator[InboxDatabase]:
    """A SQLite file, or a PostgreSQL schema of the test's own (dropped afterwards). Without a
    reachable server the PostgreSQL variant is skipped, or fails under
    ``RCSKIT_REQUIRE_SERVICES``."""
    if request.param == "sqlite":
        yield InboxDatabase("sqlite", str(tmp_path / "inbox.sqlite3"))
        return
    import asyncpg

    url, problems = postgres_server
    if url is None:
        if os.environ.get("RCSKIT_REQUIRE_SERVICES"):
            pytest.fail("PostgreSQL is required but unreachable: " + "; ".join(problems))
        pytest.skip("PostgreSQL is unreachable: " + "; ".join(problems))
    schema = f"rcskit_inbox_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
        yield InboxDatabase("postgresql", url, schema)
    finally:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.close()
