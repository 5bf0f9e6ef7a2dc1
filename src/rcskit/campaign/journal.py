"""Group commit: many coroutines' writes carried by one transaction.

A runner has many sends in flight; each must have its attempt recorded before the provider
call and its outcome after it. :class:`GroupWriter` lets each coroutine await its own write
while the writes themselves go to the database in groups: the items submitted while one
group is being written form the next group. Durability per item is unchanged (a coroutine
resumes only once its item is committed); the number of transactions drops to a few per
second at hundreds of sends per second::

    begin = GroupWriter(lambda starts: store.begin_sends(cid, worker, "dotgo", starts))
    begun = await begin.submit(SendStart(...))      # committed when this returns

With ``concurrency=2`` a second group starts while the first is being written (on its own
connection), instead of waiting for it: on PostgreSQL a group's few round trips are mostly
waits (for the server, for a core on a busy host), so two groups in flight roughly halve the
time an item waits. The groups must then touch disjoint rows, as a runner's do (a send's
outcome is submitted only once its attempt is committed). On SQLite, where every write takes
the database's one write lock in turn, keep the default of one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupWriter"]

I = TypeVar("I")  # noqa: E741 - the conventional name of an item type
R = TypeVar("R")


class GroupWriter(Generic[I, R]):
    """Writes submitted items in groups of at most ``max_group`` with ``write(items)``, which
    returns one result per item, in order. A failed write fails every item of its group.

    Each group has one future, resolved with the group's results (an item's result is at its
    index): many waiting coroutines cost one future and one resolution per group, not one per
    item. :meth:`post` queues an item without waiting for it (the caller attaches what follows
    its commit to the future)."""

    def __init__(
        self,
        write: Callable[[list[I]], Awaitable[Sequence[R]]],
        *,
        max_group: int = 500,
        concurrency: int = 1,
    ) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        self._write = write
        self._max = max_group
        self._concurrency = concurrency
        # the groups not yet being written, each its items and its future; items join the last
        self._waiting: deque[tuple[list[I], asyncio.Future[Sequence[R]]]] = deque()
        self._writing = 0  # drain tasks running
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0
        """How many groups were written (for tests and figures)."""
        self.most_in_flight = 0
        """The most groups written at once so far (for tests and figures)."""

    def post(self, item: I) -> tuple[asyncio.Future[Sequence[R]], int]:
        """Queue ``item`` without waiting: its group's future (resolved with the group's
        results once committed, or failed with the write's error) and its index there."""
        waiting = self._waiting
        if waiting and len(waiting[-1][0]) < self._max:
            items, future = waiting[-1]
        else:
            items, future = [], asyncio.get_running_loop().create_future()
            waiting.append((items, future))
        items.append(item)
        if self._writing < self._concurrency:
            self._writing += 1
            self.most_in_flight = max(self.most_in_flight, self._writing)
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future, len(items) - 1

    async def submit(self, item: I) -> R:
        """Queue ``item`` and return its result once its group is committed."""
        future, index = self.post(item)
        # shielded: a waiter cancelled alone leaves its group's future to the others
        return (await asyncio.shield(future))[index]

    async def submit_many(self, items: Sequence[I]) -> list[R]:
        """Queue every item (they travel in the same group when they fit) and return their
        results once committed."""
        posted = [self.post(item) for item in items]
        results: list[R] = []
        for future, index in posted:
            results.append((await asyncio.shield(future))[index])
        return results

    async def _drain(self) -> None:
        try:
            while self._waiting:
                items, future = self._waiting.popleft()
                try:
                    results = await self._write(items)
                except BaseException as err:
                    if not future.done():
                        future.set_exception(err)
                    if not isinstance(err, Exception):
                        raise
                    continue
                self.groups += 1
                if len(results) != len(items):
                    error = RuntimeError(
                        f"group write returned {len(results)} results for {len(items)} items"
                    )
                    if not future.done():
                        future.set_exception(error)
                    continue
                if not future.done():
                    future.set_result(results)
        finally:
            self._writing -= 1

    async def close(self) -> None:
        """Wait for the groups being written."""
        while self._tasks:
            await asyncio.shield(asyncio.gather(*self._tasks, return_exceptions=True))
