"""What the campaign runner's capability stage needs besides the checker itself.

* **Whether the checks can run** (:func:`check_gates`, :func:`until_reachable`,
  :func:`unless_blocked`): a check waits on rate limiters (the client's ``"bulk"`` one, or its
  ``"send"`` one for single checks), and a shared limiter kept by Redis grants nothing while
  Redis is unreachable. The stage then behaves as the send stage does: it claims nothing
  while a limiter it depends on (or the campaign's own send limiter: nothing checked could be
  sent either) is known to be unreachable; a check already waiting is given up once the
  limiter has been unreachable for the blocked time, and its recipients are released (due at
  once) rather than kept leased; claims start again when the limiter answers.
* **How many checked recipients wait** (:class:`ReadyCount`): the stage holds its next check
  while enough recipients wait to be sent. It asks only whether there are at least that
  many (an index range of at most that many entries, ``LIMIT``), not for the count of
  every status of the campaign (a scan of all its recipients, each time it looked).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select

from ..ratelimit import RateLimiter
from ..store import RecipientStatus
from ..store.core import StoreCore
from ..store.schema import campaign_recipients
from .capcheck import CapabilityChecker, CapabilityMode
from .pacing import ReachableLimiter

__all__ = ["ReadyCount", "check_gates", "unless_blocked", "unreachable_for", "until_reachable"]

T = TypeVar("T")

_R = campaign_recipients


def check_gates(checker: CapabilityChecker, send: RateLimiter | None) -> list[ReachableLimiter]:
    """The limiters that can be unreachable which the capability stage depends on: those its
    checks wait on, and the campaign's send limiter, each once; none when no check asks the
    provider (``none`` and ``cache-only`` modes need no limiter)."""
    if checker.mode is not CapabilityMode.CHECK:
        return []
    gates: list[ReachableLimiter] = []
    for limiter in (*checker.limiters, send):
        if isinstance(limiter, ReachableLimiter) and all(limiter is not g for g in gates):
            gates.append(limiter)
    return gates


def unreachable_for(gates: Sequence[ReachableLimiter]) -> float:
    """Seconds the longest-unreachable of ``gates`` has been so (0.0: all reachable)."""
    return max((g.unreachable_for() for g in gates), default=0.0)


async def until_reachable(gates: Sequence[ReachableLimiter], timeout: float) -> bool:
    """True when every gate is reachable (at once when none is known unreachable); else wait
    up to ``timeout`` seconds for them (their service is pinged) and say whether they
    answered."""
    down = [g for g in gates if g.unreachable_for() > 0.0]
    if not down:
        return True
    try:
        await asyncio.wait_for(asyncio.gather(*(g.until_reachable() for g in down)), timeout)
    except TimeoutError:
        return False
    return True


async def unless_blocked(
    work: Awaitable[T], gates: Sequence[ReachableLimiter], blocked_s: float, poll_s: float
) -> tuple[bool, T | None]:
    """``(True, await work)``; or ``(False, None)`` once one of ``gates`` has been unreachable
    for ``blocked_s`` seconds while ``work`` ran (``work`` is cancelled then: a limiter
    books nothing for a caller that left its line)."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=poll_s if gates else None)
            if done:
                return True, task.result()
            if unreachable_for(gates) >= blocked_s:
                return False, None
    finally:
        if not task.done():
            task.cancel()
            task.add_done_callback(_retrieved)


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Read the outcome of work given up, so that an error it ended with is not reported as
    never retrieved (the caller has moved on)."""
    if not task.cancelled():
        task.exception()


class ReadyCount(StoreCore):
    """How many recipients of a campaign wait to be sent (checked RCS, due now or later)."""

    async def at_least(self, campaign_id: str, cap: int) -> int:
        """The number of such recipients, counted up to ``cap`` (``cap`` when there are at
        least that many)."""
        if cap < 1:
            return 0
        ready = (
            select(_R.c.line_number)
            .where(_R.c.campaign_id == campaign_id, _R.c.status == RecipientStatus.RCS.value)
            .limit(cap)
            .subquery()
        )
        async with self._read() as conn:
            counted = (await conn.execute(select(func.count()).select_from(ready))).scalar()
        return int(counted or 0)
