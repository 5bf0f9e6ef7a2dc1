"""In-process limiters book slots (``book_slot``) as the shared Redis one does: a request
whose attempt took longer to record than its slot stays good books a new slot instead of
leaving late, bunched with the requests of later slots.

- On a virtual clock: senders that book, record (a commit that sometimes outlasts the slot),
  check the slot and send keep Dotgo's rule (1.2 x TPS in any sliding second, 30 x TPS in any
  30 s) for every request; senders that take the slot first and record after it (the old
  order) break the one-second rule in the same scenario.
- In real time: a campaign runner with the in-process Dotgo limiter and group writes that
  stall now and then, against the fake Dotgo platform that answers 429 past the rule: no
  429, every second within the rule, and the late requests took a second slot.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import json
import math
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from rcskit.campaign import (
    CsvFallbackSender,
    MessageTemplate,
    ProviderSettings,
    Runner,
    RunOptions,
    create_campaign,
    send_limiter,
)
from rcskit.campaign.pacing import SlotLimiter
from rcskit.campaign.sends import SendStart
from rcskit.client import RcsClient
from rcskit.providers.dotgo import DotgoConfig
from rcskit.ratelimit import DotgoWindowLimiter, TokenBucket
from rcskit.retry import NO_RETRY
from rcskit.store import Store
from rcskit.transport import AiohttpTransport
from tests.chaos.conftest import Serve, serve  # noqa: F401 - the fixture, used below
from tests.chaos.fake_provider import FakeDotgo


def most_in_window(times: list[float], span: float) -> int:
    """The largest number of events in any half-open window [t, t + span)."""
    times = sorted(times)
    return max(bisect.bisect_left(times, t + span) - i for i, t in enumerate(times))


class VirtualTime:
    """A clock and a sleep for many tasks at once: time moves only when every task waits,
    to the earliest wake-up."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, main: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(20):  # every task that can run does, until all wait on the clock
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            at = self._sleepers[0][0]
            self.now = max(self.now, at)
            while self._sleepers and self._sleepers[0][0] <= at:
                heapq.heappop(self._sleepers)[2].set_result(None)
        await task


COMMIT_S = 0.02
STALL_S = 0.4


def commits(seed: int) -> Callable[[float], float]:
    """How long a commit started at a moment takes: 20 ms, except that the database stalls
    0.4 s about every 1.5 s (jittered), and every commit under way then ends with the stall,
    together (a group commit on a loaded machine; a slot stays good 50 ms)."""
    rng = random.Random(seed)
    stalls: list[float] = []
    t = 1000.0
    while t < 1000.0 + 600.0:
        t += 1.0 + rng.random()
        stalls.append(t)

    def duration(now: float) -> float:
        end = now + COMMIT_S
        i = bisect.bisect_right(stalls, end) - 1
        if i >= 0 and stalls[i] <= end < stalls[i] + STALL_S:
            end = stalls[i] + STALL_S
        return end - now

    return duration


async def booked_senders(
    limiter: SlotLimiter, time: VirtualTime, n: int, senders: int, commit: Callable[[float], float]
) -> tuple[list[float], list[float]]:
    """The runner's order: book a slot, record the attempt shortly before it, then (the
    slot gone stale meanwhile: book again) send within the slot. Departure times, and the
    beginnings of the slots that went stale."""
    departures: list[float] = []
    late: list[float] = []
    left = iter(range(n))

    async def sender() -> None:
        for _ in left:
            begins, stale = await limiter.book_slot()
            begins, stale = time() + begins, time() + stale
            await time.sleep(begins - COMMIT_S - 0.01 - time())  # recorded just ahead
            await time.sleep(commit(time()))  # the attempt's commit
            while True:
                await time.sleep(begins - time())
                if time() <= stale:
                    break
                late.append(begins)
                again = await limiter.book_slot(first=True)
                begins, stale = time() + again[0], time() + again[1]
            departures.append(time())

    await asyncio.gather(*(sender() for _ in range(senders)))
    return departures, late


