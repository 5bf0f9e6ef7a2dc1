"""One rate limit per provider account, shared by every worker process, kept in Redis.

:class:`RedisRateLimiter` implements :class:`rcskit.ratelimit.RateLimiter`
(``await limiter.acquire(n)``) with the generic cell rate algorithm (GCRA). Its whole
state is one Redis hash per limit (key from :func:`limiter_key`), changed only by two short
Lua scripts below, which Redis runs atomically and which read the time from the Redis
server (``TIME``): the workers' clocks are never compared with one another, each worker
only sleeps the *duration* Redis tells it to, so skewed or jumping host clocks change
nothing.

**Reservation, not polling.** ``acquire`` asks Redis for the next free slot: the script
books it and answers "go in *w* seconds". The worker sleeps *w* and sends. Within one
process the callers line up (first come, first served) and one task books for all of them,
up to ``max_batch`` slots per round trip (each its own evenly paced slot, not a bunch);
slots are booked at most ``horizon`` seconds ahead (beyond that the script books nothing
and says when to ask again), so a backlog costs a fraction of a round trip per grant and
never a herd of retries. A worker that wakes more than ``lateness`` seconds after
its slot (its event loop was stalled, or the booking round trip itself took that long: the
slot is measured from when the booking was asked for) does not send on it: it books a new
slot, so a stall can waste slots but never bunch sends together.

**Deriving the limiter from the provider's rule** (:func:`derive`, :func:`dotgo_rule`).
GCRA with rate ``rho`` (emission interval ``T = 1/rho``) and burst ``sigma`` (tolerance
``tau = sigma * T``) lets through, in any closed span of ``t`` seconds, at most
``rho * t + sigma + 1`` requests (the first one takes the burst allowance, each further one
needs ``T`` of theoretical time). Requests leave up to ``lateness`` after their slot and
the network adds jitter, so a provider window of ``s`` seconds can see the sends of
``s + delta`` of our seconds (``delta = margin``). A rule "at most ``L`` requests in any
``s`` seconds" therefore holds when ``rho * (s + delta) + sigma + 1 < L + 1``, that is
``rho < (L - sigma) / (s + delta)``; with several windows the smallest bound wins (and
``T`` is widened by one part in 10^9 so rounding cannot admit one request too many).

Dotgo (seed 002 section 6): every sliding 1 s window at most ``1.2R`` and every 30 s window
at most ``30R``. The burst buys nothing the 30 s window would not take back, so by default
it is the largest that costs no rate (:func:`free_burst`: the 1 s bound stays at or above the
30 s bound), at most ``0.1R``. With ``delta = 0.2 s`` (callers may be 0.1 s late, the
network and the provider's own stamping get the other 0.1 s)::

    sigma = min(floor(0.1R), floor((floor(1.2R) x 30.2 - 30R x 1.2) / 29))
    rho   = min((floor(1.2R) - sigma) / 1.2, (30R - sigma) / 30.2)

At ``R = 500``: ``sigma = 4``, ``rho = min(496.67, 496.56) = 496.56/s`` (99.3 % of R); the
worst second holds ``496.56 x 1.2 + 4 + 1 = 600.9``, so at most 600, and the worst 30 s
``496.56 x 30.2 + 5 = 15,000.9``, so at most 15,000. At ``R = 100``: ``sigma = 0``,
``rho = 99.3/s``; at ``R = 10``: 99.3 %; from ``R = 5`` up it stays at 99 % or more (below,
``floor(1.2R)`` leaves no spike at all). With ``delta = 0.1 s`` (a quiet machine) the
default burst is 50 at ``R = 500`` and ``rho = 496.68/s``. A plain TPS rule (other
providers, :func:`per_second_rule`) is one 1 s window of ``floor(R)``; with no spike
allowance the margin costs ``delta / (1 + delta)``: 83 % of R at ``delta = 0.2``.

Why 0.2 s: measured with ``bench/limiter.py`` on a 2-core machine at a load average of 9,
0.1 s let a sliding second reach 612 at ``R = 500`` (12 answers 429).

**429 and Retry-After** (:meth:`RedisRateLimiter.throttled`): the first 429 of an episode
(``episode`` seconds, 5 by default, or the Retry-After if longer) multiplies the shared rate
by ``decrease`` (0.8) and holds every sender until its Retry-After; the other 429s of the
episode are echoes of the same burst (every worker had requests in flight) and only lengthen
the hold if they ask for longer. From the end of the hold the rate climbs back by
``recovery`` x R per second (0.1: 2 s back from a cut). So a provider that really is
overloaded keeps the rate falling by a fifth every five seconds, down to ``floor``, while a
stray 429 costs a pause and a brief dip. The state is in the same hash, so every worker
slows down at once.

**Booking ahead.** :meth:`RedisRateLimiter.book_slot` books a slot without waiting for it
and says when it begins and when it goes stale: a caller with work to do before its request
(the campaign runner records the attempt) starts that work shortly before the slot, sends
within the slot's span, and books again when it missed it (a slow commit could otherwise
release several requests together, over the provider's one-second count).

**Redis unreachable**: ``acquire`` never grants without Redis. It logs one warning, retries
with a capped backoff (0.25 s at most, so sends resume within about that once Redis is
back), logs once more when Redis answers again and carries on. :meth:`unreachable_for` says
for how long it has failed, :meth:`until_reachable` waits for it: the campaign runner stops
claiming recipients meanwhile and releases those it holds once it has been blocked a while.
The client from :func:`connect` retries a failed command once at once (a connection that
went stale), never more, so that this loop (and its one warning) governs.
**Redis restarted** (state lost): a missing hash is recreated as if the limit had just been
used to the full (``TAT = now + horizon + tau + T``), which is exactly as far as the lost
state can have booked ahead, so a restart never produces an over-limit window; it costs at
most ``horizon + tau`` of sending time. A 429 reported to a restarted Redis starts from the
same conservative state.

Keys are namespaced ``rcskit:rate:<provider>:<account>:<purpose>`` and expire a minute
after the limit last had anything booked, so idle accounts leave nothing behind. Capability
checks use their own purpose (``bulk_capability``, a per-minute rule); Dotgo counts single
capability checks, sends and revokes in one group (seed 002 §6), so they share ``send``.

Why a script of our own and not ``throttled-py``: its GCRA script also reads ``TIME`` and
is short, but it only answers "allowed / retry after", so waiting workers poll and race one
another, and a missing key starts with a full bucket (a Redis restart would grant a full
burst on top of whatever the lost state had just let through). It has no shared slow-down
for 429s either. The two scripts here are about forty lines, with the properties above.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..providers import registry
from ..ratelimit import Clock, Sleep
from .errors import CampaignError

__all__ = [
    "DOTGO_PROVIDERS",
    "AdaptiveRateLimiter",
    "Gcra",
    "LimiterState",
    "RedisRateLimiter",
    "Window",
    "bulk_capability_limiter",
    "connect",
    "derive",
    "dotgo_rule",
    "limiter_key",
    "per_minute_rule",
    "per_second_rule",
    "redacted_url",
    "send_limiter",
]

log = logging.getLogger(__name__)

DOTGO_PROVIDERS = tuple(s.name for s in registry.all() if s.rate_rule == "dotgo_window")
"""Providers that count requests with Dotgo's 1 s / 30 s rule (seed 002 section 6)."""

