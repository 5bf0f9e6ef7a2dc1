"""Clocks for the emulator: every time the platform reads comes from one injectable ``Clock``.

Tests pass a :class:`ManualClock` and move time with ``advance``; the running server uses
:class:`SystemClock`. :class:`OffsetClock` wraps either one so the admin API can shift time
(``POST /_emulator/clock``) without knowing which clock is underneath::

    clock = ManualClock(datetime(2024, 1, 1, tzinfo=UTC))
    clock.advance(30)           # thirty seconds later
    assert clock.now().second == 30
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "ManualClock", "OffsetClock", "SystemClock", "UtcSecondFormat"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning a timezone-aware UTC datetime."""

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        ...


class SystemClock:
    """The real wall clock, in UTC."""

    def now(self) -> datetime:
        """The current time (aware, UTC)."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: for tests.

    ``ManualClock()`` starts at 2024-01-01T00:00:00Z; ``advance(seconds)`` moves it forward and
    ``set(when)`` jumps to a given aware datetime.
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2024, 1, 1, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock start must be timezone-aware")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The current (manual) time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (must not be negative)."""
        if seconds < 0:
            raise ValueError(f"advance: seconds must be >= 0, got {seconds}")
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        """Jump to ``when`` (aware datetime)."""
        if when.tzinfo is None:
            raise ValueError("ManualClock.set needs a timezone-aware datetime")
        self._now = when.astimezone(UTC)


class OffsetClock:
    """Another clock shifted by ``offset_s`` seconds (which the admin API can change)."""

    def __init__(self, base: Clock, offset_s: float = 0.0) -> None:
        self.base = base
        self.offset_s = offset_s

    def now(self) -> datetime:
        """The base clock's time plus the offset."""
        now = self.base.now()
        if self.offset_s:
            now += timedelta(seconds=self.offset_s)
        return now

    def timestamp(self) -> float:
        """``now()`` as POSIX seconds (what the platform stores)."""
        if not self.offset_s and type(self.base) is SystemClock:
            # datetime.now(UTC).timestamp() without the datetime: whole microseconds
            return time.time_ns() // 1000 / 1_000_000
        return self.now().timestamp()


class UtcSecondFormat:
    """``datetime.fromtimestamp(ts, UTC).strftime(fmt)`` for a ``fmt`` without sub-second
    fields, remembering the last second it formatted (a busy server formats the same second
    many times)::

        billing_time = UtcSecondFormat("%Y-%m-%d %H:%M:%S")
        billing_time(1700000000.25)        # '2023-11-14 22:13:20'
    """

    __slots__ = ("_last", "fmt")

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._last: tuple[int, str] | None = None

    def __call__(self, ts: float) -> str:
        """``ts`` (POSIX seconds) formatted in UTC."""
        second = math.floor(ts)
        # away from the edges of a second, rounding to microseconds cannot change the second
        inside = 0.001 < ts - second < 0.999
        last = self._last
        if inside and last is not None and last[0] == second:
            return last[1]
        text = datetime.fromtimestamp(ts, UTC).strftime(self.fmt)
        if inside:
            self._last = (second, text)
        return text
