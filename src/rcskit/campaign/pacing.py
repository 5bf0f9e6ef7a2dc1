"""When and how fast: quiet hours in each recipient's local time, and the send rate limiters.

**Quiet hours** (``--quiet-hours 21:00-08:00``) are read in the recipient's local time, the
zone coming from the number with ``phonenumbers`` (``+33...`` is ``Europe/Paris``, ``+1 212``
``America/New_York``). A number the library cannot place gets its country's main zone (the
zone of the country's example number); a number spanning several zones must be outside quiet
hours in all of them (and when no such moment exists within two days, the first zone decides).
:func:`quiet_until` says until when a recipient must wait.

**Rate limiters** follow the :class:`~rcskit.ratelimit.RateLimiter` protocol, so a shared
limiter (Redis, for several hosts) can replace them: :func:`send_limiter` gives Dotgo's
30-second window rule (seed 002 section 6) for Dotgo providers and an evenly spaced token
bucket for the others; :func:`bulk_limiter` paces bulk capability checks per minute.

Two optional abilities a limiter may have, which the campaign runner uses when present:
:class:`SlotLimiter` books a slot ahead and says when it begins and when it goes stale (the
runner records the attempt just before the slot and sends within it, or books again; the
shared Redis limiter and the in-process ones of :func:`send_limiter` and :func:`bulk_limiter`
book slots), and :class:`ReachableLimiter` says when its backing service is unreachable (the
shared Redis limiter: the runner then stops claiming recipients and, once blocked for a
while, releases those it holds).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_zones
from phonenumbers.tzdata import TIMEZONE_DATA

from ..providers import registry
from ..ratelimit import DotgoWindowLimiter, RateLimiter, TokenBucket
from .errors import CampaignError

__all__ = [
    "DEFAULT_SPIKE",
    "QuietHours",
    "ReachableLimiter",
    "SlotLimiter",
    "bulk_limiter",
    "default_concurrency",
    "quiet_until",
    "send_limiter",
    "zones_of",
]

DEFAULT_SPIKE = 0.1
"""The burst rcskit plans above the configured TPS for Dotgo: 10 %, half the documented 20 %
per-second allowance. It lets a run catch up after a stall (the machine was busy) within the
30 s window's quota, which is never exceeded; the other half stays as a margin for jitter
(and the limiter checks the real departures against the one-second rule, 5 % below it)."""

LATENCY_MARGIN_S = 0.2
"""Seconds added to Dotgo's 30 s window so that jitter cannot push a window over its quota."""

CATCH_UP_S = 0.05
"""Seconds of sends a Dotgo limiter lets go at once to catch up after a stall."""


@runtime_checkable
class SlotLimiter(Protocol):
    """A rate limiter that books slots ahead: a request must leave within its slot's span
    or book a new one (leaving later could put it in one provider window with the requests
    of later slots)."""

    async def book_slot(self, n: int = 1, *, first: bool = False) -> tuple[float, float]:
        """Book a slot for ``n`` requests (counted as sent) without waiting for it: the
        seconds from now until it begins and until it goes stale. ``first``: before the
        callers waiting in line (a request that missed its slot)."""
        ...


@runtime_checkable
class ReachableLimiter(Protocol):
    """A rate limiter kept by a service (Redis) that can be unreachable: it then grants
    nothing."""

    def unreachable_for(self) -> float:
        """Seconds the service has been unreachable (0.0 when its last call went through)."""
        ...

    async def until_reachable(self) -> None:
        """Return once the service answers (at once when its last call went through)."""
        ...


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_STEP = timedelta(minutes=5)
_HORIZON = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily span of local time with no sends; ``start > end`` crosses midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> QuietHours:
        """``"21:00-08:00"`` -> ``QuietHours(21:00, 08:00)``; raise naming the value."""
        m = _CLOCK.match(text or "")
        if m is None:
            raise CampaignError(f"--quiet-hours {text!r}: give HH:MM-HH:MM, e.g. 21:00-08:00")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise CampaignError(f"--quiet-hours {text!r}: hours 00-23, minutes 00-59")
        if (h1, m1) == (h2, m2):
            raise CampaignError(f"--quiet-hours {text!r}: start and end must differ")
        return cls(time(h1, m1), time(h2, m2))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: time) -> bool:
        """Whether the local wall-clock time ``local`` is quiet (start included, end not)."""
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@functools.lru_cache(maxsize=4096)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@functools.lru_cache(maxsize=1024)
def _country_zones(region: str) -> tuple[str, ...]:
    example = phonenumbers.example_number(region)
    if example is None:
        return ()
    return tuple(z for z in phone_zones.time_zones_for_number(example) if z != "Etc/Unknown")


@functools.lru_cache(maxsize=65536)
def zones_of(msisdn: str) -> tuple[ZoneInfo, ...]:
    """The time zones of an E.164 number (see the module docstring); empty when even its
    country is unknown (then quiet hours cannot apply, and do not).

    A number of a country whose every number has the same zones (France, India: 194 of 215
    country codes) gets them without being parsed: a campaign's numbers are each new, and
    parsing one took 25 µs of every send under quiet hours."""
    if _E164_DIGITS.fullmatch(msisdn):
        same = _country_wide(msisdn)
        if same is not None:
            return same
    return _parsed_zones(msisdn)


def _parsed_zones(msisdn: str) -> tuple[ZoneInfo, ...]:
    """:func:`zones_of`, from the number parsed."""
    try:
        parsed = phonenumbers.parse(msisdn, None)
    except phonenumbers.NumberParseException:
        return ()
    names = tuple(z for z in phone_zones.time_zones_for_number(parsed) if z != "Etc/Unknown")
    if not names:
        region = phonenumbers.region_code_for_country_code(parsed.country_code or 0)
        names = _country_zones(region) if region and region != "ZZ" else ()
    return tuple(z for z in (_zone(n) for n in names) if z is not None)