KEY_PREFIX = "rcskit:rate"
DEFAULT_MARGIN = 0.2
"""Seconds of lateness and jitter the derived rates allow for (see the module docstring)."""
_EPSILON = 1e-9
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


@dataclass(frozen=True, slots=True)
class Window:
    """A provider rule: at most ``limit`` requests in any sliding ``span`` seconds."""

    span: float
    limit: int


@dataclass(frozen=True, slots=True)
class Gcra:
    """GCRA settings: ``rate`` requests per second on average, ``burst`` more at once
    (``sigma``; a request of ``n`` needs ``n <= burst + 1``)."""

    rate: float
    burst: int
    margin: float = DEFAULT_MARGIN
    """Seconds a send may land off its slot (late wake-up, network) that the rate allows for;
    a limiter lets a caller be late by half of it and leaves the other half to the network."""

    @property
    def interval(self) -> float:
        """Seconds between two requests at the full rate (``T``), widened by 1e-9."""
        return (1.0 / self.rate) * (1.0 + _EPSILON)

    @property
    def tolerance(self) -> float:
        """Burst tolerance ``tau = sigma * T`` in seconds."""
        return self.burst * self.interval


def derive(windows: Sequence[Window], *, burst: int, margin: float) -> Gcra:
    """The fastest GCRA (rate ``rho``, burst ``sigma``) that keeps every window's limit when
    sends may land up to ``margin`` seconds off their slot: ``rho = min((L - sigma)/(s + delta))``.

    Raises ``ValueError`` naming the window when ``burst`` leaves no rate at all."""
    if not windows:
        raise ValueError("derive: at least one window is needed")
    if burst < 0:
        raise ValueError(f"derive: burst must be >= 0, got {burst}")
    if margin < 0:
        raise ValueError(f"derive: margin must be >= 0, got {margin}")
    rate = math.inf
    for w in windows:
        if w.span <= 0 or w.limit < 1:
            raise ValueError(f"derive: window span must be > 0 and limit >= 1, got {w}")
        if w.limit - burst <= 0:
            raise ValueError(
                f"derive: burst {burst} leaves no room in the window of {w.span:g} s"
                f" (limit {w.limit}); use a burst below {w.limit}"
            )
        rate = min(rate, (w.limit - burst) / (w.span + margin))
    return Gcra(rate=rate, burst=burst, margin=margin)


