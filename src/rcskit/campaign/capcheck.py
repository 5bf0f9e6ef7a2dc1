"""The capability pre-check of a campaign: who can receive RCS, through the cache.

For a batch of numbers (:meth:`CapabilityChecker.check`):

1. fresh answers come from the cache (:class:`~rcskit.campaign.capcache.CapabilityCache`, Orange's
   re-check policy);
2. the rest are checked with the provider's **bulk** check when it offers one (batched to its
   limit by the client, paced by the client's ``"bulk"`` limiter), else one by one; a bulk
   check the account cannot use (Dotgo 424: several MaaPs, or a MaaP without bulk) falls back
   to single checks;
3. **Orange** runs bulk checks only inside its window (22:00-07:00 Paris time): outside it the
   numbers to check are deferred to the window's next start, and the result says so
   (``deferred_until``, ``notes``);
4. in ``cache-only`` mode nothing is asked: a stale answer is used as it is, and a number never
   checked is tried over RCS (the send's answer decides; a "not RCS" answer falls back).

Every answer obtained is stored with its time. Numbers whose check gave no usable answer are
tried over RCS as well.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from ..client import RcsClient
from ..errors import OutsideAllowedWindow, ProviderError, RcsError, UnsupportedFeature
from ..ratelimit import RateLimiter
from ..store import Store
from ..store.core import utc_now
from .capcache import BULK_PROFILES, CapabilityCache, in_window, next_window_start

__all__ = ["CapabilityChecker", "CapabilityMode", "CheckResult"]


class CapabilityMode(StrEnum):
    """How a campaign learns who can receive RCS."""

    CHECK = "check"
    """Cache first, then the provider (bulk where offered)."""
    CACHE_ONLY = "cache-only"
    """The cache only (stale answers too); numbers never checked are tried over RCS."""
    NONE = "none"
    """No check: every number is tried over RCS."""


@dataclass
class CheckResult:
    """The outcome for a batch: RCS numbers, not-RCS numbers, numbers deferred (to
    ``deferred_until``), how many answers came from the cache, and notes for the user."""

    rcs: set[str] = field(default_factory=set)
    not_rcs: set[str] = field(default_factory=set)
    deferred: set[str] = field(default_factory=set)
    deferred_until: datetime | None = None
    from_cache: int = 0
    notes: list[str] = field(default_factory=list)


class CapabilityChecker:
    """Capability answers for a campaign's numbers (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        client: RcsClient,
        mode: CapabilityMode = CapabilityMode.CHECK,
        *,
        clock: Callable[[], datetime] = utc_now,
        concurrency: int = 8,
    ) -> None:
        self.client = client
        self.kind = client.provider.name
        self.mode = CapabilityMode(mode)
        self.cache = CapabilityCache(store, self.kind, clock=clock)
        self._clock = clock
        self._concurrency = concurrency
        self._bulk = "bulk_capabilities" in client.provider.offers
        self._single = "capabilities" in client.provider.offers
        self._profile = BULK_PROFILES.get(self.kind)

    def __repr__(self) -> str:
        return f"CapabilityChecker({self.kind!r}, mode={self.mode.value!r})"

    @property
    def batch_size(self) -> int:
        """How many numbers to check at once: a bulk request's worth (or when nothing is
        asked), else a few hundred single checks."""
        if self._bulk or self.mode is not CapabilityMode.CHECK or not self._single:
            return 10_000
        return 500

    @property
    def windowed(self) -> bool:
        """Whether this checker's bulk checks run only inside a daily window (Orange)."""
        profile = self._profile
        return (
            self.mode is CapabilityMode.CHECK
            and self._bulk
            and profile is not None
            and profile.window is not None
        )

    @property
    def limiters(self) -> list[RateLimiter]:
        """The rate limiters a check would wait on now: the client's ``"bulk"`` limiter for
        bulk checks, its ``"send"`` limiter for single ones; none when nothing is asked (a
        runner holds no claims for a check that could not run, see
        :mod:`rcskit.campaign.checkstage`)."""
        if self.mode is not CapabilityMode.CHECK or not (self._bulk or self._single):
            return []
        limiter = self.client.limiters.get("bulk" if self._bulk else "send")
        return [] if limiter is None else [limiter]

    async def check(self, numbers: Sequence[str]) -> CheckResult:
        """Sort ``numbers`` (E.164) into RCS, not RCS and deferred."""
        result = CheckResult()
        if self.mode is CapabilityMode.NONE:
            result.rcs.update(numbers)
            return result
        looked = await self.cache.lookup(numbers)
        result.from_cache = len(looked.answered)
        for number, answer in looked.answered.items():
            (result.rcs if answer.rcs else result.not_rcs).add(number)
        if not looked.to_check:
            return result
        if self.mode is CapabilityMode.CACHE_ONLY or not (self._bulk or self._single):
            for number in looked.to_check:
                stale = looked.stale.get(number)
                (result.not_rcs if stale is not None and not stale.rcs else result.rcs).add(number)
            return result
        if self._bulk:
            await self._bulk_check(looked.to_check, result)
        else:
            await self._single_checks(looked.to_check, result)
        return result

    async def _bulk_check(self, numbers: list[str], result: CheckResult) -> None:
        profile = self._profile
        now = self._clock()
        if (
            profile is not None
            and profile.window is not None
            and not in_window(now, profile.window)
        ):
            self._defer(numbers, next_window_start(now, profile.window), result)
            return
        try:
            # the campaign's numbers were normalised at import: not parsed again
            answer = await self.client.bulk_capabilities(numbers, e164=True)
        except ProviderError as err:
            windowed = profile is not None and profile.window is not None
            if isinstance(err, OutsideAllowedWindow) or (windowed and err.status == 405):
                # Orange answers 405 outside its window (seed 000): our clock and theirs differ
                when = getattr(err, "next_allowed", None) or (
                    next_window_start(self._clock(), profile.window)
                    if profile is not None and profile.window is not None
                    else None
                )
                if when is None:
                    raise
                self._defer(numbers, when, result)
                return
            if err.status not in (405, 424, 501):
                raise
            await self._bulk_unavailable(numbers, result, err)
            return
        except UnsupportedFeature as err:
            await self._bulk_unavailable(numbers, result, err)
            return
        settled = [n for n in numbers if n not in answer.unknown]
        await self.cache.store_bulk(settled, [n for n in settled if n in answer.reachable])
        for number in numbers:
            if number in answer.reachable or number in answer.unknown:
                result.rcs.add(number)
            else:
                result.not_rcs.add(number)

    async def _bulk_unavailable(
        self, numbers: list[str], result: CheckResult, err: RcsError
    ) -> None:
        """The account cannot use bulk checks (Dotgo 424: several MaaPs, or a MaaP without
        them): check one by one from now on, or, without single checks, try every number."""
        if not self._single:
            result.rcs.update(numbers)
            result.notes.append(f"bulk capability check unavailable ({err}); sending to all")
            return
        result.notes.append(f"bulk capability check unavailable ({err}); checking one by one")
        self._bulk = False
        await self._single_checks(numbers, result)

    def _defer(self, numbers: list[str], when: datetime, result: CheckResult) -> None:
        when = when.astimezone(UTC)  # the client's next_allowed is in the window's zone
        result.deferred.update(numbers)
        result.deferred_until = when
        result.notes.append(
            f"{self.kind} allows bulk capability checks only in its window: "
            f"{len(numbers)} number(s) scheduled for {when:%Y-%m-%d %H:%M} UTC "
            "(use --capabilities cache-only to send now from the cache)"
        )

    async def _single_checks(self, numbers: list[str], result: CheckResult) -> None:
        gate = asyncio.Semaphore(self._concurrency)

        async def one(number: str) -> None:
            async with gate:
                try:
                    answer = await self.client.capabilities(number)
                except RcsError:
                    result.rcs.add(number)  # no usable answer: the send will tell
                    return
            await self.cache.record(number, answer.rcs_enabled, features=sorted(answer.features))
            (result.rcs if answer.rcs_enabled else result.not_rcs).add(number)

        await asyncio.gather(*(one(n) for n in numbers))
