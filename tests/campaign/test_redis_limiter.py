"""The shared Redis limiter against a redis-server this test module starts on a free port.

Windows are scaled down (1 s and 2-3 s instead of 1 s and 30 s) so the suite stays fast;
``bench/limiter.py`` measures the real 30 s rule at 500 TPS.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from rcskit.campaign.errors import CampaignError
from rcskit.campaign.redis_limiter import (
    Gcra,
    RedisRateLimiter,
    Window,
    bulk_capability_limiter,
    connect,
    derive,
    dotgo_rule,
    free_burst,
    limiter_key,
    per_minute_rule,
    per_second_rule,
    redacted_url,
    send_limiter,
)
from rcskit.ratelimit import RateLimiter
from tests.chaos.redis_server import RedisServer, redis_server_or_skip
from tests.chaos.windows import utilisation, worst_window

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = redis_server_or_skip()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def key() -> str:
    return f"rcskit:rate:test:{uuid.uuid4().hex}:send"


@pytest.fixture
async def clients(redis_server: RedisServer) -> AsyncIterator[list[object]]:
    made: list[object] = []
    yield made
    for c in made:
        await c.aclose()  # type: ignore[attr-defined]


def limiter(server: RedisServer, key: str, params: Gcra, made: list[object], **kw: object):  # type: ignore[no-untyped-def]
    client = connect(server.url, timeout=0.2)
    made.append(client)
    return RedisRateLimiter(client, key, params, **kw)  # type: ignore[arg-type]


async def departures(lim: RedisRateLimiter, tasks: int, seconds: float, out: list[float]) -> None:
    """``tasks`` concurrent senders acquiring one grant at a time until ``seconds`` pass."""
    stop = time.monotonic() + seconds

    async def one() -> None:
        while time.monotonic() < stop:
            await lim.acquire()
            out.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(tasks)))


# --- the arithmetic -----------------------------------------------------------------


@pytest.mark.parametrize("tps", [5, 10, 50, 100, 500, 1000, 5000])
@pytest.mark.parametrize("margin", [0.1, 0.2])
def test_dotgo_rule_keeps_both_windows_at_98_percent(tps: int, margin: float) -> None:
    g = dotgo_rule(tps, margin=margin)
    assert 0 <= g.burst <= 0.1 * tps and g.margin == margin
    # worst closed 1 s and 30 s spans, with the margin, stay within the rule (the interval
    # is widened, so the bound is strict)
    rate = 1 / g.interval
    assert rate * (1 + margin) + g.burst + 1 < math.floor(1.2 * tps) + 1
    assert rate * (30 + margin) + g.burst + 1 < 30 * tps + 1
    assert g.rate >= 0.98 * tps
    # the default burst costs no rate: the 30 s window is the binding one
    assert g.rate == pytest.approx((30 * tps - g.burst) / (30 + margin))


def test_dotgo_rule_at_500() -> None:
    g = dotgo_rule(500)
    assert (g.burst, g.margin) == (4, 0.2)
    assert g.rate == pytest.approx((15000 - 4) / 30.2)
    assert g.interval > 1 / g.rate  # widened, never narrowed
    assert dotgo_rule(500, margin=0.1).burst == 50


def test_plain_and_per_minute_rules() -> None:
    assert per_second_rule(100).rate == pytest.approx(100 / 1.2)
    assert per_second_rule(100).burst == 0
    assert per_minute_rule(600).rate == pytest.approx(600 / 60.2)
    assert free_burst(Window(1.0, 600), Window(30.0, 15000), 0.1) == 53


def test_derive_names_the_window_a_burst_cannot_fit() -> None:
    with pytest.raises(ValueError, match=r"window of 1 s \(limit 12\)"):
        derive([Window(1.0, 12), Window(30.0, 300)], burst=12, margin=0.1)
    with pytest.raises(CampaignError, match="tps 0"):
        dotgo_rule(0)
    with pytest.raises(CampaignError, match="tps nan"):
        per_second_rule(float("nan"))


def test_keys_are_namespaced_and_checked() -> None:
    assert limiter_key("dotgo", "bot1") == "rcskit:rate:dotgo:bot1:send"
    assert limiter_key("orange", "b", "bulk_capability").endswith(":b:bulk_capability")
    with pytest.raises(CampaignError, match="account ''"):
        limiter_key("dotgo", "")
    with pytest.raises(CampaignError, match="provider 'a b'"):
        limiter_key("a b", "x")


def test_redacted_url_hides_the_password() -> None:
    assert redacted_url("redis://u:s3cret@h:6380/2") == "redis://h:6380/2"
    assert "s3cret" not in redacted_url("rediss://:s3cret@h/0")


# --- against Redis ------------------------------------------------------------------


async def test_is_a_rate_limiter_and_checks_n(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=100, burst=3), clients)
    assert isinstance(lim, RateLimiter)
    with pytest.raises(ValueError, match=r"n=5 exceeds the burst \+ 1 \(4\)"):
        await lim.acquire(5)
    with pytest.raises(ValueError, match="positive integer"):
        await lim.acquire(0)
    await lim.acquire(4)  # the burst + 1 at once is allowed


async def test_instances_and_processes_share_one_limit(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    """Two instances here and two worker processes: merged departures keep both windows."""
    windows = [Window(1.0, 240), Window(2.0, 400)]
    g = derive(windows, burst=20, margin=0.1)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.chaos.limiter_worker",
                redis_server.url,
                key,
                repr(g.rate),
                str(g.burst),
                "--count",
                "40",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    times: list[float] = []
    a = limiter(redis_server, key, g, clients)
    b = limiter(redis_server, key, g, clients)
    stop = time.monotonic() + 30

    async def local(lim: RedisRateLimiter) -> None:
        # backlogged for as long as any worker process runs, so the limit is always busy
        async def one() -> None:
            while time.monotonic() < stop and any(w.poll() is None for w in workers):
                await lim.acquire()
                times.append(time.monotonic())

        await asyncio.gather(*(one() for _ in range(8)))

    await asyncio.gather(local(a), local(b))
    remote = 0
    for w in workers:
        out, _ = w.communicate(timeout=30)
        assert w.returncode == 0
        lines = [ln for ln in out.splitlines() if not ln.startswith("stale")]
        remote += len(lines)
        times.extend(float(x) for x in lines)
    assert remote == 80
    times.sort()
    for w in windows:
        assert worst_window(times, w.span) <= w.limit, w
    # everyone was backlogged the whole time: the shared pace is near the derived rate
    # (bench/limiter.py measures it; here only that sharing does not starve the limit)
    assert utilisation(times, g.rate) >= 0.6


async def test_throttled_cuts_the_shared_rate_then_recovers(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    g = Gcra(rate=100, burst=0)
    a = limiter(redis_server, key, g, clients, recovery=1.0, decrease=0.25)
    b = limiter(redis_server, key, g, clients, recovery=1.0, decrease=0.25)
    await a.acquire()
    state = await a.throttled(retry_after=0.3)
    assert state.factor == pytest.approx(0.25)
    assert 0.25 < state.hold <= 0.3
    # a second report of the same burst does not cut again
    assert (await b.throttled(retry_after=0.3)).factor == pytest.approx(0.25)
    t0 = time.monotonic()
    await b.acquire()  # the other instance also waits for the Retry-After
    assert time.monotonic() - t0 >= 0.25
    times: list[float] = []
    await departures(b, 4, 0.3, times)
    # from the hold on the rate climbs from 25/s by 100/s per second: within 0.35 s at most
    # 25 x 0.35 + 100 x 0.35^2 / 2 + 1 = 15.9 grants (the full rate would give 35)
    assert len(times) <= 16
    await asyncio.sleep(0.6)
    assert (await a.state()).factor == pytest.approx(1.0)
    times.clear()
    await departures(a, 4, 0.4, times)
    assert len(times) >= 20  # recovered (a loaded machine may lose some of the 40)


async def test_redis_down_means_no_sends_one_log_line_then_resume(
    redis_server: RedisServer, key: str, clients: list[object], caplog: pytest.LogCaptureFixture
) -> None:
    g = Gcra(rate=200, burst=0)
    lim = limiter(redis_server, key, g, clients, retry_backoff=(0.02, 0.1))
    await lim.acquire()
    redis_server.stop()
    caplog.set_level(logging.WARNING, logger="rcskit.campaign.redis_limiter")
    granted: list[float] = []

    async def sender() -> None:
        for _ in range(5):
            await lim.acquire()
            granted.append(time.monotonic())

    task = asyncio.create_task(sender())
    await asyncio.sleep(0.8)
    assert granted == []
    down = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(down) == 1
    assert "no sends until it is back" in down[0].getMessage()
    restarted = time.monotonic()
    redis_server.start()
    await asyncio.wait_for(task, 10)
    assert len(granted) == 5
    # state was lost: the first grant waits the conservative restart (horizon 0.5 s)
    assert granted[0] - restarted >= lim.horizon
    back = [r for r in caplog.records if "Redis is back" in r.getMessage()]
    assert len(back) == 1
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 1


async def test_restart_mid_stream_never_overfills_a_window(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    windows = [Window(1.0, 120), Window(2.0, 200)]
    g = derive(windows, burst=10, margin=0.1)
    a = limiter(redis_server, key, g, clients, retry_backoff=(0.01, 0.05))
    b = limiter(redis_server, key, g, clients, retry_backoff=(0.01, 0.05))
    times: list[float] = []
    restarted: list[float] = []

    async def restart_later() -> None:
        await asyncio.sleep(1.0)
        await asyncio.to_thread(redis_server.restart)
        restarted.append(time.monotonic())

    await asyncio.gather(
        departures(a, 6, 2.5, times), departures(b, 6, 2.5, times), restart_later()
    )
    times.sort()
    for w in windows:
        assert worst_window(times, w.span) <= w.limit, w
    # it resumed after the restart (0.5 s of conservative start, then about 90/s)
    assert sum(t > restarted[0] for t in times) >= 50


async def test_skewed_client_clocks_make_no_difference(
    redis_server: RedisServer, key: str, clients: list[object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One instance's clocks run an hour ahead (wall clock) and 1000 s ahead (monotonic)."""
    windows = [Window(1.0, 120), Window(2.0, 200)]
    g = derive(windows, burst=10, margin=0.1)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600.0)
    skewed = limiter(redis_server, key, g, clients, clock=lambda: time.monotonic() + 1000.0)
    honest = limiter(redis_server, key, g, clients)
    times: list[float] = []
    await asyncio.gather(departures(skewed, 6, 2.2, times), departures(honest, 6, 2.2, times))
    times.sort()
    for w in windows:
        assert worst_window(times, w.span) <= w.limit, w
    assert utilisation(times, g.rate) >= 0.6