def _check_tps(tps: float, what: str = "tps") -> None:
    if not math.isfinite(tps) or tps <= 0:
        raise CampaignError(f"{what} {tps!r}: must be a finite number > 0")


def free_burst(short: Window, long: Window, margin: float) -> int:
    """The largest burst that costs no rate: the short window's bound on the rate stays at
    or above the long window's. From ``(Ls - b)/(s + d) >= (Ll - b)/(l + d)``:
    ``b <= (Ls(l + d) - Ll(s + d)) / (l - s)``."""
    room = (short.limit * (long.span + margin) - long.limit * (short.span + margin)) / (
        long.span - short.span
    )
    return max(0, math.floor(room))


def dotgo_rule(
    tps: float,
    *,
    spike: float = 0.2,
    window: float = 30.0,
    burst: int | None = None,
    margin: float = DEFAULT_MARGIN,
) -> Gcra:
    """Dotgo's group 1 rule at ``tps``: any 1 s at most ``(1 + spike) x tps`` and any
    ``window`` seconds at most ``window x tps`` (seed 002 section 6). ``burst`` defaults to
    the largest that costs no rate (:func:`free_burst`, at most ``0.1 x tps``); see the
    module docstring for the arithmetic."""
    _check_tps(tps)
    second = Window(1.0, math.floor((1.0 + spike) * tps))
    long = Window(window, math.floor(window * tps))
    if burst is None:
        burst = min(math.floor(0.1 * tps), free_burst(second, long, margin))
    return derive([second, long], burst=burst, margin=margin)


def per_second_rule(tps: float, *, burst: int = 0, margin: float = DEFAULT_MARGIN) -> Gcra:
    """A plain TPS rule: any 1 s at most ``floor(tps)`` requests."""
    _check_tps(tps)
    if tps < 1:
        raise CampaignError(f"tps {tps!r}: a per-second rule needs at least 1 request per second")
    return derive([Window(1.0, math.floor(tps))], burst=burst, margin=margin)


def per_minute_rule(per_minute: float, *, burst: int = 0, margin: float = DEFAULT_MARGIN) -> Gcra:
    """A per-minute rule (bulk capability checks): any 60 s at most ``floor(per_minute)``."""
    _check_tps(per_minute, "per_minute")
    if per_minute < 1:
        raise CampaignError(f"per_minute {per_minute!r}: must allow at least 1 request")
    return derive([Window(60.0, math.floor(per_minute))], burst=burst, margin=margin)


def limiter_key(provider: str, account: str, purpose: str = "send") -> str:
    """``rcskit:rate:<provider>:<account>:<purpose>``; raises naming an empty or spaced part."""
    for name, value in (("provider", provider), ("account", account), ("purpose", purpose)):
        if not value or any(c.isspace() for c in value):
            raise CampaignError(f"limiter key {name} {value!r}: must be non-empty, no spaces")
    return f"{KEY_PREFIX}:{provider}:{account}:{purpose}"


