"""The runner's guards behind the chaos run's checks, one at a time in one process: a campaign
runner (SQLite store) against the fake Dotgo platform on 127.0.0.1, and a private Redis where
the shared limiter is the subject.

- A send whose group write fails (a database error) strands no recipient: its task carries
  on, the recipient's lease runs out and a later claim sends it (the chaos run's "terminal"
  check failed when such a task ended and its recipients' leases were renewed for ever).
- A slot that went by while the attempt was being recorded is taken again before the request:
  no request leaves later than its slot allows (slow commits released several at once: the
  chaos run's worst second reached 131 to 149 against 120 on a loaded machine).
- Redis unreachable: nothing is sent, the worker claims nothing and, once blocked for a while,
  releases what it holds instead of renewing the leases; when Redis is back it resumes at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from rcskit.campaign import (
    CsvFallbackSender,
    MessageTemplate,
    ProviderSettings,
    Runner,
    RunOptions,
    create_campaign,
)
from rcskit.campaign.pacing import ReachableLimiter, SlotLimiter
from rcskit.campaign.redis_limiter import connect
from rcskit.campaign.redis_limiter import send_limiter as shared_send_limiter
from rcskit.campaign.runner import LEAD_MAX_S
from rcskit.campaign.sends import SendStart
from rcskit.client import RcsClient
from rcskit.providers.dotgo import DotgoConfig
from rcskit.retry import NO_RETRY
from rcskit.store import Campaign, Store
from rcskit.transport import AiohttpTransport, HttpRequest, HttpResponse
from tests.chaos.conftest import Serve
from tests.chaos.fake_provider import FakeDotgo
from tests.chaos.redis_server import RedisServer, redis_server_or_skip

SEND_PATH = "/messages/async"


def _config(base: str) -> DotgoConfig:
    return DotgoConfig(
        "chaosbot",
        "chaos-client",
        "chaos-secret",
        server_root=f"{base}/rcs",
        auth_url=f"{base}/auth/oauth/token",
        client_message_ids=True,
    )


async def _campaign(tmp_path: Path, base: str, store: Store, count: int, tps: float) -> Campaign:
    recipients = tmp_path / "r.csv"
    recipients.write_text(
        "phone,first_name\n" + "".join(f"+1555{i:07d},Ada{i}\n" for i in range(count)),
        encoding="utf-8",
    )
    return await create_campaign(
        store,
        name="guards",
        provider=ProviderSettings("dotgo", "chaosbot", "chaos-client", f"{base}/rcs"),
        csv=recipients,
        message=MessageTemplate.from_json(
            json.dumps({"content": {"kind": "text", "text": "Hi {first_name}"}}),
            source="m.json",
        ),
        tps=tps,
        capabilities="none",
        fallback=f"csv:{tmp_path / 'fallback.csv'}",
        retry_max_delay=0.05,
        id="guards",
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Straight from the SQLite file (the store's own API is not the subject)."""
    with sqlite3.connect(db) as conn:
        return list(conn.execute(sql, ("guards",)).fetchall())


def _statuses(db: Path) -> dict[str, int]:
    rows = _rows(
        db, "SELECT status, count(*) FROM campaign_recipients WHERE campaign_id = ? GROUP BY 1"
    )
    return {str(s): int(n) for s, n in rows}


def _held(db: Path) -> int:
    """Recipients some worker holds a lease on."""
    rows = _rows(
        db,
        "SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?"
        " AND claim_owner IS NOT NULL",
    )
    return int(rows[0][0])


def _sent_once(platform: FakeDotgo, count: int) -> None:
    report = platform.report()
    assert len(report["per_recipient"]) == count
    assert set(report["per_recipient"].values()) == {1}
    assert report["duplicates"] == 0


class FailingWrites(Runner):
    """A runner whose first group write holding attempts fails as a lost database would."""

    failures = 0

    async def _write(self, items: list[Any]) -> list[Any]:
        if not self.failures and any(isinstance(i, SendStart) for i in items):
            self.failures += 1
            raise OperationalError("COMMIT", {}, ConnectionResetError("injected: connection lost"))
        return await super()._write(items)


async def test_a_failed_group_write_strands_no_recipient(
    tmp_path: Path, serve: Serve, caplog: pytest.LogCaptureFixture
) -> None:
    count = 60
    platform = FakeDotgo(tps=1000)
    base = await serve(platform)
    store = await Store.open(str(tmp_path / "guards.db"))
    try:
        campaign = await _campaign(tmp_path, base, store, count, tps=1000)
        async with RcsClient(_config(base), retry=NO_RETRY, timeout=5.0) as client:
            runner = FailingWrites(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                options=RunOptions(concurrency=8, lease_s=1.0),
            )
            caplog.set_level(logging.WARNING, logger="rcskit.campaign")
            # before the fix the failed sends' tasks ended and their recipients' leases
            # were renewed for ever: the run never finished
            summary = await asyncio.wait_for(runner.run(), 30)
        assert summary.finished
        assert runner.failures == 1
        assert _statuses(tmp_path / "guards.db") == {"sent": count}
        _sent_once(platform, count)
        abandoned = [r for r in caplog.records if "send abandoned" in r.getMessage()]
        assert abandoned and "OperationalError" in abandoned[0].getMessage()
        assert "injected: connection lost" in abandoned[0].getMessage()
    finally:
        await store.close()