_E164_DIGITS = re.compile(r"\+[1-9][0-9]{4,14}")
"""A number in E.164 form of 5 digits or more: with a known country code (1 to 3 digits), one
phonenumbers parses (into that code and a national number of 2 digits or more)."""


def _country_wide(msisdn: str) -> tuple[ZoneInfo, ...] | None:
    """:func:`zones_of` of a number in E.164 form when its country calling code gives every
    number the same zones, else ``None``."""
    digits = msisdn[1:]
    for length in (1, 2, 3):  # country calling codes are prefix-free
        code = digits[:length]
        if int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return _same_zones(code)
    return None


@functools.lru_cache(maxsize=512)
def _same_zones(code: str) -> tuple[ZoneInfo, ...] | None:
    """The zones :func:`zones_of` gives every number of country calling code ``code``, or
    ``None`` when they can differ: whatever the number's type, the zones phonenumbers can
    name for it are those of a prefix of the number (a prefix of ``code``, or ``code`` and
    more digits), and with none (``Etc/Unknown`` only) those of the country's example
    number; when all of these are the same, so is the answer."""
    region = phonenumbers.region_code_for_country_code(int(code))
    fallback = _country_zones(region) if region and region != "ZZ" else ()
    answers = {fallback}  # a number of no known type
    for prefix, names in TIMEZONE_DATA.items():
        if prefix.startswith(code) or code.startswith(prefix):
            known = tuple(z for z in names if z != "Etc/Unknown")
            answers.add(known or fallback)
    if len(answers) != 1:
        return None
    (names,) = answers
    return tuple(z for z in (_zone(n) for n in names) if z is not None)


def _quiet_anywhere(quiet: QuietHours, zones: tuple[ZoneInfo, ...], at: datetime) -> bool:
    return any(quiet.contains(at.astimezone(z).time()) for z in zones)


@functools.lru_cache(maxsize=4096)
def _until(quiet: QuietHours, zones: tuple[ZoneInfo, ...], minute: datetime) -> datetime | None:
    if not _quiet_anywhere(quiet, zones, minute):
        return None
    t = minute
    while t - minute <= _HORIZON:
        t += _STEP
        if not _quiet_anywhere(quiet, zones, t):
            # refine to the minute
            back = t - _STEP
            while _quiet_anywhere(quiet, zones, back):
                back += timedelta(minutes=1)
            return back
    return _until(quiet, zones[:1], minute) if len(zones) > 1 else None


def quiet_until(msisdn: str, now: datetime, quiet: QuietHours | None) -> datetime | None:
    """``None`` when ``msisdn`` may receive a message at ``now``; otherwise the first minute
    (aware, UTC-comparable) when its quiet hours are over."""
    if quiet is None:
        return None
    zones = zones_of(msisdn)
    if not zones:
        return None
    minute = now.replace(second=0, microsecond=0)
    until = _until(quiet, zones, minute)
    return None if until is None or until <= now else until


def send_limiter(
    provider: str, tps: float, *, spike: float = DEFAULT_SPIKE, catch_up: float = CATCH_UP_S
) -> RateLimiter:
    """The limiter for sends (and single capability checks) at ``tps`` requests per second.

    Dotgo (both API flavours) counts group 1 requests over 30 s windows with 20 % spikes
    (seed 002 section 6): :class:`~rcskit.ratelimit.DotgoWindowLimiter` with ``spike``, and
    ``catch_up`` seconds of requests allowed at once after a stall. Other providers: requests
    evenly spaced (:class:`~rcskit.ratelimit.TokenBucket`).
    """
    if tps <= 0:
        raise CampaignError(f"--tps {tps:g}: must be > 0")
    spec = registry.find(provider)
    if spec is not None and spec.rate_rule == "dotgo_window":
        # ``spike`` and a little ``catch_up`` burst let a run recover the time a stall cost
        # (the event loop was busy, a commit was slow) without exceeding the window's quota;
        # the limiter checks real departures against Dotgo's one-second rule (5 % below it).
        # latency_margin: the provider counts requests by when it sees them; a stalled
        # process on either side can squeeze 30 s of our sends into less of its time. 0.2 s
        # costs 0.7 % of the rate (30 / 30.2); with departures checked and the emulator's GC
        # pauses gone (rcskit.gcpolicy) it measured zero 429s at 500 TPS (bench/campaign.py).
        return DotgoWindowLimiter(
            tps, spike=spike, burst=max(1, round(tps * catch_up)), latency_margin=LATENCY_MARGIN_S
        )
    return TokenBucket.per_second(tps)


def default_concurrency(tps: float) -> int:
    """Sends in flight by default: about one second of sends at ``tps`` (at least 32, at
    most 512).

    Each send waits for two group commits (its attempt, then its outcome) around the
    provider call, a few hundred milliseconds on a busy machine; fewer sends in flight than
    ``tps`` times that hold the run below its pace (measured against a local server: 32 in
    flight reached about 350 sends/s, 250 about 485, 500 kept a 500 TPS pace). It matters for
    providers without an idempotency key: a crash can leave up to this many sends with an
    unknown outcome (reported, never resent unless asked).
    """
    return max(32, min(512, math.ceil(tps)))


def bulk_limiter(per_minute: float) -> RateLimiter:
    """The limiter for bulk capability checks: ``per_minute`` requests per minute."""
    if per_minute <= 0:
        raise CampaignError(f"bulk capability rate {per_minute:g}/min: must be > 0")
    return TokenBucket.per_minute(per_minute)