async def test_send_and_bulk_capability_limits_have_their_own_keys(
    redis_server: RedisServer, clients: list[object]
) -> None:
    client = connect(redis_server.url)
    clients.append(client)
    account = uuid.uuid4().hex
    send = send_limiter(client, "dotgo", account, 500)
    bulk = bulk_capability_limiter(client, "dotgo", account, 60)
    plain = send_limiter(client, "google_rbm", account, 50)
    assert send.key != bulk.key and send.key != plain.key
    assert send.params == dotgo_rule(500)
    assert plain.params == per_second_rule(50)
    assert bulk.params.rate == pytest.approx(60 / 60.2)
    await send.throttled(retry_after=5)
    assert (await bulk.state()).hold == 0.0  # a 429 on sends does not stop bulk checks
    assert (await send.state()).hold > 4.0
    ttl = await client.ttl(send.key)
    assert 0 < ttl <= 5 + 20 + 60  # expires: hold + recovery + pad


async def test_is_adaptive_and_the_in_process_limiters_are_not(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    from rcskit.campaign.redis_limiter import AdaptiveRateLimiter
    from rcskit.ratelimit import TokenBucket

    assert isinstance(
        limiter(redis_server, key, Gcra(rate=10, burst=0), clients), AdaptiveRateLimiter
    )
    assert not isinstance(TokenBucket.per_second(10), AdaptiveRateLimiter)


async def test_one_round_trip_books_for_the_whole_line(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=400, burst=0), clients)
    times: list[float] = []

    async def one() -> None:
        await lim.acquire()
        times.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(120)))
    assert lim.round_trips <= 12  # 120 grants, many slots per booking
    times.sort()
    # still one slot each, evenly paced: any 0.1 s holds what the rate allows in 0.1 s
    # plus the lateness a wake-up may add (not a batch of 120 at once)
    assert worst_window(times, 0.1) <= 400 * (0.1 + lim.lateness) + 1


