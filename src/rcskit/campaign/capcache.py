"""The capability cache: stored answers, when to check again, and how to batch bulk checks.

**Re-check policy** (Orange's best practice, seed 000 "HOW TO check the user's device
Capabilities?", applied by default to every provider): a number never checked is checked; a
number found *not* RCS is checked again once its answer is older than 2 months; a number found
RCS once its answer is older than 3 months. :func:`needs_check` is that rule as a pure function;
:class:`RecheckPolicy` makes the ages configurable per provider. "Older than" is strict: an
answer exactly 2 (3) calendar months old is still good; one microsecond later it is not. Months
are calendar months counted in UTC from the answer's time (31 January + 1 month = 28/29
February).

**Bulk batching**: :func:`plan_bulk` cuts a list of numbers into requests of at most the
provider's bulk limit (:data:`BULK_PROFILES`: 10 000 for Orange, Dotgo and Google, 500 for
SMSBOX), each number once.

**Orange's window**: Orange accepts bulk capability requests only "on timeslots from 10 PM CET
to 7 AM CET" (seed 000; outside it answers HTTP 405). rcskit reads this as **22:00-07:00
Paris local time** (``Europe/Paris``, so CEST in summer), not as a fixed UTC+1: Orange is a
French operator protecting French business hours, and its "CET" is the usual French shorthand
for Paris time. In winter both readings agree (21:00-06:00 UTC); in summer the window is
20:00-05:00 UTC. The bounds never fall in a DST gap or overlap (those are at 02:00-03:00), so
every window start and end is one exact instant; the nights of a DST change are 8 h (March) or
10 h (October) long. See :func:`in_window`, :func:`next_window_start`, :func:`window_end`.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ..providers import registry
from ..providers.registry import BulkCheck
from ..store.core import utc_now
from ..store.records import CapabilityResult, InvalidRecord
from ..store.store import Store

__all__ = [
    "BULK_PROFILES",
    "DEFAULT_POLICY",
    "ORANGE_BULK_WINDOW",
    "RECHECK_POLICIES",
    "BulkProfile",
    "CacheLookup",
    "CapabilityCache",
    "DailyWindow",
    "Months",
    "RecheckPolicy",
    "add_months",
    "bulk_profile",
    "expires_at",
    "in_window",
    "needs_check",
    "next_window_start",
    "plan_bulk",
    "policy_for",
    "window_end",
]


# ---------------------------------------------------------------- re-check policy


@dataclass(frozen=True, slots=True)
class Months:
    """An age in calendar months (``Months(2)``)."""

    n: int

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 0:
            raise InvalidRecord("Months.n", self.n, "a whole number >= 0")


MaxAge = Months | timedelta
"""How long an answer stays good: calendar months or a fixed duration."""


@dataclass(frozen=True, slots=True)
class RecheckPolicy:
    """How old an answer may get before the number is checked again, by what it said."""

    rcs_max_age: MaxAge = Months(3)
    """An RCS answer older than this is checked again (Orange: 3 months)."""
    not_rcs_max_age: MaxAge = Months(2)
    """A not-RCS answer older than this is checked again (Orange: 2 months)."""


DEFAULT_POLICY = RecheckPolicy()
"""Orange's best practice (seed 000): not RCS, 2 months; RCS, 3 months."""

RECHECK_POLICIES: dict[str, RecheckPolicy] = {spec.name: DEFAULT_POLICY for spec in registry.all()}
"""The policy per provider (change an entry, or pass ``policy=`` to :class:`CapabilityCache`).
Only Orange publishes one; the others follow it until they say otherwise."""


def policy_for(provider: str) -> RecheckPolicy:
    """The re-check policy of ``provider`` (:data:`DEFAULT_POLICY` for one not listed)."""
    return RECHECK_POLICIES.get(provider, DEFAULT_POLICY)


def add_months(at: datetime, months: int) -> datetime:
    """``at`` plus ``months`` calendar months, the day clamped to the month's last
    (``2024-01-31`` + 1 = ``2024-02-29``)."""
    index = at.month - 1 + months
    year, month = at.year + index // 12, index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def expires_at(result: CapabilityResult, policy: RecheckPolicy = DEFAULT_POLICY) -> datetime:
    """The last instant ``result`` is still good under ``policy`` (in UTC)."""
    age = policy.rcs_max_age if result.rcs else policy.not_rcs_max_age
    checked = result.checked_at.astimezone(UTC)
    if isinstance(age, Months):
        return add_months(checked, age.n)
    return checked + age


def needs_check(
    result: CapabilityResult | None, now: datetime, policy: RecheckPolicy = DEFAULT_POLICY
) -> bool:
    """Whether the number behind ``result`` must be (re-)checked at ``now``: never checked, or
    its answer is older than the policy allows for what it said (see the module docstring).

    >>> from datetime import datetime, UTC
    >>> r = CapabilityResult("orange", "+33612345678", rcs=False,
    ...                      checked_at=datetime(2025, 1, 10, tzinfo=UTC))
    >>> needs_check(r, datetime(2025, 3, 10, tzinfo=UTC))
    False
    >>> needs_check(r, datetime(2025, 3, 10, 0, 0, 1, tzinfo=UTC))
    True
    """
    _aware("now", now)
    if result is None:
        return True
    return now > expires_at(result, policy)


