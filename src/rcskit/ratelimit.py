"""Client-side rate limiters: pace requests so the provider never has to answer 429.

A :class:`RateLimiter` is anything with ``async acquire(n=1)`` that returns when ``n``
requests may go out. Limiters reserve a send time for each caller at the moment it asks
(no lock, no polling), then sleep until that time, so concurrent callers are served in
order and a late wake-up never lets a later caller jump the queue.

- :class:`TokenBucket`: ``rate`` requests per ``per`` seconds with a ``burst`` allowance
  (GCRA, the token bucket in its exact "theoretical arrival time" form);
  ``TokenBucket.per_second(50)``, ``TokenBucket.per_minute(60)``.
- :class:`DotgoWindowLimiter`: Dotgo's documented rule (seed 002 §6): the configured TPS is
  the average over any 30 s window, with short spikes up to 20 % above it.

Reserving is not enough on a busy machine: a caller that wakes late (the event loop was
stalled by a slow commit or a garbage collection) departs late, and the callers reserved
right after it then leave in a bunch. So every request is *booked*: it gets a slot, a
moment and a ``lateness`` after it (a few tens of milliseconds) within which it must leave.
The limiter's rules (at most so many requests in any so many seconds) are checked on the
booked moments over spans widened by that lateness (:class:`_Bookings`), so they hold for
every request that leaves within its slot, however the departures fall inside the slots; a
caller that wakes after its slot went stale books a new one instead of leaving late (the
stale slot stays counted). :meth:`acquire` books and sleeps; :meth:`book_slot` only books
and says when the slot begins and goes stale (the
:class:`~rcskit.campaign.pacing.SlotLimiter` shape of the shared Redis limiter): a caller
with work to do before its request (the campaign runner commits the attempt) does it
meanwhile and checks the slot right before sending.

Both take ``clock`` and ``sleep`` so tests can run them on a fake clock. A shared limiter
for several processes (Redis) only has to implement :class:`RateLimiter`.
"""

from __future__ import annotations

import asyncio
import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "DotgoWindowLimiter", "RateLimiter", "Sleep", "TokenBucket"]

Clock = Callable[[], float]
"""Monotonic seconds (``time.monotonic``)."""
Sleep = Callable[[float], Awaitable[None]]
"""Wait a number of seconds (``asyncio.sleep``)."""

DOTGO_SPIKE = 0.2
"""Dotgo allows any one second up to 20 % above the configured TPS (seed 002 section 6)."""


@runtime_checkable
class RateLimiter(Protocol):
    """Returns from :meth:`acquire` when ``n`` more requests may be sent."""

    async def acquire(self, n: int = 1) -> None:
        """Wait until ``n`` requests may go out, and count them as sent."""
        ...


class _Gcra:
    """Generic cell rate algorithm: one cell per ``interval`` s, ``burst`` cells at once.

    The theoretical arrival time is kept as ``anchor + cells * interval`` (one rounding,
    no drift from adding the interval over and over), and the interval is widened by one
    part in 10^9 so that rounding can never put one cell too many in a window.
    """

    def __init__(self, interval: float, burst: int) -> None:
        self.interval = interval * (1.0 + 1e-9)
        self.burst = burst
        self.tolerance = (burst - 1) * self.interval
        self.anchor: float | None = None
        self.cells = 0

    @property
    def tat(self) -> float | None:
        if self.anchor is None:
            return None
        return self.anchor + self.cells * self.interval

    def earliest(self, now: float, n: int) -> float:
        tat = self.tat
        if tat is None:
            return now
        return max(now, tat + (n - 1) * self.interval - self.tolerance)

    def commit(self, t: float, n: int) -> None:
        tat = self.tat
        if tat is None or t > tat:
            self.anchor, self.cells = t, n
        else:
            self.cells += n


