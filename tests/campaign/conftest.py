"""Fixtures for campaign tests: databases (SQLite, and PostgreSQL as in tests/store), a real
emulator server on 127.0.0.1 in a subprocess, and recipient CSVs.

PostgreSQL variants follow tests/store/conftest.py: skipped when the server is unreachable,
a failure when ``RCSKIT_REQUIRE_SERVICES`` is set. A runner in another process cannot be told
a schema, so subprocess tests get a database of their own (created and dropped here).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from rcskit.store import migrate
from tests.store.conftest import (  # noqa: F401 - fixtures re-exported to this folder
    Database,
    FakeClock,
    PostgresProbe,
    _asyncpg_dsn,
    _required,
    clock,
    database,
    postgres_probe,
    store,
)

GOOGLE_BOT = "GgL8dP2wXq4RtY7Zb1"
GSMA_BOT = "OsOsQ0GwNvUdLTV9Bd"
SECRETS = {GOOGLE_BOT: "google-secret-for-tests", GSMA_BOT: "gsma-secret-for-tests"}
CLIENTS = {GOOGLE_BOT: "google-client", GSMA_BOT: "gsma-client"}
PREFIX = "+1555"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def emulator_toml(
    *,
    count: int,
    rcs_ratio: float = 0.9,
    fault_rate: float = 0.1,
    tps: float = 100_000,
    log_size: int = 200_000,
    webhook_url: str | None = None,
    delivered_delay_s: float = 0.2,
    displayed_delay_s: float | None = None,
) -> str:
    """An emulator config: both Dotgo bots with known secrets, ``count`` generated phones,
    and ``fault_rate`` of API calls answered 429, 500 or 502 (in equal shares)."""
    share = fault_rate / 3
    bots = []
    for bot_id, provider in ((GOOGLE_BOT, "dotgo_google"), (GSMA_BOT, "dotgo")):
        hook = f'webhook_url = "{webhook_url}"\n' if webhook_url else ""
        bots.append(
            f"""[[bots]]
id = "{bot_id}"
provider = "{provider}"
client_id = "{CLIENTS[bot_id]}"
client_secret = "{SECRETS[bot_id]}"
tps = {tps}
tpm = 600
token_tpm = 600
{hook}
[bots.faults]
rate_429 = {share}
rate_500 = {share}
rate_502 = {share}
seed = 7
"""
        )
    displayed = "" if displayed_delay_s is None else f"displayed_delay_s = {displayed_delay_s}\n"
    return (
        f"request_log_size = {log_size}\n\n"
        + "\n".join(bots)
        + f"""
[[phone_ranges]]
prefix = "{PREFIX}"
count = {count}
rcs_ratio = {rcs_ratio}
delivered_delay_s = {delivered_delay_s}
{displayed}"""
    )


class EmulatorServer:
    """The emulator served by uvicorn in a subprocess on 127.0.0.1."""

    def __init__(self, config_path: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rcskit.cli",
                "emulator",
                "--config",
                str(config_path),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        "the emulator did not start: " + self.process.stderr.read().decode()  # type: ignore[union-attr]
                    ) from None
                time.sleep(0.1)
        raise RuntimeError("the emulator did not start within 20 s")

    @property
    def server_root(self) -> str:
        return f"{self.base}/dotgo/rcs"

    @property
    def auth_url(self) -> str:
        return f"{self.base}/dotgo/auth/oauth/token"

    async def get(self, path: str, **params: Any) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.base}/_emulator{path}", params=params) as resp,
        ):
            assert resp.status == 200, await resp.text()
            return await resp.json()

    async def accepted_sends(self, bot_id: str) -> list[dict[str, Any]]:
        """Every send request the emulator accepted for ``bot_id`` (from its request log)."""
        status = 200 if bot_id == GOOGLE_BOT else 202
        marker = "agentMessages/async" if bot_id == GOOGLE_BOT else "messages/async"
        out: list[dict[str, Any]] = []
        since = 0
        while True:
            page = await self.get(
                "/log",
                kind="api",
                bot_id=bot_id,
                method="POST",
                status=str(status),
                contains=marker,
                since=str(since),
                limit="10000",
            )
            entries = page["entries"]
            if not entries:
                return out
            out.extend(entries)
            since = entries[-1]["seq"]

    async def phones(self) -> list[dict[str, Any]]:
        """Every phone of the emulator."""
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self.get("/phones", offset=str(offset), limit="1000")
            out.extend(page["phones"])
            offset += len(page["phones"])
            if not page["phones"] or offset >= page["total"]:
                return out

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def write_recipients(path: Path, count: int, *, extra: str = "") -> Path:
    """A CSV of ``count`` emulator numbers with a ``first_name`` column (+ ``extra`` lines)."""
    with path.open("w", encoding="utf-8") as handle:
        handle.write("phone,first_name\n")
        for i in range(count):
            handle.write(f"{PREFIX}{i:07d},Ada{i}\n")
        handle.write(extra)
    return path


@pytest.fixture
def emulator_factory(tmp_path: Path) -> Iterator[Any]:
    """Start emulator servers from a TOML text; all are stopped at the end."""
    started: list[EmulatorServer] = []

    def start(toml: str) -> EmulatorServer:
        config = tmp_path / f"emulator-{len(started)}.toml"
        config.write_text(toml, encoding="utf-8")
        server = EmulatorServer(config)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@asynccontextmanager
async def _fresh_postgres_database(probe: PostgresProbe) -> AsyncIterator[str]:
    url = _required(probe)
    if url is None:
        pytest.skip(
            "PostgreSQL is unreachable (set RCSKIT_REQUIRE_SERVICES=1 to make this a failure): "
            + "; ".join(probe.problems)
        )
    name = f"rcskit_campaign_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        own = url.rsplit("/", 1)[0] + f"/{name}"
        await migrate(own)
        yield own
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    postgres_probe: PostgresProbe,  # noqa: F811 - the fixture
) -> AsyncIterator[str]:
    """A database URL a subprocess can use: a SQLite file, or a fresh PostgreSQL database
    (migrated; dropped afterwards)."""
    if request.param == "sqlite":
        yield str(tmp_path / "campaign.db")
        return
    async with _fresh_postgres_database(postgres_probe) as url:
        yield url


@pytest.fixture
async def postgres_database_url(
    postgres_probe: PostgresProbe,  # noqa: F811 - the fixture
) -> AsyncIterator[str]:
    """A fresh PostgreSQL database (migrated; dropped afterwards)."""
    async with _fresh_postgres_database(postgres_probe) as url:
        yield url


def run_cli(
    *args: str, secret: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``python -m rcskit.campaign ARGS`` in a subprocess, to completion."""
    env = dict(os.environ)
    if secret is not None:
        env["RCSKIT_CLIENT_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "rcskit.campaign", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def start_cli(*args: str, secret: str | None = None) -> subprocess.Popen[str]:
    """``python -m rcskit.campaign ARGS`` in a subprocess, running."""
    env = dict(os.environ)
    if secret is not None:
        env["RCSKIT_CLIENT_SECRET"] = secret
    return subprocess.Popen(
        [sys.executable, "-m", "rcskit.campaign", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
