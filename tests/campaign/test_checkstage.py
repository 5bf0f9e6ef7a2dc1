"""The capability stage of a campaign worker (:mod:`rcskit.campaign.checkstage`), in process
against the emulator (its ASGI app through AsgiTransport), on SQLite and PostgreSQL:

* while a shared limiter its checks wait on is unreachable, the stage claims nothing; a check
  already waiting is given up after the blocked time and its recipients released (rows with
  no lease, in the store), said once in the notes; the campaign completes once it answers;
* it holds its next check while enough checked recipients wait, counting only up to what it
  needs (never the count of every status of the campaign).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from rcskit.campaign import (
    CapabilityChecker,
    CapabilityMode,
    CsvFallbackSender,
    MessageTemplate,
    ProviderSettings,
    Runner,
    RunOptions,
    build_client,
    create_campaign,
)
from rcskit.campaign import redis_limiter as shared
from rcskit.campaign.checkstage import ReadyCount, check_gates, unless_blocked, until_reachable
from rcskit.campaign.pacing import ReachableLimiter, bulk_limiter
from rcskit.campaign.redis_limiter import connect
from rcskit.client import RcsClient
from rcskit.emulator import create_app
from rcskit.emulator.config import BotConfig, EmulatorConfig, PhoneRangeConfig
from rcskit.retry import NO_RETRY
from rcskit.store import Campaign, Store
from rcskit.store.schema import campaign_recipients
from rcskit.transport import AsgiTransport
from tests.chaos.redis_server import RedisServer, redis_server_or_skip
from tests.store.conftest import Database

from .conftest import write_recipients

BOT = "GgL8dP2wXq4RtY7Zb1"
SECRET = "in-process-secret"
_R = campaign_recipients


class Outage:
    """A limiter kept by a service that can go away, controlled by the test: while it is
    down, ``acquire`` waits (granting nothing) and the outage is known from the first call
    that met it (as :class:`~rcskit.campaign.redis_limiter.RedisRateLimiter` learns it), or
    at once with ``known=True``."""

    def __init__(self) -> None:
        self.up = asyncio.Event()
        self.up.set()
        self.since: float | None = None
        self.granted = 0

    def stop(self, *, known: bool = False) -> None:
        self.up.clear()
        if known:
            self.since = time.monotonic()

    def start(self) -> None:
        self.since = None
        self.up.set()

    async def acquire(self) -> None:
        if not self.up.is_set() and self.since is None:
            self.since = time.monotonic()
        await self.up.wait()
        self.granted += 1

    def unreachable_for(self) -> float:
        return 0.0 if self.since is None else time.monotonic() - self.since

    async def until_reachable(self) -> None:
        if self.since is not None:
            await self.up.wait()


def _emulator(count: int) -> Any:
    return create_app(
        EmulatorConfig(
            bots=[
                BotConfig(
                    id=BOT,
                    provider="dotgo_google",
                    client_id="g",
                    client_secret=SECRET,  # type: ignore[arg-type]
                    tps=100_000,
                    tpm=600,
                )
            ],
            phone_ranges=[
                PhoneRangeConfig(prefix="+1555", count=count, rcs_ratio=0.8, delivered_delay_s=60)
            ],
        )
    )


def _settings() -> ProviderSettings:
    return ProviderSettings(
        "dotgo_google", BOT, "g", "http://emulator/dotgo/rcs",
        "http://emulator/dotgo/auth/oauth/token",
    )  # fmt: skip


@dataclass
class Setup:
    store: Store
    app: Any
    campaign: Campaign
    fallback: Path

    def client(self, limiters: dict[str, Any] | None = None) -> RcsClient:
        return build_client(
            _settings().config(SECRET),
            limiter=limiters,
            transport=AsgiTransport(self.app),
            retry=NO_RETRY,
        )

    def bulk_checks(self) -> int:
        log = self.app.state.emulator.log
        return sum("rcsEnabledContacts" in e.target and e.method == "POST" for e in log)

    async def rows(self) -> dict[str, int]:
        """Recipients per status, and how many some worker holds (``"held"``)."""
        async with self.store.engine.connect() as conn:
            by_status = (
                await conn.execute(
                    select(_R.c.status, func.count())
                    .where(_R.c.campaign_id == self.campaign.id)
                    .group_by(_R.c.status)
                )
            ).all()
            held = (
                await conn.execute(
                    select(func.count()).where(
                        _R.c.campaign_id == self.campaign.id, _R.c.claim_owner.is_not(None)
                    )
                )
            ).scalar()
        return {**{str(s): int(n) for s, n in by_status}, "held": int(held or 0)}


@contextlib.asynccontextmanager
async def _setup(
    database: Database, tmp_path: Path, count: int, **create: Any
) -> AsyncIterator[Setup]:
    app = _emulator(count)
    store = await database.open()
    campaign = await create_campaign(
        store,
        name="outage",
        provider=_settings(),
        csv=write_recipients(tmp_path / "r.csv", count),
        message=MessageTemplate.from_json(json.dumps({"content": {"kind": "text", "text": "Hi"}})),
        fallback=f"csv:{tmp_path / 'fallback.csv'}",
        **create,
    )
    try:
        yield Setup(store, app, campaign, tmp_path / "fallback.csv")
    finally:
        await store.close()
        await app.state.emulator.aclose()


async def _until(what: str, check: Callable[[], Any], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.05)


def _runner(s: Setup, client: RcsClient, check_client: RcsClient, **kw: Any) -> Runner:
    return Runner(
        s.store,
        s.campaign,
        client,
        CsvFallbackSender(s.fallback),
        check_client=check_client,
        options=RunOptions(concurrency=8, lease_s=1.5, smoothing=False),
        **kw,
    )


async def test_a_check_waiting_on_an_unreachable_limiter_releases_its_batch_then_resumes(
    database: Database, tmp_path: Path
) -> None:
    count = 300
    async with _setup(database, tmp_path, count) as s:
        bulk = Outage()
        bulk.stop()  # learned by the first check that asks it
        notes: list[str] = []
        async with s.client() as client, s.client({"bulk": bulk}) as checks:
            runner = _runner(s, client, checks, notify=notes.append)
            run = asyncio.create_task(runner.run())
            try:

                async def claimed() -> bool:
                    return (await s.rows())["held"] == count

                await _until("the batch claimed for its check", claimed, 10)

                async def released() -> bool:
                    return (await s.rows()) == {"queued": count, "held": 0}

                # released once the check has waited the blocked time (1 s: a third of the
                # 1.5 s lease is less), not renewed for ever
                await _until("the batch released", released, 10)
                assert bulk.since is not None
                released_after = time.monotonic() - bulk.since
                assert 1.0 <= released_after < 6.0, released_after
                assert runner.progress.released == count
                # and no new claim while it stays unreachable (longer than a lease)
                for _ in range(8):
                    await asyncio.sleep(0.25)
                    assert await released(), await s.rows()
                assert s.bulk_checks() == 0 and bulk.granted == 0
                bulk.start()
                summary = await asyncio.wait_for(run, 30)
            finally:
                if not run.done():
                    run.cancel()
        assert summary.finished
        rows = await s.rows()
        assert rows["held"] == 0 and rows.get("queued", 0) == 0 and rows.get("rcs", 0) == 0
        assert rows.get("sent", 0) + rows.get("fallback", 0) == count
        assert rows.get("sent", 0) == summary.progress.sent > 0
        assert s.bulk_checks() == 1
        said = [n for n in notes if "no capability checks" in n]
        assert len(said) == 1, notes
        assert said == [n for n in summary.notes if "no capability checks" in n]


async def test_nothing_is_claimed_while_the_shared_limit_is_known_unreachable(
    database: Database, tmp_path: Path
) -> None:
    count = 120
    async with _setup(database, tmp_path, count) as s:
        shared = Outage()
        shared.stop(known=True)  # the campaign's send limiter found it down already
        bulk = Outage()
        async with s.client() as client, s.client({"bulk": bulk, "send": shared}) as checks:
            runner = _runner(s, client, checks, limiter=shared)
            run = asyncio.create_task(runner.run())
            try:
                for _ in range(10):
                    await asyncio.sleep(0.2)
                    assert await s.rows() == {"queued": count, "held": 0}
                assert s.bulk_checks() == 0 and bulk.granted == 0
                shared.start()
                summary = await asyncio.wait_for(run, 30)
            finally:
                if not run.done():
                    run.cancel()
        assert summary.finished
        assert runner.progress.released == 0  # nothing was claimed, nothing to release
        assert s.bulk_checks() == 1
        rows = await s.rows()
        assert rows.get("sent", 0) + rows.get("fallback", 0) == count


async def test_checks_wait_for_the_ready_recipients_without_counting_the_campaign(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paced run (5 recipients/s ahead of a 2-check look-ahead): the check stage holds its
    checks by counting the ready recipients (capped), never through ``count_recipients``
    (every status of the campaign; the gauges still use it now and then)."""
    count = 60
    async with _setup(database, tmp_path, count, tps=50.0) as s:
        callers: list[str] = []
        full_count = s.store.campaigns.count_recipients

        async def counted(campaign_id: str) -> Any:
            callers.append(sys._getframe(1).f_code.co_name)
            return await full_count(campaign_id)

        capped: list[int] = []
        at_least = ReadyCount.at_least

        async def capped_count(self: ReadyCount, campaign_id: str, cap: int) -> int:
            got = await at_least(self, campaign_id, cap)
            capped.append(got)
            return got

        monkeypatch.setattr(s.store.campaigns, "count_recipients", counted)
        monkeypatch.setattr(ReadyCount, "at_least", capped_count)
        async with s.client() as client, s.client({"bulk": bulk_limiter(600)}) as checks:
            summary = await asyncio.wait_for(_runner(s, client, checks).run(), 30)
        assert summary.finished
        assert "_wait_until_needed" not in callers
        assert capped and capped[0] == 0  # looked before the first check
        rows = await s.rows()
        assert rows.get("sent", 0) + rows.get("fallback", 0) == count