class _Rule:
    """At most ``limit`` departures in any ``span`` seconds, over a log of actual departures."""

    __slots__ = ("count", "limit", "log", "span")

    def __init__(self, span: float, limit: int) -> None:
        self.span = span
        self.limit = limit
        self.log: deque[tuple[float, int]] = deque()
        self.count = 0

    def earliest(self, now: float, n: int) -> float:
        """The earliest time from ``now`` at which ``n`` more may depart."""
        log = self.log
        horizon = now - self.span
        while log and log[0][0] <= horizon:
            self.count -= log.popleft()[1]
        excess = self.count + n - self.limit
        if excess <= 0:
            return now
        dropped = 0
        for sent_at, k in log:
            dropped += k
            if dropped >= excess:
                return sent_at + self.span * (1.0 + 1e-9)
        return now  # n > limit is refused before this point


class _Bookings:
    """The booked slots (their beginnings, in order) and the rules they keep.

    A rule ``(span, limit)`` is kept by every request that leaves within ``lateness`` of its
    slot's beginning when the beginnings keep ``limit`` in any ``span + lateness`` seconds:
    requests leaving within any ``span`` seconds began their slots within ``span +
    lateness``. Slots are booked in order (never before the last one), so each rule only
    looks back.
    """

    __slots__ = ("last", "lateness", "rules")

    def __init__(self, rules: list[tuple[float, int]], lateness: float) -> None:
        self.lateness = lateness
        self.rules = [_Rule(span + lateness, limit) for span, limit in rules]
        self.last = -math.inf

    def book(self, t: float, n: int) -> float:
        """Book ``n`` requests at ``t`` or the first moment after it that breaks no rule (and
        is not before the last slot booked); return that moment."""
        t = max(t, self.last)
        while True:
            later = t
            for rule in self.rules:
                later = max(later, rule.earliest(later, n))
            if later <= t:
                break
            t = later
        self._add(t, n)
        return t

    def book_now(self, now: float, n: int) -> bool:
        """Book ``n`` requests to leave at once (within the lateness), ahead of the slots
        booked already, when every rule has room for them whatever those slots do: no more
        than ``limit - n`` slots begin after ``now - span`` (span widened), booked or not yet
        gone. They are logged at the last slot's beginning (at ``now`` when later), where every
        later booking counts them. ``False`` (nothing booked) when a rule is that full."""
        for rule in self.rules:
            log = rule.log
            horizon = now - rule.span
            while log and log[0][0] < horizon:
                rule.count -= log.popleft()[1]
            if rule.count + n > rule.limit:
                return False
        self._add(max(now, self.last), n)
        return True

    def unbook(self, t: float, n: int) -> None:
        """Forget a slot booked at ``t`` whose request did not leave (its caller woke after
        it went stale): it no longer counts. Later bookings only counted it; none relied on
        its absence."""
        for rule in self.rules:
            try:
                rule.log.remove((t, n))
            except ValueError:
                continue  # already out of the rule's span
            rule.count -= n

    def _add(self, t: float, n: int) -> None:
        for rule in self.rules:
            rule.log.append((t, n))
            rule.count += n
        self.last = t