async def test_without_capability_checks_a_recipient_is_claimed_once(
    tmp_path: Path, serve: Serve
) -> None:
    count = 60
    platform = FakeDotgo(tps=1000)
    base = await serve(platform)
    db = tmp_path / "guards.db"
    store = await Store.open(str(db))
    try:
        campaign = await _campaign(tmp_path, base, store, count, tps=1000)
        async with RcsClient(_config(base), retry=NO_RETRY, timeout=5.0) as client:
            runner = Runner(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                options=RunOptions(concurrency=8),
            )
            summary = await asyncio.wait_for(runner.run(), 30)
        assert summary.finished
        _sent_once(platform, count)
        # `--capabilities none`: queued recipients become ready in one statement, claimed
        # only by the send stage (each claim raises the fence by one); claiming them for a
        # check that asks nothing cost three workers minutes at 12,000 recipients
        fences = _rows(db, "SELECT DISTINCT fence FROM campaign_recipients WHERE campaign_id = ?")
        assert fences == [(1,)]
    finally:
        await store.close()


class Slots:
    """A :class:`SlotLimiter` booking a slot every ``every`` seconds, each good for ``good``
    seconds after it begins; it remembers the last slot booked by each task."""

    def __init__(self, every: float, good: float) -> None:
        self.every = every
        self.good = good
        self._next = 0.0
        self.booked: dict[asyncio.Task[Any], float] = {}
        self.grants = 0

    async def acquire(self, n: int = 1) -> None:
        begins, _ = await self.book_slot(n)
        await asyncio.sleep(begins)

    async def book_slot(self, n: int = 1, *, first: bool = False) -> tuple[float, float]:
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + self.every * n
        task = asyncio.current_task()
        assert task is not None
        self.booked[task] = at
        self.grants += n
        return at - now, at - now + self.good


class Departures(AiohttpTransport):
    """Notes, for each send request, how long after its task's last slot began it left."""

    def __init__(self, slots: Slots) -> None:
        super().__init__()
        self.slots = slots
        self.after_slot: list[float] = []

    async def send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        if request.url.endswith(SEND_PATH):
            task = asyncio.current_task()
            assert task is not None
            self.after_slot.append(time.monotonic() - self.slots.booked[task])
        return await super().send(request, timeout)


class SlowWrites(Runner):
    """A runner whose group writes of attempts take ``delay`` seconds (a slow database)."""

    delay = 0.15

    async def _write(self, items: list[Any]) -> list[Any]:
        if any(isinstance(i, SendStart) for i in items):
            await asyncio.sleep(self.delay)
        return await super()._write(items)


async def _slow_run(tmp_path: Path, serve: Serve, slots: Slots, count: int) -> Any:
    """Run ``count`` recipients paced by ``slots`` with 0.15 s attempt records; the summary
    and the requests' departures after their slots began."""
    assert isinstance(slots, SlotLimiter)
    platform = FakeDotgo(tps=1000)
    base = await serve(platform)
    store = await Store.open(str(tmp_path / "guards.db"))
    transport = Departures(slots)
    try:
        campaign = await _campaign(tmp_path, base, store, count, tps=200)
        async with RcsClient(
            _config(base), transport=transport, retry=NO_RETRY, timeout=5.0
        ) as client:
            runner = SlowWrites(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                limiter=slots,
                options=RunOptions(concurrency=8, smoothing=False),
            )
            summary = await asyncio.wait_for(runner.run(), 60)
        assert summary.finished
        _sent_once(platform, count)
        assert len(transport.after_slot) == count
        # never before its slot; within the 0.05 s it stays good, plus what a busy machine
        # may add between the last look at the clock and the request (the process descheduled)
        assert min(transport.after_slot) >= 0.0
        assert max(transport.after_slot) < slots.good + 0.1, transport.after_slot
        return summary
    finally:
        await transport.close()
        await store.close()


async def test_a_slot_missed_while_the_attempt_was_recorded_is_booked_again(
    tmp_path: Path, serve: Serve
) -> None:
    count = 40
    # 8 senders book slots 5 ms apart: the next slot is never more than 40 ms away, and
    # recording takes 0.15 s: every request misses its first slot and books another
    slots = Slots(every=0.005, good=0.05)
    summary = await _slow_run(tmp_path, serve, slots, count)
    assert summary.progress.late >= count
    assert slots.grants >= 2 * count
    assert any("took a second slot" in n for n in summary.notes)