# ---------------------------------------------------------------- bulk limits and batching


@dataclass(frozen=True, slots=True)
class DailyWindow:
    """A daily time window in a zone's local time; ``start > end`` crosses midnight.

    The bounds should avoid the zone's DST gap (a local time that does not exist). Instants are
    returned in UTC, where subtracting them gives true durations (two datetimes sharing a
    ``ZoneInfo`` subtract as wall-clock times, off by an hour across a DST change).
    """

    start: time
    end: time
    zone: str

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise InvalidRecord("DailyWindow", (self.start, self.end), "start and end differ")
        ZoneInfo(self.zone)  # raises for an unknown zone

    @property
    def tz(self) -> ZoneInfo:
        """The window's time zone."""
        return ZoneInfo(self.zone)

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.tz)

    def contains(self, now: datetime) -> bool:
        """Whether ``now`` is inside the window (start included, end excluded)."""
        local = _aware("now", now).astimezone(self.tz).timetz().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def next_start(self, now: datetime) -> datetime:
        """The first window start at or after ``now``, in UTC."""
        return self._next_start(now).astimezone(UTC)

    def end_after(self, now: datetime) -> datetime:
        """When the window containing ``now`` closes, or, outside it, when the next one does;
        in UTC."""
        start = self._current_start(now) if self.contains(now) else self._next_start(now)
        crosses = self.start > self.end
        return self._at(start.date() + timedelta(days=1 if crosses else 0), self.end).astimezone(
            UTC
        )

    def current_start(self, now: datetime) -> datetime:
        """When the window containing ``now`` opened, in UTC (``now`` must be inside it)."""
        if not self.contains(now):
            raise InvalidRecord("now", now, "outside the window")
        return self._current_start(now).astimezone(UTC)

    def _next_start(self, now: datetime) -> datetime:
        day = _aware("now", now).astimezone(self.tz).date()
        start = self._at(day, self.start)
        return start if start >= now else self._at(day + timedelta(days=1), self.start)

    def _current_start(self, now: datetime) -> datetime:
        local = now.astimezone(self.tz)
        start = self._at(local.date(), self.start)
        return start if start <= now else self._at(local.date() - timedelta(days=1), self.start)


ORANGE_BULK_WINDOW = DailyWindow(start=time(22, 0), end=time(7, 0), zone="Europe/Paris")
"""Orange bulk capability checks: 22:00-07:00 Paris time (seed 000; see the module docstring)."""


@dataclass(frozen=True, slots=True)
class BulkProfile:
    """A provider's bulk capability check: numbers per request, request pace, allowed window."""

    provider: str
    max_numbers: int
    requests_per_minute: float | None = None
    window: DailyWindow | None = None
    source: str = field(default="", compare=False)


def _daily_window(check: BulkCheck) -> DailyWindow | None:
    start, end, zone = check.window_start, check.window_end, check.window_zone
    return None if start is None or end is None or zone is None else DailyWindow(start, end, zone)


BULK_PROFILES: Mapping[str, BulkProfile] = {
    s.name: BulkProfile(
        s.name,
        s.bulk_check.max_numbers,
        s.bulk_check.requests_per_minute,
        window=_daily_window(s.bulk_check),
        source=s.bulk_check.source,
    )
    for s in registry.all()
    if s.bulk_check is not None
}
"""Bulk capability limits per provider (from :mod:`rcskit.providers.registry`), each citing
its source."""


def bulk_profile(provider: str) -> BulkProfile:
    """The bulk profile of ``provider`` (see :data:`BULK_PROFILES`)."""
    try:
        return BULK_PROFILES[provider]
    except KeyError:
        known = ", ".join(sorted(BULK_PROFILES))
        raise InvalidRecord("provider", provider, f"bulk limits are known for {known}") from None


def plan_bulk(
    numbers: Iterable[str], provider: str, *, max_numbers: int | None = None
) -> list[tuple[str, ...]]:
    """Cut ``numbers`` into bulk requests of at most the provider's limit (or ``max_numbers``,
    which may only be lower), keeping their order and asking for each number once.

    >>> [len(b) for b in plan_bulk((f"+3361234{i:04d}" for i in range(1200)), "smsbox")]
    [500, 500, 200]
    """
    limit = bulk_profile(provider).max_numbers
    if max_numbers is not None:
        if isinstance(max_numbers, bool) or not isinstance(max_numbers, int) or max_numbers < 1:
            raise InvalidRecord("max_numbers", max_numbers, "a whole number >= 1")
        if max_numbers > limit:
            raise InvalidRecord("max_numbers", max_numbers, f"{provider} allows at most {limit}")
        limit = max_numbers
    ordered: list[str] = []
    for number in dict.fromkeys(numbers):
        if not isinstance(number, str) or not number:
            raise InvalidRecord("numbers", number, "non-empty strings (E.164)")
        ordered.append(number)
    return [tuple(ordered[i : i + limit]) for i in range(0, len(ordered), limit)]


