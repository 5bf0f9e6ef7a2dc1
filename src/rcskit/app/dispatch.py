"""Running handlers in the background: one at a time per contact, at most N at once.

Each contact has a mailbox (a FIFO of jobs). A runner task takes a contact, runs its jobs in
order until the mailbox is empty, then takes the next contact waiting for a runner. At most
``concurrency`` runners exist; they are created when work arrives and end when there is none.
A burst of events from one contact costs one task, not one task (or lock) per event.

Jobs without a contact (a file status, a billing event) each get a mailbox of their own, so
they run in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Dispatcher"]

log = logging.getLogger("rcskit.app")

J = TypeVar("J")


class Dispatcher(Generic[J]):
    """Per-contact ordered, bounded-concurrency execution of ``run(job)``.

    ``submit(contact, job)`` never blocks; ``room()`` waits while ``capacity`` jobs are queued
    (the webhook uses it to slow the sender down instead of buffering without bound);
    ``join()`` waits until every submitted job has finished; ``cancel()`` stops the runners
    (jobs not yet finished are dropped: a durable inbox keeps them for the next start).
    ``run`` should handle its own exceptions; one that escapes is logged and ends only that
    job.
    """

    def __init__(
        self, run: Callable[[J], Awaitable[None]], *, concurrency: int, capacity: int
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self._run = run
        self.concurrency = concurrency
        self.capacity = max(1, capacity)
        self._boxes: dict[Hashable, deque[J]] = {}
        self._ready: deque[Hashable] = deque()
        self._runners: set[asyncio.Task[None]] = set()
        self._queued = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._room = asyncio.Event()
        self._room.set()

    def __repr__(self) -> str:
        return (
            f"Dispatcher(queued={self._queued}, runners={len(self._runners)}/"
            f"{self.concurrency}, contacts={len(self._boxes)})"
        )

    @property
    def queued(self) -> int:
        """Jobs submitted and not finished yet (running ones included)."""
        return self._queued

    @property
    def runners(self) -> int:
        """Runner tasks alive now."""
        return len(self._runners)

    def submit(self, contact: Hashable | None, job: J) -> None:
        """Queue ``job`` behind the other jobs of ``contact`` (``None``: no ordering)."""
        self._queued += 1
        if self._queued == 1:
            self._idle.clear()
        if self._queued >= self.capacity:
            self._room.clear()
        key: Hashable = object() if contact is None else contact
        box = self._boxes.get(key)
        if box is not None:
            box.append(job)
            return
        self._boxes[key] = deque((job,))
        if len(self._runners) < self.concurrency:
            task = asyncio.get_running_loop().create_task(self._runner(key))
            self._runners.add(task)
            task.add_done_callback(self._runners.discard)
        else:
            self._ready.append(key)

    async def room(self) -> None:
        """Return when fewer than ``capacity`` jobs are queued."""
        while self._queued >= self.capacity:
            await self._room.wait()

    async def join(self) -> None:
        """Return when every submitted job has finished."""
        await self._idle.wait()

    async def cancel(self) -> None:
        """Cancel the runners and forget every queued job."""
        runners = list(self._runners)
        for task in runners:
            task.cancel()
        await asyncio.gather(*runners, return_exceptions=True)
        self._boxes.clear()
        self._ready.clear()
        self._queued = 0
        self._idle.set()
        self._room.set()

    async def _runner(self, key: Hashable) -> None:
        boxes = self._boxes
        while True:
            box = boxes[key]
            while box:
                job = box.popleft()
                try:
                    await self._run(job)
                except Exception:
                    log.exception("a background job failed")
                finally:
                    self._finished()
            # no await between the last emptiness check and here: nothing can be appended
            del boxes[key]
            if not self._ready:
                return
            key = self._ready.popleft()

    def _finished(self) -> None:
        self._queued -= 1
        if self._queued < self.capacity:
            self._room.set()
        if self._queued == 0:
            self._idle.set()