class _Booking(ABC):
    """What :class:`TokenBucket` and :class:`DotgoWindowLimiter` share: slots booked on the
    plan of :meth:`reserve` and the rules of :class:`_Bookings`."""

    _clock: Clock
    _sleep: Sleep
    _bookings: _Bookings
    stale: int
    """Slots booked but not used because their caller woke after they went stale."""

    @abstractmethod
    def reserve(self, n: int = 1) -> float:
        """When ``n`` requests may leave by the limiter's own plan (taken as booked)."""

    @abstractmethod
    def _most(self) -> int:
        """The most requests one call may ask for."""

    @property
    def lateness(self) -> float:
        """Seconds after its slot's beginning within which a request must leave."""
        return self._bookings.lateness

    def book(self, n: int = 1) -> tuple[float, float]:
        """Book a slot for ``n`` requests (counted as sent): when it begins and when it goes
        stale, on the limiter's clock."""
        t = self._bookings.book(self.reserve(n), n)
        return t, t + self._bookings.lateness

    async def book_slot(self, n: int = 1, *, first: bool = False) -> tuple[float, float]:
        """Book a slot for ``n`` requests without waiting for it: the seconds from now until
        it begins and until it goes stale (a request sent later books again). ``first``
        (a request that missed its slot): a slot beginning now when the rules have room for
        it whatever the slots booked already do (see :meth:`_Bookings.book_now`), else the
        next one in order (slots here are booked at once: there is no line to go before)."""
        now = self._clock()
        if first:
            _check_n(n, self._most(), "the burst")
            if self._bookings.book_now(now, n):
                return 0.0, self._bookings.lateness
        begins, stale = self.book(n)
        return begins - now, stale - now

    async def acquire(self, n: int = 1) -> None:
        """Wait until ``n`` requests may go out (a caller that wakes after its slot went
        stale books again)."""
        while True:
            begins, stale = self.book(n)
            delay = begins - self._clock()
            if delay > 0:
                await self._sleep(delay)
            if self._clock() <= stale:
                return
            self.stale += n
            # nothing left on that slot: it no longer counts (this process holds every
            # booking; a shared limiter cannot take one back)
            self._bookings.unbook(begins, n)
            if self._bookings.book_now(self._clock(), n):
                return  # the rules have room for it now, whatever the later slots do


def _check_n(n: int, most: int, what: str) -> None:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"acquire(n): n must be a positive integer, got {n!r}")
    if n > most:
        raise ValueError(f"acquire(n): n={n} exceeds {what} ({most}); it could never be granted")


