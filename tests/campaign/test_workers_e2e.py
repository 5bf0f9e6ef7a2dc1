"""``rcskit worker`` processes on one PostgreSQL store and one Redis, against the emulator:
they share a paced campaign and its limit, and ``campaign pause|resume|cancel`` reach them.

Dotgo's Google API: the message id is an idempotency key, so a send that timed out on a busy
machine is resent under it and every recipient is accepted exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rcskit.store import CampaignStatus, RecipientStatus, Store
from tests.campaign.conftest import EmulatorServer, emulator_toml, run_cli
from tests.campaign.test_kill import GOOGLE_BOT, SECRETS, _create, _phone_counts, _rcs_numbers
from tests.chaos.redis_server import RedisServer


@pytest.fixture
def redis_url() -> Iterator[str]:
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()


def _worker(database: str, redis: str) -> subprocess.Popen[str]:
    env = {**os.environ, "RCSKIT_CLIENT_SECRET": SECRETS[GOOGLE_BOT], "RCSKIT_REDIS_URL": redis}
    return subprocess.Popen(
        [sys.executable, "-m", "rcskit.cli", "worker", "--database", database, "--lease", "10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _stop(workers: list[subprocess.Popen[str]]) -> list[str]:
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
    return [w.communicate(timeout=30)[1] for w in workers]


async def _until(check: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if await check():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


async def test_two_workers_share_a_paced_campaign_and_obey_pause_resume(
    tmp_path: Path, emulator_factory: Any, postgres_database_url: str, redis_url: str
) -> None:
    db = postgres_database_url
    count = 400
    server: EmulatorServer = emulator_factory(emulator_toml(count=count, fault_rate=0.0))
    _create(tmp_path, server, db, GOOGLE_BOT, count, tps="10")
    workers = [_worker(db, redis_url), _worker(db, redis_url)]
    try:
        async with await Store.open(db) as store:
            await _until(lambda: _live(store, 2), 30, "two workers")
            started = run_cli("resume", "kill", "--database", db)
            assert started.returncode == 0, started.stderr
            await _until(lambda: _accepted_at_least(server, 40), 60, "sends")
            paused = run_cli("pause", "kill", "--database", db)
            assert paused.returncode == 0 and "paused" in paused.stdout, paused.stderr
            await asyncio.sleep(1.5)  # within a second every worker stops; then nothing more
            at_pause = len(await server.accepted_sends(GOOGLE_BOT))
            await asyncio.sleep(2.0)
            assert len(await server.accepted_sends(GOOGLE_BOT)) == at_pause < count
            status = run_cli("status", "kill", "--database", db)
            assert "workers: 2" in status.stdout, status.stdout
            resumed = run_cli("resume", "kill", "--database", db)
            assert resumed.returncode == 0, resumed.stderr
            await _until(lambda: _done(store), 180, "the campaign to finish")
            counts = await store.campaigns.count_recipients("kill")
            await asyncio.sleep(2.5)  # the pools note the ended runs
    finally:
        errors = _stop(workers)
    rcs, not_rcs = await _rcs_numbers(server)
    accepted = _phone_counts(await server.accepted_sends(GOOGLE_BOT))
    assert set(accepted) == rcs and max(accepted.values()) == 1, "each once"
    assert counts == {RecipientStatus.SENT: len(rcs), RecipientStatus.FALLBACK: len(not_rcs)}
    assert all("serving campaign kill" in e for e in errors), errors
    shares = [sum(map(int, re.findall(r"campaign kill \w+: (\d+) sent", e))) for e in errors]
    assert min(shares) > 0, f"both workers sent part of the campaign: {errors}"


async def test_cancel_ends_every_open_recipient_and_stops_the_workers(
    tmp_path: Path, emulator_factory: Any, postgres_database_url: str, redis_url: str
) -> None:
    db = postgres_database_url
    server: EmulatorServer = emulator_factory(emulator_toml(count=400, fault_rate=0.0))
    _create(tmp_path, server, db, GOOGLE_BOT, 400, tps="20")
    workers = [_worker(db, redis_url)]
    try:
        async with await Store.open(db) as store:
            await _until(lambda: _live(store, 1), 30, "a worker")
            assert run_cli("resume", "kill", "--database", db).returncode == 0
            await _until(lambda: _accepted_at_least(server, 20), 60, "sends")
            cancelled = run_cli("cancel", "kill", "--database", db)
            assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
            await asyncio.sleep(1.5)
            at_cancel = len(await server.accepted_sends(GOOGLE_BOT))
            await asyncio.sleep(1.5)
            assert len(await server.accepted_sends(GOOGLE_BOT)) == at_cancel
            await _until(lambda: _no_open(store), 30, "every open recipient cancelled")
            counts = await store.campaigns.count_recipients("kill")
            campaign = await store.campaigns.get_campaign("kill")
    finally:
        _stop(workers)
    assert campaign is not None and campaign.status is CampaignStatus.CANCELLED
    assert counts.get(RecipientStatus.CANCELLED, 0) > 0
    assert counts.get(RecipientStatus.SENT, 0) == at_cancel


async def _live(store: Store, n: int) -> bool:
    return len(await store.workers.live_workers()) >= n


async def _accepted_at_least(server: EmulatorServer, n: int) -> bool:
    return len(await server.accepted_sends(GOOGLE_BOT)) >= n


async def _done(store: Store) -> bool:
    campaign = await store.campaigns.get_campaign("kill")
    return campaign is not None and campaign.status is CampaignStatus.DONE


async def _no_open(store: Store) -> bool:
    counts = await store.campaigns.count_recipients("kill")
    open_ = (RecipientStatus.QUEUED, RecipientStatus.RCS, RecipientStatus.NOT_RCS)
    return not any(counts.get(s) for s in open_)