# ---------------------------------------------------------------- the parts


async def test_ready_count_counts_rcs_recipients_up_to_its_cap(
    database: Database, tmp_path: Path
) -> None:
    async with _setup(database, tmp_path, 30) as s:
        counter = ReadyCount(s.store)
        assert await counter.at_least(s.campaign.id, 100) == 0
        async with s.store.engine.begin() as conn:
            await conn.execute(
                _R.update()
                .where(_R.c.campaign_id == s.campaign.id, _R.c.line_number <= 12)
                .values(status="rcs")
            )
        assert await counter.at_least(s.campaign.id, 100) == 11  # lines 2-12 (1 is the header)
        assert await counter.at_least(s.campaign.id, 5) == 5
        assert await counter.at_least(s.campaign.id, 0) == 0
        assert await counter.at_least("another", 100) == 0


async def test_the_gates_are_the_limiters_a_check_waits_on_and_the_send_limiter(
    database: Database, tmp_path: Path
) -> None:
    async with _setup(database, tmp_path, 3) as s:
        bulk, shared = Outage(), Outage()
        assert isinstance(bulk, ReachableLimiter)
        plain = bulk_limiter(600)  # cannot be unreachable
        async with s.client({"bulk": bulk, "send": shared}) as checks:
            checker = CapabilityChecker(s.store, checks)
            assert checker.limiters == [bulk]
            assert check_gates(checker, shared) == [bulk, shared]
            assert check_gates(checker, bulk) == [bulk]  # each once
            assert check_gates(checker, None) == [bulk]
            for mode in (CapabilityMode.NONE, CapabilityMode.CACHE_ONLY):
                assert check_gates(CapabilityChecker(s.store, checks, mode), shared) == []
        async with s.client({"bulk": plain}) as checks:
            checker = CapabilityChecker(s.store, checks)
            assert checker.limiters == [plain]
            assert check_gates(checker, None) == []


