"""Sliding-window rate limits with one-second buckets, on the emulator's clock.

Dotgo (seed 002 section 6): group 1 allows spikes up to 20 % above the configured TPS in any
one second as long as the last 30 seconds stay within ``30 * TPS``; group 2 counts requests
per minute. A rejected request is not counted.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["SlidingWindow", "allow_group1", "allow_per_minute", "allow_per_second"]


class SlidingWindow:
    """Counts accepted requests per whole second over the last ``window_s`` seconds."""

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self._buckets: deque[list[int]] = deque()
        self._total = 0

    def _expire(self, second: int) -> None:
        oldest = second - self.window_s + 1
        while self._buckets and self._buckets[0][0] < oldest:
            self._total -= self._buckets.popleft()[1]

    def counts(self, now: float) -> tuple[int, int]:
        """``(in the current second, in the window)`` at time ``now``."""
        second = math.floor(now)
        self._expire(second)
        current = self._buckets[-1][1] if self._buckets and self._buckets[-1][0] == second else 0
        return current, self._total

    def try_acquire(self, now: float, *, per_second: float | None, per_window: float) -> bool:
        """Count one request at ``now`` unless that would exceed either limit."""
        current, total = self.counts(now)
        if per_second is not None and current + 1 > per_second + 1e-9:
            return False
        if total + 1 > per_window + 1e-9:
            return False
        second = math.floor(now)
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([second, 1])
        self._total += 1
        return True


def allow_group1(window: SlidingWindow, now: float, tps: float) -> bool:
    """Dotgo group 1: at most ``1.2 * tps`` in one second and ``30 * tps`` over 30 seconds."""
    return window.try_acquire(now, per_second=1.2 * tps, per_window=30 * tps)


def allow_per_minute(window: SlidingWindow, now: float, per_minute: float) -> bool:
    """At most ``per_minute`` requests over the last 60 seconds."""
    return window.try_acquire(now, per_second=None, per_window=per_minute)


def allow_per_second(window: SlidingWindow, now: float, tps: float) -> bool:
    """A plain per-second limit: at most ``tps`` requests in any one second (no spikes)."""
    return window.try_acquire(now, per_second=tps, per_window=window.window_s * tps)