# KEYS[1]: the limit's hash: tat (theoretical arrival time, server seconds), factor (share
# of the full rate, 0-1, value at `since`), since, hold (no grant before), cut (last decrease).
# ARGV: interval T, tolerance tau, horizon, recovery (factor per second), ttl pad, then the
# cost of each request waiting in line (one slot each, in order, while within the horizon).
# Returns {granted k, k waits in seconds, then the seconds before asking again} (numbers
# as strings: Lua numbers would come back as integers).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tau, horizon = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local recovery, pad = tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'since', 'hold')
local tat = tonumber(s[1])
if not tat then
  -- state lost (first use, expiry, Redis restart): as if the limit had just been used up
  tat = now + horizon + tau + interval
end
local factor = tonumber(s[2]) or 1
local since = tonumber(s[3]) or now
local hold = tonumber(s[4]) or 0
if factor < 1 and now > since then
  factor = math.min(1, factor + (now - since) * recovery)
end
local step = interval / factor
local out = {0}
local again = 0
for i = 6, #ARGV do
  local n = tonumber(ARGV[i])
  local at = math.max(now, hold, tat + (n - 1) * step - tau)
  if at - now > horizon then
    again = at - now - horizon
    break
  end
  tat = math.max(tat, at) + n * step
  out[1] = out[1] + 1
  out[#out + 1] = string.format('%.6f', at - now)
end
out[#out + 1] = string.format('%.6f', again)
redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat))
local keep = math.max(tat, hold + (1 - factor) / math.max(recovery, 1e-6)) - now
redis.call('EXPIRE', KEYS[1], math.ceil(keep + pad))
return out
"""

# KEYS[1]: as above (plus cut: when the current episode of 429s began, and cut_retry: its
# longest Retry-After). ARGV: retry_after, decrease, floor, recovery, tolerance tau, ttl pad,
# episode, interval T, horizon (a missing hash starts used up, as in _RESERVE). The first
# 429 of an episode cuts the rate and holds every sender; later ones in the same episode
# (echoes of the same burst) only lengthen the hold if they ask for longer.
# Returns {factor now, seconds until sends may resume} as strings.
_THROTTLED = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local retry, decrease, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local recovery, tau, pad = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local episode, interval, horizon = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local s = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'since', 'hold', 'cut', 'cut_retry')
local factor = tonumber(s[2]) or 1
local since = tonumber(s[3]) or now
local hold = tonumber(s[4]) or 0
local cut = tonumber(s[5]) or 0
local cut_retry = tonumber(s[6]) or 0
if factor < 1 and now > since then
  factor = math.min(1, factor + (now - since) * recovery)
  since = now
end
if now - cut >= math.max(episode, cut_retry) then
  factor = math.max(floor, factor * decrease)
  cut, cut_retry, since = now, retry, now
  hold = math.max(hold, now + retry)
elseif retry > cut_retry then
  cut_retry = retry
  hold = math.max(hold, now + retry)
end
since = math.max(since, hold)
local tat = math.max(tonumber(s[1]) or (now + horizon + tau + interval), hold + tau)
redis.call('HSET', KEYS[1], 'tat', string.format('%.6f', tat), 'factor', tostring(factor),
  'since', string.format('%.6f', since), 'hold', string.format('%.6f', hold),
  'cut', string.format('%.6f', cut), 'cut_retry', string.format('%.6f', cut_retry))
local keep = math.max(tat, hold + (1 - factor) / math.max(recovery, 1e-6)) - now
redis.call('EXPIRE', KEYS[1], math.ceil(keep + pad))
return {tostring(factor), string.format('%.6f', math.max(0, hold - now))}
"""

# KEYS[1]: as above. Returns {factor now, seconds of hold left, seconds booked ahead}.
_STATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local recovery = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tat', 'factor', 'since', 'hold')
local factor = tonumber(s[2]) or 1
local since = tonumber(s[3]) or now
if factor < 1 and now > since then
  factor = math.min(1, factor + (now - since) * recovery)