async def test_until_reachable_and_unless_blocked() -> None:
    down = Outage()
    assert await until_reachable([down], 0.05)
    down.stop(known=True)
    assert not await until_reachable([down], 0.1)
    asyncio.get_running_loop().call_later(0.1, down.start)
    assert await until_reachable([down], 2)

    async def answer() -> str:
        await asyncio.sleep(0.05)
        return "checked"

    assert await unless_blocked(answer(), [down], 0.2, 0.02) == (True, "checked")

    cancelled = asyncio.Event()

    async def waits() -> str:
        try:
            await down.acquire()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    down.stop()
    started = time.monotonic()
    assert await unless_blocked(waits(), [down], 0.3, 0.02) == (False, None)
    assert 0.25 < time.monotonic() - started < 2
    await asyncio.wait_for(cancelled.wait(), 1)  # the given-up wait left the limiter's line
    down.start()
    assert down.granted == 0


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = redis_server_or_skip()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def test_a_stopped_redis_releases_the_checks_claims_and_a_started_one_finishes_them(
    database: Database, tmp_path: Path, redis_server: RedisServer
) -> None:
    """The same with the shared limiters of ``rcskit campaign run --redis`` on a real
    redis-server, stopped before the run and started again."""
    count = 200
    async with _setup(database, tmp_path, count, tps=500.0) as s:
        redis = connect(redis_server.url, timeout=0.2)
        account = uuid.uuid4().hex
        send = shared.send_limiter(redis, "dotgo_google", account, 500.0)
        bulk = shared.bulk_capability_limiter(redis, "dotgo_google", account, 600)
        notes: list[str] = []
        try:
            async with s.client() as client, s.client({"send": send, "bulk": bulk}) as checks:
                runner = _runner(s, client, checks, limiter=send, notify=notes.append)
                await asyncio.to_thread(redis_server.stop)
                run = asyncio.create_task(runner.run())
                try:

                    async def released() -> bool:
                        return runner.progress.released == count and (await s.rows()) == {
                            "queued": count,
                            "held": 0,
                        }

                    await _until("the check's batch released", released, 15)
                    assert s.bulk_checks() == 0
                    await asyncio.sleep(1.0)  # and nothing claimed again meanwhile
                    assert await s.rows() == {"queued": count, "held": 0}
                    await asyncio.to_thread(redis_server.start)
                    summary = await asyncio.wait_for(run, 30)
                finally:
                    if not run.done():
                        run.cancel()
        finally:
            await redis.aclose()
        assert summary.finished
        rows = await s.rows()
        assert rows.get("sent", 0) + rows.get("fallback", 0) == count and rows["held"] == 0
        assert s.bulk_checks() == 1
        assert sum("no capability checks" in n for n in notes) == 1