async def acquired_senders(
    limiter: DotgoWindowLimiter,
    time: VirtualTime,
    n: int,
    senders: int,
    commit: Callable[[float], float],
) -> list[float]:
    """The old order: wait for the slot, then record the attempt, then send."""
    departures: list[float] = []
    left = iter(range(n))

    async def sender() -> None:
        for _ in left:
            await limiter.acquire()
            await time.sleep(commit(time()))
            departures.append(time())

    await asyncio.gather(*(sender() for _ in range(senders)))
    return departures


@pytest.mark.parametrize("seed", [1, 2])
async def test_slow_commits_cannot_break_dotgos_rule(seed: int) -> None:
    tps, n = 50, 4000  # 80 s of sends: three 30 s windows filled
    time = VirtualTime()
    limiter = DotgoWindowLimiter(
        tps, spike=0.1, burst=12, latency_margin=0.2, clock=time, sleep=time.sleep
    )
    assert isinstance(limiter, SlotLimiter)
    got: list[Any] = []

    async def main() -> None:
        got.extend(await booked_senders(limiter, time, n, 40, commits(seed)))

    await time.run(main())
    departures, late = got
    assert len(departures) == n
    assert len(late) > 100  # a slow commit outlasted many slots: they were booked again
    assert most_in_window(departures, 1.0) <= math.floor(1.2 * tps)
    assert most_in_window(departures, 30.0) <= 30 * tps
    # and nothing else is lost: in the first 30 s the requests sent and the slots that went
    # stale (counted as sent, as the provider may have seen them) fill the window's quota
    first = min(departures)
    sent = sum(1 for t in departures if t < first + 30.0)
    stale = sum(1 for t in late if t < first + 30.0)
    assert sent + stale >= 30 * tps * 0.97, (sent, stale)


async def test_the_old_order_broke_the_one_second_rule() -> None:
    """The same scenario, the slot waited for before the attempt is recorded: a slow commit
    holds the requests of the slots that pass meanwhile, which then leave together."""
    tps, n = 50, 1500
    time = VirtualTime()
    limiter = DotgoWindowLimiter(
        tps, spike=0.1, burst=12, latency_margin=0.2, clock=time, sleep=time.sleep
    )
    out: list[float] = []

    async def main() -> None:
        out.extend(await acquired_senders(limiter, time, n, 40, commits(1)))

    await time.run(main())
    assert most_in_window(out, 1.0) > math.floor(1.2 * tps)


async def test_a_booked_slot_and_its_span() -> None:
    time = VirtualTime()
    bucket = TokenBucket(10, lateness=0.03, clock=time, sleep=time.sleep)
    assert bucket.lateness == 0.03
    first = await bucket.book_slot()
    second = await bucket.book_slot()
    assert first == pytest.approx((0.0, 0.03))
    assert second == pytest.approx((0.1, 0.13))  # 10 per second: the next 0.1 s later
    dotgo = DotgoWindowLimiter(10, clock=time, sleep=time.sleep)
    assert dotgo.lateness == 0.05
    assert await dotgo.book_slot() == pytest.approx((0.0, 0.05))
    with pytest.raises(ValueError, match="lateness"):
        TokenBucket(10, lateness=-1.0)


async def test_a_missed_slot_leaves_at_once_only_when_the_rules_have_room() -> None:
    time = VirtualTime()
    bucket = TokenBucket(2, lateness=0.05, clock=time, sleep=time.sleep)  # 3 in any 1.05 s
    assert await bucket.book_slot() == pytest.approx((0.0, 0.05))
    # a second request missed its slot: room for it now, whatever the booked ones do
    assert await bucket.book_slot(first=True) == pytest.approx((0.0, 0.05))
    assert await bucket.book_slot() == pytest.approx((0.5, 0.55))  # the plan: 2 per second
    # three slots begin within 1.05 s now: a missed one waits for the next slot in order
    again = await bucket.book_slot(first=True)
    assert again[0] > 0.5
    # so that no 1.05 s holds more than three beginnings
    time.now += 5.0
    assert await bucket.book_slot(first=True) == pytest.approx((0.0, 0.05))