class TokenBucket(_Booking):
    """``rate`` requests per ``per`` seconds, at most ``burst`` at once after an idle period.

    With ``burst=1`` slots are evenly spaced ``per / rate`` seconds apart. In any time span
    of ``L`` seconds at most ``burst + L * rate / per`` slots begin; requests leave within
    ``lateness`` (default a twentieth of ``per``) of their slot's beginning.
    """

    def __init__(
        self,
        rate: float,
        *,
        per: float = 1.0,
        burst: int = 1,
        lateness: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if lateness is None:
            lateness = per / 20
        if lateness < 0:
            raise ValueError(f"TokenBucket: lateness must be >= 0, got {lateness}")
        if rate <= 0 or per <= 0:
            raise ValueError(f"TokenBucket: rate and per must be > 0, got rate={rate} per={per}")
        if burst < 1:
            raise ValueError(f"TokenBucket: burst must be >= 1, got {burst}")
        self.rate = rate
        self.per = per
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._gcra = _Gcra(per / rate, burst)
        self.stale = 0
        # The plan puts at most ``rate x (per + lateness) / per + burst - 1`` slots in any
        # ``per + lateness`` seconds; the guard keeps that for the requests themselves (at
        # most that many in any ``per`` seconds) whenever they leave within their slots.
        widened = math.ceil(rate * (per + lateness) / per) + burst - 1
        self._bookings = _Bookings([(per, widened)], lateness)

    @classmethod
    def per_second(
        cls,
        rate: float,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> TokenBucket:
        """``rate`` requests per second."""
        return cls(rate, per=1.0, burst=burst, clock=clock, sleep=sleep)

    @classmethod
    def per_minute(
        cls,
        rate: float,
        *,
        burst: int = 1,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> TokenBucket:
        """``rate`` requests per minute."""
        return cls(rate, per=60.0, burst=burst, clock=clock, sleep=sleep)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, per={self.per:g}, burst={self.burst})"

    def _most(self) -> int:
        return self.burst

    def reserve(self, n: int = 1) -> float:
        """Reserve ``n`` requests on the plan; return the clock time at which they may go out
        (:meth:`book` also checks the guard)."""
        _check_n(n, self.burst, "the burst")
        now = self._clock()
        t = self._gcra.earliest(now, n)
        self._gcra.commit(t, n)
        return t


class DotgoWindowLimiter(_Booking):
    """Dotgo's Group 1 rule: average ``tps`` over any ``window`` (30 s), spikes up to
    ``spike`` (20 %) above it.

    Requests go out at most at ``tps * (1 + spike)`` per second (evenly spaced, ``burst``
    at once), and never more than ``tps * window`` in any ``window`` seconds. From idle,
    a steady stream runs at the spike rate until the window's quota is used, then waits
    for the window to slide: 1,500 requests per 30 s at ``tps=50``, never 60/s for long.

    ``latency_margin`` seconds are added to the window so that network jitter cannot
    make two requests look closer together on the provider's side than on ours (the cost
    is a rate ``window / (window + latency_margin)`` of the allowed one).

    Whatever ``spike`` and ``burst`` plan, the requests also keep the provider's one-second
    rule with ``second_headroom`` (5 %) to spare: at most
    ``tps * (1 + max(spike, 0.2)) * (1 - second_headroom)`` in any ``1 + second_margin``
    seconds, so a catch-up after a stall cannot overfill one of the provider's seconds, and
    arrival jitter has room before the provider's limit. Both rules hold for every request
    that leaves within ``lateness`` seconds of its slot's beginning (see the module
    docstring); a later one books again.
    """

    def __init__(
        self,
        tps: float,
        *,
        window: float = 30.0,
        spike: float = 0.2,
        burst: int = 1,
        latency_margin: float = 0.1,
        second_margin: float = 0.05,
        second_headroom: float = 0.05,
        lateness: float = 0.05,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if (
            tps <= 0
            or lateness < 0
            or window <= 0
            or spike < 0
            or latency_margin < 0
            or second_margin < 0
            or not 0 <= second_headroom < 1
        ):
            raise ValueError(
                "DotgoWindowLimiter: tps and window must be > 0; spike, latency_margin,"
                " second_margin and lateness >= 0; second_headroom in [0, 1)"
            )
        self.tps = tps
        self.window = window
        self.spike = spike
        self.limit = math.floor(tps * window)
        if self.limit < 1:
            raise ValueError(f"DotgoWindowLimiter: tps * window = {tps * window:g} allows nothing")
        self.burst = min(burst, self.limit)
        self._span = window + latency_margin
        self._clock = clock
        self._sleep = sleep
        allowed = tps * (1.0 + max(spike, DOTGO_SPIKE))
        per_second = max(1, math.floor(allowed * (1.0 - second_headroom)))
        # Plan no faster than the one-second rule below lets requests depart.
        rate = min(tps * (1.0 + spike), per_second / (1.0 + second_margin))
        self._gcra = _Gcra(1.0 / rate, self.burst)
        self._log: deque[tuple[float, int]] = deque()
        self._count = 0
        self._last = -math.inf
        self.stale = 0
        self._bookings = _Bookings(
            [(self._span, self.limit), (1.0 + second_margin, max(per_second, self.burst))],
            lateness,
        )

    def __repr__(self) -> str:
        return f"DotgoWindowLimiter(tps={self.tps:g}, window={self.window:g}, spike={self.spike:g})"

    def _most(self) -> int:
        return self.burst

    def reserve(self, n: int = 1) -> float:
        """Reserve ``n`` requests on the plan; return the clock time at which they may go out
        (:meth:`book` also checks the one-second rule)."""
        _check_n(n, self.burst, "the burst")
        now = self._clock()
        log = self._log
        while log and log[0][0] <= now - self._span:
            self._count -= log.popleft()[1]
        t = max(self._gcra.earliest(now, n), self._last)
        excess = self._count + n - self.limit
        if excess > 0:
            dropped = 0
            for sent_at, k in log:
                dropped += k
                if dropped >= excess:
                    t = max(t, sent_at + self._span)
                    break
        self._gcra.commit(t, n)
        self._last = t
        while log and log[0][0] <= t - self._span:
            self._count -= log.popleft()[1]
        log.append((t, n))
        self._count += n
        return t