async def test_a_cancelled_caller_does_not_stall_the_line(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=20, burst=0), clients)
    await lim.acquire()
    first = asyncio.create_task(lim.acquire())
    second = asyncio.create_task(lim.acquire())
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.wait_for(second, 5)
    assert first.cancelled()


async def test_a_redis_error_reaches_every_waiting_caller(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    from redis.exceptions import ResponseError

    lim = limiter(redis_server, key, Gcra(rate=20, burst=0), clients)
    await lim.client.set(key, "not a hash")
    results = await asyncio.wait_for(
        asyncio.gather(*(lim.acquire() for _ in range(3)), return_exceptions=True), 5
    )
    assert all(isinstance(r, ResponseError) for r in results)


async def test_an_episode_of_429s_cuts_once_and_a_longer_retry_after_extends_the_hold(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=100, burst=0), clients, episode=0.4)
    first = await lim.throttled(retry_after=0.1)
    assert first.factor == pytest.approx(0.8)
    echo = await lim.throttled(retry_after=0.0)  # same episode, shorter: nothing changes
    assert echo.factor == pytest.approx(0.8) and echo.hold <= first.hold
    longer = await lim.throttled(retry_after=0.3)  # same episode, longer: hold only
    assert longer.factor == pytest.approx(0.8) and longer.hold > 0.25
    await asyncio.sleep(0.45)
    again = await lim.throttled(retry_after=0.1)  # a new episode cuts again
    assert again.factor < 0.8


