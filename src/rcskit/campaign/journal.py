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
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupWriter"]

I = TypeVar("I")  # noqa: E741 - the conventional name of an item type
R = TypeVar("R")


class GroupWriter(Generic[I, R]):
    """Writes submitted items in groups of at most ``max_group`` with ``write(items)``, which
    returns one result per item, in order. A failed write fails every item of its group."""

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
        self._pending: list[tuple[I, asyncio.Future[R]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.groups = 0
        """How many groups were written (for tests and figures)."""
        self.most_in_flight = 0
        """The most groups written at once so far (for tests and figures)."""

    async def submit(self, item: I) -> R:
        """Queue ``item`` and return its result once its group is committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        # (a task that has just ended is still in the set until its callback runs: not counted)
        writing = sum(1 for t in self._tasks if not t.done())
        if writing < self._concurrency:
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            self.most_in_flight = max(self.most_in_flight, writing + 1)
        return await future

    async def submit_many(self, items: Sequence[I]) -> list[R]:
        """Queue every item (they travel in the same group when they fit) and return their
        results once committed."""
        return list(await asyncio.gather(*(self.submit(item) for item in items)))

    async def _drain(self) -> None:
        while self._pending:
            group = self._pending[: self._max]
            del self._pending[: self._max]
            try:
                results = await self._write([item for item, _ in group])
            except BaseException as err:
                for _, future in group:
                    if not future.done():
                        future.set_exception(err)
                if not isinstance(err, Exception):
                    raise
                continue
            self.groups += 1
            if len(results) != len(group):
                error = RuntimeError(
                    f"group write returned {len(results)} results for {len(group)} items"
                )
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Wait for the groups being written."""
        while self._tasks:
            await asyncio.shield(asyncio.gather(*self._tasks, return_exceptions=True))
