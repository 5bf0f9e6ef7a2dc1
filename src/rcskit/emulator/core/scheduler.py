"""Timers driven by the emulator's clock, so tests control every delay.

Callbacks are plain functions run by :meth:`Scheduler.run_due` when their time has come by
the injected clock. The server runs :meth:`Scheduler.run_forever` as a background task; tests
move a :class:`~rcskit.emulator.core.clock.ManualClock` and call ``run_due`` themselves::

    scheduler.after(5.0, lambda: print("five seconds later"))
    clock.advance(5)
    scheduler.run_due()
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

from .clock import OffsetClock

__all__ = ["MIN_SLEEP_S", "Scheduler"]

MIN_SLEEP_S = 0.001
"""The shortest sleep of :meth:`Scheduler.run_forever`: uvloop (which uvicorn picks when it is
installed) rounds timers to whole milliseconds, so a shorter sleep returns at once, before the
timer is due, and the ticker would spin at 100 % CPU while timers are less than 1 ms apart."""


class Scheduler:
    """A heap of ``(time, callback)`` run in time order."""

    def __init__(self, clock: OffsetClock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Callable[[], object]]] = []
        self._seq = itertools.count()
        self._waiter: asyncio.Future[None] | None = None
        self.current: float | None = None

    def at(self, when: float, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the clock reaches ``when`` (POSIX seconds)."""
        heap = self._heap
        earliest = not heap or when < heap[0][0]
        heapq.heappush(heap, (when, next(self._seq), callback))
        if earliest:
            _release(self._waiter)

    def now(self) -> float:
        """The time a running callback was due (so chains keep their spacing when the clock
        jumps ahead), else the clock's time."""
        return self.current if self.current is not None else self._clock.timestamp()

    def after(self, delay_s: float, callback: Callable[[], object]) -> None:
        """Run ``callback`` ``delay_s`` seconds after :meth:`now`."""
        self.at(self.now() + max(0.0, delay_s), callback)

    def next_due(self) -> float | None:
        """When the next callback is due, or ``None`` if none is scheduled."""
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)

    def run_due(self) -> int:
        """Run every callback due by now (including ones they schedule for now); return how many."""
        count = 0
        now = self._clock.timestamp()
        try:
            while self._heap and self._heap[0][0] <= now:
                when, _, callback = heapq.heappop(self._heap)
                self.current = when
                callback()
                count += 1
        finally:
            self.current = None
        return count

    def clear(self) -> None:
        """Drop every scheduled callback."""
        self._heap.clear()

    async def run_forever(self, max_sleep_s: float = 0.5) -> None:
        """Run callbacks as they fall due, forever (cancel the task to stop).

        Between runs it sleeps until the next timer is due (at most ``max_sleep_s``, at least
        :data:`MIN_SLEEP_S`) or until :meth:`at` schedules an earlier one. A timer never runs
        before it is due.
        """
        loop = asyncio.get_running_loop()
        while True:
            self.run_due()
            nxt = self.next_due()
            delay = max_sleep_s if nxt is None else nxt - self._clock.timestamp()
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            waiter = self._waiter = loop.create_future()
            sleep = max(MIN_SLEEP_S, min(delay, max_sleep_s))
            timer = loop.call_later(sleep, _release, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None


def _release(waiter: asyncio.Future[None] | None) -> None:
    """Wake the sleeping :meth:`Scheduler.run_forever` (if it sleeps)."""
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