# ---------------------------------------------------------------- the Orange window


def in_window(now: datetime, window: DailyWindow = ORANGE_BULK_WINDOW) -> bool:
    """Whether bulk checks are allowed at ``now`` (22:00 included, 07:00 excluded, Paris time)."""
    return window.contains(now)


def next_window_start(now: datetime, window: DailyWindow = ORANGE_BULK_WINDOW) -> datetime:
    """The next time the window opens (in UTC): the first 22:00 Paris time at or after ``now``
    (inside a window this is the next night's start; use :func:`in_window` to know whether to go
    now)."""
    return window.next_start(now)


def window_end(now: datetime, window: DailyWindow = ORANGE_BULK_WINDOW) -> datetime:
    """07:00 Paris time closing the window that contains ``now`` (or the next one), in UTC."""
    return window.end_after(now)


def _aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRecord(name, value, "an aware datetime (with a time zone)")
    return value


# ---------------------------------------------------------------- the cache


class CacheLookup(NamedTuple):
    """What the cache knows: fresh answers, numbers to check, and the stale answers among those
    (the last word on them, for a run told to use the cache only)."""

    answered: dict[str, CapabilityResult]
    to_check: list[str]
    stale: dict[str, CapabilityResult]


class CapabilityCache:
    """Capability answers of one provider, stored in a :class:`~rcskit.store.Store`, judged by
    ``policy`` (default: :func:`policy_for` the provider).

    ::

        cache = CapabilityCache(store, "orange")
        answered, to_check, stale = await cache.lookup(numbers)
        for batch in plan_bulk(to_check, "orange"):
            reachable = ...                        # the provider's bulk check
            await cache.record_bulk(batch, reachable)
    """

    def __init__(
        self,
        store: Store,
        provider: str,
        *,
        policy: RecheckPolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.provider = provider
        self.policy = policy if policy is not None else policy_for(provider)
        self._clock = clock or utc_now

    def __repr__(self) -> str:
        return f"CapabilityCache({self.store!r}, {self.provider!r})"

    async def lookup(self, numbers: Iterable[str]) -> CacheLookup:
        """Split ``numbers`` (each once, in order) into fresh answers and numbers to check."""
        wanted = list(dict.fromkeys(numbers))
        now = _aware("clock()", self._clock())
        known = await self.store.capabilities.get_capabilities(self.provider, wanted)
        answered: dict[str, CapabilityResult] = {}
        stale: dict[str, CapabilityResult] = {}
        to_check: list[str] = []
        for number in wanted:
            result = known.get(number)
            if needs_check(result, now, self.policy):
                to_check.append(number)
                if result is not None:
                    stale[number] = result
            elif result is not None:
                answered[number] = result
        return CacheLookup(answered, to_check, stale)

    async def record(
        self,
        number: str,
        rcs: bool,
        *,
        features: Sequence[str] | None = None,
        checked_at: datetime | None = None,
    ) -> CapabilityResult:
        """Store one answer (a single capability check); return it."""
        result = CapabilityResult(
            provider=self.provider,
            number=number,
            rcs=rcs,
            checked_at=_aware("checked_at", checked_at or self._clock()),
            features=None if features is None else tuple(features),
        )
        await self.store.capabilities.save_capabilities([result])
        return result

    async def record_bulk(
        self, checked: Iterable[str], reachable: Iterable[str], *, at: datetime | None = None
    ) -> list[CapabilityResult]:
        """Store a bulk answer: every number of ``checked`` is RCS when it is in ``reachable``,
        not RCS otherwise (bulk checks list only the reachable numbers). A reachable number
        that was not asked for is refused (the answer does not match the request)."""
        asked, yes, when = self._bulk_answer(checked, reachable, at)
        results = [
            CapabilityResult(self.provider, number, rcs=number in yes, checked_at=when)
            for number in asked
        ]
        await self.store.capabilities.save_capabilities(results)
        return results

    async def store_bulk(
        self, checked: Sequence[str], reachable: Iterable[str], *, at: datetime | None = None
    ) -> int:
        """:meth:`record_bulk` without a :class:`CapabilityResult` built per number (a
        campaign's checks store thousands at a time): the same rows, the same refusal of a
        reachable number that was not asked for; returns how many rows were written."""
        asked, yes, when = self._bulk_answer(checked, reachable, at)
        return await self.store.capabilities.save_bulk_answers(self.provider, asked, yes, when)

    def _bulk_answer(
        self, checked: Iterable[str], reachable: Iterable[str], at: datetime | None
    ) -> tuple[list[str], set[str], datetime]:
        """A bulk answer's numbers asked (each once, in order), those reachable, and its time;
        a reachable number that was not asked for is refused."""
        asked = list(dict.fromkeys(checked))
        yes = set(reachable)
        extra = yes.difference(asked)
        if extra:
            raise InvalidRecord("reachable", sorted(extra)[:3], "numbers that were not checked")
        return asked, yes, _aware("at", at or self._clock())