async def test_acquire_after_a_stale_slot_books_again() -> None:
    """A caller that wakes after its slot went stale does not leave then: it books again."""
    time = VirtualTime()
    limiter = DotgoWindowLimiter(10, clock=time, sleep=time.sleep)
    late_sleep = time.sleep

    async def oversleep(seconds: float) -> None:
        await late_sleep(seconds + 0.2)  # every wake-up 0.2 s late (a busy machine)

    limiter._sleep = oversleep
    limiter.book()  # the next slot is 0.1 s away: its caller wakes at 0.3, stale
    started = time()

    async def main() -> None:
        await limiter.acquire()

    await time.run(main())
    assert limiter.stale == 1
    assert time() - started > 0.29  # the first slot (0.1 s away) went stale at 0.3
    # the stale slot was taken back: the rules count the slot booked first and the one the
    # request left on, not the one it missed
    assert [rule.count for rule in limiter._bookings.rules] == [2, 2]


# ------------------------------------------------------------ the runner, in real time


class StallingWrites(Runner):
    """A runner whose every third group write holding attempts stalls 0.4 s (a loaded
    database): attempts recorded meanwhile outlast their slots."""

    writes = 0

    async def _write(self, items: list[Any]) -> list[Any]:
        if any(isinstance(i, SendStart) for i in items):
            self.writes += 1
            if self.writes % 3 == 0:
                await asyncio.sleep(0.4)
        return await super()._write(items)


async def test_a_runner_with_the_in_process_limiter_keeps_the_rule_through_stalls(
    tmp_path: Path,
    serve: Serve,  # noqa: F811 - the fixture
) -> None:
    tps, count = 50, 300  # six seconds of sends
    platform = FakeDotgo(tps=tps)
    base = await serve(platform)
    recipients = tmp_path / "r.csv"
    recipients.write_text(
        "phone,first_name\n" + "".join(f"+1555{i:07d},Ada{i}\n" for i in range(count)),
        encoding="utf-8",
    )
    store = await Store.open(str(tmp_path / "booking.db"))
    transport = AiohttpTransport()
    try:
        campaign = await create_campaign(
            store,
            name="booking",
            provider=ProviderSettings("dotgo", "chaosbot", "chaos-client", f"{base}/rcs"),
            csv=recipients,
            message=MessageTemplate.from_json(
                json.dumps({"content": {"kind": "text", "text": "Hi {first_name}"}}),
                source="m.json",
            ),
            tps=tps,
            capabilities="none",
            fallback=f"csv:{tmp_path / 'fallback.csv'}",
            id="booking",
        )
        config = DotgoConfig(
            "chaosbot",
            "chaos-client",
            "chaos-secret",
            server_root=f"{base}/rcs",
            auth_url=f"{base}/auth/oauth/token",
            client_message_ids=True,
        )
        limiter = send_limiter("dotgo", tps, catch_up=0.25)  # as `rcskit campaign run`
        assert isinstance(limiter, SlotLimiter)
        async with RcsClient(config, transport=transport, retry=NO_RETRY, timeout=5.0) as client:
            runner = StallingWrites(
                store,
                campaign,
                client,
                CsvFallbackSender(tmp_path / "fallback.csv"),
                limiter=limiter,
                options=RunOptions(concurrency=50),
            )
            summary = await asyncio.wait_for(runner.run(), 120)
        assert summary.finished and summary.progress.sent == count
        report = platform.report()
        assert report["throttled"] == 0, report["throttled"]
        assert report["worst_1s"] <= math.floor(1.2 * tps), report["worst_1s"]
        assert set(report["per_recipient"].values()) == {1}
        assert summary.progress.late > 0  # the stalls made slots go stale: booked again
    finally:
        await transport.close()
        await store.close()
