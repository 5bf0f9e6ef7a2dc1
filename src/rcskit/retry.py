"""Retries: exponential backoff with full jitter, for errors whose ``retryable`` is True.

A :class:`RetryPolicy` is a budget (attempts, longest single wait, total wait) plus the
backoff rule. :class:`~rcskit.errors.RateLimited` errors carrying ``retry_after`` wait
exactly that long (when the budget allows). The 401 path (refresh the token, retry once)
is the client's, not this module's.

::

    policy = RetryPolicy(max_attempts=5, base_delay=0.5)
    result = await retrying(lambda attempt: client_call(), policy)
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import RcsError

__all__ = ["NO_RETRY", "RetryPolicy", "retrying"]

log = logging.getLogger("rcskit.retry")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry.

    - ``max_attempts``: total tries, the first included (1 = never retry);
    - ``base_delay``: the backoff cap before attempt 2; it doubles each attempt, up to
      ``max_delay``, and the wait is uniform in ``[0, cap]`` ("full jitter");
    - ``max_delay``: the longest single wait; a ``Retry-After`` above it ends the retries;
    - ``max_total_delay``: the most time spent waiting over all attempts.
    """

    max_attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 30.0
    max_total_delay: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"RetryPolicy.max_attempts must be >= 1, got {self.max_attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_total_delay < 0:
            raise ValueError("RetryPolicy delays must be >= 0")

    def delay(self, attempt: int, error: BaseException, waited: float = 0.0) -> float | None:
        """Seconds to wait after ``error`` ended attempt number ``attempt`` (1-based), having
        already waited ``waited`` seconds; ``None`` to give up."""
        if not getattr(error, "retryable", False) or attempt >= self.max_attempts:
            return None
        retry_after = getattr(error, "retry_after", None)
        if isinstance(retry_after, int | float) and retry_after >= 0:
            wait = float(retry_after)
            if wait > self.max_delay:
                return None
        else:
            cap = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
            wait = self.random() * cap
        if waited + wait > self.max_total_delay:
            return None
        return wait


NO_RETRY = RetryPolicy(max_attempts=1)
"""Never retry."""


async def retrying(
    call: Callable[[int], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    may_retry: Callable[[RcsError], bool] | None = None,
) -> T:
    """Run ``call(attempt)`` until it succeeds or the policy gives up, re-raising the last error.

    ``may_retry(error)`` can veto a retry the policy would allow (e.g. a timeout on a send
    that is not idempotent).
    """
    attempt = 1
    waited = 0.0
    while True:
        try:
            return await call(attempt)
        except RcsError as err:
            if may_retry is not None and not may_retry(err):
                raise
            wait = policy.delay(attempt, err, waited)
            if wait is None:
                raise
            log.info(
                "attempt %d failed (%s); retrying in %.2f s", attempt, type(err).__name__, wait
            )
            await sleep(wait)
            waited += wait
            attempt += 1