async def test_a_booked_slot_says_when_it_begins_and_when_it_goes_stale(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=5, burst=0), clients)  # a slot per 200 ms
    assert lim.lateness == pytest.approx(0.1)  # half the default 0.2 s margin
    starts: list[float] = []
    for _ in range(5):
        begins, stale = await lim.book_slot()
        starts.append(time.monotonic() + begins)
        # booked at most the horizon ahead (plus the round trip's uncertainty)
        assert 0.0 <= begins <= lim.horizon + 0.25
        assert 0.0 < stale - begins <= lim.lateness
    # one after the other, not waited for: 200 ms apart (give or take a round trip)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(0.1 < g < 0.3 for g in gaps), gaps


async def test_a_caller_booked_first_goes_before_the_line(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=20, burst=0), clients)  # a slot per 50 ms
    await lim.acquire()
    line = [asyncio.create_task(lim.book_slot()) for _ in range(40)]  # 2 s of slots
    await asyncio.sleep(0.05)
    try:
        # a request whose attempt is recorded and which missed its slot: it should not
        # wait the two seconds of the line
        begins, _ = await asyncio.wait_for(lim.book_slot(first=True), 3)
        assert begins <= lim.horizon + 0.25
        assert sum(not t.done() for t in line) >= 20
    finally:
        for t in line:
            t.cancel()


async def test_callers_who_left_during_an_outage_get_no_slot_when_redis_is_back(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=20, burst=0), clients)  # a slot per 50 ms
    await lim.acquire()
    assert lim.unreachable_for() == 0.0
    redis_server.stop()
    try:
        waiting = [asyncio.create_task(lim.book_slot()) for _ in range(40)]
        await asyncio.sleep(0.3)
        assert 0.2 < lim.unreachable_for() < 5
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(lim.until_reachable(), 0.2)
        for task in waiting[:-1]:
            task.cancel()  # 39 give up (a runner releasing its recipients)
    finally:
        await asyncio.to_thread(redis_server.start)
    back = time.monotonic()
    await asyncio.wait_for(lim.until_reachable(), 2)
    await asyncio.wait_for(waiting[-1], 5)
    granted = time.monotonic() - back
    assert lim.unreachable_for() == 0.0
    # the restarted Redis starts used up for its horizon (0.5 s), then the first slot is the
    # survivor's; booking the 39 abandoned slots first would have cost 39 x 50 ms more
    assert granted < lim.horizon + 0.7, granted


async def test_a_429_reported_to_a_restarted_redis_starts_used_up(
    redis_server: RedisServer, key: str, clients: list[object]
) -> None:
    lim = limiter(redis_server, key, Gcra(rate=100, burst=5), clients)
    state = await lim.throttled(retry_after=0.0)  # no hash: Redis lost the state
    assert state.factor == pytest.approx(0.8)
    # as far booked ahead as the lost state could have been: no burst on top of it
    assert (await lim.state()).ahead >= lim.horizon