end
local hold = tonumber(s[4]) or 0
local tat = tonumber(s[1]) or now
return {tostring(factor), string.format('%.6f', math.max(0, hold - now)),
  string.format('%.6f', tat - now)}
"""


@dataclass(frozen=True, slots=True)
class LimiterState:
    """A snapshot of a shared limit: ``factor`` of the full rate now, ``hold`` seconds
    before anyone may send (Retry-After), ``ahead`` seconds booked beyond now."""

    factor: float
    hold: float
    ahead: float


@runtime_checkable
class AdaptiveRateLimiter(Protocol):
    """A :class:`~rcskit.ratelimit.RateLimiter` that also learns from the provider's 429s:
    a sender calls :meth:`throttled` with the answer's ``Retry-After`` (``None`` if absent)."""

    async def acquire(self, n: int = 1) -> None:
        """Wait until ``n`` requests may go out, and count them as sent."""
        ...

    async def throttled(self, retry_after: float | None = None) -> LimiterState:
        """The provider said 429: pause and slow down every sender of this limit."""
        ...


def redacted_url(url: str) -> str:
    """``redis://user:secret@host:6379/0`` -> ``redis://host:6379/0`` (for logs and errors)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"


def connect(url: str, *, timeout: float = 1.0) -> aioredis.Redis:
    """A redis-py asyncio client for ``url`` whose calls fail within ``timeout`` seconds
    when Redis does not answer (so :meth:`RedisRateLimiter.acquire` can wait and retry).

    A failed command is retried once at once (a pooled connection that went stale), not with
    redis-py's default backoff of up to ten retries: the limiter's own loop waits for Redis,
    says so once, and resumes as soon as it answers."""
    client: aioredis.Redis = aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1),
    )
    return client


class RedisRateLimiter:
    """A GCRA limit shared through Redis by every process that uses the same ``key``.

    ``params`` comes from :func:`dotgo_rule`, :func:`per_second_rule` or
    :func:`per_minute_rule`; :func:`send_limiter` picks the right one for a provider.
    ``clock`` and ``sleep`` are the local monotonic clock and sleep (used only for
    durations Redis hands out)."""

    def __init__(
        self,
        client: aioredis.Redis,
        key: str,
        params: Gcra,
        *,
        horizon: float = 0.5,
        lateness: float | None = None,
        decrease: float = 0.8,
        recovery: float = 0.1,
        floor: float = 0.05,
        episode: float = 5.0,
        retry_backoff: tuple[float, float] = (0.02, 0.25),
        max_batch: int = 64,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        name: str | None = None,
    ) -> None:
        if lateness is None:
            lateness = params.margin / 2
        if horizon <= 0 or lateness <= 0:
            raise ValueError(f"horizon and lateness must be > 0, got {horizon}, {lateness}")
        if not 0 < decrease < 1 or not 0 < floor <= 1 or recovery <= 0:
            raise ValueError("decrease must be in (0, 1), floor in (0, 1], recovery > 0")
        self.client = client
        self.key = key
        self.params = params
        self.horizon = horizon
        self.lateness = lateness
        self.decrease = decrease
        self.recovery = recovery
        self.floor = floor
        self.episode = episode
        self._backoff = retry_backoff
        self._clock = clock
        self._sleep = sleep
        self._name = name or key
        self._reserve = client.register_script(_RESERVE)
        self._throttled = client.register_script(_THROTTLED)
        self._state = client.register_script(_STATE)
        self._line: deque[tuple[int, asyncio.Future[tuple[float, float]]]] = deque()
        self._first: deque[tuple[int, asyncio.Future[tuple[float, float]]]] = deque()
        """Callers booked before the line (``book_slot(first=True)``)."""
        self._booker: asyncio.Task[None] | None = None
        self.max_batch = max_batch
        self._down_since: float | None = None  # first failure of the current outage
        self.stale = 0
        """Slots booked but not used because this process woke too late for them."""
        self.round_trips = 0
        """Booking calls made to Redis (several callers' slots go in one)."""

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter({self._name!r}, rate={self.params.rate:.2f}/s,"
            f" burst={self.params.burst})"
        )

    @property
    def ttl_pad(self) -> int:
        """Seconds a limit's hash outlives the last thing booked on it."""
        return 60

    def _reserve_args(self, costs: list[int]) -> list[Any]:
        p = self.params
        head = [repr(p.interval), repr(p.tolerance), repr(self.horizon), repr(self.recovery)]
        return [*head, self.ttl_pad, *costs]

    async def _call(self, script: Any, args: list[Any]) -> list[bytes]:
        """Run ``script`` on this limit's key, waiting (never failing) while Redis is away."""
        reply: list[bytes] = await self._patiently(lambda: script(keys=[self.key], args=args))
        return reply

    async def _patiently(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """``await call()``, retried with the capped backoff while Redis is unreachable: one
        warning when it goes away, one when it answers again (a call that returns ``None``
        had nothing to ask: it says nothing about Redis)."""
        delay = self._backoff[0]
        while True:
            try:
                reply = await call()
            except _UNREACHABLE as exc:
                if self._down_since is None:
                    self._down_since = self._clock()
                    log.warning(
                        "rate limit %s: Redis unreachable (%s); no sends until it is back",
                        self._name,
                        type(exc).__name__,
                    )
                await self._sleep(delay)
                delay = min(self._backoff[1], delay * 2)
                continue
            if self._down_since is not None and reply is not None:
                self._down_since = None
                log.warning("rate limit %s: Redis is back; sending again", self._name)
            return reply

    def unreachable_for(self) -> float:
        """Seconds since this process found Redis unreachable, while it still does (0.0
        when the last call went through)."""
        if self._down_since is None:
            return 0.0
        return max(0.0, self._clock() - self._down_since)

    async def until_reachable(self) -> None:
        """Return at once when the last call went through; else wait (pinging with the
        capped backoff) until Redis answers."""
        if self._down_since is not None:
            await self._patiently(self.client.ping)

    async def acquire(self, n: int = 1) -> None:
        """Wait until ``n`` requests may go out under the shared limit, and count them."""
        while True:
            earliest, latest = await self._booked(n)
            delay = earliest - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._clock() <= latest:
                return
            self.stale += n  # woke too late: sending now could bunch; book a new slot

    async def book_slot(self, n: int = 1, *, first: bool = False) -> tuple[float, float]:
        """Book a slot for ``n`` requests without waiting for it: the seconds from now until
        it begins and until it goes stale. The caller sends within that span, or books
        again: a request sent later could share a provider window with the requests of
        later slots. ``first``: booked before the callers in line (a request whose attempt
        is recorded already and missed its slot should not wait behind them)."""
        earliest, latest = await self._booked(n, first=first)
        now = self._clock()
        return earliest - now, latest - now

    async def _booked(self, n: int, *, first: bool = False) -> tuple[float, float]:
        """A slot for ``n`` requests booked by the booking task: (earliest, latest) on the
        local clock."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"acquire(n): n must be a positive integer, got {n!r}")
        if n > self.params.burst + 1:
            raise ValueError(
                f"acquire(n): n={n} exceeds the burst + 1 ({self.params.burst + 1});"
                " it could never be granted"
            )
        slot: asyncio.Future[tuple[float, float]] = asyncio.get_running_loop().create_future()
        (self._first if first else self._line).append((n, slot))
        if self._booker is None or self._booker.done():
            self._booker = asyncio.create_task(self._book())
        return await slot

    async def _book(self) -> None:
        """Book slots for the callers in line, first come first served, up to
        ``max_batch`` per round trip; the only task of this process that talks to Redis
        for :meth:`acquire`."""
        try:
            while True:
                booked = await self._patiently(self._reserve_head)
                if booked is None:
                    return  # nobody waits
                asked, count, firsts, reply = booked
                self.round_trips += 1
                answered = self._clock()
                granted = int(reply[0])
                for i in range(granted):
                    # only this task removes callers, and callers join at the right: the
                    # heads of both lines are still the ones booked
                    _, slot = (self._first if i < firsts else self._line).popleft()
                    wait = max(0.0, float(reply[1 + i]))
                    # Redis read its clock between `asked` and `answered`: going at
                    # `answered + wait` is never early, and going after `asked + wait +
                    # lateness` could be late by more than the margin allows
                    if not slot.done():  # a caller cancelled during the call: unused
                        slot.set_result((answered + wait, asked + wait + self.lateness))
                if granted < count:
                    # the horizon is full: let a tenth of it free up, then book a batch
                    await self._sleep(max(float(reply[-1]), self.horizon / 10))
        except asyncio.CancelledError:
            for line in (self._first, self._line):
                while line:
                    line.popleft()[1].cancel()
            raise
        except Exception as exc:  # e.g. a Redis error reply: every waiter gets it
            for line in (self._first, self._line):
                while line:
                    _, slot = line.popleft()
                    if not slot.done():
                        slot.set_exception(exc)

    async def _reserve_head(self) -> tuple[float, int, int, list[bytes]] | None:
        """One booking for the heads of the lines (up to ``max_batch`` callers, those booked
        first before the others): when it was asked, how many callers it was for and how
        many of them from the first line, and Redis's reply; ``None`` when nobody waits. The
        lines are read again at every try, so callers who left during an outage get no slot
        when Redis is back."""
        self._forget_cancelled()
        firsts = min(len(self._first), self.max_batch)
        count = firsts + min(len(self._line), self.max_batch - firsts)
        if not count:
            return None
        costs = [self._first[i][0] for i in range(firsts)]
        costs += [self._line[i][0] for i in range(count - firsts)]
        asked = self._clock()
        reply: list[bytes] = await self._reserve(keys=[self.key], args=self._reserve_args(costs))
        return asked, count, firsts, reply

    def _forget_cancelled(self) -> None:
        """Drop the callers that gave up (cancelled) while waiting in line, so that no slot
        is booked for them: a runner that waited out a Redis outage may have abandoned many."""
        for line in (self._first, self._line):
            if any(slot.done() for _, slot in line):
                kept = [(n, slot) for n, slot in line if not slot.done()]
                line.clear()
                line.extend(kept)

    async def throttled(self, retry_after: float | None = None) -> LimiterState:
        """The provider answered 429 (or sent ``Retry-After``): slow every worker down.

        The first report of an episode holds every sender for ``retry_after`` seconds (1 s
        when not given) and cuts the shared rate by ``decrease``; later reports of the same
        episode only lengthen the hold. The rate then recovers additively."""
        if retry_after is None:
            retry_after = 1.0
        if not math.isfinite(retry_after) or retry_after < 0:
            raise ValueError(f"throttled(retry_after): must be >= 0 seconds, got {retry_after!r}")
        args = [
            repr(float(retry_after)),
            repr(self.decrease),
            repr(self.floor),
            repr(self.recovery),
            repr(self.params.tolerance),
            self.ttl_pad,
            repr(self.episode),
            repr(self.params.interval),
            repr(self.horizon),
        ]
        reply = await self._call(self._throttled, args)
        return LimiterState(factor=float(reply[0]), hold=max(0.0, float(reply[1])), ahead=0.0)

    async def state(self) -> LimiterState:
        """The shared limit as Redis sees it now (for status displays and tests)."""
        reply = await self._call(self._state, [repr(self.recovery)])
        return LimiterState(float(reply[0]), float(reply[1]), float(reply[2]))


def send_limiter(
    client: aioredis.Redis,
    provider: str,
    account: str,
    tps: float,
    **options: Any,
) -> RedisRateLimiter:
    """The shared limiter for sends (and single capability checks, revokes) of one
    provider account: Dotgo's 1 s / 30 s rule for Dotgo, a plain TPS rule otherwise.
    ``options`` go to :class:`RedisRateLimiter`."""
    params = dotgo_rule(tps) if provider in DOTGO_PROVIDERS else per_second_rule(tps)
    key = limiter_key(provider, account, "send")
    return RedisRateLimiter(client, key, params, name=f"{provider}:{account} send", **options)


def bulk_capability_limiter(
    client: aioredis.Redis,
    provider: str,
    account: str,
    per_minute: float,
    **options: Any,
) -> RedisRateLimiter:
    """The shared limiter for bulk capability checks: ``per_minute`` per minute, own key."""
    key = limiter_key(provider, account, "bulk_capability")
    return RedisRateLimiter(
        client,
        key,
        per_minute_rule(per_minute),
        name=f"{provider}:{account} bulk capability",
        **options,
    )