class TimedRecords(Runner):
    """A runner noting, for each attempt it records, how long before its slot it began."""

    slots: Slots
    ahead: list[float]

    async def _begin(self, start: SendStart) -> Any:
        task = asyncio.current_task()
        assert task is not None
        self.ahead.append(self.slots.booked[task] - time.monotonic())
        return await super()._begin(start)


async def test_the_attempt_is_recorded_just_before_a_slot_booked_ahead(
    tmp_path: Path, serve: Serve
) -> None:
    count = 12
    platform = FakeDotgo(tps=1000)
    base = await serve(platform)
    # slots 0.2 s apart: the 8 senders book theirs up to 1.4 s ahead at once
    slots = Slots(every=0.2, good=0.05)
    store = await Store.open(str(tmp_path / "guards.db"))
    transport = Departures(slots)
    try:
        campaign = await _campaign(tmp_path, base, store, count, tps=200)
        async with RcsClient(
            _config(base), transport=transport, retry=NO_RETRY, timeout=5.0
        ) as client:
            runner = TimedRecords(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                limiter=slots,
                options=RunOptions(concurrency=8, smoothing=False),
            )
            runner.slots, runner.ahead = slots, []
            summary = await asyncio.wait_for(runner.run(), 60)
        assert summary.finished
        _sent_once(platform, count)
        # recorded no earlier than the longest lead before the slot (and, recording being
        # quick here, hardly before the slot), so that an attempt is open (unknown, should
        # the worker die) only about as long as recording takes
        assert len(runner.ahead) >= count
        assert max(runner.ahead) <= LEAD_MAX_S + 0.02, runner.ahead
        assert min(transport.after_slot) >= 0.0
        assert max(transport.after_slot) < slots.good + 0.1, transport.after_slot
    finally:
        await transport.close()
        await store.close()


def _arrivals(platform: FakeDotgo) -> list[float]:
    return [t for t, _ in platform.ledger.arrivals]


async def _until(what: str, check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = redis_server_or_skip()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def test_an_unreachable_redis_stops_sends_and_claims_then_resumes_at_once(
    tmp_path: Path,
    serve: Serve,
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = redis_server
    count, tps, lease = 400, 200.0, 1.5
    platform = FakeDotgo(tps=tps)
    base = await serve(platform)
    db = tmp_path / "guards.db"
    store = await Store.open(str(db))
    client_redis = connect(redis.url, timeout=0.2)
    limiter = shared_send_limiter(client_redis, "dotgo", uuid.uuid4().hex, tps)
    assert isinstance(limiter, ReachableLimiter) and isinstance(limiter, SlotLimiter)
    caplog.set_level(logging.WARNING)
    try:
        campaign = await _campaign(tmp_path, base, store, count, tps=tps)
        async with RcsClient(_config(base), retry=NO_RETRY, timeout=5.0) as client:
            runner = Runner(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                limiter=limiter,
                options=RunOptions(
                    concurrency=16, lease_s=lease, smoothing=False, shared_limiter=True
                ),
            )
            run = asyncio.create_task(runner.run())
            try:
                await _until("100 accepted", lambda: len(platform.ledger.deliveries) >= 100, 20)
                await asyncio.to_thread(redis.stop)
                stopped = time.monotonic()
                # slots booked before the stop (at most the 0.5 s horizon ahead) may still
                # be used (a loaded machine may stamp them late); then nothing leaves, and
                # within the blocked time (1 s: a third of the lease is less) plus a few
                # looks, nothing is held either
                await _until("every lease released", lambda: _held(db) == 0, 6.0)
                released_at = time.monotonic() - stopped
                await asyncio.sleep(lease)  # as long again: still nothing held or sent
                assert _held(db) == 0
                late = [t for t in _arrivals(platform) if t > stopped + 1.5]
                assert late == [], "requests left while Redis was down"
                assert runner.progress.released > 0
                sent_while_down = len(platform.ledger.deliveries)
                assert sent_while_down < count
                await asyncio.to_thread(redis.start)
                back = time.monotonic()
                await _until(
                    "sending again", lambda: len(platform.ledger.deliveries) > sent_while_down, 5
                )
                resumed = time.monotonic() - back
                summary = await asyncio.wait_for(run, 30)
            finally:
                if not run.done():
                    run.cancel()
        assert summary.finished, summary
        assert _statuses(db) == {"sent": count}
        _sent_once(platform, count)
        # released within the blocked time and a few looks at the limiter (a loaded machine)
        assert released_at < 4.0, released_at
        # the restarted Redis starts used up for its 0.5 s horizon; the backoff (0.25 s at
        # most), a claim and a loaded machine's delays come on top
        assert resumed < 3.0, resumed
        notes = [n for n in summary.notes if "shared rate limit is unreachable" in n]
        assert len(notes) == 1
        logged = [r.getMessage() for r in caplog.records if r.name.endswith("redis_limiter")]
        assert sum("Redis unreachable" in m for m in logged) == 1
        assert sum("Redis is back" in m for m in logged) == 1
    finally:
        await client_redis.aclose()
        await store.close()
